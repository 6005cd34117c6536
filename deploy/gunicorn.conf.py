"""gunicorn settings for the image's web role, sized by environment variables.

WEB_CONCURRENCY worker processes (default 2: size it to the CPUs the container
is given, not the node's), GUNICORN_THREADS threads each. Nothing is written
to $HOME or the image: the control socket is off (gunicorn otherwise creates
$HOME/.gunicorn/gunicorn.ctl) and worker heartbeats go to /dev/shm.
Docs: https://docs.gunicorn.org/en/stable/settings.html,
apps/docs/content/production.md ("Sizing").
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Restart workers now and then so a slow leak never grows unbounded.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# A RAM-backed folder for worker heartbeats, never the read-only image.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
control_socket_disable = True
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "") == "1" else None
errorlog = "-"
# The ingress controller (or compose's proxy) sets X-Forwarded-Proto; trust it from the pod network.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """Prometheus multiprocess mode: drop a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
