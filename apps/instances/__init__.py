"""Instances: customers' virtual machines, their lifecycle and every asynchronous operation on them.

Owns ``Instance`` (state machine, power state, provisioning progress), ``Action``
(every async operation, exposed at ``/api/v1/actions/{id}``), ``SshKey``
(an organisation's account resource), ``Snapshot`` / ``SnapshotSchedule`` and
``Drift`` (what reconciliation found for staff).

Offers other apps (``apps.orders``): ``services.instance_create(...)`` once
placement reserved capacity (it returns the instance and its provisioning
Action and queues ``instances.provision``); the checks a server's name,
user-data and SSH keys must pass (``rules``, ``services.user_data_check``,
``services.ssh_key_ids_problems``); the signal ``signals.instance_status_changed``
(sent when a status change commits); the metering querysets of ``selectors``.
"""
