"""Staff view of users: email-only add/change forms, suspension with a reason, audited edits."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from apps.accounts import services
from apps.accounts.forms import UserAdminChangeForm, UserAdminCreationForm
from apps.accounts.models import User
from apps.core.admin_audit import AuditedModelAdmin
from apps.core.errors import ApplicationError


class SuspendForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason shown to the user"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):  # type: ignore[misc]
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "is_staff", "is_active", "suspended_at", "date_joined", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", ("suspended_at", admin.EmptyFieldListFilter))
    search_fields = ("email", "full_name")
    readonly_fields = ("last_login", "date_joined", "suspended_at", "suspension_reason")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("full_name", "language")}),
        (_("Suspension"), {"fields": ("suspended_at", "suspension_reason")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)
    actions = ["suspend_users", "unsuspend_users"]

    @admin.action(description=_("Suspend the selected users (asks for the reason)"))
    def suspend_users(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse | None:
        if "apply" in request.POST:
            form = SuspendForm(request.POST)
            if form.is_valid():
                done = 0
                for user in queryset:
                    if user.pk == request.user.pk:
                        self.message_user(request, _("You cannot suspend yourself."), messages.ERROR)
                        continue
                    try:
                        services.user_suspend(user=user, reason=form.cleaned_data["reason"], actor=request.user)
                        done += 1
                    except ApplicationError as exc:
                        self.message_user(request, f"{user}: {exc.message}", messages.ERROR)
                self.message_user(request, _("%(n)d user(s) suspended.") % {"n": done}, messages.SUCCESS)
                return None
        else:
            form = SuspendForm()
        return render(
            request,
            "admin/accounts/user/suspend.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Suspend users"),
                "users": queryset,
                "form": form,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Lift the suspension of the selected users"))
    def unsuspend_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset.filter(suspended_at__isnull=False):
            services.user_unsuspend(user=user, actor=request.user)
        self.message_user(request, _("Suspensions lifted."), messages.SUCCESS)
