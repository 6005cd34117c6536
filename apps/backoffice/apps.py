"""App configs of apps.backoffice: the app itself, and the admin config that installs its site.

``INSTALLED_APPS`` names ``BackOfficeAdminConfig`` in place of ``django.contrib.admin``, so
``admin.site`` (every app's ``admin.site.register`` and ``@admin.register``) is the back office's
site (https://docs.djangoproject.com/en/5.2/ref/contrib/admin/#overriding-the-default-admin-site).
"""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "apps.backoffice"
    verbose_name = _("Back office")


class BackOfficeAdminConfig(admin_apps.AdminConfig):
    # Named by its path in INSTALLED_APPS; never picked for "apps.backoffice" itself.
    default = False
    default_site = "apps.backoffice.admin.site.BackOfficeSite"
