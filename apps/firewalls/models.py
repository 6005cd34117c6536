"""Models of apps.firewalls."""
