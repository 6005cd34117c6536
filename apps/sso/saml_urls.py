"""Routes under /accounts/: three that take over allauth's (same names, apps/sso/saml_views.py), and the
account's SSO connections page."""

from django.urls import path, re_path

from apps.sso import saml_views, views

urlpatterns = [
    # The account's own SSO identities: connect one after logging in (not one of allauth's).
    path("sso/", views.account_connections, name="sso_account_connections"),
    path("logout/", saml_views.logout, name="account_logout"),
    re_path(r"^saml/(?P<organization_slug>[^/]+)/acs/finish/$", saml_views.finish_acs, name="saml_finish_acs"),
    re_path(r"^saml/(?P<organization_slug>[^/]+)/sls/$", saml_views.sls, name="saml_sls"),
]
