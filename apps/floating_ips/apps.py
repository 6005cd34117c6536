"""App config for apps.floating_ips."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FloatingIpsConfig(AppConfig):
    name = "apps.floating_ips"
    verbose_name = _("Floating IPs")

    def ready(self) -> None:
        # Tasks are registered in every process so services can enqueue them by name (eager in tests).
        from apps.floating_ips import tasks  # noqa: F401
        from apps.floating_ips.services import floating_ips_server_status_changed
        from apps.instances.signals import instance_status_changed
        from apps.instances.views import server_tab_register

        # A deleted server's floating IPs are unassigned, kept (issue 13, "For every resource above").
        instance_status_changed.connect(floating_ips_server_status_changed, dispatch_uid="floating-ips-server-status")
        server_tab_register(
            key="floating_ips", label=_("Floating IPs"), url_name="floating_ips:server_floating_ips", order=45
        )
        # The floating IPs routed to a server are extra addresses of its public card in cloud-init.
        from apps.floating_ips.services import server_floating_addresses
        from apps.instances.services import guest_address_provider_register

        guest_address_provider_register(key="floating_ips", provider=server_floating_addresses)
        # What a server's API representation shows of this app (apps.instances.selectors.server_extras).
        from apps.floating_ips.selectors import floating_ips_by_server
        from apps.instances.selectors.server_extras import server_extra_register, uuid_value

        server_extra_register(
            field="floating_ips", rows=floating_ips_by_server, shape=lambda a, b: {"id": uuid_value(a, b), "address": b}
        )
