"""Portal pages of apps.volumes: the volumes list, create, a volume's page and actions, the server tab."""

from django.urls import path

from apps.volumes import views

app_name = "volumes"

urlpatterns = [
    path("volumes/", views.volume_list, name="volume_list"),
    path("volumes/table/", views.volume_table, name="volume_table"),
    path("volumes/new/", views.volume_create, name="volume_create"),
    path("volumes/<uuid:volume_id>/", views.volume_detail, name="volume_detail"),
    path("volumes/<uuid:volume_id>/status/", views.volume_status, name="volume_status"),
    path("volumes/<uuid:volume_id>/actions/<uuid:action_id>/", views.action_detail, name="action_detail"),
    path("volumes/<uuid:volume_id>/attach/", views.volume_attach, name="volume_attach"),
    path("volumes/<uuid:volume_id>/detach/", views.volume_detach, name="volume_detach"),
    path("volumes/<uuid:volume_id>/resize/", views.volume_resize, name="volume_resize"),
    path("volumes/<uuid:volume_id>/settings/", views.volume_settings, name="volume_settings"),
    path("volumes/<uuid:volume_id>/protection/", views.volume_protection, name="volume_protection"),
    path("volumes/<uuid:volume_id>/delete/", views.volume_delete, name="volume_delete"),
    path("servers/<uuid:instance_id>/volumes/", views.server_volumes, name="server_volumes"),
    path("servers/<uuid:instance_id>/volumes/attach/", views.server_volume_attach, name="server_volume_attach"),
]
