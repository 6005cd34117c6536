"""Fixtures of the payments area (Stripe, webhooks, dunning): import them explicitly in test modules.

Stripe is never reached: ``stripe_on`` configures fake test keys, points
``stripe.api_base`` at a closed loopback port (an unmocked call fails fast)
and ``FakeStripe`` monkeypatches the stripe-python class methods the gateway
uses, returning objects built with ``StripeObject.construct_from`` like the
real client does.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import stripe
from django.utils import timezone

from apps.billing.choices import InvoiceStatus
from apps.billing.models import Invoice
from apps.instances.choices import ActionStatus, ActionType, InstanceStatus
from apps.instances.models import Action, Instance
from apps.teams.choices import Role
from tests.factories import member, organisation_with_owner
from tests.infrastructure.factories import DatacentreFactory, FamilyFactory, OfferFactory, OsImageFactory

WEBHOOK_SECRET = "whsec_test_" + "a" * 32
FAKE_KEY = "sk_test_" + "x" * 40


def closed_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sobj(data: dict[str, Any]) -> Any:
    """A StripeObject like stripe-python returns from the API (a ListObject for lists, typed classes by "object")."""
    from stripe._util import convert_to_stripe_object

    return convert_to_stripe_object(json.loads(json.dumps(data)), FAKE_KEY)


def sign(payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header built with stripe-python's real signing (HMAC-SHA256 of "{t}.{payload}")."""
    t = int(time.time()) if timestamp is None else timestamp
    signature = stripe.WebhookSignature._compute_signature(f"{t}.{payload}", secret)
    return f"t={t},v1={signature}"


def event_payload(type: str, obj: dict[str, Any], *, event_id: str | None = None, created: int | None = None) -> str:
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "api_version": "2026-05-27.dahlia",
            "created": int(time.time()) if created is None else created,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
            "data": {"object": obj},
        }
    )


def stripe_invoice(
    id: str, *, status: str, customer: str = "cus_test", metadata: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    now = int(time.time())
    paid_at = extra.pop("paid_at", now if status == "paid" else None)
    return {
        "id": id,
        "object": "invoice",
        "customer": customer,
        "status": status,
        "currency": "eur",
        "amount_due": 12100,
        "amount_paid": 12100 if status == "paid" else 0,
        "amount_remaining": 0 if status == "paid" else 12100,
        "attempted": extra.pop("attempted", status != "draft"),
        "attempt_count": extra.pop("attempt_count", 1),
        "collection_method": "charge_automatically",
        "created": now - 3600,
        "livemode": False,
        "metadata": metadata or {},
        "status_transitions": {"finalized_at": now - 3000, "paid_at": paid_at},
        "lines": {"object": "list", "data": [], "has_more": False, "url": f"/v1/invoices/{id}/lines"},
        **extra,
    }


class FakeStripe:
    """Monkeypatched stripe-python: a small in-memory Stripe holding the objects tests give it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.invoices: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.payment_methods: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.setup_intents: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.invoice_items: list[dict[str, Any]] = []
        self.refunds: list[dict[str, Any]] = []
        mp = monkeypatch
        mp.setattr(stripe.Customer, "create", classmethod(lambda cls, **kw: self._customer_create(**kw)))
        mp.setattr(stripe.Customer, "retrieve", classmethod(lambda cls, id, **kw: self._get("customer", id, kw)))
        mp.setattr(stripe.Customer, "modify", classmethod(lambda cls, id, **kw: self._customer_modify(id, **kw)))
        mp.setattr(stripe.Invoice, "retrieve", classmethod(lambda cls, id, **kw: self._get("invoice", id, kw)))
        mp.setattr(stripe.Invoice, "create", classmethod(lambda cls, **kw: self._invoice_create(**kw)))
        mp.setattr(stripe.Invoice, "finalize_invoice", classmethod(lambda cls, id, **kw: self._finalize(id, **kw)))
        mp.setattr(stripe.InvoiceItem, "create", classmethod(lambda cls, **kw: self._item_create(**kw)))
        mp.setattr(stripe.InvoicePayment, "list", classmethod(lambda cls, **kw: self._invoice_payments(**kw)))
        mp.setattr(stripe.Refund, "create", classmethod(lambda cls, **kw: self._refund(**kw)))
        mp.setattr(
            stripe.PaymentMethod, "retrieve", classmethod(lambda cls, id, **kw: self._get("payment_method", id, kw))
        )
        mp.setattr(stripe.PaymentMethod, "list", classmethod(lambda cls, **kw: self._pm_list(**kw)))
        mp.setattr(stripe.PaymentMethod, "detach", classmethod(lambda cls, id, **kw: self._pm_detach(id, **kw)))
        mp.setattr(stripe.checkout.Session, "create", classmethod(lambda cls, **kw: self._session_create(**kw)))
        mp.setattr(stripe.checkout.Session, "retrieve", classmethod(lambda cls, id, **kw: self._get("session", id, kw)))
        mp.setattr(stripe.Account, "retrieve", classmethod(lambda cls, id=None, **kw: self._account(id, **kw)))
        mp.setattr(stripe.SetupIntent, "retrieve", classmethod(lambda cls, id, **kw: self._get("setup_intent", id, kw)))

    def _store(self, kind: str) -> dict[str, dict[str, Any]]:
        return {
            "invoice": self.invoices,
            "customer": self.customers,
            "payment_method": self.payment_methods,
            "session": self.sessions,
            "setup_intent": self.setup_intents,
        }[kind]

    def _get(self, kind: str, id: str, kw: dict[str, Any]) -> Any:
        self.calls.append((f"{kind}.retrieve", {"id": id, **kw}))
        store = self._store(kind)
        if id not in store:
            raise stripe.InvalidRequestError(f"No such {kind}: '{id}'", param="id", code="resource_missing")
        return sobj(store[id])

    def customer(self, id: str = "cus_test", **extra: Any) -> dict[str, Any]:
        data = {
            "id": id,
            "object": "customer",
            "created": int(time.time()),
            "livemode": False,
            "email": "billing@example.com",
            "metadata": {},
            "invoice_settings": {"default_payment_method": None},
            "balance": 0,
            "currency": "eur",
            "delinquent": False,
            **extra,
        }
        self.customers[id] = data
        return data

    def _customer_create(self, **kw: Any) -> Any:
        self.calls.append(("customer.create", kw))
        id = f"cus_{uuid.uuid4().hex[:14]}"
        return sobj(self.customer(id, email=kw.get("email") or "", metadata=kw.get("metadata") or {}))

    def _customer_modify(self, id: str, **kw: Any) -> Any:
        self.calls.append(("customer.modify", {"id": id, **kw}))
        if "invoice_settings" in kw:
            self.customers[id]["invoice_settings"] = dict(kw["invoice_settings"])
        return sobj(self.customers[id])

    def payment_method(self, id: str, customer: str | None, type: str = "card") -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": id,
            "object": "payment_method",
            "type": type,
            "customer": customer,
            "created": int(time.time()),
            "livemode": False,
            "metadata": {},
            "billing_details": {"email": None, "name": "Alice", "address": {}, "phone": None},
        }
        if type == "card":
            data["card"] = {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030, "country": "FR"}
        else:
            data["sepa_debit"] = {"bank_code": "20041", "country": "FR", "last4": "3000"}
        self.payment_methods[id] = data
        return data

    def _pm_list(self, **kw: Any) -> Any:
        self.calls.append(("payment_method.list", kw))
        found = [
            pm
            for pm in self.payment_methods.values()
            if pm["customer"] == kw.get("customer") and pm["type"] == kw.get("type", pm["type"])
        ]
        listing = sobj({"object": "list", "data": found, "has_more": False, "url": "/v1/payment_methods"})
        return listing

    def _pm_detach(self, id: str, **kw: Any) -> Any:
        self.calls.append(("payment_method.detach", {"id": id, **kw}))
        self.payment_methods[id]["customer"] = None
        return sobj(self.payment_methods[id])

    def _session_create(self, **kw: Any) -> Any:
        self.calls.append(("checkout.session.create", kw))
        id = f"cs_test_{uuid.uuid4().hex[:20]}"
        data = {
            "id": id,
            "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/{id}",
            "mode": kw["mode"],
            "customer": kw.get("customer"),
            "metadata": kw.get("metadata") or {},
            "status": "open",
            "payment_status": "unpaid",
        }
        self.sessions[id] = data
        return sobj(data)

    def _invoice_create(self, **kw: Any) -> Any:
        self.calls.append(("invoice.create", kw))
        id = f"in_{uuid.uuid4().hex[:20]}"
        data = stripe_invoice(id, status="draft", customer=kw["customer"], metadata=kw.get("metadata"))
        data["collection_method"] = kw.get("collection_method")
        self.invoices[id] = data
        return sobj(data)

    def _item_create(self, **kw: Any) -> Any:
        self.calls.append(("invoiceitem.create", kw))
        self.invoice_items.append(kw)
        return sobj({"id": f"ii_{uuid.uuid4().hex[:16]}", "object": "invoiceitem", **kw})

    def _finalize(self, id: str, **kw: Any) -> Any:
        self.calls.append(("invoice.finalize", {"id": id, **kw}))
        self.invoices[id]["status"] = "open"
        self.invoices[id]["amount_due"] = sum(i["amount"] for i in self.invoice_items if i["invoice"] == id)
        return sobj(self.invoices[id])

    def _invoice_payments(self, **kw: Any) -> Any:
        self.calls.append(("invoice_payment.list", kw))
        data = [
            {
                "id": "inpay_1",
                "object": "invoice_payment",
                "invoice": kw["invoice"],
                "status": "paid",
                "payment": {"type": "payment_intent", "payment_intent": "pi_test_1"},
            }
        ]
        return sobj({"object": "list", "data": data, "has_more": False, "url": "/v1/invoice_payments"})

    def _refund(self, **kw: Any) -> Any:
        self.calls.append(("refund.create", kw))
        self.refunds.append(kw)
        return sobj({"id": f"re_{uuid.uuid4().hex[:16]}", "object": "refund", "status": "succeeded", **kw})

    def _account(self, id: str | None, **kw: Any) -> Any:
        """The platform account dj-stripe looks up for the API key (GET /v1/account)."""
        self.calls.append(("account.retrieve", {"id": id, **kw}))
        return sobj(
            {
                "id": "acct_test_platform",
                "object": "account",
                "type": "standard",
                "country": "EE",
                "default_currency": "eur",
                "email": "billing@vmcloud.example",
                "charges_enabled": True,
                "payouts_enabled": True,
                "details_submitted": True,
                "created": 1700000000,
                "metadata": {},
                "settings": {"dashboard": {"display_name": "VMCloud"}, "branding": {"icon": None, "logo": None}},
                "business_profile": {"name": "VMCloud"},
            }
        )

    def names(self) -> list[str]:
        return [name for name, _kw in self.calls]


@pytest.fixture
def stripe_on(settings, monkeypatch) -> FakeStripe:
    """Payments enabled with a fake test key; Stripe's API base is a closed loopback port; API calls faked."""
    settings.STRIPE_SECRET_KEY = FAKE_KEY
    settings.STRIPE_TEST_SECRET_KEY = FAKE_KEY
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_" + "x" * 40
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_WEBHOOK_TOLERANCE = 300
    settings.BILLING_PAYMENTS_ENABLED = True
    monkeypatch.setattr(stripe, "api_base", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setattr(stripe, "api_key", FAKE_KEY)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    try:  # dj-stripe reads its key through its settings object at call time
        from djstripe.settings import djstripe_settings

        monkeypatch.setattr(djstripe_settings, "STRIPE_SECRET_KEY", FAKE_KEY, raising=False)
    except ImportError:  # pragma: no cover
        pass
    return FakeStripe(monkeypatch)


@pytest.fixture
def stripe_off(settings) -> None:
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    settings.BILLING_PAYMENTS_ENABLED = False


@pytest.fixture
def org(db):
    organisation = organisation_with_owner(name="Payco")
    organisation.billing_email = "billing@payco.example"
    organisation.country = "FR"
    organisation.save()
    return organisation


@pytest.fixture
def billing_user(org):
    return member(org, role=Role.BILLING)


@pytest.fixture
def plain_member(org):
    return member(org, role=Role.MEMBER)


_numbers = iter(range(1, 10_000))


def make_invoice(
    organisation: Any,
    *,
    amount_due: str = "121.00",
    due_at: dt.datetime | None = None,
    issued_at: dt.datetime | None = None,
    month: int | None = None,
    status: str = InvoiceStatus.OPEN,
) -> Invoice:
    issued = issued_at or timezone.now() - dt.timedelta(days=1)
    n = next(_numbers)
    start = dt.date(2020 + n // 12, n % 12 + 1, 1) if month is None else dt.date(2026, month, 1)
    amount = Decimal(amount_due)
    return Invoice.objects.create(
        organisation=organisation,
        number=f"TST-{uuid.uuid4().hex[:10]}",
        status=status,
        period_start=start,
        period_end=start + dt.timedelta(days=27),
        issued_at=issued,
        due_at=due_at or issued + dt.timedelta(days=14),
        subtotal=(amount / Decimal("1.21")).quantize(Decimal("0.01")),
        net_total=(amount / Decimal("1.21")).quantize(Decimal("0.01")),
        vat_rate=Decimal("21.00"),
        vat_amount=amount - (amount / Decimal("1.21")).quantize(Decimal("0.01")),
        total=amount,
        amount_due=amount,
    )


@pytest.fixture
def instance_factory(org) -> Callable[..., Instance]:
    """Instance rows of ``org`` (no Proxmox: dunning only calls the instance services)."""
    dc = DatacentreFactory(code="BIL-1")
    offer = OfferFactory(family=FamilyFactory(slug="vps", name="VPS"), code="VPS-BB")
    image = OsImageFactory(slug="ubuntu-24.04")
    project = org.projects.first()
    counter = iter(range(1, 1000))

    def build(status: str = InstanceStatus.RUNNING, **extra: Any) -> Instance:
        return Instance.objects.create(
            organisation=org,
            project=project,
            name=f"srv-{next(counter)}",
            offer=offer,
            datacentre=dc,
            image=image,
            status=status,
            price_hourly=Decimal("0.0397"),
            price_monthly=Decimal("29.00"),
            **extra,
        )

    return build


@pytest.fixture
def fake_worker(monkeypatch) -> Callable[[], int]:
    """Instance actions are not sent to Celery; calling the fixture completes them like the worker would."""
    monkeypatch.setattr("apps.instances.services.access.task_enqueue", lambda task_name, *args: None)
    outcome = {
        ActionType.STOP: InstanceStatus.STOPPED,
        ActionType.START: InstanceStatus.RUNNING,
        ActionType.DELETE: InstanceStatus.DELETED,
    }

    def finish() -> int:
        done = 0
        for action in Action.objects.filter(status__in=[ActionStatus.PENDING, ActionStatus.RUNNING]):
            target = outcome.get(action.type)
            if target is not None and action.instance_id is not None:
                Instance.objects.filter(pk=action.instance_id).update(status=target)
            action.status = ActionStatus.SUCCESS
            action.finished_at = timezone.now()
            action.save(update_fields=["status", "finished_at"])
            done += 1
        return done

    return finish
