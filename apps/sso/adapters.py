"""The allauth adapters the settings name: sign-up, password login and SAML rules that need organisations.

``PortalAccountAdapter`` (``ACCOUNT_ADAPTER``) extends accounts' adapter
(lockout, suspension) with:

* the personal organisation created at sign-up, in ``save_user`` (teams'
  ``personal_organisation_ensure``): an explicit call in the sign-up flow
  rather than a ``user_signed_up`` receiver, so it runs in the request that
  creates the user and fails loudly;
* "SSO required": addresses in such an organisation's verified domains cannot
  sign up, add the address, or log in by password, passkey or email link;
* the SSO login bookkeeping (just-in-time membership, audit) in ``post_login``.

``PortalSocialAccountAdapter`` (``SOCIALACCOUNT_ADAPTER``) hands allauth one
SAML ``SocialApp`` per enabled ``SamlConnection``, built on each lookup
(``list_apps`` is the documented extension point:
https://docs.allauth.org/en/latest/socialaccount/advanced.html).
"""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from apps.accounts.adapter import AccountAdapter
from apps.sso import saml, selectors, services
from apps.sso.models import SamlConnection
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
        if connection is not None:
            raise forms.ValidationError(
                _("%(org)s signs in with single sign-on: use “Continue with SSO” on the login page.")
                % {"org": connection.organisation.name}
            )
        return email

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        email = str(credentials.get("email") or "")
        connection = selectors.sso_required_for_email(email) if email else None
        if connection is not None:
            raise forms.ValidationError(
                _("%(org)s requires single sign-on: use “Continue with SSO” instead of a password.")
                % {"org": connection.organisation.name},
                code="sso_required",
            )
        super().pre_authenticate(request, **credentials)

    def pre_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> HttpResponse | None:
        response = super().pre_login(request, user, **kwargs)
        if response is not None:
            return response
        connection = selectors.sso_required_for_email(getattr(user, "email", ""))
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
        return super().post_login(request, user, **kwargs)


class PortalSocialAccountAdapter(DefaultSocialAccountAdapter):
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
