"""Volume actions move to the shared ``instances.Action`` table (issue 13: one Action table for every resource).

Every ``VolumeAction`` row is copied with the same public id, type, status,
progress, parameters, timestamps, error and claim fields, as
``resource_type="volume"`` and ``resource_id`` = the volume's public id, in the
volume's project; an attach (or a create attached at once) names its server in
``instance``, a detach the server the volume was on while it is still attached.
Then ``VolumeAction`` is dropped. The reverse copies them back.
"""

from typing import Any

from django.db import migrations

TIMESTAMPS = ("created_at", "started_at", "finished_at")
COPIED = (
    "public_id",
    "organisation_id",
    "type",
    "status",
    "progress",
    "params",
    "error_code",
    "error_message",
    "error_detail",
    "task_id",
    "lease_until",
    "attempts",
    "created_by_id",
    *TIMESTAMPS,
)


def _server_of(row: Any, known_servers: set[int]) -> int | None:
    if row.type in ("attach", "create"):
        server_id = (row.params or {}).get("server_id")
    elif row.type in ("detach", "resize"):
        server_id = row.volume.server_id
    else:
        server_id = None
    return server_id if server_id in known_servers else None


def forwards(apps: Any, schema_editor: Any) -> None:
    VolumeAction = apps.get_model("volumes", "VolumeAction")
    Action = apps.get_model("instances", "Action")
    Instance = apps.get_model("instances", "Instance")
    known_servers = set(Instance.objects.values_list("pk", flat=True))
    for row in VolumeAction.objects.select_related("volume").order_by("pk").iterator():
        values = {field: getattr(row, field) for field in COPIED}
        action = Action.objects.create(
            **values,
            project_id=row.volume.project_id,
            resource_type="volume",
            resource_id=row.volume.public_id,
            instance_id=_server_of(row, known_servers),
        )
        # ``created_at`` is auto_now_add: set the original timestamps again after the insert.
        Action.objects.filter(pk=action.pk).update(**{field: getattr(row, field) for field in TIMESTAMPS})


def backwards(apps: Any, schema_editor: Any) -> None:
    VolumeAction = apps.get_model("volumes", "VolumeAction")
    Volume = apps.get_model("volumes", "Volume")
    Action = apps.get_model("instances", "Action")
    volumes = dict(Volume.objects.values_list("public_id", "pk"))
    for row in Action.objects.filter(resource_type="volume").order_by("pk").iterator():
        volume_id = volumes.get(row.resource_id)
        if volume_id is None:
            continue
        values = {field: getattr(row, field) for field in COPIED}
        copy = VolumeAction.objects.create(**values, volume_id=volume_id)
        VolumeAction.objects.filter(pk=copy.pk).update(**{field: getattr(row, field) for field in TIMESTAMPS})
    Action.objects.filter(resource_type="volume").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("instances", "0008_action_resource"),
        ("volumes", "0002_volume_quota"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.DeleteModel(name="VolumeAction"),
    ]
