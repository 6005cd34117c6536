"""Periodic SSO housekeeping."""

from __future__ import annotations

from celery import shared_task

from apps.sso import services


@shared_task(name="sso.purge_assertions", ignore_result=True)
def purge_assertions() -> int:
    """Forget consumed SAML assertion ids past their expiry."""
    return services.saml_assertions_purge()
