"""Options of a server order through the API (issue #16): labels, private networks, firewalls and volumes are
checked when ordered, each problem a 400 naming its field, and stored on the order; nothing is created."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from apps.catalogue.models import Datacentre
from apps.firewalls import services as firewall_services
from apps.networks.models import Network
from apps.orders.models import Order
from tests.networks.conftest import network_row, networks_env  # noqa: F401 - fixture
from tests.volumes.conftest import storage_tier

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"


def _post(personas, shop, **options):
    client = APIClient()
    client.force_authenticate(personas.member)
    body = {
        "project": personas.project.pk,
        "offer": shop.vps.code,
        "datacentre": shop.dc.code,
        "image": shop.image.slug,
        "name": "web-1",
        **options,
    }
    return client.post(ORDERS, body, format="json")


def _firewall(personas, project=None, name="web"):
    organisation = project.organisation if project is not None else personas.org
    owner = personas.outsider if project is not None else personas.owner
    firewall, _actions = firewall_services.firewall_create(
        actor=owner, organisation=organisation, project=project or personas.project, name=name, rules_data=[]
    )
    return firewall


def test_valid_options_are_stored_on_the_order(networks_env, personas, shop):  # noqa: F811
    network = network_row(networks_env)
    firewall = _firewall(personas)
    tier = storage_tier(shop.dc)
    response = _post(
        personas,
        shop,
        labels={"env": "prod", "team": "web"},
        network_ids=[str(network.public_id)],
        firewall_ids=[str(firewall.public_id)],
        volumes=[{"size_gb": 20, "tier": tier.code}],
    )
    assert response.status_code == 202, response.content
    data = response.json()
    assert data["labels"] == {"env": "prod", "team": "web"}
    assert data["network_ids"] == [str(network.public_id)]
    assert data["firewall_ids"] == [str(firewall.public_id)]
    assert data["volumes"] == [{"size_gb": 20, "tier": tier.code}]
    assert data["options_status"] == ""  # pending once the server runs
    order = Order.objects.get()
    assert order.instance.labels == {"env": "prod", "team": "web"}  # set when the server is created


def test_bad_labels_are_a_400_on_labels(personas, shop):
    response = _post(personas, shop, labels={"bad key!": "x"})
    assert response.status_code == 400, response.content
    assert "labels" in response.json()["error"]["fields"]
    assert not Order.objects.exists()


def test_another_organisations_network_is_a_400_without_revealing_it(networks_env, personas, shop):  # noqa: F811
    theirs = network_row(networks_env, name="theirs")
    Network.objects.filter(pk=theirs.pk).update(organisation=personas.other_org, project=personas.other_project)
    response = _post(personas, shop, network_ids=[str(theirs.public_id)])
    assert response.status_code == 400, response.content
    messages = response.json()["error"]["fields"]["network_ids"]
    assert "not one of your networks" in messages[0] and "theirs" not in messages[0]
    assert not Order.objects.exists()


def test_a_network_of_another_datacentre_or_not_available_is_a_400(networks_env, personas, shop):  # noqa: F811
    far = network_row(networks_env, name="far")
    busy = network_row(networks_env, name="busy", ip_range="10.1.0.0/24")
    other_dc = Datacentre.objects.create(code="FRA-9", name="Frankfurt 9")
    Network.objects.filter(pk=far.pk).update(datacentre=other_dc)
    Network.objects.filter(pk=busy.pk).update(status="creating")
    response = _post(personas, shop, network_ids=[str(far.public_id), str(busy.public_id), str(uuid.uuid4())])
    assert response.status_code == 400, response.content
    messages = response.json()["error"]["fields"]["network_ids"]
    assert len(messages) == 3
    assert "FRA-9" in messages[0] and "not available" in messages[1] and "not one of your" in messages[2]


def test_another_organisations_firewall_and_too_many_firewalls_are_400s(personas, shop):
    theirs = _firewall(personas, project=personas.other_project)
    response = _post(personas, shop, firewall_ids=[str(theirs.public_id)])
    assert response.status_code == 400, response.content
    assert "not one of your firewalls" in response.json()["error"]["fields"]["firewall_ids"][0]
    ours = [_firewall(personas, name=f"fw-{i}") for i in range(6)]
    response = _post(personas, shop, firewall_ids=[str(f.public_id) for f in ours])
    assert response.status_code == 400
    assert "firewall_ids" in response.json()["error"]["fields"]


def test_volumes_outside_the_limits_are_400s_naming_the_volume(personas, shop):
    tier = storage_tier(shop.dc)
    response = _post(personas, shop, volumes=[{"size_gb": 20, "tier": "NOPE"}, {"size_gb": 0, "tier": tier.code}])
    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    assert "volumes[0].tier" in fields and "volumes[1].size_gb" in fields
    four = [{"size_gb": 10, "tier": tier.code}] * 4
    response = _post(personas, shop, volumes=four)
    assert response.status_code == 400
    assert any(field.startswith("volumes") for field in response.json()["error"]["fields"])
    assert not Order.objects.exists()


def test_a_managed_service_takes_no_server_options(personas, shop):
    client = APIClient()
    client.force_authenticate(personas.member)
    body = {
        "project": personas.project.pk,
        "offer": shop.service.code,
        "datacentre": shop.dc.code,
        "name": "shop",
        "service": {"domain": "example.com", "runtime": "php", "version": "8.3"},
        "labels": {"env": "prod"},
    }
    response = client.post(ORDERS, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"]["labels"] == ["Only servers take this option."]
