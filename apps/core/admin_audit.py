"""Admin mixin that audits what staff change through the Django admin.

ModelAdmin classes of every app inherit it so staff edits land in the same
append-only trail as customer actions (``actor_kind=staff``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.forms import ModelForm
from django.http import HttpRequest

from apps.core.choices import ActorKind
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
