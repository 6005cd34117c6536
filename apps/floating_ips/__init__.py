"""Floating IPs (issue 13, "The cloud around a server")."""
