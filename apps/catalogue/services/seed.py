"""Loading the seed catalogue (``seed_data``) into the database, one audit event per load.

The loader upserts by natural key (slug or code) and never overwrites a
row that already exists, so staff edits made in the admin survive every
``make run``; ``reset=True`` puts the seed's values back on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.db import models, transaction

from apps.catalogue import choices
from apps.catalogue.models import (
    CapacityEnvelope,
    Datacentre,
    DatacentreGpuModel,
    GpuModel,
    GpuSoftwareStack,
    Offer,
    OsImage,
    ProductFamily,
)
from apps.catalogue.services import seed_data as seed
from apps.catalogue.services.offers import offer_hourly_price
from apps.core.actors import Actor
from apps.core.choices import ActorKind
from apps.core.services import audit_record

M = TypeVar("M", bound=models.Model)


@dataclass
class SeedLoadReport:
    """Per model: rows created, rows reset to the seed, rows left as staff have them."""

    created: dict[str, int] = field(default_factory=dict)
    reset: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: str, model: str) -> None:
        counts = getattr(self, bucket)
        counts[model] = counts.get(model, 0) + 1

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {"created": self.created, "reset": self.reset, "kept": self.kept}


def _decimals(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """The seed types money and ratios as strings: turn those of DecimalFields into Decimal."""
    out = dict(values)
    for f in model._meta.concrete_fields:
        if isinstance(f, models.DecimalField) and isinstance(out.get(f.name), str):
            out[f.name] = Decimal(out[f.name])
    return out


def _upsert(
    model: type[M], *, lookup: dict[str, Any], values: dict[str, Any], reset: bool, report: SeedLoadReport
) -> tuple[M, bool]:
    """Create the row if missing; overwrite it only on ``reset``. Returns (row, written).

    Field validation runs (choices, validators); uniqueness and check
    constraints are left to the database, which enforces them anyway, to spare
    a query per constraint and row.
    """
    name = model._meta.model_name or model.__name__
    values = _decimals(model, values)
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        obj.full_clean(validate_unique=False, validate_constraints=False)
        obj.save()
        report.count("created", name)
        return obj, True
    if not reset:
        report.count("kept", name)
        return obj, False
    # A reset row equals a freshly loaded one: fields the seed leaves out go back to their defaults.
    fresh = model(**lookup, **values)
    for f in model._meta.concrete_fields:
        if not f.primary_key and f.name != "created_at":
            setattr(obj, f.attname, getattr(fresh, f.attname))
    obj.full_clean(validate_unique=False, validate_constraints=False)
    obj.save()
    report.count("reset", name)
    return obj, True


@transaction.atomic
def catalogue_load_seed(*, actor: Actor = None, reset: bool = False) -> SeedLoadReport:
    """Load ``apps.catalogue.services.seed_data`` idempotently: create what is missing, keep what staff edited.

    With ``reset`` every seeded row (and its links: GPU presence, where offers
    are orderable) is put back to the seed's values; rows staff added are
    left alone. One audit event records the counts.
    """
    report = SeedLoadReport()

    gpus: dict[str, GpuModel] = {}
    for row in seed.GPU_MODELS:
        values = {k: v for k, v in row.items() if k != "slug"}
        gpus[row["slug"]], _w = _upsert(
            GpuModel, lookup={"slug": row["slug"]}, values=values, reset=reset, report=report
        )

    dcs: dict[str, Datacentre] = {}
    for row in seed.DATACENTRES:
        values = {k: v for k, v in row.items() if k not in {"code", "gpus"}}
        dc, written = _upsert(Datacentre, lookup={"code": row["code"]}, values=values, reset=reset, report=report)
        dcs[row["code"]] = dc
        if written:
            seeded = [gpus[slug].pk for slug, _presence in row["gpus"]]
            DatacentreGpuModel.objects.filter(datacentre=dc).exclude(gpu_model_id__in=seeded).delete()
            for slug, presence in row["gpus"]:
                DatacentreGpuModel.objects.update_or_create(
                    datacentre=dc, gpu_model=gpus[slug], defaults={"presence": presence}
                )

    families: dict[str, ProductFamily] = {}
    for row in seed.FAMILIES:
        values = {k: v for k, v in row.items() if k != "slug"}
        families[row["slug"]], _w = _upsert(
            ProductFamily, lookup={"slug": row["slug"]}, values=values, reset=reset, report=report
        )

    for row in seed.OFFERS:
        family = families[row["family"]]
        values = _decimals(
            Offer, {k: v for k, v in row.items() if k not in {"code", "family", "gpu_model", "datacentres"}}
        )
        values["family"] = family
        values["gpu_model"] = gpus[row["gpu_model"]] if row.get("gpu_model") else None
        values.setdefault("billing_unit", choices.BillingUnit.MONTH)
        values["price_hourly"] = offer_hourly_price(
            family=family,
            billing_unit=values["billing_unit"],
            monthly=values["price_monthly"],
            listed=values.get("price_hourly"),
        )
        offer, written = _upsert(Offer, lookup={"code": row["code"]}, values=values, reset=reset, report=report)
        if written:
            offer.datacentres.set([dcs[code] for code in row["datacentres"]])

    images: dict[str, OsImage] = {}
    for row in seed.OS_IMAGES:
        values = {k: v for k, v in row.items() if k != "slug"}
        images[row["slug"]], _w = _upsert(
            OsImage, lookup={"slug": row["slug"]}, values=values, reset=reset, report=report
        )

    for row in seed.GPU_STACKS:
        values = {k: v for k, v in row.items() if k not in {"slug", "base_image"}}
        values["base_image"] = images[row["base_image"]]
        _upsert(GpuSoftwareStack, lookup={"slug": row["slug"]}, values=values, reset=reset, report=report)

    for row in seed.CAPACITY_ENVELOPES:
        gpu = gpus[row["gpu_model"]] if row["gpu_model"] else None
        values = {k: v for k, v in row.items() if k not in {"resource", "gpu_model"}}
        _upsert(
            CapacityEnvelope,
            lookup={"resource": row["resource"], "gpu_model": gpu},
            values=values,
            reset=reset,
            report=report,
        )

    audit_record(
        actor=actor,
        actor_kind=ActorKind.SYSTEM if actor is None else None,
        action="catalogue.seed_load",
        changes={"mode": "reset" if reset else "keep", **report.as_dict()},
    )
    return report
