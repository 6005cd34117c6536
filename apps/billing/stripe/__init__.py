"""Stripe, behind one thin client: ``apps.billing.stripe.gateway`` is the only code that calls Stripe.

It speaks Stripe's protocol (stripe-python, dj-stripe's mirror); billing's
services map its answers onto our ledger (``docs/dev/style.md#external-systems``).
The package is named after the system it talks to; inside it ``import stripe``
is an absolute import and reaches the stripe-python library, not this package.
"""
