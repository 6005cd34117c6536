"""Public pricing pages, mounted at /pricing/ (config/urls.py)."""

from django.urls import path

from apps.catalogue import views

app_name = "catalogue"

urlpatterns = [
    path("", views.pricing, name="pricing"),
    path("compare/", views.pricing_compare, name="pricing_compare"),
]
