"""Whole-platform consistency checks, run after a restore and by operators at will.

* Invoice and credit note numbers are gap-free: every value of each yearly
  counter up to its last value names exactly one document.
* The ledger equals the invoices: re-rating each issued invoice's month from the
  usage ledger gives the invoice's lines and subtotal, to the cent.
* Every running (or stopped, rebooting, resizing) server's VM is known: its
  cluster, node and VMID are recorded, so the reconcile task can find it.

Read-only. Lives in the top app because it reads billing, instances and their
numbering together. Docs: apps/docs/content/runbook-restore.md.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum

from apps.billing.choices import InvoiceStatus
from apps.billing.models import CreditNote, Invoice, NumberSequence
from apps.billing.selectors import rate_month
from apps.instances.choices import InstanceStatus
from apps.instances.models import Instance

_NUMBER = re.compile(r"-(\d{4})-(\d+)$")
# Statuses in which a VM exists on Proxmox and the platform must know where.
LIVE_VM_STATUSES = (
    InstanceStatus.RUNNING,
    InstanceStatus.STOPPED,
    InstanceStatus.REBOOTING,
    InstanceStatus.RESIZING,
)


@dataclass
class Report:
    checked: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _gap_free(report: Report, kind: str, numbers: list[str]) -> None:
    by_year: dict[int, list[int]] = defaultdict(list)
    for number in numbers:
        match = _NUMBER.search(number)
        if match is None:
            report.problems.append(f"{kind} number {number!r} has no -YEAR-SEQUENCE suffix")
            continue
        by_year[int(match.group(1))].append(int(match.group(2)))
    sequences = dict(NumberSequence.objects.filter(name__startswith=f"{kind}-").values_list("name", "last_value"))
    for year in sorted(set(by_year) | {int(name.rsplit("-", 1)[1]) for name in sequences}):
        taken = sorted(by_year.get(year, []))
        last = sequences.get(f"{kind}-{year}", 0)
        expected = list(range(1, last + 1))
        if taken != expected:
            missing = sorted(set(expected) - set(taken))[:10]
            extra = sorted({n for n in taken if taken.count(n) > 1 or n > last})[:10]
            report.problems.append(
                f"{kind} numbers of {year} are not 1..{last} without gaps: missing {missing}, "
                f"duplicate or beyond {extra}"
            )
    report.checked[f"{kind} numbers"] = len(numbers)


def check_numbering(report: Report) -> None:
    numbers = [n for n in Invoice.objects.exclude(number=None).values_list("number", flat=True) if n]
    _gap_free(report, "invoice", numbers)
    _gap_free(report, "credit_note", list(CreditNote.objects.values_list("number", flat=True)))


def check_ledger_against_invoices(report: Report) -> None:
    issued = Invoice.objects.exclude(status=InvoiceStatus.DRAFT).annotate(lines_total=Sum("lines__amount"))
    count = 0
    for invoice in issued.iterator():
        count += 1
        rated = sum(
            (c.amount for c in rate_month(organisation_id=invoice.organisation_id, month=invoice.period_start)),
            Decimal(0),
        )
        lines = invoice.lines_total or Decimal(0)
        if not (rated == lines == invoice.subtotal):
            report.problems.append(
                f"invoice {invoice.number}: ledger re-rated {rated}, lines {lines}, subtotal {invoice.subtotal}"
            )
    report.checked["issued invoices"] = count


def check_instances_known(report: Report) -> None:
    live = Instance.objects.filter(status__in=LIVE_VM_STATUSES)
    unknown = live.filter(cluster__isnull=True) | live.filter(vmid__isnull=True) | live.filter(node_name="")
    for instance in unknown.distinct().order_by("pk")[:20]:
        report.problems.append(f"instance {instance.pk} ({instance.name}, {instance.status}) has no cluster/node/VMID")
    report.checked["live instances"] = live.count()


def platform_consistency() -> Report:
    report = Report()
    check_numbering(report)
    check_ledger_against_invoices(report)
    check_instances_known(report)
    return report
