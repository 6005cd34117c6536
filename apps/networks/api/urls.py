"""Networks API routes under /api/v1/."""

from django.urls import path

from apps.networks.api import views

urlpatterns = [
    path("networks/", views.NetworkListApi.as_view(), name="network-list"),
    path("networks/<uuid:network_id>/", views.NetworkDetailApi.as_view(), name="network-detail"),
    path("networks/<uuid:network_id>/subnets/", views.SubnetListApi.as_view(), name="network-subnet-list"),
    path(
        "networks/<uuid:network_id>/subnets/<uuid:subnet_id>/",
        views.SubnetDetailApi.as_view(),
        name="network-subnet-detail",
    ),
    path("networks/<uuid:network_id>/actions/", views.NetworkActionListApi.as_view(), name="network-action-list"),
    path("networks/<uuid:network_id>/actions/attach/", views.NetworkAttachApi.as_view(), name="network-attach"),
    path("networks/<uuid:network_id>/actions/detach/", views.NetworkDetachApi.as_view(), name="network-detach"),
]
