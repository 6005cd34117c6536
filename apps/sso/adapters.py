"""The allauth adapters the settings name: sign-up, password login and SAML rules that need organisations.

``PortalAccountAdapter`` (``ACCOUNT_ADAPTER``) extends accounts' adapter
(lockout, suspension) with:

* the personal organisation created at sign-up, in ``save_user`` (teams'
  ``personal_organisation_ensure``): an explicit call in the sign-up flow
  rather than a ``user_signed_up`` receiver, so it runs in the request that
  creates the user and fails loudly;
* "SSO required" (apps/docs/content/single-sign-on.md): a new address in such
  an organisation's verified domains cannot be used to sign up or be added to
  an account, except by that organisation's own SSO login; members of the
  organisation whose address is in those domains cannot log in by password,
  passkey or email link. Accounts that are not members of the organisation
  (those of other organisations included) are never affected;
* the SSO login bookkeeping (just-in-time membership, audit, what single
  logout needs) in ``post_login``.

``PortalSocialAccountAdapter`` (``SOCIALACCOUNT_ADAPTER``) hands allauth one
SAML ``SocialApp`` per enabled ``SamlConnection``, built on each lookup
(``list_apps`` is the documented extension point:
https://docs.allauth.org/en/latest/socialaccount/advanced.html). An SSO
login signs into an existing account only when the account is already a
member of the connection's organisation (``authenticate_by_email``); any other
existing account must be connected by its owner, logged in with their own
credentials (``pre_social_login`` refuses the login and says so).
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.base.constants import AuthProcess
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from apps.accounts.adapter import AccountAdapter
from apps.sso import saml, selectors, services
from apps.sso.models import SamlConnection
from apps.sso.saml_provider import LOGOUT_INFO_ATTR, SESSION_KEY, VOUCHED_ATTR
from apps.teams.models import Membership
from apps.teams.services import personal_organisation_ensure


def _saml_slug(sociallogin: Any) -> str | None:
    provider = getattr(getattr(sociallogin, "account", None), "provider", "") or ""
    prefix = f"{saml.PROVIDER_ID}-"
    return provider.removeprefix(prefix) if provider.startswith(prefix) else None


class PortalAccountAdapter(AccountAdapter):
    def save_user(self, request: HttpRequest, user: AbstractBaseUser, form: Any, commit: bool = True) -> Any:
        saved = super().save_user(request, user, form, commit=commit)
        if commit:
            personal_organisation_ensure(user=saved)
        return saved

    def clean_email(self, email: str) -> str:
        email = super().clean_email(email)
        connection = selectors.sso_required_for_email(email)
        # The connection's own SSO login vouches for the address: refusing it
        # here would empty the address allauth builds the login from (its
        # valid_email_or_none swallows the error) and lock the domain out.
        request = context.request
        if connection is None or getattr(request, VOUCHED_ATTR, None) == connection.pk:
            return email
        # An existing account that is not a member (one of another
        # organisation, say) may add the address: the rule never reaches it.
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not Membership.objects.filter(organisation_id=connection.organisation_id, user=user).exists()
        ):
            return email
        raise forms.ValidationError(
            _("%(org)s signs in with single sign-on: use “Continue with SSO” on the login page.")
            % {"org": connection.organisation.name}
        )

    def pre_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> HttpResponse | None:
        response = super().pre_login(request, user, **kwargs)
        if response is not None:
            return response
        # Checked once the credentials are proven, so the answer reveals
        # nothing about accounts to someone who does not hold them.
        connection = selectors.sso_required_connection_for_user(user)
        if connection is not None and _saml_slug((kwargs.get("signal_kwargs") or {}).get("sociallogin")) != (
            connection.slug
        ):
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            return self.respond_sso_required(request, connection)
        return None

    def respond_sso_required(self, request: HttpRequest, connection: SamlConnection) -> HttpResponse:
        return render(request, "account/sso_required.html", {"connection": connection}, status=403)

    def post_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> HttpResponse:
        slug = _saml_slug((kwargs.get("signal_kwargs") or {}).get("sociallogin"))
        if slug:
            connection = selectors.connection_get_by_slug(slug)
            if connection is not None:
                services.saml_login_record(connection=connection, user=user)  # type: ignore[arg-type]
            info = getattr(request, LOGOUT_INFO_ATTR, None)
            if info and info.get("slug") == slug:
                request.session[SESSION_KEY] = info
        return super().post_login(request, user, **kwargs)


def _connection_of(sociallogin: Any) -> SamlConnection | None:
    slug = _saml_slug(sociallogin)
    if slug is None:
        return None
    app = getattr(getattr(sociallogin, "provider", None), "app", None)
    connection = getattr(app, "saml_connection", None)
    return connection if connection is not None else selectors.connection_get_by_slug(slug)


def _email_has_account(email: str) -> bool:
    return (
        EmailAddress.objects.filter(email__iexact=email).exists()
        or get_user_model().objects.filter(email__iexact=email).exists()
    )


class PortalSocialAccountAdapter(DefaultSocialAccountAdapter):
    def authenticate_by_email(self, sociallogin: Any) -> Any:
        """allauth's lookup by verified email, kept only for members of the connection's organisation.

        An organisation controls its IdP, so its IdP's word about an address
        may only open accounts the organisation already holds: its members.
        Any other account is linked by its owner (logged in, then "connect"),
        never by the IdP alone. allauth then tells the owner by email
        (``account_connected``) that the SSO identity was connected.
        """
        found = super().authenticate_by_email(sociallogin)
        connection = _connection_of(sociallogin)
        if found is None or connection is None:
            return found
        user, _email = found
        if Membership.objects.filter(organisation_id=connection.organisation_id, user=user).exists():
            return found
        return None

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        super().pre_social_login(request, sociallogin)
        connection = _connection_of(sociallogin)
        if connection is None or sociallogin.is_existing:
            return
        email = next((e.email for e in sociallogin.email_addresses), "") or getattr(sociallogin.user, "email", "")
        if sociallogin.state.get("process") == AuthProcess.CONNECT:
            # The owner, logged in with their own credentials, connects the SSO
            # identity of one of their own verified addresses, not anyone's.
            owned = EmailAddress.objects.filter(user_id=request.user.pk, email__iexact=email, verified=True)
            if not email or not owned.exists():
                raise ImmediateHttpResponse(
                    render(request, "sso/connect_refused.html", {"connection": connection, "email": email}, status=403)
                )
            return
        if email and _email_has_account(email):
            raise ImmediateHttpResponse(
                render(
                    request,
                    "sso/link_required.html",
                    {"connection": connection, "email": email},
                    status=403,
                )
            )

    def populate_user(self, request: HttpRequest, sociallogin: Any, data: dict[str, Any]) -> Any:
        user = super().populate_user(request, sociallogin, data)
        # Our User has one full_name field, not first/last.
        name = " ".join(str(data[key]).strip() for key in ("first_name", "last_name") if data.get(key))
        if name and not getattr(user, "full_name", ""):
            user.full_name = name[:150]
        return user

    def list_apps(self, request: HttpRequest, provider: str | None = None, client_id: str | None = None) -> Any:
        apps: list[SocialApp] = list(super().list_apps(request, provider=provider, client_id=client_id))
        prefix = f"{saml.PROVIDER_ID}-"
        if provider is not None and provider != saml.PROVIDER_ID and not provider.startswith(prefix):
            return apps
        connections = selectors.connections_enabled().prefetch_related("domains")
        if provider and provider.startswith(prefix):
            connections = connections.filter(slug=provider.removeprefix(prefix))
        if client_id:
            connections = connections.filter(slug=client_id)
        for connection in connections:
            if connection.is_configured:
                apps.append(saml.social_app(connection, selectors.verified_domains(connection)))
        return apps
