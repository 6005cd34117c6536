"""Catalogue test fixtures: the seeded catalogue, loaded through its service."""

from __future__ import annotations

import pytest

from apps.catalogue.services import catalogue_load_seed


@pytest.fixture
def catalogue(db):
    """The full seeded catalogue (36 offers)."""
    return catalogue_load_seed(actor=None)
