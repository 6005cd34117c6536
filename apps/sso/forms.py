"""Portal forms of SSO: discovery by email, the connection settings, a domain."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.sso.models import SamlConnection
from apps.teams.choices import Role


class DiscoverForm(forms.Form):
    email = forms.EmailField(label=_("Work email"))


class SamlConnectionForm(forms.ModelForm):  # type: ignore[type-arg]
    default_role = forms.ChoiceField(
        label=_("Default role"),
        choices=[(r.value, r.label) for r in Role if r != Role.OWNER],
        help_text=_("Role given to people who sign in through SSO for the first time."),
    )

    class Meta:
        model = SamlConnection
        fields = [
            "idp_metadata_xml",
            "idp_metadata_url",
            "idp_entity_id",
            "idp_sso_url",
            "idp_x509_cert",
            "attr_email",
            "attr_first_name",
            "attr_last_name",
            "attr_uid",
            "default_role",
            "allow_idp_initiated",
            "enabled",
            "sso_required",
        ]
        widgets = {
            "idp_metadata_xml": forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
            "idp_x509_cert": forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        }
        help_texts = {
            "idp_metadata_xml": _("Paste your IdP's metadata: the fields below are filled in from it."),
            "idp_metadata_url": _("Or its URL (fetched when you save)."),
        }


class DomainForm(forms.Form):
    domain = forms.CharField(label=_("Email domain"), max_length=253, help_text=_("For example example.com."))
