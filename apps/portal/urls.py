"""Portal routes."""

from django.urls import path

from apps.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/services/", views.dashboard_services, name="dashboard_services"),
    path("dashboard/servers/", views.dashboard_servers, name="dashboard_servers"),
    path("search/", views.search, name="search"),
]
