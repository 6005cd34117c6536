"""Billing tasks: budgets."""
