"""Billing admin: budgets."""
