"""Orders: from a quote to a delivered product.

Owns quotes (price and live availability, no side effects), orders with
their explicit state machine and transition history, the staff approval and
fulfilment queues, per-organisation quotas and ``Idempotency-Key`` replay.

Offers to other apps:
- ``services``: ``order_place`` (``order_submit``: the API's flow with its
  ``Idempotency-Key``), ``order_cancel``, ``order_approve``, ``order_reject``,
  ``order_retry``, ``order_fail``, ``order_fulfilment_start`` (staff started on
  a service order: no more cancelling it), ``order_block_set`` /
  ``order_block_clear``; ``order_sync``: a VM order completes or fails with its
  instance, told by ``apps.instances.signals.instance_status_changed``;
  ``order_sync_service``: a managed order completes when its service is
  delivered, or is cancelled when it ended before (the beat task
  ``orders.sync`` is a safety net for both);
- ``selectors``: ``quote_build``, ``order_list``, ``order_get``,
  ``approval_queue``, ``fulfilment_queue``.

Virtual machines are delivered by ``apps.instances`` (``instance_create``),
managed services are created by ``apps.managed`` (``service_create``) with the
order's ``service`` object (``apps.managed.rules``), and live there;
capacity comes from ``apps.infrastructure`` placement, prices from
``apps.catalogue``. Interfaces: /api/v1/quotes/, /api/v1/orders/, the portal
wizard and pages under /orders/, the admin (all orders, approval queue,
fulfilment queue, organisation quotas). Docs: apps/docs/content/ordering.md.
"""
