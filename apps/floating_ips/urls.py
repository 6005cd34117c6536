"""Portal pages of apps.floating_ips."""

from django.urls import path

from apps.floating_ips import views

app_name = "floating_ips"

urlpatterns = [
    path("floating-ips/", views.floating_ip_list, name="list"),
    path("floating-ips/new/", views.floating_ip_create, name="create"),
    path("floating-ips/<uuid:floating_ip_id>/", views.floating_ip_detail, name="detail"),
    path("floating-ips/<uuid:floating_ip_id>/status/", views.floating_ip_status, name="status"),
    path("floating-ips/<uuid:floating_ip_id>/assign/", views.floating_ip_assign, name="assign"),
    path("floating-ips/<uuid:floating_ip_id>/unassign/", views.floating_ip_unassign, name="unassign"),
    path("floating-ips/<uuid:floating_ip_id>/delete/", views.floating_ip_delete, name="delete"),
    path("floating-ips/<uuid:floating_ip_id>/protection/", views.floating_ip_protection, name="protection"),
    path("servers/<uuid:instance_id>/floating-ips/", views.server_floating_ips, name="server_floating_ips"),
    path(
        "servers/<uuid:instance_id>/floating-ips/assign/",
        views.server_floating_ip_assign,
        name="server_floating_ip_assign",
    ),
]
