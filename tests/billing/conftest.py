"""Billing tests; area fixtures live in fixtures_<area>.py and are imported by the test modules."""
