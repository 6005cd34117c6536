"""Billing admin: invoices."""
