"""The create flow's options (issue #16) posted without JavaScript: labels, networks of the chosen
datacentre, firewalls and volumes reach the order; a bad option is a form error beside its field and
nothing is ordered; the summary prices the volumes."""

from __future__ import annotations

import pytest

from apps.catalogue.models import Datacentre
from apps.firewalls import services as firewall_services
from apps.networks.models import Network
from apps.orders.models import Order
from apps.teams.models import Project
from tests.networks.conftest import network_row, networks_env  # noqa: F401 - fixture
from tests.orders.test_create_flow import _post
from tests.volumes.conftest import storage_tier

pytestmark = pytest.mark.django_db


def test_options_posted_reach_the_order(networks_env, personas, shop, client):  # noqa: F811
    network = network_row(networks_env)
    firewall, _a = firewall_services.firewall_create(
        actor=personas.owner, organisation=personas.org, project=personas.project, name="web", rules_data=[]
    )
    tier = storage_tier(shop.dc)
    client.force_login(personas.member)
    data = _post(
        personas,
        shop,
        labels="env=prod\r\nteam=web",
        network_ids=[str(network.public_id)],
        firewall_ids=[str(firewall.public_id)],
        volume_size_1="20",
        volume_tier_1=tier.code,
    )
    response = client.post("/orders/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    order = Order.objects.get()
    assert order.labels == {"env": "prod", "team": "web"}
    assert order.network_ids == [str(network.public_id)]
    assert order.firewall_ids == [str(firewall.public_id)]
    assert order.volumes == [{"tier": tier.code, "size_gb": 20}]


def test_only_the_chosen_datacentres_available_networks_are_offered(networks_env, personas, shop, client):  # noqa: F811
    here = network_row(networks_env, name="here")
    far = network_row(networks_env, name="far", ip_range="10.1.0.0/24")
    busy = network_row(networks_env, name="busy", ip_range="10.2.0.0/24")
    Network.objects.filter(pk=far.pk).update(datacentre=Datacentre.objects.create(code="FRA-9", name="F"))
    Network.objects.filter(pk=busy.pk).update(status="creating")
    client.force_login(personas.member)
    url = f"/orders/new/?family=vps&offer={shop.vps.code}&datacentre={shop.dc.code}&image={shop.image.slug}"
    html = client.get(url).content.decode()
    assert str(here.public_id) in html
    assert str(far.public_id) not in html and str(busy.public_id) not in html
    # A crafted post of the far network is a form error, not a 500, and nothing is ordered.
    response = client.post("/orders/new/", _post(personas, shop, network_ids=[str(far.public_id)]))
    assert response.status_code == 200 and 'class="field-error"' in response.content.decode()
    assert not Order.objects.exists()


def test_a_network_of_another_project_is_a_form_error_beside_the_networks(networks_env, personas, shop, client):  # noqa: F811
    network = network_row(networks_env)
    other = Project.objects.create(organisation=personas.org, name="Other")
    Network.objects.filter(pk=network.pk).update(project=other)
    client.force_login(personas.member)
    response = client.post("/orders/new/", _post(personas, shop, network_ids=[str(network.public_id)]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "in another project" in html.split('id="order-networks"')[1].split("</fieldset>")[0]
    assert not Order.objects.exists()


def test_bad_labels_and_half_filled_volumes_are_form_errors(personas, shop, client):
    tier = storage_tier(shop.dc)
    client.force_login(personas.member)
    response = client.post("/orders/new/", _post(personas, shop, labels="no equals sign"))
    assert response.status_code == 200 and "Write each label as key=value." in response.content.decode()
    response = client.post("/orders/new/", _post(personas, shop, labels="bad key!=x"))
    assert response.status_code == 200 and "not a valid label key" in response.content.decode()
    response = client.post("/orders/new/", _post(personas, shop, volume_size_1="20"))
    assert "Choose a tier for this volume." in response.content.decode()
    response = client.post("/orders/new/", _post(personas, shop, volume_size_1="0", volume_tier_1=tier.code))
    assert response.status_code == 200 and 'class="field-error"' in response.content.decode()
    assert not Order.objects.exists()


def test_the_summary_adds_the_volumes_price(personas, shop, client):
    tier = storage_tier(shop.dc, price="0.15")
    client.force_login(personas.member)
    url = (
        f"/orders/new/?family=vps&offer={shop.vps.code}&datacentre={shop.dc.code}&image={shop.image.slug}"
        f"&volume_size_1=100&volume_tier_1={tier.code}&quantity=2"
    )
    html = client.get(url).content.decode()
    # 100 GB at 0.15 a GB-month is 15.00 a month; with the VPS at 9.99, two servers: 2 × 24.99.
    assert 'id="summary-volume-1"' in html and "15.00" in html.split('id="summary-volume-1"')[1][:200]
    assert "49.98" in html.split('id="summary-monthly"')[1][:60]
