"""Names of the floating IPs app's Celery tasks: services enqueue by name and never import ``tasks``."""

RUN_ACTION = "floating_ips.run_action"
SERVER_IPSET_SYNC = "floating_ips.server_ipset_sync"
