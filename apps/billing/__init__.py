"""Billing: the usage ledger, monthly invoices with EU VAT, credits, Stripe payments, budgets and dunning.

Owns money. Reads what other apps record (instance price periods, snapshots,
delivered service orders) and never changes them except through their
services (stopping servers, blocking orders). Rules for customers are in
``apps/docs/content/billing.md``.
"""
