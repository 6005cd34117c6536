"""Writes of the volumes app (docs/dev/style.md#services): re-exported from its modules."""

from apps.volumes.services.execution import (
    VolumeOperationFailed,
    volume_action_claim,
    volume_action_execute,
    volume_action_fail,
    volume_limits,
)
from apps.volumes.services.volumes import (
    volume_attach,
    volume_create,
    volume_delete,
    volume_detach,
    volume_prices,
    volume_reservation_release,
    volume_resize,
    volume_update,
    volumes_server_status_changed,
)

__all__ = [
    "VolumeOperationFailed",
    "volume_action_claim",
    "volume_action_execute",
    "volume_action_fail",
    "volume_attach",
    "volume_create",
    "volume_delete",
    "volume_detach",
    "volume_limits",
    "volume_prices",
    "volume_reservation_release",
    "volume_resize",
    "volume_update",
    "volumes_server_status_changed",
]
