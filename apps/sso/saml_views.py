"""SAML endpoints that replace two of allauth's, and the portal logout that also ends the IdP session.

Mounted in ``config/urls.py`` before ``allauth.urls`` under the same names, so
every ``reverse("saml_finish_acs")`` / ``reverse("saml_sls")`` /
``reverse("account_logout")`` reaches them:

* ``finish_acs``: allauth's ``FinishACSView`` with every accepted IdP
  certificate (``saml.build_auth``) and a malformed ``SAMLResponse`` (not
  base64, not XML) answered 400 with the portal's error page instead of
  lxml's exception becoming a 500.
* ``sls``: single logout from the IdP (apps/docs/content/single-sign-on.md,
  "Logout"). LogoutRequests and LogoutResponses must be signed by the IdP;
  the answer goes to the IdP's SLO endpoint taken from its metadata. Only a
  session that logged in through this connection is ended.
* ``logout``: allauth's logout; when the session came from an SSO login and
  the IdP has an SLO endpoint, the browser is then sent to the IdP with a
  LogoutRequest, and the IdP's LogoutResponse comes back to ``sls``.
"""

from __future__ import annotations

import binascii
import logging
from typing import Any

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.internal.decorators import login_not_required
from allauth.account.views import LogoutView
from allauth.core.internal import httpkit
from allauth.socialaccount.helpers import complete_social_login, render_authentication_error
from allauth.socialaccount.providers.base.constants import AuthError, AuthProcess
from allauth.socialaccount.providers.saml.utils import decode_relay_state, get_app_or_404
from allauth.socialaccount.providers.saml.views import SAMLViewMixin
from allauth.socialaccount.sessions import LoginSession
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from lxml import etree
from onelogin.saml2.errors import OneLogin_Saml2_Error
from xmlsec import Error as XmlSecError

from apps.core.services import audit_record
from apps.sso import saml
from apps.sso.saml_provider import SESSION_KEY

logger = logging.getLogger(__name__)

LOGOUT_REQUEST_KEY = "sso_logout_request"  # session: id of our LogoutRequest, checked on the IdP's answer
# What a malformed message raises inside python3-saml: bad base64 or zlib,
# XML that does not parse, an XML document python3-saml cannot walk.
MALFORMED = (binascii.Error, ValueError, TypeError, etree.LxmlError, XmlSecError, UnicodeError, LookupError)


def saml_error(request: HttpRequest, message: str, *, status: int = 400) -> HttpResponse:
    return render(request, "sso/saml_error.html", {"message": message}, status=status)


@method_decorator(login_not_required, name="dispatch")
class FinishACSView(SAMLViewMixin, View):
    """allauth's FinishACSView (allauth/socialaccount/providers/saml/views.py), with the two changes above."""

    def dispatch(self, request: HttpRequest, organization_slug: str) -> HttpResponse:  # type: ignore[override]
        provider = self.get_provider(organization_slug)
        acs_session = LoginSession(request, "saml_acs_session", "saml-acs-session")
        acs_request = None
        acs_request_data = acs_session.store.get("request")
        if acs_request_data:
            acs_request = httpkit.deserialize_request(acs_request_data, HttpRequest())
        acs_session.delete()
        if not acs_request:
            logger.error("Unable to finish login, SAML ACS session missing")
            return render_authentication_error(request, provider)
        auth = saml.build_auth(acs_request, provider)
        errors: list[str] = []
        error_reason = None
        try:
            # InResponseTo is checked below against the stashed state.
            auth.process_response(request_id=None)
        except OneLogin_Saml2_Error as exc:
            errors, error_reason = ["error"], str(exc)
        except MALFORMED as exc:
            logger.warning("Malformed SAMLResponse for %s: %s", organization_slug, exc)
            return saml_error(request, _("The identity provider's answer could not be read."))
        if not errors:
            errors = auth.get_errors()
        if errors:
            error_reason = auth.get_last_error_reason() or error_reason
            logger.error("Error processing SAML ACS response: %s: %s", ", ".join(errors), error_reason)
            return render_authentication_error(
                request,
                provider,
                extra_context={"saml_errors": errors, "saml_last_error_reason": error_reason},
            )
        if not auth.is_authenticated():
            return render_authentication_error(request, provider, error=AuthError.CANCELLED)
        login = provider.sociallogin_from_response(request, auth)
        state_id = auth.get_last_response_in_response_to()
        if state_id:
            login.state = provider.unstash_redirect_state(request, state_id)
        else:
            if provider.app.settings.get("advanced", {}).get("reject_idp_initiated_sso", True):
                logger.error("IdP initiated SSO rejected")
                return render_authentication_error(request, provider)
            next_url = decode_relay_state(acs_request.POST.get("RelayState"))
            login.state["process"] = AuthProcess.LOGIN
            if next_url:
                login.state["next"] = next_url
        response: HttpResponse = complete_social_login(request, login)
        return response


finish_acs = FinishACSView.as_view()


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class SLSView(SAMLViewMixin, View):
    def dispatch(self, request: HttpRequest, organization_slug: str) -> HttpResponse:  # type: ignore[override]
        provider = self.get_provider(organization_slug)
        connection = provider.connection
        if not (request.GET.get("SAMLRequest") or request.GET.get("SAMLResponse")):
            return saml_error(request, _("This address only takes logout messages from your identity provider."))
        if request.GET.get("SAMLRequest") and not connection.idp_slo_url:
            return saml_error(
                request,
                _(
                    "Your identity provider's single logout URL is unknown: "
                    "refresh the IdP metadata in the SSO settings."
                ),
            )
        account_adapter = get_account_adapter(request)
        login_info = request.session.get(SESSION_KEY) or {}
        # Only a session that this connection's IdP logged in is ended: another
        # organisation's IdP cannot log out someone it did not log in.
        ours = request.user.is_authenticated and login_info.get("slug") == connection.slug
        user = request.user if ours else None
        request_id = request.session.get(LOGOUT_REQUEST_KEY)

        def end_session() -> None:
            account_adapter.logout(request)

        try:
            auth = saml.build_auth(request, provider, logout=True)
            redirect_to = auth.process_slo(
                keep_local_session=not ours, request_id=request_id, delete_session_cb=end_session
            )
        except OneLogin_Saml2_Error as exc:
            logger.warning("SAML SLS message refused for %s: %s", organization_slug, exc)
            return saml_error(request, _("The logout message from your identity provider was refused."))
        except MALFORMED as exc:
            logger.warning("Malformed SAML SLS message for %s: %s", organization_slug, exc)
            return saml_error(request, _("The logout message from your identity provider could not be read."))
        errors = auth.get_errors()
        if errors:
            logger.warning(
                "SAML SLS message refused for %s: %s: %s",
                organization_slug,
                ", ".join(errors),
                auth.get_last_error_reason(),
            )
            return saml_error(request, _("The logout message from your identity provider was refused."))
        request.session.pop(LOGOUT_REQUEST_KEY, None)
        if user is not None:
            audit_record(
                actor=user,
                action="sso.logout",
                target=connection,
                organisation_id=connection.organisation_id,
                changes={"connection": connection.slug, "initiated_by": "idp"},
            )
        return HttpResponseRedirect(redirect_to or account_adapter.get_logout_redirect_url(request))


sls = SLSView.as_view()


def idp_logout_url(request: HttpRequest, return_to: str) -> tuple[str, str] | None:
    """(URL of the IdP's SLO endpoint carrying our LogoutRequest, its id), for a session an SSO login opened."""
    info: dict[str, Any] = request.session.get(SESSION_KEY) or {}
    if not info.get("slug") or not request.user.is_authenticated:
        return None
    try:
        app = get_app_or_404(request, info["slug"])
    except Exception:  # the connection was disabled or removed since: nothing to end at the IdP
        return None
    connection = getattr(app, "saml_connection", None)
    if connection is None or not connection.idp_slo_url:
        return None
    auth = saml.build_auth(request, app.get_provider(request))
    url = auth.logout(
        return_to=return_to,
        name_id=info.get("name_id"),
        session_index=info.get("session_index"),
        nq=info.get("name_id_nq"),
        name_id_format=info.get("name_id_format"),
        spnq=info.get("name_id_spnq"),
    )
    audit_record(
        actor=request.user,
        action="sso.logout",
        target=connection,
        organisation_id=connection.organisation_id,
        changes={"connection": connection.slug, "initiated_by": "sp"},
    )
    return url, auth.get_last_request_id()


class PortalLogoutView(LogoutView):
    """allauth's logout, then the IdP's when the session came from an SSO login."""

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.request
        at_idp = idp_logout_url(request, request.build_absolute_uri(self.get_redirect_url()))
        response = super().post(*args, **kwargs)
        if at_idp is None:
            return response
        url, request_id = at_idp
        request.session[LOGOUT_REQUEST_KEY] = request_id  # the fresh, anonymous session
        return HttpResponseRedirect(url)


logout = PortalLogoutView.as_view()
