"""Billing API: costs (views and their routes; serializers in serializers_costs.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
