"""Public read-only catalogue API."""
