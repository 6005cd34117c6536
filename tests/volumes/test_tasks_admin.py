"""The volume task's claim and the back-office pages of volumes and tier storages."""

from __future__ import annotations

from apps.instances.choices import ActionStatus
from apps.volumes import services
from tests.volumes.conftest import server_row


def test_a_duplicated_message_never_runs_an_action_twice(volumes_env):
    _volume, action = services.volume_create(
        actor=volumes_env.personas.owner,
        organisation=volumes_env.personas.org,
        project=volumes_env.personas.project,
        name="data",
        tier=volumes_env.tier,
        size_gb=10,
        datacentre=volumes_env.shop.dc,
    )
    first = services.volume_action_claim(action_id=action.pk, task_id="task-1")
    assert first is not None and first.status == ActionStatus.RUNNING
    assert services.volume_action_claim(action_id=action.pk, task_id="task-2") is None
    # The broker redelivering the same message (same task id) resumes it.
    assert services.volume_action_claim(action_id=action.pk, task_id="task-1") is not None


def test_limits_follow_the_tier_and_size(volumes_env):
    volume, _action = services.volume_create(
        actor=volumes_env.personas.owner,
        organisation=volumes_env.personas.org,
        project=volumes_env.personas.project,
        name="big",
        tier=volumes_env.tier,
        size_gb=500,
        datacentre=volumes_env.shop.dc,
        server=server_row(volumes_env),
    )
    limits = services.volume_limits(volume)
    assert (limits.iops_rd, limits.iops_wr, limits.mbps_rd) == (25_000, 25_000, 390)
    assert services.volume_limits(volume, 1000).iops_rd == 50_000


def test_back_office_pages(volumes_env, client):
    client.force_login(volumes_env.personas.staff)
    services.volume_create(
        actor=None,
        organisation=volumes_env.personas.org,
        project=volumes_env.personas.project,
        name="data",
        tier=volumes_env.tier,
        size_gb=10,
        datacentre=volumes_env.shop.dc,
    )
    for url in (
        "/admin/volumes/volume/",
        "/admin/infrastructure/clusterstorage/",
        f"/admin/infrastructure/clusterstorage/{volumes_env.storage.pk}/change/",
        "/admin/infrastructure/clusterstorage/add/",
        "/admin/volumes/volumequota/add/",
    ):
        assert client.get(url).status_code == 200, url
    volume = volumes_env.storage.volumes.get()
    change = client.get(f"/admin/volumes/volume/{volume.pk}/change/")
    assert change.status_code == 200 and f"?resource_id={volume.public_id}" in change.content.decode()
    actions = client.get(f"/admin/instances/action/?resource_id={volume.public_id}")
    assert actions.status_code == 200 and actions.context["cl"].result_count == 1


def test_back_office_filters_per_organisation_and_cluster_and_storage_per_tier(volumes_env, client):
    client.force_login(volumes_env.personas.staff)
    services.volume_create(
        actor=None,
        organisation=volumes_env.personas.org,
        project=volumes_env.personas.project,
        name="data",
        tier=volumes_env.tier,
        size_gb=150,
        datacentre=volumes_env.shop.dc,
    )
    org = volumes_env.personas.org.pk
    cluster = volumes_env.storage.cluster_id
    page = client.get(f"/admin/volumes/volume/?organisation__id__exact={org}&cluster__id__exact={cluster}")
    assert page.status_code == 200 and "data" in page.content.decode()
    assert str(volumes_env.storage.holder_vmid) in page.content.decode()
    dashboard = client.get("/admin/infrastructure/datacentrecapacity/")
    assert dashboard.status_code == 200
    tiers = {line["tier"]: line for line in dashboard.context["storage_tiers"]}
    line = tiers[volumes_env.tier.code]
    # 1000 GB declared, 60 % envelope = 600 GB, 150 GB reserved.
    assert (line["capacity"], line["envelope"], line["reserved"], line["remaining"], line["percent"]) == (
        1000,
        600,
        150,
        450,
        25,
    )
    html = dashboard.content.decode()
    assert 'id="storage-per-tier"' in html and f'<td class="holder-vmid">{volumes_env.storage.holder_vmid}</td>' in html
