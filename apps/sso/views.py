"""Portal pages of SSO: discovery from the login page, and the organisation admins' settings (/org/sso/)."""

from __future__ import annotations

from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.errors import ApplicationError, NotFound
from apps.sso import saml, selectors, services
from apps.sso.forms import DiscoverForm, DomainForm, SamlConnectionForm
from apps.sso.models import SamlConnection, SamlDomain
from apps.teams.access import actor_has_permission, organisation_get_for_actor, organisation_list_for_actor
from apps.teams.choices import Permission
from apps.teams.models import Organisation


@require_POST
def discover(request: HttpRequest) -> HttpResponse:
    """'Continue with SSO': find the organisation from the email domain and start the SAML login."""
    form = DiscoverForm(request.POST)
    connection = selectors.connection_for_email(form.data.get("email", "")) if form.is_valid() else None
    if connection is None or not connection.is_configured:
        messages.error(request, _("Single sign-on is not set up for this email domain. Log in with your password."))
        return redirect("account_login")
    provider = get_social_adapter().get_provider(request, saml.PROVIDER_ID, client_id=connection.slug)
    next_url = request.POST.get("next", "")
    kwargs = {"process": "login"}
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        kwargs["next_url"] = next_url
    response: HttpResponse = provider.redirect(request, **kwargs)
    return response


def _organisation(request: HttpRequest, slug: str) -> Organisation:
    try:
        return organisation_get_for_actor(actor=request.user, org_slug_or_id=slug, permission=Permission.ORG_UPDATE)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ApplicationError as exc:  # visible but not theirs to change, or suspended
        raise DjangoPermissionDenied(exc.message) from exc


@login_required
def organisation_list(request: HttpRequest) -> HttpResponse:
    """Organisations the user administers, with their SSO state."""
    rows = []
    for org in organisation_list_for_actor(actor=request.user).select_related("saml_connection").order_by("name"):
        if org.is_suspended or not actor_has_permission(request.user, org, Permission.ORG_UPDATE):
            continue
        rows.append({"organisation": org, "connection": getattr(org, "saml_connection", None)})
    if len(rows) == 1:
        only: Organisation = rows[0]["organisation"]  # type: ignore[assignment]
        return redirect("sso:settings", org_slug=only.slug)
    return render(request, "sso/organisation_list.html", {"rows": rows})


def _sp_values(request: HttpRequest, connection: SamlConnection | None, slug: str) -> dict[str, str]:
    kwargs = {"organization_slug": connection.slug if connection else slug}
    metadata = request.build_absolute_uri(reverse("saml_metadata", kwargs=kwargs))
    return {
        "entity_id": metadata,  # allauth's SP entity id is its metadata URL
        "metadata_url": metadata,
        "acs_url": request.build_absolute_uri(reverse("saml_acs", kwargs=kwargs)),
        "sls_url": request.build_absolute_uri(reverse("saml_sls", kwargs=kwargs)),
        "login_url": request.build_absolute_uri(reverse("saml_login", kwargs=kwargs)),
    }


@login_required
@require_http_methods(["GET", "POST"])
def connection_settings(request: HttpRequest, org_slug: str) -> HttpResponse:
    organisation = _organisation(request, org_slug)
    connection = selectors.connection_for_organisation(organisation)
    form = SamlConnectionForm(request.POST or None, instance=connection)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            services.saml_connection_save(organisation=organisation, actor=request.user, data=data)
        except ApplicationError as exc:
            for field, errors in exc.fields.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("SSO settings saved."))
            return redirect("sso:settings", org_slug=organisation.slug)
    slug_preview = connection.slug if connection else organisation.slug
    return render(
        request,
        "sso/connection_settings.html",
        {
            "organisation": organisation,
            "connection": connection,
            "form": form,
            "domain_form": DomainForm(),
            "sp": _sp_values(request, connection, slug_preview),
            "domains": connection.domains.all() if connection else [],
        },
    )


@login_required
@require_POST
def domain_add(request: HttpRequest, org_slug: str) -> HttpResponse:
    organisation = _organisation(request, org_slug)
    connection = selectors.connection_for_organisation(organisation)
    if connection is None:
        messages.error(request, _("Save the SSO settings first."))
        return redirect("sso:settings", org_slug=organisation.slug)
    form = DomainForm(request.POST)
    if form.is_valid():
        try:
            row = services.saml_domain_add(
                connection=connection, domain=form.cleaned_data["domain"], actor=request.user
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            if row.staff_review:
                messages.info(
                    request,
                    _(
                        "%(domain)s added. Another organisation has claimed it too, so our staff will review the "
                        "claims before it is used."
                    )
                    % {"domain": row.domain},
                )
            else:
                messages.info(
                    request,
                    _("%(domain)s added. Create the DNS TXT record shown below, then press “Verify now”.")
                    % {"domain": row.domain},
                )
    else:
        messages.error(request, _("Enter a domain name such as example.com."))
    return redirect("sso:settings", org_slug=organisation.slug)


@login_required
@require_POST
def domain_verify(request: HttpRequest, org_slug: str, domain_id: int) -> HttpResponse:
    """ "Verify now": look up the domain's TXT record."""
    organisation = _organisation(request, org_slug)
    row = get_object_or_404(SamlDomain, pk=domain_id, connection__organisation=organisation)
    try:
        services.saml_domain_verify_dns(domain=row, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(domain)s is verified.") % {"domain": row.domain})
    return redirect("sso:settings", org_slug=organisation.slug)


@login_required
@require_POST
def metadata_refresh(request: HttpRequest, org_slug: str) -> HttpResponse:
    """ "Refresh metadata": re-read the IdP metadata after a certificate change."""
    organisation = _organisation(request, org_slug)
    connection = selectors.connection_for_organisation(organisation)
    if connection is None:
        raise Http404
    try:
        services.saml_connection_refresh_metadata(connection=connection, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The IdP metadata was read again."))
    return redirect("sso:settings", org_slug=organisation.slug)


@login_required
def account_connections(request: HttpRequest) -> HttpResponse:
    """The user's own SSO identities, and the connections of their verified addresses' domains to connect."""
    return render(
        request,
        "sso/account_connections.html",
        {
            "accounts": selectors.saml_accounts_for_user(request.user),
            "connectable": selectors.connections_for_user_emails(request.user),
        },
    )


@login_required
@require_POST
def domain_remove(request: HttpRequest, org_slug: str, domain_id: int) -> HttpResponse:
    organisation = _organisation(request, org_slug)
    row = get_object_or_404(SamlDomain, pk=domain_id, connection__organisation=organisation)
    services.saml_domain_remove(domain=row, actor=request.user)
    messages.success(request, _("%(domain)s removed.") % {"domain": row.domain})
    return redirect("sso:settings", org_slug=organisation.slug)
