"""Pure rules of the infrastructure app: functions of their arguments and settings, no database.

* ``crypto``: encryption at rest of the secrets the platform reads back (Proxmox API token secrets,
  managed services' credentials, load balancers' private keys), with key rotation.
"""
