"""App configs of apps.backoffice: the app itself, and the admin config that installs its site.

``INSTALLED_APPS`` names ``BackOfficeAdminConfig`` in place of ``django.contrib.admin``, so
``admin.site`` (every app's ``admin.site.register`` and ``@admin.register``) is the back office's
site (https://docs.djangoproject.com/en/5.2/ref/contrib/admin/#overriding-the-default-admin-site).
"""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "apps.backoffice"
    verbose_name = _("Back office")

    def ready(self) -> None:
        # After each migrate, models added since the roles' data migration get their role defaults
        # (apps/docs/content/back-office.md, "Staff roles"). Django creates the permissions of every
        # app listed before this one in INSTALLED_APPS before this app's post_migrate is sent.
        post_migrate.connect(_grant_new_models, sender=self, dispatch_uid="backoffice-staff-roles-new-models")


def _grant_new_models(**kwargs: object) -> None:
    from apps.backoffice.services import staff_roles_grant_new_models

    staff_roles_grant_new_models()


class BackOfficeAdminConfig(admin_apps.AdminConfig):
    # Named by its path in INSTALLED_APPS; never picked for "apps.backoffice" itself.
    default = False
    default_site = "apps.backoffice.admin.site.BackOfficeSite"
