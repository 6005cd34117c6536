"""Portal account routes mounted under /accounts/ next to allauth's."""

from django.urls import path

from apps.accounts import views

app_name = "accounts"

urlpatterns = [
    path("delete/", views.account_delete, name="delete"),
]
