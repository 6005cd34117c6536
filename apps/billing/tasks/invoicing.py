"""Billing tasks: invoicing."""
