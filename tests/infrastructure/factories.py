"""Factories for the fleet tests: catalogue rows placement needs, and the fleet itself."""

from __future__ import annotations

from decimal import Decimal

import factory

from apps.catalogue import choices as catalogue_choices
from apps.catalogue.models import CapacityEnvelope, Datacentre, GpuModel, Offer, OsImage, ProductFamily
from apps.infrastructure import choices
from apps.infrastructure.models import Cluster, GpuDevice, IpPool, Node, Storage, VmTemplate


class DatacentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Datacentre
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"TST-{n}")
    name = factory.LazyAttribute(lambda o: o.code)
    city = "Paris"
    country = "FR"
    tier = "III"


class GpuModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GpuModel
        django_get_or_create = ("slug",)

    slug = "a100-40g"
    name = "A100 40GB"
    vram_gb = 40
    pci_vendor_id = "10de"
    pci_device_id = "20f1"


class FamilyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductFamily
        django_get_or_create = ("slug",)

    slug = "gpu"
    name = "GPU Cloud"
    kind = catalogue_choices.FamilyKind.VIRTUAL_MACHINE


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer
        skip_postgeneration_save = True

    family = factory.SubFactory(FamilyFactory)
    code = factory.Sequence(lambda n: f"OFFER-{n}")
    name = factory.LazyAttribute(lambda o: o.code)
    tier = catalogue_choices.Tier.PRO
    price_monthly = Decimal("100.00")
    price_hourly = Decimal("0.1370")
    vcpu = 4
    ram_gb = 8
    disk_gb = 100

    @factory.post_generation
    def datacentres(self, create, extracted, **kwargs):
        """Sold in the datacentres given, else in every datacentre that exists."""
        if create:
            self.datacentres.set(extracted if extracted is not None else Datacentre.objects.all())


class OsImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OsImage
        django_get_or_create = ("slug",)

    slug = "ubuntu-24.04"
    family = "Ubuntu"
    version = "24.04 LTS"
    os_type = catalogue_choices.OsType.LINUX
    support = catalogue_choices.ImageSupport.OFFICIAL


class ClusterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cluster

    name = factory.Sequence(lambda n: f"cluster-{n}")
    datacentre = factory.SubFactory(DatacentreFactory)
    api_url = "https://127.0.0.1:8006/api2/json"
    token_id = "vmcloud@pve!portal"
    token_secret_encrypted = ""
    vmid_range_start = 100_000
    vmid_range_end = 100_999


class NodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Node

    cluster = factory.SubFactory(ClusterFactory)
    datacentre = factory.LazyAttribute(lambda o: o.cluster.datacentre)
    name = factory.Sequence(lambda n: f"pve{n:03d}")
    cpu_model = "AMD EPYC 7543P 32-Core Processor"
    cores = 64
    ram_gb = 256
    status = choices.NodeStatus.ONLINE


class GpuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GpuDevice

    node = factory.SubFactory(NodeFactory)
    pci_address = factory.Sequence(lambda n: f"0000:{(n % 200) + 1:02x}:00.0")
    vendor_id = "10de"
    device_id = "20f1"
    gpu_model = factory.SubFactory(GpuModelFactory)
    mapping_name = "a100-40g"
    iommu_group = factory.Sequence(lambda n: 20 + n)


class TemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VmTemplate

    cluster = factory.SubFactory(ClusterFactory)
    node = None
    vmid = factory.Sequence(lambda n: 9000 + n)
    name = "tpl-ubuntu-24.04"
    os_image = factory.SubFactory(OsImageFactory)


class StorageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Storage

    cluster = factory.SubFactory(ClusterFactory)
    name = "local-lvm"
    type = "lvmthin"
    content = "images,rootdir"
    capacity_gb = 2000


def envelopes(*, vcpu: str = "1", ram: str = "1", storage: str = "1", gpu: dict | None = None) -> None:
    """Set capacity envelopes as fractions (oversell 1, target = fraction), replacing existing ones."""
    CapacityEnvelope.objects.all().delete()
    for resource, value in (("vcpu", vcpu), ("ram", ram), ("storage", storage)):
        CapacityEnvelope.objects.create(resource=resource, target_utilisation=Decimal(value))
    for model, value in (gpu or {}).items():
        CapacityEnvelope.objects.create(resource="gpu", gpu_model=model, target_utilisation=Decimal(value))


def ip_pools(datacentre: Datacentre, *, v4: str = "203.0.113.0/24", v6: str = "2001:db8:10::/64") -> None:
    v4_net, v6_net = v4.split("/")[0], v6.split("/")[0]
    IpPool.objects.create(datacentre=datacentre, family=4, cidr=v4, gateway=v4_net[:-1] + "1", dns_servers=["1.1.1.1"])
    IpPool.objects.create(datacentre=datacentre, family=6, cidr=v6, gateway=v6_net + "1", dns_servers=[])


def fleet(*, dc_code: str = "PAR-1", nodes: int = 2, gpus_per_node: int = 0, gpu_model=None) -> dict:
    """A datacentre with one cluster, ``nodes`` nodes, GPUs, a cluster-wide template and IP pools."""
    dc = DatacentreFactory(code=dc_code)
    cluster = ClusterFactory(datacentre=dc)
    image = OsImageFactory()
    template = TemplateFactory(cluster=cluster, os_image=image)
    gpu_template = TemplateFactory(cluster=cluster, os_image=image, gpu_ready=True, name="tpl-ubuntu-24.04-gpu")
    storage = StorageFactory(cluster=cluster, node=None, name="ceph-nvme", type="rbd", shared=True, capacity_gb=100_000)
    node_objs = [NodeFactory(cluster=cluster, datacentre=dc) for _ in range(nodes)]
    gpus = []
    if gpus_per_node:
        model = gpu_model or GpuModelFactory()
        for node in node_objs:
            for i in range(gpus_per_node):
                gpus.append(GpuFactory(node=node, gpu_model=model, pci_address=f"0000:{0x21 + i * 0x20:02x}:00.0"))
            node.gpu_count = gpus_per_node
            node.save(update_fields=["gpu_count"])
    ip_pools(dc)
    return {
        "dc": dc,
        "cluster": cluster,
        "image": image,
        "template": template,
        "gpu_template": gpu_template,
        "storage": storage,
        "nodes": node_objs,
        "gpus": gpus,
    }
