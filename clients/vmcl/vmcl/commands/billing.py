"""Billing: ``vmcl invoice``, ``vmcl cost``, ``vmcl budget``."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..common import Columns, Filter, NoHeader, Output, Sort, client, emit, list_items

invoice = typer.Typer(rich_markup_mode=None, help="Invoices: list, show, download the PDF.", no_args_is_help=True)
cost = typer.Typer(rich_markup_mode=None, help="Costs: month to date and forecast.", no_args_is_help=True)
budget = typer.Typer(rich_markup_mode=None, help="Budgets and their alerts.", no_args_is_help=True)
Org = Annotated[str | None, typer.Option("--organisation", help="Organisation id or slug (default: all you see).")]


@invoice.command("list")
def invoice_list(
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    sort: Sort = None,
    filter: Filter = None,
    organisation: Org = None,
) -> None:
    """List invoices."""
    rows = list_items("billing_invoices_list", sort=sort, filters=filter, organisation=organisation)
    default = ["id", "number", "status", "period_start", "period_end", "total", "amount_due", "currency"]
    emit(rows, output=output, columns=columns, no_header=no_header, default=default)


@invoice.command("describe")
def invoice_describe(invoice_id: Annotated[str, typer.Argument(metavar="INVOICE")], output: Output = "table") -> None:
    """Show one invoice with its lines."""
    emit(client().billing_invoices_retrieve(invoice_id), output=output)


@invoice.command("download")
def invoice_download(
    invoice_id: Annotated[str, typer.Argument(metavar="INVOICE")],
    file: Annotated[
        Path | None, typer.Option("--file", "-O", help="Where to write the PDF ('-' for stdout; default: <id>.pdf).")
    ] = None,
) -> None:
    """Download an invoice's PDF."""
    pdf = client().billing_invoices_pdf(invoice_id)
    if str(file) == "-":
        sys.stdout.buffer.write(pdf)
        return
    target = file or Path(f"{invoice_id}.pdf")
    target.write_bytes(pdf)
    typer.echo(f"{target} ({len(pdf)} bytes)", err=True)


@cost.command("show")
def cost_show(
    organisation: Org = None,
    project: Annotated[int | None, typer.Option(help="Only this project.")] = None,
    month: Annotated[str | None, typer.Option(help="YYYY-MM (default: this month).")] = None,
    output: Output = "table",
    columns: Columns = None,
) -> None:
    """Month-to-date costs and the forecast, with VAT."""
    data = client().billing_costs(organisation=organisation, project=project, month=month)
    if output == "table" and not columns:
        summary = ["month", "currency", "month_to_date", "month_to_date_incl_vat", "forecast", "forecast_incl_vat"]
        emit({k: data.get(k) for k in summary}, output=output)
        return
    emit(data, output=output, columns=columns)


@budget.command("list")
def budget_list(
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
    sort: Sort = None,
    filter: Filter = None,
    organisation: Org = None,
) -> None:
    """List budgets."""
    rows = list_items("billing_budgets_list", sort=sort, filters=filter, organisation=organisation)
    default = ["id", "name", "amount", "thresholds", "basis", "action", "is_active"]
    emit(rows, output=output, columns=columns, no_header=no_header, default=default)


@budget.command("describe")
def budget_describe(budget_id: Annotated[str, typer.Argument(metavar="BUDGET")], output: Output = "table") -> None:
    """Show one budget."""
    emit(client().billing_budgets_retrieve(budget_id), output=output)


@budget.command("create")
def budget_create(
    name: Annotated[str, typer.Option(help="Budget name.")],
    amount: Annotated[str, typer.Option(help="Monthly amount in EUR, e.g. 100.00.")],
    threshold: Annotated[list[int] | None, typer.Option("--threshold", help="Alert at this % (repeatable).")] = None,
    action: Annotated[str | None, typer.Option(help="none, block_orders or stop_gpus at 100 %.")] = None,
    notify_email: Annotated[list[str] | None, typer.Option("--notify-email", help="Repeatable.")] = None,
    project: Annotated[int | None, typer.Option(help="Only this project's costs.")] = None,
    organisation: Annotated[str | None, typer.Option(help="Organisation id.")] = None,
    output: Output = "table",
) -> None:
    """Create a budget."""
    body: dict[str, object] = {"name": name, "amount": amount}
    for key, value in (
        ("thresholds", threshold),
        ("action", action),
        ("notify_emails", notify_email),
        ("project", project),
        ("organisation", organisation),
    ):
        if value is not None:
            body[key] = value
    emit(client().billing_budgets_create(body=body), output=output)  # type: ignore[arg-type]


@budget.command("delete")
def budget_delete(budget_id: Annotated[str, typer.Argument(metavar="BUDGET")]) -> None:
    """Delete a budget."""
    client().billing_budgets_destroy(budget_id)
    typer.echo(f"budget {budget_id} deleted", err=True)


@budget.command("alerts")
def budget_alerts(
    budget_id: Annotated[str, typer.Argument(metavar="BUDGET")],
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
) -> None:
    """The alerts a budget has raised."""
    emit(list_items("billing_budget_alerts_list", budget_id), output=output, columns=columns, no_header=no_header)


@budget.command("update")
def budget_update(
    budget_id: Annotated[str, typer.Argument(metavar="BUDGET")],
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    amount: Annotated[str | None, typer.Option(help="New monthly amount in EUR.")] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive", help="Evaluate the budget or not.")] = None,
    output: Output = "table",
) -> None:
    """Change a budget."""
    body: dict[str, object] = {}
    for key, value in (("name", name), ("amount", amount), ("is_active", active)):
        if value is not None:
            body[key] = value
    emit(client().billing_budgets_update(budget_id, body=body), output=output)  # type: ignore[arg-type]


@invoice.command("credit-notes")
def credit_notes(
    output: Output = "table", columns: Columns = None, no_header: NoHeader = False, organisation: Org = None
) -> None:
    """List credit notes."""
    rows = list_items("billing_credit_notes_list", organisation=organisation)
    emit(rows, output=output, columns=columns, no_header=no_header)


@cost.command("usage")
def cost_usage(
    organisation: Org = None,
    month: Annotated[str | None, typer.Option(help="YYYY-MM (default: this month).")] = None,
    output: Output = "table",
    columns: Columns = None,
    no_header: NoHeader = False,
) -> None:
    """Metered usage of the month, line by line."""
    if month is None:
        import datetime

        month = datetime.datetime.now(datetime.UTC).strftime("%Y-%m")
    data = client().billing_usage_retrieve(organisation=organisation, month=month)
    if output == "table":
        emit(data.get("lines", []), output=output, columns=columns, no_header=no_header)
        return
    emit(data, output=output)
