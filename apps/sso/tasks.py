"""Periodic SSO housekeeping."""

from __future__ import annotations

from celery import shared_task

from apps.sso import services


@shared_task(name="sso.purge_assertions", ignore_result=True)
def purge_assertions() -> int:
    """Forget consumed SAML assertion ids past their expiry."""
    return services.saml_assertions_purge()


@shared_task(name="sso.refresh_metadata", ignore_result=True)
def refresh_metadata() -> dict[str, int]:
    """Re-read every enabled connection's IdP metadata URL (certificate rollovers)."""
    return services.saml_connections_refresh_metadata()
