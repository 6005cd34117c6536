"""Volumes API routes under /api/v1/."""

from django.urls import path

from apps.volumes.api import views

urlpatterns = [
    path("volumes/", views.VolumeListApi.as_view(), name="volume-list"),
    path("volumes/<uuid:volume_id>/", views.VolumeDetailApi.as_view(), name="volume-detail"),
    path("volumes/<uuid:volume_id>/actions/", views.VolumeActionListApi.as_view(), name="volume-action-list"),
    path("volumes/<uuid:volume_id>/actions/attach/", views.VolumeAttachApi.as_view(), name="volume-attach"),
    path("volumes/<uuid:volume_id>/actions/detach/", views.VolumeDetachApi.as_view(), name="volume-detach"),
    path("volumes/<uuid:volume_id>/actions/resize/", views.VolumeResizeApi.as_view(), name="volume-resize"),
]
