"""Account forms: MFA code forms with atomic lockout, account deletion, and the admin's email-only user forms."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import ReadOnlyPasswordHashField
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.accounts.services import lockout


class _LockoutMixin:
    """Reserve an attempt slot (per user, atomic) before allauth checks the code.

    Wired through ``MFA_FORMS``; allauth's own MFA limit reuses the
    ``login_failed`` cache-list limit, which settings turn off in favour of this.
    """

    user: Any

    def clean_code(self) -> str:
        slot = lockout.attempt_reserve(lockout.mfa_limits(user_id=self.user.pk))
        if not slot.allowed:
            raise get_account_adapter().validation_error("too_many_login_attempts")
        code: str = super().clean_code()  # type: ignore[misc]
        lockout.attempt_release(slot)
        return code


class MFAAuthenticateForm(_LockoutMixin, AuthenticateForm):
    pass


class MFAReauthenticateForm(_LockoutMixin, ReauthenticateForm):
    pass


class AccountDeleteForm(forms.Form):
    """Deleting an account asks for the email typed out, and the password when the account has one."""

    confirm_email = forms.CharField(
        label=_("Type your email address to confirm"), widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        required=False,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if not user.has_usable_password():
            # SSO-only accounts have no password to confirm with.
            del self.fields["password"]

    def clean_confirm_email(self) -> str:
        value: str = self.cleaned_data["confirm_email"].strip()
        if value.lower() != self.user.email.lower():
            raise forms.ValidationError(_("This is not your account's email address."))
        return value

    def clean_password(self) -> str:
        value: str = self.cleaned_data.get("password") or ""
        if not self.user.check_password(value):
            raise forms.ValidationError(_("Incorrect password."))
        return value


class UserAdminCreationForm(forms.ModelForm):  # type: ignore[type-arg]
    """Staff create an email-only user: email and a password typed twice (validated like sign-up)."""

    password1 = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("Password confirmation"), strip=False, widget=forms.PasswordInput)

    class Meta:
        model = User
        fields = ("email", "full_name")

    def clean_email(self) -> str:
        email: str = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("A user with this email address already exists."))
        return email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords do not match."))
        elif p1:
            candidate = User(email=data.get("email", ""), full_name=data.get("full_name", ""))
            try:
                password_validation.validate_password(p1, candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data

    def save(self, commit: bool = True) -> User:
        user: User = super().save(commit=False)
        user.set_password(self.cleaned_data["password1"])
        if commit:
            user.save()
        return user


class UserAdminChangeForm(forms.ModelForm):  # type: ignore[type-arg]
    """The change form shows the password hash read-only (Django's pattern) and keeps email unique."""

    password = ReadOnlyPasswordHashField(
        label=_("Password"),
        help_text=_("Raw passwords are not stored. Use “Set password” or ask the user to reset theirs."),
    )

    class Meta:
        model = User
        fields = (
            "email",
            "password",
            "full_name",
            "language",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
            "last_login",
            "date_joined",
        )

    def clean_email(self) -> str:
        email: str = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("A user with this email address already exists."))
        return email
