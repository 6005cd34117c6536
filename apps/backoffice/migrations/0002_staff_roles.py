"""The staff roles' groups (support, operations, finance, superuser) with their default permissions.

Permissions are made by ``post_migrate``, after every migration has run; this migration makes them
first for the apps migrated so far (the usual ``create_permissions`` call), then applies the roles.
``manage.py staff_roles`` re-applies them at any time (apps/docs/content/back-office.md).
"""

from django.db import migrations


def apply_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from apps.backoffice.services import staff_roles_apply

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    staff_roles_apply(
        group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0001_initial"),
        ("auth", "__latest__"),
        ("contenttypes", "__latest__"),
        *(
            (app, "__latest__")
            for app in (
                "accounts",
                "teams",
                "sso",
                "catalogue",
                "infrastructure",
                "instances",
                "volumes",
                "networks",
                "firewalls",
                "floating_ips",
                "managed",
                "loadbalancers",
                "orders",
                "alerts",
                "billing",
                "core",
                "djstripe",
                "account",
                "mfa",
                "socialaccount",
                "django_celery_beat",
            )
        ),
    ]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]
