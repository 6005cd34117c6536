"""Invoice and credit note documents: the PDF (fpdf2, pure Python) and the CSV export of an invoice's lines.

The PDF carries what an EU invoice must (Article 226 of Council Directive
2006/112/EC): seller and buyer with VAT ids, number, issue date, the supplies
with their period, the taxable amount, the VAT rate and amount (or the legal
wording when no VAT is charged: reverse charge, outside the scope). It uses
fpdf2's built-in Helvetica (no font file to ship), which covers Latin-1: text
is transliterated where it falls outside (``€`` is written ``EUR``).
Docs: https://py-pdf.github.io/fpdf2/

Rendering only: callers hand over the invoice (or credit note) and its lines,
already read (``apps.billing.selectors.invoices``); nothing here queries.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from fpdf import FPDF

from apps.billing.choices import VatTreatment

# The documents read the fields of billing.Invoice, InvoiceLine and CreditNote; they are typed loosely so
# that this module imports no model (rules touch no database: docs/dev/style.md#app-shape).
Invoice = Any
InvoiceLine = Any
CreditNote = Any

_REPLACEMENTS = {"€": "EUR", "—": "-", "–": "-", "·": ".", "’": "'", "“": '"', "”": '"', "…": "...", "≤": "<="}


def _latin1(text: object) -> str:
    value = str(text)
    for old, new in _REPLACEMENTS.items():
        value = value.replace(old, new)
    return value.encode("latin-1", "replace").decode("latin-1")


def money(value: Decimal, currency: str = "EUR") -> str:
    return f"{value:,.2f} {currency}".replace(",", " ")


def _date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


class _Document(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_title(title)
        self.set_author(str(settings.BILLING_SELLER.get("name", "")))
        self.set_creator("VMCloud billing")
        self.set_auto_page_break(auto=True, margin=18)
        self.add_page()

    def text_line(self, text: object, *, size: int = 9, bold: bool = False, height: float = 4.5) -> None:
        self.set_font("Helvetica", "B" if bold else "", size)
        self.multi_cell(0, height, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "", 7)
        seller = settings.BILLING_SELLER
        self.cell(
            0,
            5,
            _latin1(f"{seller.get('name', '')} - {seller.get('address', '')} - VAT {seller.get('vat_id', '')}"),
            align="C",
        )


def _parties(pdf: _Document, *, buyer_lines: Iterable[str], title: str, facts: list[tuple[str, str]]) -> None:
    seller = settings.BILLING_SELLER
    pdf.text_line(title, size=16, bold=True, height=8)
    pdf.ln(2)
    top = pdf.get_y()
    pdf.text_line(_("Seller"), bold=True)
    pdf.text_line(seller.get("name", ""))
    pdf.text_line(seller.get("address", ""))
    pdf.text_line(_("VAT id: %(id)s") % {"id": seller.get("vat_id", "")})
    pdf.text_line(_("Registry code: %(code)s") % {"code": seller.get("registry_code", "")})
    pdf.text_line(seller.get("email", ""))
    seller_bottom = pdf.get_y()
    pdf.set_xy(110, top)
    pdf.set_left_margin(110)
    pdf.text_line(_("Buyer"), bold=True)
    for line in buyer_lines:
        if line:
            pdf.text_line(line)
    buyer_bottom = pdf.get_y()
    pdf.set_left_margin(10)
    pdf.set_xy(10, max(seller_bottom, buyer_bottom) + 4)
    for label, value in facts:
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(40, 5, _latin1(label))
        pdf.set_font("Helvetica", "", 9)
        pdf.cell(0, 5, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _buyer_lines(invoice: Invoice) -> list[str]:
    lines = [invoice.buyer_name, *invoice.buyer_address.splitlines(), invoice.buyer_country]
    if invoice.buyer_vat_id:
        lines.append(_("VAT id: %(id)s") % {"id": invoice.buyer_vat_id})
    lines.append(invoice.buyer_email)
    return lines


def _totals(pdf: _Document, rows: list[tuple[str, str, bool]]) -> None:
    pdf.ln(2)
    for label, value, bold in rows:
        pdf.set_font("Helvetica", "B" if bold else "", 9)
        pdf.cell(150, 5, _latin1(label), align="R")
        pdf.cell(40, 5, _latin1(value), align="R", new_x="LMARGIN", new_y="NEXT")


def _vat_label(invoice: Invoice) -> str:
    return _("VAT %(rate)s %%") % {"rate": f"{invoice.vat_rate:.2f}".rstrip("0").rstrip(".")}


def invoice_pdf(invoice: Invoice, lines: Iterable[InvoiceLine]) -> bytes:
    """The invoice as a PDF (seller, buyer, number, dates, lines, totals, VAT wording)."""
    pdf = _Document(_("Invoice %(number)s") % {"number": invoice.number or _("draft")})
    facts = [
        (_("Invoice number"), invoice.number or _("draft")),
        (_("Issue date"), _date(invoice.issued_at)),
        (_("Due date"), _date(invoice.due_at)),
        (_("Period"), f"{invoice.period_start:%Y-%m-%d} - {invoice.period_end:%Y-%m-%d}"),
        (_("Currency"), invoice.currency),
    ]
    _parties(pdf, buyer_lines=_buyer_lines(invoice), title=_("Invoice"), facts=facts)

    widths = (92, 26, 22, 24, 26)
    pdf.set_font("Helvetica", "B", 8)
    for width, head in zip(
        widths, (_("Description"), _("Project"), _("Quantity"), _("Unit price"), _("Amount")), strict=True
    ):
        pdf.cell(width, 6, _latin1(head), border="B")
    pdf.ln()
    pdf.set_font("Helvetica", "", 7.5)
    for line in lines:
        period = f"{line.period_start:%m-%d %H:%M} - {line.period_end:%m-%d %H:%M} UTC"
        pdf.cell(widths[0], 4.5, _latin1(line.description)[:70])
        pdf.cell(widths[1], 4.5, _latin1(line.project_name)[:18])
        pdf.cell(widths[2], 4.5, _latin1(f"{line.quantity.normalize():f} {line.unit}"), align="R")
        pdf.cell(widths[3], 4.5, _latin1(f"{line.unit_price:.6f}".rstrip("0").rstrip(".")), align="R")
        pdf.cell(widths[4], 4.5, _latin1(money(line.amount)), align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(110, 110, 110)
        pdf.cell(0, 3.5, _latin1(period), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)

    rows = [(_("Subtotal"), money(invoice.subtotal), False)]
    if invoice.promotional_credit:
        rows.append((_("Promotional credit"), money(-invoice.promotional_credit), False))
    rows.append((_("Taxable amount"), money(invoice.net_total), False))
    rows.append((_vat_label(invoice), money(invoice.vat_amount), False))
    rows.append((_("Total incl. VAT"), money(invoice.total), True))
    if invoice.prepaid_applied:
        rows.append((_("Prepaid balance applied"), money(-invoice.prepaid_applied), False))
    if invoice.amount_credited:
        rows.append((_("Credited by credit notes"), money(-invoice.amount_credited), False))
    rows.append((_("Amount due"), money(invoice.amount_due), True))
    _totals(pdf, rows)

    pdf.ln(4)
    if invoice.vat_note:
        pdf.text_line(invoice.vat_note, bold=True)
    if invoice.vat_treatment == VatTreatment.REVERSE_CHARGE:
        pdf.text_line(
            _("Seller VAT id: %(seller)s. Buyer VAT id: %(buyer)s.")
            % {"seller": settings.BILLING_SELLER.get("vat_id", ""), "buyer": invoice.buyer_vat_id}
        )
    elif invoice.vat_treatment == VatTreatment.EU_CONSUMER:
        pdf.text_line(
            _("VAT of %(country)s at %(rate)s %% (place of supply: the customer's country, declared through the OSS).")
            % {"country": invoice.buyer_country, "rate": invoice.vat_rate}
        )
    pdf.ln(2)
    pdf.text_line(
        _("Payment within %(days)s days of the issue date. Reference: %(number)s.")
        % {
            "days": (invoice.due_at - invoice.issued_at).days if invoice.due_at and invoice.issued_at else "",
            "number": invoice.number or "",
        },
        size=8,
    )
    seller = settings.BILLING_SELLER
    if seller.get("iban"):
        pdf.text_line(
            _("Bank transfer: %(bank)s, IBAN %(iban)s, BIC %(bic)s; put the invoice number in the reference.")
            % {"bank": seller.get("bank", ""), "iban": seller.get("iban", ""), "bic": seller.get("bic", "")},
            size=8,
        )
    return bytes(pdf.output())


def credit_note_pdf(credit_note: CreditNote) -> bytes:
    """The credit note as a PDF: it names the invoice it corrects and the VAT at that invoice's rate."""
    invoice = credit_note.invoice
    pdf = _Document(_("Credit note %(number)s") % {"number": credit_note.number})
    facts = [
        (_("Credit note number"), credit_note.number),
        (_("Issue date"), _date(credit_note.issued_at)),
        (_("Corrects invoice"), f"{invoice.number} ({_date(invoice.issued_at)})"),
        (_("Settlement"), str(credit_note.get_kind_display())),
    ]
    _parties(pdf, buyer_lines=_buyer_lines(invoice), title=_("Credit note"), facts=facts)
    pdf.text_line(_("Reason: %(reason)s") % {"reason": credit_note.reason})
    _totals(
        pdf,
        [
            (_("Amount excl. VAT"), money(-credit_note.net_amount), False),
            (_vat_label(invoice), money(-credit_note.vat_amount), False),
            (_("Total credited incl. VAT"), money(-credit_note.total), True),
        ],
    )
    if invoice.vat_note:
        pdf.ln(3)
        pdf.text_line(invoice.vat_note, bold=True)
    return bytes(pdf.output())


CSV_HEADER = [
    "invoice",
    "position",
    "resource_type",
    "resource_id",
    "project",
    "description",
    "from",
    "until",
    "quantity",
    "unit",
    "unit_price",
    "amount",
    "currency",
]


def invoice_csv(invoice: Invoice, lines: Iterable[InvoiceLine]) -> str:
    """The invoice's lines as CSV (one row per line, amounts excl. VAT; totals in the last rows)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    number = invoice.number or f"draft-{invoice.period_start:%Y-%m}"
    for line in lines:
        writer.writerow(
            [
                number,
                line.position,
                line.resource_type,
                line.resource_id or "",
                line.project_name,
                line.description,
                line.period_start.isoformat(),
                line.period_end.isoformat(),
                line.quantity,
                line.unit,
                line.unit_price,
                line.amount,
                invoice.currency,
            ]
        )
    for label, value in (
        ("subtotal", invoice.subtotal),
        ("promotional_credit", -invoice.promotional_credit),
        ("taxable_amount", invoice.net_total),
        (f"vat_{invoice.vat_rate}", invoice.vat_amount),
        ("total", invoice.total),
        ("prepaid_applied", -invoice.prepaid_applied),
        ("amount_due", invoice.amount_due),
    ):
        writer.writerow([number, "", "total", "", "", label, "", "", "", "", "", value, invoice.currency])
    return out.getvalue()
