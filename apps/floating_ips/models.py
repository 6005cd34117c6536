"""Models of apps.floating_ips."""
