"""The catalogue: ``vmcl offer``, ``vmcl image``, ``vmcl datacentre``, ``vmcl availability``, ``vmcl family``."""

from typing import Annotated

import typer

from ..common import Columns, Filter, NoHeader, Output, client, emit, list_items

offer = typer.Typer(
    rich_markup_mode=None, help="Offers (server types and services) and their prices.", no_args_is_help=True
)
image = typer.Typer(rich_markup_mode=None, help="OS images.", no_args_is_help=True)
datacentre = typer.Typer(rich_markup_mode=None, help="Datacentres.", no_args_is_help=True)
availability = typer.Typer(rich_markup_mode=None, help="What can be ordered where, now.", no_args_is_help=True)
family = typer.Typer(rich_markup_mode=None, help="Product families.", no_args_is_help=True)


@offer.command("list")
def offer_list(
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    filter: Filter = None,
    family_: Annotated[str | None, typer.Option("--family", help="Family slug, e.g. vps.")] = None,
    datacentre_: Annotated[str | None, typer.Option("--datacentre", help="Orderable in this datacentre.")] = None,
) -> None:
    """List offers."""
    rows = list_items("catalogue_offers_list", filters=filter, family=family_, datacentre=datacentre_)
    for row in rows:
        compute = row.get("compute") or {}
        price = row.get("price") or {}
        row.setdefault("vcpu", compute.get("vcpu"))
        row.setdefault("ram_gb", compute.get("ram_gb"))
        row.setdefault("disk_gb", compute.get("disk_gb"))
        row.setdefault("price_monthly", price.get("monthly"))
    default = ["code", "name", "family", "vcpu", "ram_gb", "disk_gb", "price_monthly", "datacentres"]
    emit(rows, output=output, columns=columns, no_header=no_header, default=default)


@offer.command("describe")
def offer_describe(code: str, output: Output = "table") -> None:
    """Show one offer."""
    emit(client().catalogue_offers_retrieve(code), output=output)


@image.command("list")
def image_list(
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    include_deprecated: Annotated[bool, typer.Option(help="Also images no longer offered.")] = False,
) -> None:
    """List OS images."""
    rows = list_items("catalogue_images_list", include_deprecated=include_deprecated or None)
    default = ["slug", "distribution", "version", "os_type", "lifecycle", "min_ram_gb", "min_disk_gb"]
    emit(rows, output=output, columns=columns, no_header=no_header, default=default)


@datacentre.command("list")
def datacentre_list(output: Output = "table", columns: Columns = None, no_header: NoHeader = False) -> None:
    """List datacentres."""
    rows = list_items("catalogue_datacentres_list")
    emit(
        rows, output=output, columns=columns, no_header=no_header, default=["code", "name", "city", "country", "status"]
    )


@availability.command("list")
def availability_list(
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    offer_: Annotated[str | None, typer.Option("--offer", help="Offer code.")] = None,
    datacentre_: Annotated[str | None, typer.Option("--datacentre", help="Datacentre code.")] = None,
    image_: Annotated[str | None, typer.Option("--image", help="Image slug.")] = None,
) -> None:
    """Availability of offers per datacentre."""
    rows = list_items("availability_list", offer=offer_, datacentre=datacentre_, image=image_)
    default = ["offer", "datacentre", "available", "level", "reason"]
    emit(rows, output=output, columns=columns, no_header=no_header, default=default)


@family.command("list")
def family_list(output: Output = "table", columns: Columns = None, no_header: NoHeader = False) -> None:
    """List product families."""
    emit(list_items("catalogue_families_list"), output=output, columns=columns, no_header=no_header)


gpu_model = typer.Typer(rich_markup_mode=None, help="GPU models and where they are.", no_args_is_help=True)
gpu_stack = typer.Typer(rich_markup_mode=None, help="GPU software stacks.", no_args_is_help=True)


@gpu_model.command("list")
def gpu_model_list(output: Output = "table", columns: Columns = None, no_header: NoHeader = False) -> None:
    """List GPU models."""
    emit(list_items("catalogue_gpu_models_list"), output=output, columns=columns, no_header=no_header)


@gpu_stack.command("list")
def gpu_stack_list(output: Output = "table", columns: Columns = None, no_header: NoHeader = False) -> None:
    """List GPU software stacks."""
    emit(list_items("catalogue_gpu_stacks_list"), output=output, columns=columns, no_header=no_header)


@family.command("describe")
def family_describe(slug: str, output: Output = "table") -> None:
    """Show one product family with its offers."""
    emit(client().catalogue_families_retrieve(slug), output=output)


@offer.command("quote")
def offer_quote(
    code: Annotated[str, typer.Argument(help="Offer code.")],
    datacentre_: Annotated[str, typer.Option("--datacentre", help="Datacentre code.")],
    image_: Annotated[str | None, typer.Option("--image", help="Image slug.")] = None,
    output: Output = "table",
) -> None:
    """Price and availability of an offer in a datacentre, before ordering."""
    body: dict[str, object] = {"offer": code, "datacentre": datacentre_}
    if image_ is not None:
        body["image"] = image_
    emit(client().quotes_create(body=body), output=output)  # type: ignore[arg-type]
