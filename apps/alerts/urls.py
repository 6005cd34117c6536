"""Portal pages of apps.alerts: policies list, create, edit, delete, a policy's page, the server tab."""

from django.urls import path

from apps.alerts import views

app_name = "alerts"

urlpatterns = [
    path("alerts/", views.policy_list, name="policy_list"),
    path("alerts/new/", views.policy_create, name="policy_create"),
    path("alerts/notices/<int:notice_id>/dismiss/", views.notice_dismiss, name="notice_dismiss"),
    path("alerts/<uuid:policy_id>/", views.policy_detail, name="policy_detail"),
    path("alerts/<uuid:policy_id>/edit/", views.policy_edit, name="policy_edit"),
    path("alerts/<uuid:policy_id>/delete/", views.policy_delete, name="policy_delete"),
    path("alerts/<uuid:policy_id>/rotate-secret/", views.policy_rotate_secret, name="policy_rotate_secret"),
    path("servers/<uuid:instance_id>/alerts/", views.server_alerts, name="server_alerts"),
]
