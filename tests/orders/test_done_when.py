"""Issue 5, first "Done when": a member orders a GPU server, sees it running on the simulator with
its IP, then stops, snapshots, resizes, rebuilds and deletes it, each step an Action; the GPU is
free again at the end. Once through the REST API, once clicked through the portal (Playwright).

The fleet is the instance tests' one (apps/pvesim/fleets/test.yaml synced into a Cluster): gpu1
holds 2x A100 80GB + 1 RTX 4090, gpu2 one A100 80GB. ``GPU-A100`` (1x A100, 8 vCPU, 64 GB) is
ordered and resized to ``GPU-A100-L`` (same card, 16 vCPU, 128 GB), which fits on either node.
The test fleet has a single GPU-ready template (ubuntu-22.04-gpu), so ``second_gpu_image`` turns
a clone of it into an ubuntu-24.04 GPU template, as operators do with ``qm template``, and syncs
the inventory again: the rebuild then really changes the image.
"""

from __future__ import annotations

import re
import time

import pytest
from rest_framework.test import APIClient

from apps.infrastructure import choices as infra_choices
from apps.infrastructure import services as infra
from apps.infrastructure.models import GpuDevice, VmTemplate
from apps.infrastructure.services import cluster_driver
from apps.instances.choices import ActionStatus, InstanceStatus
from apps.instances.models import Instance
from tests.instances.conftest import _fast_driver, fleet, sim_vms  # noqa: F401  (fixtures)
from tests.orders.wizard import wizard_choose

GPU_TEMPLATE_24 = 9002


@pytest.fixture
def second_gpu_image(fleet):  # noqa: F811
    """An ubuntu-24.04 GPU-ready template next to the fleet's ubuntu-22.04 one (clone + convert)."""
    driver = cluster_driver(cluster=fleet.cluster)
    driver.wait_task("pve1", driver.clone("pve1", 9001, GPU_TEMPLATE_24, "ubuntu-24.04-gpu"))
    with fleet.sim.cluster.lock:
        vm = fleet.sim.cluster.vms[GPU_TEMPLATE_24]
        vm.template = True
        vm.config["template"] = 1
        vm.config["tags"] = "os-ubuntu-24.04"
    infra.inventory_sync(cluster=fleet.cluster)
    template = VmTemplate.objects.get(cluster=fleet.cluster, vmid=GPU_TEMPLATE_24)
    assert (template.os_image, template.gpu_ready) == (fleet.ubuntu24, True)
    return fleet.ubuntu24


def _wait(read, until, *, seconds: float = 30.0):
    """Poll ``read()`` until ``until(value)``: how a client follows asynchronous work."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if until(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def _gpu_in_use() -> int:
    return GpuDevice.objects.filter(state=infra_choices.GpuState.IN_USE).count()


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_member_orders_a_gpu_server_through_the_api_and_runs_its_whole_lifecycle(
    fleet,  # noqa: F811
    personas,
    second_gpu_image,
):
    client = APIClient()
    client.force_authenticate(personas.member)
    body = {
        "project": personas.project.pk,
        "offer": fleet.gpu_offer.code,
        "datacentre": fleet.dc.code,
        "image": fleet.ubuntu22.slug,
        "name": "gpu-api",
    }
    response = client.post("/api/v1/orders/", body, format="json", headers={"Idempotency-Key": "done-when-api"})
    assert response.status_code == 202, response.content
    order = response.json()
    order = _wait(lambda: client.get(f"/api/v1/orders/{order['id']}/").json(), lambda o: bool(o["instance"]))
    instance_url = f"/api/v1/instances/{order['instance']}/"
    server = _wait(lambda: client.get(instance_url).json(), lambda s: s["status"] == "running" and s["ipv4"])
    assert (server["status"], server["offer"], server["gpus"]) == ("running", "GPU-A100", 1), server
    instance = Instance.objects.get(public_id=server["id"])
    vm = sim_vms(fleet.sim)[instance.vmid]
    assert vm.running and server["ipv4"] in str(vm.config.get("ipconfig0", ""))
    assert _gpu_in_use() == 1

    def step(method: str, path: str, data: dict | None = None) -> dict:
        answer = getattr(client, method)(path, data, format="json")
        assert answer.status_code == 202, answer.content
        action = answer.json().get("action", answer.json())
        final = _wait(
            lambda: client.get(f"/api/v1/actions/{action['id']}/").json(),
            lambda a: a["status"] in (ActionStatus.SUCCESS, ActionStatus.ERROR),
        )
        assert (final["status"], final["progress"], final["error"]) == ("success", 100, None), final
        return final

    done = [step("post", f"{instance_url}actions/stop/")]
    assert client.get(instance_url).json()["status"] == "stopped"
    assert not sim_vms(fleet.sim)[instance.vmid].running

    done.append(step("post", f"{instance_url}snapshots/", {"name": "before-resize"}))
    snapshots = client.get(f"{instance_url}snapshots/").json()["results"]
    assert [(s["name"], s["status"]) for s in snapshots] == [("before-resize", "available")]
    assert len(sim_vms(fleet.sim)[instance.vmid].snapshots) == 1

    done.append(step("post", f"{instance_url}actions/resize/", {"offer": fleet.gpu_offer_big.code}))
    assert client.get(instance_url).json()["offer"] == "GPU-A100-L"
    assert str(sim_vms(fleet.sim)[instance.vmid].config["memory"]) == str(128 * 1024)
    assert _gpu_in_use() == 1

    done.append(step("post", f"{instance_url}actions/rebuild/", {"image": second_gpu_image.slug}))
    server = client.get(instance_url).json()
    assert (server["image"], server["ipv4"]) == ("ubuntu-24.04", instance.ipv4)
    assert list(sim_vms(fleet.sim)) == [instance.vmid]

    done.append(step("delete", instance_url))
    assert client.get(instance_url).json()["status"] == "deleted"
    listed = client.get(f"{instance_url}actions/").json()["results"]
    assert {a["id"] for a in done} <= {a["id"] for a in listed}
    assert {a["type"] for a in listed} == {"create", "stop", "snapshot_create", "resize", "rebuild", "delete"}
    assert [a["type"] for a in done] == ["stop", "snapshot_create", "resize", "rebuild", "delete"]
    assert all(a["instance_id"] == server["id"] for a in done)
    assert _gpu_in_use() == 0
    assert GpuDevice.objects.filter(state=infra_choices.GpuState.FREE).count() == GpuDevice.objects.count()
    assert sim_vms(fleet.sim) == {}
    assert Instance.objects.get(pk=instance.pk).status == InstanceStatus.DELETED


def _follow_action(page, label: str) -> None:
    """The action panel shows the step, then reaches success at 100%."""
    page.wait_for_url(lambda url: "?action=" in url)
    panel = page.locator("#action-panel")
    panel.wait_for()
    assert label in panel.inner_text()
    page.wait_for_selector('#action-panel[data-action-status="success"]')
    assert page.locator("#action-panel .progress").get_attribute("aria-valuenow") == "100"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_member_orders_a_gpu_server_in_the_portal_and_clicks_through_its_lifecycle(
    login_page,
    fleet,  # noqa: F811
    personas,
    second_gpu_image,
):
    page = login_page(personas.member)
    page.goto("/orders/new/")
    wizard_choose(page, offer=fleet.gpu_offer.code, datacentre=fleet.dc.code, image=fleet.ubuntu22.slug)
    page.wait_for_selector("#summary-monthly")
    page.fill("#id_name", "gpu-portal")
    page.click("#place-order")
    page.wait_for_url(re.compile(r".*/orders/[0-9a-f-]{36}/$"))
    page.click("#order-server")
    page.wait_for_url(re.compile(r".*/servers/[0-9a-f-]{36}/$"))
    instance = Instance.objects.get(name="gpu-portal")
    assert page.locator("#instance-status-badge").get_attribute("data-status") == "running"
    assert page.locator("#ipv4").inner_text() == instance.ipv4
    assert sim_vms(fleet.sim)[instance.vmid].running
    assert _gpu_in_use() == 1

    page.click('button[data-action="stop"]')
    _follow_action(page, "Stop")
    page.wait_for_selector('#instance-status-badge[data-status="stopped"]')

    page.click("nav.tabs >> text=Snapshots")
    page.fill('form[action$="/snapshots/new/"] input[name="name"]', "before-resize")
    page.click('form[action$="/snapshots/new/"] button[type="submit"]')
    _follow_action(page, "Create snapshot")
    assert "before-resize" in page.locator("table").first.inner_text()

    page.click("nav.tabs >> text=Overview")
    page.select_option('#resize select[name="offer"]', str(fleet.gpu_offer_big.pk))
    page.click('#resize button[type="submit"]')
    _follow_action(page, "Resize")
    instance.refresh_from_db()
    assert instance.offer == fleet.gpu_offer_big

    page.select_option('#rebuild select[name="image"]', str(second_gpu_image.pk))
    page.check('#rebuild input[name="confirm"]')
    page.click('#rebuild button[type="submit"]')
    _follow_action(page, "Rebuild")
    instance.refresh_from_db()
    assert instance.image == second_gpu_image and list(sim_vms(fleet.sim)) == [instance.vmid]

    page.click("nav.tabs >> text=Activity")
    rows = page.locator("#action-list tbody tr").all_inner_texts()
    for label in ("Rebuild", "Resize", "Create snapshot", "Stop", "Create"):
        assert any(row.startswith(label) and "Success" in row and "100%" in row for row in rows), (label, rows)

    page.click("nav.tabs >> text=Overview")
    page.fill('#delete-form input[name="confirm_name"]', "gpu-portl")  # a typo: refused
    page.click('#delete-form button[type="submit"]')
    page.wait_for_selector("text=Type the server's exact name to delete it.")
    assert Instance.objects.get(pk=instance.pk).status == InstanceStatus.RUNNING
    page.fill('#delete-form input[name="confirm_name"]', "gpu-portal")
    page.click('#delete-form button[type="submit"]')
    page.wait_for_url(re.compile(r".*/servers/$"))
    page.wait_for_selector("text=gpu-portal is being deleted.")
    # A deleted server leaves the portal (its page is a 404); its delete Action stays readable in the API.
    assert page.locator(f'tr[data-instance="{instance.public_id}"]').count() == 0
    delete = instance.actions.get(type="delete")
    assert (delete.status, delete.progress) == (ActionStatus.SUCCESS, 100)
    assert Instance.objects.get(pk=instance.pk).status == InstanceStatus.DELETED
    assert _gpu_in_use() == 0
    assert sim_vms(fleet.sim) == {}
