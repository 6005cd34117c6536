"""Teams API routes under /api/v1/."""

from django.urls import path

from apps.teams.api import views

urlpatterns = [
    path("organisations/", views.OrganisationListApi.as_view(), name="organisation-list"),
    path("organisations/<id:org_id>/", views.OrganisationDetailApi.as_view(), name="organisation-detail"),
    path(
        "organisations/<id:org_id>/transfer-ownership/",
        views.OrganisationTransferApi.as_view(),
        name="organisation-transfer",
    ),
    path("organisations/<id:org_id>/leave/", views.OrganisationLeaveApi.as_view(), name="organisation-leave"),
    path("organisations/<id:org_id>/members/", views.MemberListApi.as_view(), name="member-list"),
    path("organisations/<id:org_id>/members/<id:member_id>/", views.MemberDetailApi.as_view(), name="member-detail"),
    path("organisations/<id:org_id>/invitations/", views.InvitationListApi.as_view(), name="invitation-list"),
    path(
        "organisations/<id:org_id>/invitations/<id:invitation_id>/",
        views.InvitationDetailApi.as_view(),
        name="invitation-detail",
    ),
    path("invitations/accept/", views.InvitationAcceptApi.as_view(), name="invitation-accept"),
    path("invitations/decline/", views.InvitationDeclineApi.as_view(), name="invitation-decline"),
    path("organisations/<id:org_id>/projects/", views.ProjectListApi.as_view(), name="project-list"),
    path(
        "organisations/<id:org_id>/projects/<id:project_id>/",
        views.ProjectDetailApi.as_view(),
        name="project-detail",
    ),
    path(
        "organisations/<id:org_id>/projects/<id:project_id>/grants/",
        views.ProjectGrantListApi.as_view(),
        name="project-grant-list",
    ),
    path(
        "organisations/<id:org_id>/projects/<id:project_id>/grants/<id:user_id>/",
        views.ProjectGrantDetailApi.as_view(),
        name="project-grant-detail",
    ),
    path("tokens/", views.ApiTokenListApi.as_view(), name="token-list"),
    path("tokens/<id:token_id>/", views.ApiTokenDetailApi.as_view(), name="token-detail"),
    path("organisations/<id:org_id>/audit-events/", views.AuditEventListApi.as_view(), name="audit-event-list"),
    path(
        "organisations/<id:org_id>/audit-events.csv",
        views.AuditEventCsvApi.as_view(),
        {"format": "csv"},
        name="audit-event-csv",
    ),
]
