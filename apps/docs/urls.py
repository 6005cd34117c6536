"""Docs routes."""

from django.urls import path

from apps.docs import views

app_name = "docs"

urlpatterns = [path("", views.index, name="index")]
