"""Names of the managed app's Celery tasks: services enqueue by name and never import ``tasks``."""

BACKEND_CALL = "managed.backend_call"
RESUME_BACKEND_CALLS = "managed.resume_backend_calls"
