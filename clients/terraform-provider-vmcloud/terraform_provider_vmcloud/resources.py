"""Resources: each operation is a few SDK calls; long ones wait on their Action within ``timeouts``.

A read that finds the object gone (404, or a server ``deleted``) returns ``None``: Terraform
drops it from the state and the next plan creates it again. Every SDK error becomes a
diagnostic naming the API's code and request id (``common.reporting``).
"""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

import vmcloud
from tf.iface import CreateContext, DeleteContext, ImportContext, ReadContext, UpdateContext
from tf.schema import Schema

from . import schemas
from .common import Failed, labels_out, reporting, timeout

if TYPE_CHECKING:
    from .provider import VMCloudProvider

GONE = ("deleting", "deleted")


class _Base:
    name: ClassVar[str]
    fields: ClassVar[list[schemas.Field]]
    description: ClassVar[str]
    timeouts: ClassVar[tuple[str, ...]] = ()

    def __init__(self, provider: VMCloudProvider) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return cls.name

    @classmethod
    def get_schema(cls) -> Schema:
        return schemas.build_schema(cls.fields, description=cls.description, timeouts=cls.timeouts)

    def validate(self, diags: Any, type_name: str, config: dict[str, Any]) -> None:
        block = (config or {}).get("timeouts") or {}
        for op, value in block.items() if isinstance(block, dict) else ():
            try:
                from .common import parse_duration

                parse_duration(value)
            except ValueError as exc:
                diags.add_error("Invalid timeout", str(exc), path=["timeouts", op])

    @property
    def client(self) -> vmcloud.Client:
        return self.provider.client()

    def blank(self) -> dict[str, Any]:
        state: dict[str, Any] = {f.name: None for f in self.fields}
        if self.timeouts:
            state["timeouts"] = None
        return state

    # The tf framework calls these; they catch Failed so a diagnostic ends the operation.
    def create(self, ctx: CreateContext, planned: dict[str, Any]) -> dict[str, Any] | None:
        partial: dict[str, Any] = {}
        try:
            with reporting(ctx.diagnostics, f"create {self.name}"):
                return self.do_create(planned, partial)
        except Failed:
            # What exists already is kept in the state (tainted), so nothing leaks.
            if not partial.get("id"):
                return None
            return {key: (None if _unknown(value) else value) for key, value in {**planned, **partial}.items()}

    def read(self, ctx: ReadContext, current: dict[str, Any]) -> dict[str, Any] | None:
        try:
            with reporting(ctx.diagnostics, f"read {self.name}"):
                try:
                    return self.do_read(current)
                except vmcloud.NotFound:
                    return None
        except Failed:
            return current

    def update(self, ctx: UpdateContext, current: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any] | None:
        try:
            with reporting(ctx.diagnostics, f"update {self.name}"):
                return self.do_update(current, planned)
        except Failed:
            return current

    def delete(self, ctx: DeleteContext, current: dict[str, Any]) -> None:
        try:
            with reporting(ctx.diagnostics, f"delete {self.name}"), contextlib.suppress(vmcloud.NotFound):
                self.do_delete(current)
        except Failed:
            return None
        return None

    def import_(self, ctx: ImportContext, id: str) -> dict[str, Any] | None:
        try:
            with reporting(ctx.diagnostics, f"import {self.name}"):
                state = self.do_import(id)
        except Failed:
            return None
        except vmcloud.NotFound:
            ctx.diagnostics.add_error(f"import {self.name}: not found", f"No {self.name} with id {id!r}.")
            return None
        if state is None:
            ctx.diagnostics.add_error(f"import {self.name}: not found", f"No {self.name} with id {id!r}.")
        return state

    def plan(self, ctx: Any, current: dict[str, Any] | None, planned: dict[str, Any]) -> dict[str, Any]:
        return planned

    def upgrade(self, ctx: Any, version: int, old: dict[str, Any]) -> dict[str, Any]:
        return old

    def do_import(self, id: str) -> dict[str, Any] | None:
        state = self.blank()
        state["id"] = id
        return self.do_read(state)

    def do_create(self, planned: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def do_read(self, current: dict[str, Any]) -> dict[str, Any] | None:
        raise NotImplementedError

    def do_update(self, current: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any] | None:
        raise NotImplementedError

    def do_delete(self, current: dict[str, Any]) -> None:
        raise NotImplementedError


class SshKey(_Base):
    name = "ssh_key"
    fields = schemas.SSH_KEY
    description = "An SSH key of the organisation, installed on servers at creation."

    def do_create(self, planned: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
        organisation = planned.get("organisation_id")
        if not isinstance(organisation, int):
            organisation = self.provider.organisation_id()
        body: dict[str, Any] = {
            "name": planned["name"],
            "public_key": planned["public_key"],
            "organisation_id": organisation,
        }
        if planned.get("labels"):
            body["labels"] = planned["labels"]
        key = self.client.ssh_keys_create(body=body)  # type: ignore[arg-type]
        return self._state(dict(key), planned)

    def _state(self, key: dict[str, Any], prior: dict[str, Any]) -> dict[str, Any]:
        public_key = key["public_key"]
        # The API may trim the key; keep the configured text when it is the same key.
        if isinstance(prior.get("public_key"), str) and prior["public_key"].strip() == public_key.strip():
            public_key = prior["public_key"]
        return {
            "id": str(key["id"]),
            "name": key["name"],
            "public_key": public_key,
            "labels": labels_out(key.get("labels"), prior.get("labels")),
            "organisation_id": int(key["organisation_id"]),
            "fingerprint": key["fingerprint"],
            "key_type": key["key_type"],
        }

    def do_read(self, current: dict[str, Any]) -> dict[str, Any] | None:
        return self._state(dict(self.client.ssh_keys_retrieve(current["id"])), current)

    def do_update(self, current: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any] | None:
        body = {"name": planned["name"], "labels": planned.get("labels") or {}}
        return self._state(dict(self.client.ssh_keys_update(current["id"], body=body)), planned)  # type: ignore[arg-type]

    def do_delete(self, current: dict[str, Any]) -> None:
        self.client.ssh_keys_destroy(current["id"])


class Server(_Base):
    name = "server"
    fields = schemas.SERVER
    description = "A server (VPS or GPU). Created through an order; every change waits on its Action."
    timeouts = ("create", "update", "delete")

    def _wait(self, action: vmcloud.Action | None, state: dict[str, Any] | None, operation: str) -> None:
        if action is not None:
            action.wait(timeout=timeout(state, operation), poll_interval=1.0)

    def do_create(self, planned: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
        project = planned.get("project")
        order, action = self.client.create_server(
            name=planned["name"],
            offer=planned["offer"],
            datacentre=planned["datacentre"],
            image=planned["image"],
            project=int(project) if isinstance(project, (int, float)) else None,
            ssh_keys=list(planned.get("ssh_keys") or []) or None,
            user_data=planned.get("user_data") or None,
            idempotency_key=str(uuid.uuid4()),
        )
        if action is None:
            raise vmcloud.ConfigurationError(
                f"order {order.get('id')} awaits approval by VMCloud; import the server once it is delivered"
            )
        instance = order.get("instance") or action.get("resource_id")
        if instance:
            partial["id"] = str(instance)
        self._wait(action, planned, "create")
        if not instance:
            instance = self.client.orders_retrieve(order["id"]).get("instance")
            partial["id"] = str(instance)
        state = {**planned, "id": str(instance)}
        # An order carries no labels nor protection: they are set on the server once it exists.
        extra: dict[str, Any] = {}
        if planned.get("labels"):
            extra["labels"] = planned["labels"]
        if planned.get("delete_protection") is True:
            extra["delete_protection"] = True
        if extra:
            self.client.instances_update(str(instance), body=extra)  # type: ignore[arg-type]
        read = self.do_read(state)
        if read is None:
            raise vmcloud.ConfigurationError(f"server {instance} disappeared right after its creation")
        return read

    def do_read(self, current: dict[str, Any]) -> dict[str, Any] | None:
        server = dict(self.client.instances_retrieve(current["id"]))
        if server.get("status") in GONE:
            return None
        return {
            **self.blank(),
            "ssh_keys": current.get("ssh_keys"),
            "user_data": current.get("user_data"),
            "timeouts": current.get("timeouts"),
            "id": str(server["id"]),
            "name": server["name"],
            "offer": server["offer"],
            "datacentre": server["datacentre"],
            "image": server["image"],
            "project": int(server["project_id"]),
            "labels": labels_out(server.get("labels"), current.get("labels")),
            "delete_protection": bool(server.get("delete_protection", False)),
            "ipv4": server.get("ipv4") or "",
            "ipv6": server.get("ipv6") or "",
            "status": server.get("status") or "",
            "price_monthly": str(server.get("price_monthly") or ""),
        }

    def do_import(self, id: str) -> dict[str, Any] | None:
        state = self.blank()
        state["id"] = id
        read = self.do_read(state)
        if read is None:
            return None
        # The SSH keys are not part of the server; the order that created it remembers them.
        # user_data cannot be read back (docs page /docs/terraform/, "Import").
        # Its name may have changed since: look among orders of that name first, then among all.
        for orders in (self.client.orders_list_iter(name=read["name"]), self.client.orders_list_iter()):
            found = next((o for o in orders if str(o.get("instance")) == id), None)
            if found is not None:
                read["ssh_keys"] = list(found.get("ssh_keys") or []) or None
                break
        return read

    def do_update(self, current: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any] | None:
        server_id = current["id"]
        changes: dict[str, Any] = {}
        if planned["name"] != current.get("name"):
            changes["name"] = planned["name"]
        if (planned.get("labels") or {}) != (current.get("labels") or {}):
            changes["labels"] = planned.get("labels") or {}
        if isinstance(planned.get("delete_protection"), bool) and planned["delete_protection"] != current.get(
            "delete_protection"
        ):
            changes["delete_protection"] = planned["delete_protection"]
        if changes:
            self.client.instances_update(server_id, body=changes)  # type: ignore[arg-type]
        if planned["offer"] != current.get("offer"):
            # The API resizes to a larger offer only; a smaller one is refused with its error code.
            self._wait(self.client.instances_resize(server_id, body={"offer": planned["offer"]}), planned, "update")
        if planned["image"] != current.get("image"):
            self._wait(self.client.instances_rebuild(server_id, body={"image": planned["image"]}), planned, "update")
        read = self.do_read({**planned, "id": server_id})
        return read

    def do_delete(self, current: dict[str, Any]) -> None:
        self._wait(self.client.instances_destroy(current["id"]), current, "delete")


class Project(_Base):
    name = "project"
    fields = schemas.PROJECT
    description = "A project of the organisation: servers, budgets and grants are grouped by project."

    def _state(self, organisation: int, project: dict[str, Any], prior: dict[str, Any]) -> dict[str, Any]:
        description = project.get("description") or ""
        return {
            "id": str(project["id"]),
            "name": project["name"],
            "description": description if description or prior.get("description") is not None else None,
            "labels": labels_out(project.get("labels"), prior.get("labels")),
            "organisation_id": organisation,
            "slug": project["slug"],
        }

    def _org(self, state: dict[str, Any]) -> int:
        organisation = state.get("organisation_id")
        return int(organisation) if isinstance(organisation, (int, float)) else self.provider.organisation_id()

    def do_create(self, planned: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
        organisation = self._org(planned)
        body: dict[str, Any] = {"name": planned["name"]}
        if planned.get("description"):
            body["description"] = planned["description"]
        if planned.get("labels"):
            body["labels"] = planned["labels"]
        project = self.client.projects_create(organisation, body=body)  # type: ignore[arg-type]
        return self._state(organisation, dict(project), planned)

    def do_read(self, current: dict[str, Any]) -> dict[str, Any] | None:
        organisation = self._org(current)
        return self._state(organisation, dict(self.client.projects_retrieve(organisation, int(current["id"]))), current)

    def do_import(self, id: str) -> dict[str, Any] | None:
        # "<organisation>/<project>" or a project id of the provider's organisation.
        state = self.blank()
        if "/" in id:
            organisation, _, id = id.partition("/")
            state["organisation_id"] = int(organisation)
        state["id"] = id
        return self.do_read(state)

    def do_update(self, current: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any] | None:
        organisation = self._org(current)
        body = {
            "name": planned["name"],
            "description": planned.get("description") or "",
            "labels": planned.get("labels") or {},
        }
        project = self.client.projects_partial_update(organisation, int(current["id"]), body=body)  # type: ignore[arg-type]
        return self._state(organisation, dict(project), planned)

    def do_delete(self, current: dict[str, Any]) -> None:
        self.client.projects_destroy(self._org(current), int(current["id"]))


class SnapshotSchedule(_Base):
    name = "snapshot_schedule"
    fields = schemas.SNAPSHOT_SCHEDULE
    description = "The automatic snapshot schedule of one server."

    def _state(self, server_id: str, schedule: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": server_id,
            "server_id": server_id,
            "frequency": schedule["frequency"],
            "hour": int(schedule.get("hour", 0)),
            "weekday": int(schedule.get("weekday", 0)),
            "retention": int(schedule.get("retention", 0)),
            "enabled": bool(schedule.get("enabled", True)),
        }

    def _set(self, planned: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"frequency": planned["frequency"]}
        for key in ("hour", "weekday", "retention", "enabled"):
            if planned.get(key) is not None and not _unknown(planned[key]):
                body[key] = planned[key]
        server_id = planned["server_id"]
        return self._state(server_id, dict(self.client.snapshot_schedule_set(server_id, body=body)))  # type: ignore[arg-type]

    def do_create(self, planned: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
        return self._set(planned)

    def do_read(self, current: dict[str, Any]) -> dict[str, Any] | None:
        server_id = current.get("server_id") or current["id"]
        return self._state(server_id, dict(self.client.snapshot_schedule_retrieve(server_id)))

    def do_update(self, current: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any] | None:
        return self._set(planned)

    def do_delete(self, current: dict[str, Any]) -> None:
        self.client.snapshot_schedule_destroy(current["server_id"])


def _unknown(value: Any) -> bool:
    from tf.types import Unknown

    return value is Unknown


RESOURCES = (SshKey, Server, Project, SnapshotSchedule)
