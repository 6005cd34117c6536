"""Fleet API routes: staff under /api/v1/infrastructure/, public availability at /api/v1/availability/."""

from django.urls import path

from apps.infrastructure.api import views

urlpatterns = [
    path("availability/", views.AvailabilityApi.as_view(), name="availability"),
    path("infrastructure/clusters/", views.ClusterListCreateApi.as_view(), name="infrastructure-cluster-list"),
    path("infrastructure/clusters/<id:pk>/", views.ClusterDetailApi.as_view(), name="infrastructure-cluster-detail"),
    path("infrastructure/clusters/<id:pk>/sync/", views.ClusterSyncApi.as_view(), name="infrastructure-cluster-sync"),
    path("infrastructure/nodes/", views.NodeListApi.as_view(), name="infrastructure-node-list"),
    path("infrastructure/nodes/<id:pk>/drain/", views.NodeDrainApi.as_view(), name="infrastructure-node-drain"),
    path("infrastructure/nodes/<id:pk>/undrain/", views.NodeUndrainApi.as_view(), name="infrastructure-node-undrain"),
    path("infrastructure/gpus/", views.GpuListApi.as_view(), name="infrastructure-gpu-list"),
    path("infrastructure/storages/", views.StorageListApi.as_view(), name="infrastructure-storage-list"),
    path("infrastructure/templates/", views.TemplateListApi.as_view(), name="infrastructure-template-list"),
    path("infrastructure/ip-pools/", views.IpPoolListApi.as_view(), name="infrastructure-ip-pool-list"),
    path("infrastructure/capacity/", views.CapacityApi.as_view(), name="infrastructure-capacity"),
]
