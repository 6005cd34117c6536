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
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = True  # create_permissions skips an app config without one
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = models_module
    staff_roles_apply(
        group_model=apps.get_model("auth", "Group"), permission_model=apps.get_model("auth", "Permission")
    )


class Migration(migrations.Migration):
    # Fixed names, never "__latest__": a dependency that moved with every new migration of another
    # app would make this (already applied) migration inconsistent on every existing database.
    # Permissions of models added later come from post_migrate; `manage.py staff_roles` grants them.
    dependencies = [
        ("backoffice", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounts", "0002_user_suspension"),
        ("teams", "0002_project_labels"),
        ("sso", "0002_domain_verification_logout_rollover"),
        ("catalogue", "0003_image_slugs_allow_dots"),
        ("infrastructure", "0005_cluster_storage"),
        ("instances", "0009_action_task_name"),
        ("volumes", "0003_actions_to_shared_table"),
        ("networks", "0002_attachment_drift_subnet_set_null"),
        ("firewalls", "0001_initial"),
        ("floating_ips", "0001_initial"),
        ("managed", "0006_fulfilment_started"),
        ("loadbalancers", "0001_initial"),
        ("orders", "0006_orders_of_migrated_services"),
        ("alerts", "0001_initial"),
        ("billing", "0006_usage_floating_ip"),
        ("core", "0004_unsenttask"),
        ("djstripe", "0003_2_11"),
        ("account", "0009_emailaddress_unique_primary_email"),
        ("mfa", "0003_authenticator_type_uniq"),
        ("socialaccount", "0006_alter_socialaccount_extra_data"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]
