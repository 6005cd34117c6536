"""Infrastructure: the Proxmox VE fleet and placement.

Owns clusters (API URL, token with its secret encrypted at rest, TLS trust),
nodes, GPU devices, storages, VM templates, IP pools and VMID allocations, the
inventory sync that pulls them from each cluster, and placement: reserving a
node, GPUs, a VMID and addresses for one VM in one transaction.

Offers other apps (instances, orders, portal):
- ``services.placement_reserve`` / ``placement_commit`` / ``placement_release``;
- ``selectors.offer_availability`` / ``availability_matrix`` (true availability);
- ``selectors.datacentre_capacity`` (sold against sellable);
- ``services.cluster_driver`` to talk to a cluster through ``proxmox.driver``.

It sits above catalogue and below instances: it never imports instances, and
a reservation points at its holder only by an opaque ``holder_ref`` UUID.
"""
