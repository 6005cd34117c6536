"""Portal pages of apps.firewalls."""

from django.urls import path

from apps.firewalls import views

app_name = "firewalls"

urlpatterns = [
    path("firewalls/", views.firewall_list, name="firewall_list"),
    path("firewalls/new/", views.firewall_create, name="firewall_create"),
    path("firewalls/<uuid:firewall_id>/", views.firewall_detail, name="firewall_detail"),
    path("firewalls/<uuid:firewall_id>/live/", views.firewall_live, name="firewall_live"),
    path("firewalls/<uuid:firewall_id>/apply/", views.firewall_apply, name="firewall_apply"),
    path("firewalls/<uuid:firewall_id>/remove/", views.firewall_remove, name="firewall_remove"),
    path("firewalls/<uuid:firewall_id>/delete/", views.firewall_delete, name="firewall_delete"),
    path("servers/<uuid:instance_id>/firewalls/", views.server_firewalls, name="server_firewalls"),
]
