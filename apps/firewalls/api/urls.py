"""Firewalls API routes under /api/v1/ (Hetzner's names: set_rules, apply_to_resources, remove_from_resources)."""

from django.urls import path

from apps.firewalls.api import views

urlpatterns = [
    path("firewalls/", views.FirewallListApi.as_view(), name="firewall-list"),
    path("firewalls/<uuid:firewall_id>/", views.FirewallDetailApi.as_view(), name="firewall-detail"),
    path("firewalls/<uuid:firewall_id>/actions/", views.FirewallActionListApi.as_view(), name="firewall-action-list"),
    path(
        "firewalls/<uuid:firewall_id>/actions/set_rules/",
        views.FirewallSetRulesApi.as_view(),
        name="firewall-set-rules",
    ),
    path(
        "firewalls/<uuid:firewall_id>/actions/apply_to_resources/",
        views.FirewallApplyApi.as_view(),
        name="firewall-apply-to-resources",
    ),
    path(
        "firewalls/<uuid:firewall_id>/actions/remove_from_resources/",
        views.FirewallRemoveApi.as_view(),
        name="firewall-remove-from-resources",
    ),
]
