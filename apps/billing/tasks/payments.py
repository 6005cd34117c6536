"""Billing tasks: payments."""
