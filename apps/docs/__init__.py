"""Docs: the platform's documentation, Markdown pages kept in the repository and served at /docs/."""
