"""Instances: customers' virtual machines, their lifecycle and every asynchronous operation on them.

Owns ``Instance`` (state machine, power state, provisioning progress), ``Action``
(every async operation, exposed at ``/api/v1/actions/{id}``), ``SshKey``
(an organisation's account resource), ``Snapshot`` / ``SnapshotSchedule`` and
``Drift`` (what reconciliation found for staff).

Offers other apps (``apps.orders``): ``services.instance_create(...)`` once
placement reserved capacity; it returns the instance and its provisioning
Action and queues ``instances.provision``.
"""
