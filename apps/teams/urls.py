"""Portal routes of teams: /org/ (settings, members, invitations, projects), /tokens/, /audit/."""

from django.urls import path
from django.views.generic import RedirectView

from apps.teams import views

app_name = "teams"

urlpatterns = [
    path("org/", RedirectView.as_view(pattern_name="teams:org_settings"), name="org_home"),
    path("org/new/", views.org_create, name="org_create"),
    path("org/switch/", views.org_switch, name="org_switch"),
    path("org/settings/", views.org_settings, name="org_settings"),
    path("org/leave/", views.org_leave, name="org_leave"),
    path("org/transfer/", views.org_transfer, name="org_transfer"),
    path("org/members/", views.member_list, name="member_list"),
    path("org/members/<id:member_id>/role/", views.member_role, name="member_role"),
    path("org/members/<id:member_id>/remove/", views.member_remove, name="member_remove"),
    path("org/invitations/", views.invitation_create, name="invitation_create"),
    path("org/invitations/<id:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("org/invitations/<str:token>/", views.invitation_respond, name="invitation_respond"),
    path("org/projects/", views.project_list, name="project_list"),
    path("org/projects/<id:project_id>/", views.project_detail, name="project_detail"),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/<id:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
]
