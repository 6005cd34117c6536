"""What following a server's label or card change costs where no load balancer is concerned.

Every card attached or detached and every label edit reaches ``lb_on_server_changed``
(``apps.networks.signals.server_network_changed``, ``apps.instances.signals.instance_labels_changed``);
most organisations have no load balancer, so finding none must stay one query.
"""

from __future__ import annotations

import pytest

from apps.loadbalancers import services as lb_services
from tests.factories import server_row

pytestmark = pytest.mark.django_db


def test_a_server_change_with_no_load_balancer_concerned_costs_one_query(personas, shop, django_assert_num_queries):
    server = server_row(personas, shop)
    with django_assert_num_queries(1):
        assert lb_services.lb_on_server_changed(instance_id=server.pk) == 0
    with django_assert_num_queries(1):
        assert lb_services.lb_on_server_changed(instance_id=server.pk + 10_000) == 0  # gone meanwhile
