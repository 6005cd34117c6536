"""Portal routes of the instances app: servers, their tabs and actions, SSH keys."""

from django.urls import path

from apps.instances import views

app_name = "instances"

urlpatterns = [
    path("servers/", views.server_list, name="server_list"),
    path("servers/table/", views.server_table, name="server_table"),
    path("servers/<uuid:instance_id>/", views.server_detail, name="server_detail"),
    path("servers/<uuid:instance_id>/status/", views.server_status, name="server_status"),
    path("servers/<uuid:instance_id>/snapshots/", views.server_snapshots, name="server_snapshots"),
    path("servers/<uuid:instance_id>/metrics/", views.server_metrics, name="server_metrics"),
    path("servers/<uuid:instance_id>/activity/", views.server_activity, name="server_activity"),
    path("servers/<uuid:instance_id>/console/", views.server_console, name="server_console"),
    path("servers/<uuid:instance_id>/actions/<uuid:action_id>/", views.action_detail, name="action_detail"),
    path("servers/<uuid:instance_id>/power/<str:action>/", views.server_power, name="server_power"),
    path("servers/<uuid:instance_id>/resize/", views.server_resize, name="server_resize"),
    path("servers/<uuid:instance_id>/rebuild/", views.server_rebuild, name="server_rebuild"),
    path("servers/<uuid:instance_id>/settings/", views.server_settings, name="server_settings"),
    path("servers/<uuid:instance_id>/protection/", views.server_protection, name="server_protection"),
    path("servers/<uuid:instance_id>/reset-password/", views.server_reset_password, name="server_reset_password"),
    path("servers/<uuid:instance_id>/delete/", views.server_delete, name="server_delete"),
    path("servers/<uuid:instance_id>/snapshots/new/", views.snapshot_create, name="snapshot_create"),
    path(
        "servers/<uuid:instance_id>/snapshots/<uuid:snapshot_id>/rollback/",
        views.snapshot_rollback,
        name="snapshot_rollback",
    ),
    path(
        "servers/<uuid:instance_id>/snapshots/<uuid:snapshot_id>/delete/",
        views.snapshot_delete,
        name="snapshot_delete",
    ),
    path(
        "servers/<uuid:instance_id>/snapshot-schedule/",
        views.snapshot_schedule_save,
        name="snapshot_schedule_save",
    ),
    path(
        "servers/<uuid:instance_id>/snapshot-schedule/delete/",
        views.snapshot_schedule_delete,
        name="snapshot_schedule_delete",
    ),
    path("ssh-keys/", views.ssh_key_list, name="ssh_key_list"),
    path("ssh-keys/<uuid:key_id>/delete/", views.ssh_key_delete, name="ssh_key_delete"),
]
