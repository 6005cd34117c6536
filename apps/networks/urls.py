"""Portal pages of apps.networks."""

from django.urls import path

from apps.networks import views

app_name = "networks"

urlpatterns = [
    path("networks/", views.network_list, name="network_list"),
    path("networks/<uuid:network_id>/", views.network_detail, name="network_detail"),
    path("networks/<uuid:network_id>/attach/", views.network_attach, name="network_attach"),
    path("networks/<uuid:network_id>/detach/", views.network_detach, name="network_detach"),
    path("networks/<uuid:network_id>/delete/", views.network_delete, name="network_delete"),
    path("networks/<uuid:network_id>/subnets/<uuid:subnet_id>/delete/", views.subnet_delete, name="subnet_delete"),
    path("servers/<uuid:instance_id>/networks/", views.server_networks, name="server_networks"),
    path("servers/<uuid:instance_id>/networks/join/", views.server_join, name="server_join"),
]
