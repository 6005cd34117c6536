"""One module per resource: each defines ``app``, a typer group of verbs."""
