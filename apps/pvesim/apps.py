"""Django app config of the Proxmox VE simulator (a dev and test tool)."""

from django.apps import AppConfig


class PvesimConfig(AppConfig):
    name = "apps.pvesim"
    label = "pvesim"
    verbose_name = "Proxmox VE simulator"
    default_auto_field = "django.db.models.BigAutoField"
