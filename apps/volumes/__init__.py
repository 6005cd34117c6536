"""Block storage volumes (issue 13): a customer's disk of a STORAGE-* tier that outlives servers.

Owns ``Volume``; its asynchronous operations are rows of the shared
``apps.instances.models.Action`` (``resource_type`` "volume"). Offers ``services``
(create, attach, detach, resize, delete, update) and ``selectors`` to the apps
above it. Volumes live on the storage a cluster declares for their tier
(``apps.infrastructure.models.ClusterStorage``), owned by a reserved holder
VMID, attached by volume id and detached by dropping the config line, so a
server's deletion never frees one (docs/dev/proxmox-behaviour.md#volume-keeping).
"""
