"""Docs routes: /docs/, /docs/search/, /docs/<slug>/."""

from django.urls import path

from apps.docs import views

app_name = "docs"

urlpatterns = [
    path("", views.index, name="index"),
    # Before the page route: "search" is reserved and never a page slug.
    path("search/", views.search, name="search"),
    path("<slug:slug>/", views.page, name="page"),
]
