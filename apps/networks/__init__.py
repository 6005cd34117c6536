"""Networks (issue 13, "The cloud around a server")."""
