"""Names of the load balancers' Celery tasks: services enqueue by name and never import ``tasks``."""

APPLY = "loadbalancers.apply"
HEALTH_READ = "loadbalancers.health_read"
TARGETS_SYNC = "loadbalancers.targets_sync"
