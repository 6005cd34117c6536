"""Portal forms of teams: shape validation only; services enforce the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.teams.choices import ProjectAccess, Role, TokenScope


class OrganisationSettingsForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    require_mfa = forms.BooleanField(
        label=_("Require two-factor authentication"),
        required=False,
        help_text=_("Members without MFA must enrol before they can use this organisation."),
    )


class BillingDetailsForm(forms.Form):
    legal_name = forms.CharField(label=_("Legal name"), max_length=200, required=False)
    country = forms.CharField(
        label=_("Country"), max_length=2, required=False, help_text=_("Two-letter ISO code, such as FR, DE or NL.")
    )
    vat_id = forms.CharField(
        label=_("VAT id"), max_length=32, required=False, help_text=_("For example FR12345678901.")
    )
    billing_email = forms.EmailField(label=_("Billing email"), required=False)


class OrganisationCreateForm(forms.Form):
    name = forms.CharField(label=_("Organisation name"), max_length=100)


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)
    project = forms.TypedChoiceField(
        label=_("Access"), coerce=int, required=False, empty_value=None, help_text=_("Limit access to one project.")
    )

    def __init__(self, *args: Any, projects: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = [("", _("The whole organisation"))] + [  # type: ignore[attr-defined]
            (p.pk, p.name) for p in projects
        ]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class TransferForm(forms.Form):
    user = forms.TypedChoiceField(label=_("New owner"), coerce=int)

    def __init__(self, *args: Any, members: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [(m.user_id, m.user.email) for m in members]  # type: ignore[attr-defined]


class ProjectForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=500, required=False)


class ProjectGrantForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        help_text=_("Members get access at once; anyone else receives an invitation to accept."),
    )
    access = forms.ChoiceField(label=_("Access"), choices=ProjectAccess.choices)


EXPIRY_CHOICES = [
    ("7", _("7 days")),
    ("30", _("30 days")),
    ("90", _("90 days")),
    ("365", _("1 year")),
    ("", _("Never")),
]


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What uses it, e.g. “terraform CI”."))
    scope = forms.ChoiceField(label=_("Scope"), choices=TokenScope.choices, initial=TokenScope.READ_ONLY)
    expires_in = forms.ChoiceField(label=_("Expires in"), choices=EXPIRY_CHOICES, initial="90", required=False)
    projects = forms.TypedMultipleChoiceField(
        label=_("Projects"), coerce=int, required=False, help_text=_("None selected: every project.")
    )

    def __init__(self, *args: Any, projects: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["projects"].choices = [(p.pk, p.name) for p in projects]  # type: ignore[attr-defined]


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action"), required=False, help_text=_("e.g. membership. or project.create"))
    actor = forms.CharField(label=_("Actor"), required=False, help_text=_("E-mail or token prefix"))
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
