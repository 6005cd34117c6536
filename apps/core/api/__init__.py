"""API plumbing shared by every app: error handling, pagination, schema hooks."""
