"""Catalogue API routes (public, read-only), under /api/v1/catalogue/."""

from django.urls import path

from apps.catalogue.api import views

urlpatterns = [
    path("catalogue/families/", views.FamilyListApi.as_view(), name="catalogue-family-list"),
    path("catalogue/families/<slug:slug>/", views.FamilyDetailApi.as_view(), name="catalogue-family-detail"),
    path("catalogue/offers/", views.OfferListApi.as_view(), name="catalogue-offer-list"),
    path("catalogue/offers/<str:code>/", views.OfferDetailApi.as_view(), name="catalogue-offer-detail"),
    path("catalogue/images/", views.ImageListApi.as_view(), name="catalogue-image-list"),
    path("catalogue/gpu-stacks/", views.GpuStackListApi.as_view(), name="catalogue-gpu-stack-list"),
    path("catalogue/datacentres/", views.DatacentreListApi.as_view(), name="catalogue-datacentre-list"),
    path("catalogue/gpu-models/", views.GpuModelListApi.as_view(), name="catalogue-gpu-model-list"),
]
