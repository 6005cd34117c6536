"""factory_boy factories for catalogue rows (tests that need a handful of offers, not the seed)."""

from __future__ import annotations

from decimal import Decimal

import factory

from apps.catalogue import choices
from apps.catalogue.models import (
    Datacentre,
    DatacentreGpuModel,
    GpuModel,
    GpuSoftwareStack,
    Offer,
    OsImage,
    ProductFamily,
)


class ProductFamilyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductFamily
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"family-{n}")
    name = factory.Sequence(lambda n: f"Family {n}")
    kind = choices.FamilyKind.VIRTUAL_MACHINE


class DatacentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Datacentre
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"TST-{n}")
    name = factory.Sequence(lambda n: f"Test {n}")
    city = "Paris"
    country = "FR"
    tier = "III"


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer
        skip_postgeneration_save = True

    family = factory.SubFactory(ProductFamilyFactory)
    code = factory.Sequence(lambda n: f"TEST-{n}")
    name = factory.LazyAttribute(lambda o: o.code)
    tier = choices.Tier.STARTER
    price_monthly = Decimal("10.00")
    price_hourly = Decimal("0.0137")
    vcpu = 2
    ram_gb = 4
    disk_gb = 50
    bandwidth_tb = 1

    @factory.post_generation
    def datacentres(self, create, extracted, **kwargs):
        if create and extracted:
            self.datacentres.set(extracted)


class GpuModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GpuModel

    slug = factory.Sequence(lambda n: f"gpu-{n}")
    name = factory.Sequence(lambda n: f"GPU {n}")
    vram_gb = 24


class DatacentreGpuModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DatacentreGpuModel

    datacentre = factory.SubFactory(DatacentreFactory)
    gpu_model = factory.SubFactory(GpuModelFactory)


class OsImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OsImage

    slug = factory.Sequence(lambda n: f"testos-{n}.0")
    family = "TestOS"
    version = factory.Sequence(lambda n: f"{n}.0")
    os_type = choices.OsType.LINUX
    support = choices.ImageSupport.OFFICIAL


class GpuSoftwareStackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GpuSoftwareStack

    slug = factory.Sequence(lambda n: f"stack-{n}")
    name = factory.Sequence(lambda n: f"Stack {n}")
    base_image = factory.SubFactory(OsImageFactory)
    cuda_version = "12.x"
