"""Pure rules of orders: no database, no models, no settings (docs/dev/style.md#app-shape).

The checks of what a customer orders that need nothing but their arguments,
each returning field → messages (empty when fine), as the reads in
``apps.orders.selectors.checks`` do:

* ``errors``: the field → messages shape every check returns;
* ``offers``: what kind of product an offer is, and whether the image (and GPU
  stack) fit it;
* ``names``: an order's name (a hostname, the one rule of ``apps.instances.rules``);
* ``options``: a server's option limits and id lists.
"""

from __future__ import annotations

from apps.orders.rules.errors import Errors
from apps.orders.rules.names import SERVICE_NAME_MAX, check_hostname
from apps.orders.rules.offers import check_image, is_vm_offer
from apps.orders.rules.options import MAX_ORDER_VOLUMES, STORAGE_FAMILY

__all__ = [
    "MAX_ORDER_VOLUMES",
    "SERVICE_NAME_MAX",
    "STORAGE_FAMILY",
    "Errors",
    "check_hostname",
    "check_image",
    "is_vm_offer",
]
