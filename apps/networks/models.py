"""Models of apps.networks."""
