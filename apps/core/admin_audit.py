"""Admin mixins: audit what staff change through the Django admin, and run staff actions through services.

ModelAdmin classes of every app inherit ``AuditedModelAdmin`` so staff edits land in the same
append-only trail as customer actions (``actor_kind=staff``); ``StaffActionsMixin`` gives the
orders and managed services admins their per-row actions (approve, suspend with a reason...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import models, transaction
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.choices import ActorKind
from apps.core.errors import ApplicationError
from apps.core.services import audit_record


class AuditedModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Writes an audit event for each add, change and delete made in the admin."""

    def audit_action_name(self, obj: models.Model, verb: str) -> str:
        return f"{obj._meta.app_label}.{obj._meta.model_name}.{verb}"

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:  # type: ignore[type-arg]
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            changed = {name: str(form.cleaned_data.get(name)) for name in form.changed_data} if change else {}
            audit_record(
                actor=request.user,  # type: ignore[arg-type]
                actor_kind=ActorKind.STAFF,
                action=self.audit_action_name(obj, "update" if change else "create"),
                target=obj,
                changes=changed,
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            audit_record(
                actor=request.user,  # type: ignore[arg-type]
                actor_kind=ActorKind.STAFF,
                action=self.audit_action_name(obj, "delete"),
                target=obj,
            )
            super().delete_model(request, obj)


class StaffActionsMixin:
    """Admin actions that call a service once per selected row, some asking a form first (a reason).

    ``_each`` calls the service for every row and reports one message per refusal (the service's
    own ``ApplicationError`` text) and one for what was done; ``_form_action`` shows the form on
    ``admin/staff_action_form.html`` listing the rows, then runs ``_each`` with the cleaned data.
    The services audit, so nothing here writes.
    """

    def action_row_label(self, obj: Any) -> str:
        """How a row is named in the form's list and in a refusal message."""
        return str(obj)

    def _each(self, request: HttpRequest, queryset: Any, call: Callable[[Any], Any], done_message: str) -> None:
        done = 0
        for obj in queryset:
            try:
                call(obj)
            except ApplicationError as exc:
                self.message_user(request, f"{self.action_row_label(obj)}: {exc.message}", messages.ERROR)  # type: ignore[attr-defined]
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"n": done}, messages.SUCCESS)  # type: ignore[attr-defined]

    def _form_action(
        self,
        request: HttpRequest,
        queryset: Any,
        *,
        form_class: type[forms.Form],
        action: str,
        title: str,
        intro: str,
        submit_label: str,
        call: Callable[[Any, dict[str, Any]], Any],
        done_message: str,
    ) -> HttpResponse | None:
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._each(request, queryset, lambda obj: call(obj, form.cleaned_data), done_message)
            return None
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "form": form,
            "rows": [(obj.pk, self.action_row_label(obj)) for obj in queryset],
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "title": title,
            "intro": intro,
            "submit_label": submit_label,
        }
        return render(request, "admin/staff_action_form.html", context)
