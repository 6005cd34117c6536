"""SSO portal routes under /org/sso/. The SAML endpoints themselves are allauth's (/accounts/saml/<slug>/...)."""

from django.urls import path

from apps.sso import views

app_name = "sso"

urlpatterns = [
    path("", views.organisation_list, name="organisations"),
    path("discover/", views.discover, name="discover"),
    path("<slug:org_slug>/", views.connection_settings, name="settings"),
    path("<slug:org_slug>/domains/", views.domain_add, name="domain_add"),
    path("<slug:org_slug>/domains/<id:domain_id>/delete/", views.domain_remove, name="domain_remove"),
    path("<slug:org_slug>/domains/<id:domain_id>/verify/", views.domain_verify, name="domain_verify"),
    path("<slug:org_slug>/metadata/refresh/", views.metadata_refresh, name="metadata_refresh"),
]
