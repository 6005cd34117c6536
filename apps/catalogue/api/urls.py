"""Catalogue API routes (public, read-only)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []  # type: ignore[type-arg]
