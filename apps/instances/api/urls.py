"""Instances API routes under /api/v1/."""

from django.urls import path

from apps.instances.api import views

urlpatterns = [
    path("instances/", views.InstanceListApi.as_view(), name="instance-list"),
    path("instances/<uuid:instance_id>/", views.InstanceDetailApi.as_view(), name="instance-detail"),
    path("instances/<uuid:instance_id>/actions/", views.InstanceActionListApi.as_view(), name="instance-action-list"),
    path("instances/<uuid:instance_id>/actions/resize/", views.InstanceResizeApi.as_view(), name="instance-resize"),
    path("instances/<uuid:instance_id>/actions/rebuild/", views.InstanceRebuildApi.as_view(), name="instance-rebuild"),
    path(
        "instances/<uuid:instance_id>/actions/reset_password/",
        views.InstanceResetPasswordApi.as_view(),
        name="instance-reset-password",
    ),
    path(
        "instances/<uuid:instance_id>/actions/<str:action>/",
        views.InstancePowerActionApi.as_view(),
        name="instance-power-action",
    ),
    path("instances/<uuid:instance_id>/console/", views.InstanceConsoleApi.as_view(), name="instance-console"),
    path("instances/<uuid:instance_id>/metrics/", views.InstanceMetricsApi.as_view(), name="instance-metrics"),
    path("instances/<uuid:instance_id>/snapshots/", views.SnapshotListApi.as_view(), name="snapshot-list"),
    path(
        "instances/<uuid:instance_id>/snapshots/<uuid:snapshot_id>/",
        views.SnapshotDetailApi.as_view(),
        name="snapshot-detail",
    ),
    path(
        "instances/<uuid:instance_id>/snapshots/<uuid:snapshot_id>/rollback/",
        views.SnapshotRollbackApi.as_view(),
        name="snapshot-rollback",
    ),
    path(
        "instances/<uuid:instance_id>/snapshot-schedule/",
        views.SnapshotScheduleApi.as_view(),
        name="snapshot-schedule",
    ),
    path("actions/", views.ActionListApi.as_view(), name="action-list"),
    path("actions/<uuid:action_id>/", views.ActionDetailApi.as_view(), name="action-detail"),
    path("ssh-keys/", views.SshKeyListApi.as_view(), name="ssh-key-list"),
    path("ssh-keys/<uuid:key_id>/", views.SshKeyDetailApi.as_view(), name="ssh-key-detail"),
]
