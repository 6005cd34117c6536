"""The volumes portal pages without a browser: status codes, form errors, isolation, the server tab."""

from __future__ import annotations

from apps.volumes import services
from apps.volumes.models import Volume
from tests.volumes.conftest import server_row


def _volume(env, **extra):
    volume, _action = services.volume_create(
        actor=env.personas.owner,
        organisation=env.personas.org,
        project=env.personas.project,
        name=extra.pop("name", "data"),
        tier=env.tier,
        size_gb=20,
        datacentre=env.shop.dc,
        **extra,
    )
    return volume


def test_list_create_and_detail_pages(volumes_env, client):
    client.force_login(volumes_env.personas.owner)
    server = server_row(volumes_env)
    assert client.get("/volumes/").status_code == 200
    assert client.get("/volumes/table/").status_code == 200
    form = client.get("/volumes/new/", {"server": str(server.public_id)})
    assert form.status_code == 200 and "web-1" in form.content.decode()
    body = {
        "name": "data",
        "tier": volumes_env.tier.pk,
        "size_gb": 5,
        "datacentre": volumes_env.shop.dc.pk,
        "project": volumes_env.personas.project.pk,
        "server": server.pk,
        "labels": "env=prod",
    }
    bad = client.post("/volumes/new/", body)
    assert bad.status_code == 400 and "size_gb" in bad.context["form"].errors
    response = client.post("/volumes/new/", {**body, "size_gb": 20})
    assert response.status_code == 302 and "?action=" in response["Location"]
    volume = Volume.objects.get(name="data")
    assert (volume.server_id, volume.labels) == (server.pk, {"env": "prod"})
    detail = client.get(response["Location"])
    assert detail.status_code == 200 and detail.context["followed_action"].type == "create"
    assert client.get(f"/volumes/{volume.public_id}/status/").status_code == 200
    action = volume.actions.first()
    partial = client.get(f"/volumes/{volume.public_id}/actions/{action.public_id}/")
    assert partial.status_code == 200
    # The list polls while the volume is moving (creating).
    assert client.get("/volumes/").context["polling"] is True
    tab = client.get(f"/servers/{server.public_id}/volumes/")
    assert tab.status_code == 200 and volume.device_path in tab.content.decode()
    assert "resize2fs" in tab.content.decode()


def test_delete_refused_while_protected_and_attached(volumes_env, client):
    client.force_login(volumes_env.personas.owner)
    volume = _volume(volumes_env)
    Volume.objects.filter(pk=volume.pk).update(status="available")
    volume.actions.update(status="success")
    assert client.post(f"/volumes/{volume.public_id}/protection/", {"enabled": "1"}).status_code == 302
    assert Volume.objects.get(pk=volume.pk).delete_protection
    client.post(f"/volumes/{volume.public_id}/delete/", {"confirm_name": "data"})
    assert Volume.objects.get(pk=volume.pk).status == "available"
    client.post(f"/volumes/{volume.public_id}/protection/", {"enabled": "0"})
    client.post(f"/volumes/{volume.public_id}/delete/", {"confirm_name": "data"})
    assert Volume.objects.get(pk=volume.pk).status == "deleting"


def test_another_organisation_gets_404_and_a_viewer_403(volumes_env, client):
    volume = _volume(volumes_env)
    client.force_login(volumes_env.personas.outsider)
    assert client.get(f"/volumes/{volume.public_id}/").status_code == 404
    assert client.post(f"/volumes/{volume.public_id}/detach/").status_code == 404
    client.force_login(volumes_env.personas.viewer)
    assert client.get(f"/volumes/{volume.public_id}/").status_code == 200
    assert client.post(f"/volumes/{volume.public_id}/protection/", {"enabled": "1"}).status_code == 403
    assert client.get("/volumes/new/").status_code == 403


def test_server_tab_attaches_an_available_volume_and_follows_its_action(volumes_env, client):
    client.force_login(volumes_env.personas.owner)
    server = server_row(volumes_env)
    volume = _volume(volumes_env)
    Volume.objects.filter(pk=volume.pk).update(status="available", volid="ceph-nvme:vm-899999-disk-0")
    volume.actions.update(status="success")
    tab = client.get(f"/servers/{server.public_id}/volumes/")
    assert [v.pk for v in tab.context["detached"]] == [volume.pk]
    response = client.post(f"/servers/{server.public_id}/volumes/attach/", {"volume": str(volume.public_id)})
    assert response.status_code == 302 and "?action=" in response["Location"]
    assert Volume.objects.get(pk=volume.pk).status == "attaching"
    followed = client.get(response["Location"]).context["followed_action"]
    assert (followed.type, followed.resource_id) == ("attach", volume.public_id)
    bad = client.post(f"/servers/{server.public_id}/volumes/attach/", {"volume": "nope"})
    assert bad.status_code == 302
