"""Portal pages of teams: organisation settings, members and invitations, projects and grants,
API tokens, the audit log, the org switcher and invitation answers.

Each view: login required, load through ``org_view`` / ``apps.teams.access``,
call one service, then redirect (with a message) or render with form errors.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError, NotFound
from apps.teams import forms, selectors, services
from apps.teams.access import (
    actor_has_permission,
    organisation_get_for_actor,
    project_get_for_actor,
    role_in,
)
from apps.teams.audit_export import audit_csv_rows
from apps.teams.choices import ROLE_PERMISSIONS, InvitationStatus, Permission, Role
from apps.teams.models import Membership, Organisation
from apps.teams.portal import org_view, set_current_organisation

if TYPE_CHECKING:
    from apps.accounts.models import User

P = Permission


def _signed_in_user(request: HttpRequest) -> User:
    """``request.user`` typed as the account model: these views are ``login_required`` (a typing aid,
    not an identity rule; who acts and through which token is ``apps.core.actors``)."""
    return cast("User", request.user)


def _form_error(form: Any, exc: ApplicationError) -> None:
    for field, errors in exc.fields.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


def _can(request: HttpRequest, organisation: Organisation, *permissions: Permission) -> dict[str, bool]:
    return {p.name.lower(): actor_has_permission(request.user, organisation, p) for p in permissions}


# ---------------------------------------------------------------------------
# Organisation: switcher, create, settings, leave, transfer
# ---------------------------------------------------------------------------
@login_required
@require_POST
def org_switch(request: HttpRequest) -> HttpResponse:
    try:
        organisation = organisation_get_for_actor(
            actor=request.user, org_slug_or_id=request.POST.get("organisation", "")
        )
    except ApplicationError:
        # Suspended or gone: switching still lets the member read the reason.
        found = Organisation.objects.filter(
            pk=request.POST.get("organisation") or 0, memberships__user=_signed_in_user(request)
        ).first()
        if found is None:
            raise Http404(_("Organisation not found.")) from None
        organisation = found
    set_current_organisation(request, organisation)
    messages.success(request, _("Switched to %(name)s.") % {"name": organisation.name})
    next_url = request.POST.get("next") or "/dashboard/"
    return redirect(next_url if next_url.startswith("/") and not next_url.startswith("//") else "/dashboard/")


@login_required
def org_create(request: HttpRequest) -> HttpResponse:
    form = forms.OrganisationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.organisation_create(
                name=form.cleaned_data["name"], owner=_signed_in_user(request), actor=_signed_in_user(request)
            )
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            set_current_organisation(request, organisation)
            messages.success(request, _("Organisation %(name)s created.") % {"name": organisation.name})
            return redirect("teams:org_settings")
    return render(request, "teams/org_create.html", {"form": form})


@org_view(P.ORG_READ)
def org_settings(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    if role_in(request.user, organisation) is None:
        return redirect("teams:project_list")  # project guests see their projects only
    settings_form = forms.OrganisationSettingsForm(
        initial={"name": organisation.name, "require_mfa": organisation.require_mfa}
    )
    billing_form = forms.BillingDetailsForm(
        initial={f: getattr(organisation, f) for f in ("legal_name", "country", "vat_id", "billing_email")}
    )
    if request.method == "POST":
        section = request.POST.get("section")
        form: Any = (
            forms.OrganisationSettingsForm(request.POST)
            if section == "settings"
            else forms.BillingDetailsForm(request.POST)
        )
        if form.is_valid():
            try:
                services.organisation_update(
                    organisation=organisation, actor=_signed_in_user(request), data=form.cleaned_data
                )
            except ApplicationError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("teams:org_settings")
        if section == "settings":
            settings_form = form
        else:
            billing_form = form
    others = selectors.member_list(organisation=organisation).exclude(user=_signed_in_user(request))
    context = {
        "organisation": organisation,
        "settings_form": settings_form,
        "billing_form": billing_form,
        "transfer_form": forms.TransferForm(members=others),
        "role": role_in(request.user, organisation),
        "can": _can(request, organisation, P.ORG_UPDATE, P.BILLING_MANAGE, P.ORG_TRANSFER),
    }
    return render(request, "teams/org_settings.html", context)


@org_view(P.ORG_READ)
@require_POST
def org_leave(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    membership = Membership.objects.filter(organisation=organisation, user=_signed_in_user(request)).first()
    if membership is None:
        raise Http404
    try:
        services.membership_delete(membership=membership, actor=_signed_in_user(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("teams:org_settings")
    request.session.pop("current_organisation_id", None)
    messages.success(request, _("You left %(name)s.") % {"name": organisation.name})
    return redirect("/dashboard/")


@org_view(P.ORG_TRANSFER)
@require_POST
def org_transfer(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    members = selectors.member_list(organisation=organisation).exclude(user=_signed_in_user(request))
    form = forms.TransferForm(request.POST, members=members)
    if form.is_valid():
        new_owner = get_user_model().objects.get(pk=form.cleaned_data["user"])
        try:
            services.ownership_transfer(organisation=organisation, new_owner=new_owner, actor=_signed_in_user(request))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(email)s is now an owner; you are an admin.") % {"email": new_owner.email})
    else:
        messages.error(request, _("Choose a member."))
    return redirect("teams:org_settings")


# ---------------------------------------------------------------------------
# Members and invitations
# ---------------------------------------------------------------------------
@org_view(P.MEMBERS_READ)
def member_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    return _member_page(request, organisation)


def _member_page(request: HttpRequest, organisation: Organisation, invite_form: Any = None) -> HttpResponse:
    projects = selectors.project_list(actor=request.user, organisation=organisation)
    context = {
        "organisation": organisation,
        "members": selectors.member_list(organisation=organisation),
        "invitations": selectors.invitation_list(organisation=organisation, pending_only=True),
        "invite_form": invite_form or forms.InvitationForm(projects=projects),
        "roles": Role.choices,
        "me": request.user,
        "can": _can(request, organisation, P.MEMBERS_MANAGE, P.ORG_TRANSFER),
        "role_table": roles_overview(),
        "role_names": Role.choices,
    }
    return render(request, "teams/member_list.html", context, status=400 if invite_form else 200)


@org_view(P.MEMBERS_MANAGE)
@require_POST
def invitation_create(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    projects = selectors.project_list(actor=request.user, organisation=organisation)
    form = forms.InvitationForm(request.POST, projects=projects)
    if form.is_valid():
        project = projects.filter(pk=form.cleaned_data["project"]).first() if form.cleaned_data["project"] else None
        try:
            services.invitation_create(
                organisation=organisation,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                project=project,
                actor=_signed_in_user(request),
            )
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
            return redirect("teams:member_list")
    return _member_page(request, organisation, invite_form=form)


@org_view(P.MEMBERS_MANAGE)
@require_POST
def invitation_revoke(request: HttpRequest, organisation: Organisation, invitation_id: int) -> HttpResponse:
    try:
        invitation = selectors.invitation_get(organisation=organisation, invitation_id=invitation_id)
        services.invitation_revoke(invitation=invitation, actor=_signed_in_user(request))
    except NotFound as exc:
        raise Http404 from exc
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Invitation revoked."))
    return redirect("teams:member_list")


@org_view(P.MEMBERS_MANAGE)
@require_POST
def member_role(request: HttpRequest, organisation: Organisation, member_id: int) -> HttpResponse:
    try:
        membership = selectors.member_get(organisation=organisation, membership_id=member_id)
    except NotFound as exc:
        raise Http404 from exc
    form = forms.RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_update_role(
                membership=membership, role=form.cleaned_data["role"], actor=_signed_in_user(request)
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Role of %(email)s updated.") % {"email": membership.user.email})
    return redirect("teams:member_list")


@org_view(P.MEMBERS_MANAGE)
@require_POST
def member_remove(request: HttpRequest, organisation: Organisation, member_id: int) -> HttpResponse:
    try:
        membership = selectors.member_get(organisation=organisation, membership_id=member_id)
    except NotFound as exc:
        raise Http404 from exc
    try:
        services.membership_delete(membership=membership, actor=_signed_in_user(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(email)s was removed.") % {"email": membership.user.email})
    return redirect("teams:member_list")


def invitation_respond(request: HttpRequest, token: str) -> HttpResponse:
    """The page the e-mailed link opens: accept (signed in as the invitee) or decline."""
    invitation = selectors.invitation_get_by_token(token=token)
    if invitation is None:
        raise Http404(_("This invitation does not exist."))
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("answer") == "accept":
                if not request.user.is_authenticated:
                    return redirect(f"/accounts/login/?next={request.path}")
                invitation = services.invitation_accept(token=token, user=_signed_in_user(request))
                set_current_organisation(request, invitation.organisation)
                messages.success(request, _("Welcome to %(name)s.") % {"name": invitation.organisation.name})
                return redirect("teams:project_list" if invitation.project_id else "/dashboard/")
            invitation = services.invitation_decline(
                token=token, actor=_signed_in_user(request) if request.user.is_authenticated else None
            )
            messages.info(request, _("Invitation declined."))
        except ApplicationError as exc:
            error = exc.message
    context = {
        "invitation": invitation,
        "status": invitation.effective_status,
        "pending": invitation.effective_status == InvitationStatus.PENDING,
        "error": error,
    }
    return render(request, "teams/invitation_respond.html", context)


# ---------------------------------------------------------------------------
# Projects and grants
# ---------------------------------------------------------------------------
@org_view(P.ORG_READ)
def project_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    form = forms.ProjectForm(request.POST or None)
    can_manage = actor_has_permission(request.user, organisation, P.PROJECTS_MANAGE)
    if request.method == "POST":
        if not can_manage:
            return render(
                request, "teams/forbidden.html", {"message": _("Your role does not allow this action.")}, status=403
            )
        if form.is_valid():
            try:
                project = services.project_create(
                    organisation=organisation, actor=_signed_in_user(request), **form.cleaned_data
                )
            except ApplicationError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("Project %(name)s created.") % {"name": project.name})
                return redirect("teams:project_list")
    context = {
        "organisation": organisation,
        "projects": selectors.project_list(actor=request.user, organisation=organisation),
        "form": form,
        "can_manage": can_manage,
        "guest": role_in(request.user, organisation) is None,
    }
    return render(request, "teams/project_list.html", context)


@org_view(P.ORG_READ)
def project_detail(request: HttpRequest, organisation: Organisation, project_id: int) -> HttpResponse:
    try:
        project = project_get_for_actor(actor=request.user, organisation=organisation, project_id=project_id)
    except NotFound as exc:
        raise Http404 from exc
    can_manage = actor_has_permission(request.user, organisation, P.PROJECTS_MANAGE, project)
    form = forms.ProjectForm(request.POST or None, initial={"name": project.name, "description": project.description})
    grant_form = forms.ProjectGrantForm()
    if request.method == "POST":
        if not can_manage:
            return render(
                request, "teams/forbidden.html", {"message": _("Your role does not allow this action.")}, status=403
            )
        action = request.POST.get("action")
        try:
            if action == "delete":
                services.project_delete(project=project, actor=_signed_in_user(request))
                messages.success(request, _("Project deleted."))
                return redirect("teams:project_list")
            if action == "grant":
                grant_form = forms.ProjectGrantForm(request.POST)
                if grant_form.is_valid():
                    # Members are granted at once; anyone else is invited, and the
                    # message never says whether the address has an account.
                    offer = services.project_grant_offer(
                        project=project, actor=_signed_in_user(request), **grant_form.cleaned_data
                    )
                    if offer.user is not None:
                        messages.success(request, _("Access granted."))
                    else:
                        messages.success(
                            request,
                            _("Invitation sent to %(email)s: they get access to this project once they accept it.")
                            % {"email": grant_form.cleaned_data["email"]},
                        )
                    return redirect("teams:project_detail", project_id=project.pk)
            elif action == "revoke_grant":
                grantee = get_user_model().objects.filter(pk=request.POST.get("user") or 0).first()
                if grantee is not None:
                    services.project_grant_delete(project=project, user=grantee, actor=_signed_in_user(request))
                    messages.success(request, _("Access removed."))
                return redirect("teams:project_detail", project_id=project.pk)
            elif form.is_valid():
                services.project_update(project=project, actor=_signed_in_user(request), **form.cleaned_data)
                messages.success(request, _("Saved."))
                return redirect("teams:project_detail", project_id=project.pk)
        except ApplicationError as exc:
            messages.error(request, exc.message)
    context = {
        "organisation": organisation,
        "project": project,
        "form": form,
        "grant_form": grant_form,
        "grants": selectors.project_grant_list(project=project) if can_manage else [],
        "can_manage": can_manage,
    }
    return render(request, "teams/project_detail.html", context)


# ---------------------------------------------------------------------------
# API tokens
# ---------------------------------------------------------------------------
@org_view(P.TOKENS_MANAGE_OWN)
def token_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    projects = selectors.project_list(actor=request.user, organisation=organisation)
    form = forms.ApiTokenForm(request.POST or None, projects=projects)
    created = None
    secret = ""
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in"]
        try:
            created, secret = services.api_token_create(
                user=_signed_in_user(request),
                organisation=organisation,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=timezone.now() + dt.timedelta(days=int(days)) if days else None,
                projects=list(projects.filter(pk__in=form.cleaned_data["projects"])),
            )
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            # Rendered, not redirected: the secret is shown once and kept nowhere.
            form = forms.ApiTokenForm(projects=projects)
    context = {
        "organisation": organisation,
        "tokens": selectors.api_token_list(user=request.user, organisation=organisation),
        "form": form,
        "created": created,
        "secret": secret,
        "api_base": request.build_absolute_uri("/api/v1/"),
    }
    return render(request, "teams/token_list.html", context)


@org_view(P.TOKENS_MANAGE_OWN)
@require_POST
def token_revoke(request: HttpRequest, organisation: Organisation, token_id: int) -> HttpResponse:
    try:
        token = selectors.api_token_get(user=request.user, token_id=token_id)
    except NotFound as exc:
        raise Http404 from exc
    services.api_token_revoke(token=token, actor=_signed_in_user(request))
    messages.success(request, _("Token %(prefix)s revoked.") % {"prefix": token.prefix})
    return redirect("teams:token_list")


# ---------------------------------------------------------------------------
# Audit log
# ---------------------------------------------------------------------------
def _audit_filters(form: forms.AuditFilterForm) -> selectors.AuditFilters:
    if not form.is_valid():
        return selectors.AuditFilters()
    data = form.cleaned_data

    def at(day: dt.date | None, extra: int = 0) -> dt.datetime | None:
        if day is None:
            return None
        return dt.datetime.combine(day + dt.timedelta(days=extra), dt.time.min, tzinfo=dt.UTC)

    return selectors.AuditFilters(
        action=data["action"].strip(), actor=data["actor"].strip(), since=at(data["since"]), until=at(data["until"], 1)
    )


@org_view(P.AUDIT_READ)
def audit_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    form = forms.AuditFilterForm(request.GET or None)
    events = selectors.audit_event_list_for_organisation(organisation=organisation, filters=_audit_filters(form))
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"organisation": organisation, "form": form, "page": page, "query": query.urlencode()}
    return render(request, "teams/audit_list.html", context)


@org_view(P.AUDIT_READ)
def audit_export(request: HttpRequest, organisation: Organisation) -> Any:
    form = forms.AuditFilterForm(request.GET or None)
    events = selectors.audit_event_list_for_organisation(organisation=organisation, filters=_audit_filters(form))
    response = StreamingHttpResponse(audit_csv_rows(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{organisation.slug}.csv"'
    return response


def roles_overview() -> list[tuple[Permission, list[bool]]]:
    """Rows of the role table shown on the members page (from ROLE_PERMISSIONS)."""
    return [(p, [p in ROLE_PERMISSIONS[r] for r in Role]) for p in Permission]
