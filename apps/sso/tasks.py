"""Periodic SSO housekeeping."""

from __future__ import annotations

from celery import shared_task

from apps.sso import services, task_names


@shared_task(name=task_names.PURGE_ASSERTIONS, ignore_result=True)
def purge_assertions() -> int:
    """Forget consumed SAML assertion ids past their expiry."""
    return services.saml_assertions_purge()


@shared_task(name=task_names.REFRESH_METADATA, ignore_result=True)
def refresh_metadata() -> dict[str, int]:
    """Re-read every enabled connection's IdP metadata URL (certificate rollovers)."""
    return services.saml_connections_refresh_metadata()
