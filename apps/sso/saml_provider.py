"""allauth's SAML provider, with replay protection and the organisation's domain rules.

Installed through ``SOCIALACCOUNT_PROVIDERS["saml"]["provider_class"]``
(https://docs.allauth.org/en/latest/socialaccount/configuration.html); the URLs
and views stay allauth's (``package`` below). allauth's ``FinishACSView`` has
already run python3-saml's checks when it calls ``sociallogin_from_response``
(signature, audience, recipient, time window); this adds what python3-saml
cannot know: whether this assertion id was seen before, and whether the
asserted email belongs to the organisation. It also remembers, for the
request, which connection vouches for the address (``VOUCHED_ATTR``: the
"SSO required" rule of ``PortalAccountAdapter.clean_email`` lets that
connection's own logins through) and the NameID and session index that a
single logout names later (``SESSION_KEY``).

The module is not named ``provider.py`` on purpose: allauth imports
``<app>.provider`` of every installed app and would register it a second time.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.providers.saml.provider import SAMLProvider
from django.http import HttpRequest

from apps.core.errors import ApplicationError
from apps.sso import selectors, services
from apps.sso.models import SamlConnection

logger = logging.getLogger(__name__)

# Request attribute: the connection whose verified response is being processed.
VOUCHED_ATTR = "_sso_vouching_connection_id"
# Request attribute, then session key: what single logout needs of this SSO login.
LOGOUT_INFO_ATTR = "_sso_logout_info"
SESSION_KEY = "sso_login"


class OrganisationSAMLProvider(SAMLProvider):
    package = "allauth.socialaccount.providers.saml"

    @property
    def connection(self) -> SamlConnection:
        connection = getattr(self.app, "saml_connection", None)
        if connection is None:  # an app from allauth's own table: not ours
            found = selectors.connection_get_by_slug(self.app.client_id)
            if found is None:
                raise self._reject(None, "unknown connection")
            connection = found
        return connection

    def _reject(self, request: HttpRequest | None, reason: str) -> ImmediateHttpResponse:
        logger.warning("SAML login rejected for %s: %s", self.app.client_id, reason)
        return ImmediateHttpResponse(
            render_authentication_error(request or self.request, self, extra_context={"saml_rejection": reason})
        )

    def sociallogin_from_response(self, request: HttpRequest, response: Any) -> Any:
        connection = self.connection
        expires: dt.datetime | None = None
        not_on_or_after = response.get_last_assertion_not_on_or_after()
        if not_on_or_after:
            expires = dt.datetime.fromtimestamp(int(not_on_or_after), tz=dt.UTC)
        try:
            services.saml_assertion_consume(
                connection=connection, assertion_id=response.get_last_assertion_id() or "", expires_at=expires
            )
        except ApplicationError as exc:
            raise self._reject(request, exc.code) from exc
        setattr(request, VOUCHED_ATTR, connection.pk)
        setattr(
            request,
            LOGOUT_INFO_ATTR,
            {
                "slug": connection.slug,
                "name_id": response.get_nameid(),
                "name_id_format": response.get_nameid_format(),
                "name_id_nq": response.get_nameid_nq(),
                "name_id_spnq": response.get_nameid_spnq(),
                "session_index": response.get_session_index(),
            },
        )
        login = super().sociallogin_from_response(request, response)
        email = (login.user.email or "").lower() if login.user is not None else ""
        domains = selectors.verified_domains(connection)
        if not email or selectors.email_domain(email) not in domains:
            raise self._reject(request, "email outside the organisation's verified domains")
        return login
