"""Chaos drill only (scripts/chaos.py): point stripe-python at the drill's fake Stripe on loopback.

The drill puts this folder on PYTHONPATH of the web and worker processes it
starts, with ``VMCLOUD_CHAOS_STRIPE_API_BASE=http://127.0.0.1:<port>``; Python
imports ``sitecustomize`` at start (https://docs.python.org/3/library/site.html).
Without the variable it does nothing. Never on PYTHONPATH in production.
"""

import os

_base = os.environ.get("VMCLOUD_CHAOS_STRIPE_API_BASE", "")
if _base.startswith("http://127.0.0.1:"):
    import stripe

    stripe.api_base = _base
