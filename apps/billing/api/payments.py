"""Billing API: payments (views and their routes; serializers in serializers_payments.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
