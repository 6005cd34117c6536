"""The deployment definitions in deploy/ are checked offline, as part of `make test`.

Kubernetes manifests: built with ``kubectl kustomize`` and validated against the
Kubernetes OpenAPI schemas (kubernetes-validate, strict). Compose: validated
against the compose-spec JSON schema (check-jsonschema's vendored copy). The
Dockerfile: linted with hadolint. Beyond the schemas, the properties the
production guide promises (apps/docs/content/production.md) are asserted.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
KUBERNETES_VERSION = "1.32.0"


def _tool(name: str) -> str:
    path = shutil.which(name) or (str(BIN / name) if (BIN / name).exists() else None)
    if path is None:
        pytest.fail(f"{name} is required by make test (see scripts/test.sh)")
    return path


def _kustomize(folder: Path) -> list[dict]:
    out = subprocess.run(
        [_tool("kubectl"), "kustomize", str(folder)], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module")
def overlay(tmp_path_factory) -> list[dict]:
    return _kustomize(DEPLOY / "kubernetes" / "overlays" / "example")


def _validate(docs: list[dict], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(docs))
    return subprocess.run(
        [_tool("kubernetes-validate"), "--strict", "--quiet", "-k", KUBERNETES_VERSION, str(rendered)],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("folder", ["base", "overlays/example"])
def test_kubernetes_manifests_validate_against_the_schemas(folder, tmp_path):
    docs = _kustomize(DEPLOY / "kubernetes" / folder)
    result = _validate(docs, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_manifest(overlay, tmp_path):
    broken = [dict(doc) for doc in overlay]
    web = next(d for d in broken if d["kind"] == "Deployment" and d["metadata"]["name"] == "vmcloud-web")
    web["spec"] = {**web["spec"], "replicas": "two"}
    assert _validate(broken, tmp_path).returncode != 0


def _by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _pod_specs(docs: list[dict]) -> dict[str, dict]:
    specs = {}
    for doc in docs:
        if doc["kind"] in {"Deployment", "Job"}:
            specs[doc["metadata"]["name"]] = doc["spec"]["template"]["spec"]
        elif doc["kind"] == "CronJob":
            specs[doc["metadata"]["name"]] = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return specs


def test_every_pod_is_non_root_read_only_and_bounded(overlay):
    specs = _pod_specs(overlay)
    assert len(specs) >= 9
    for name, spec in specs.items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"] + spec.get("initContainers", []):
            assert container["image"] == "registry.example.com/vmcloud/platform:2026.12.1", name
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
            assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"]), name


def test_web_is_probed_autoscaled_and_protected_from_disruption(overlay):
    web = _by_kind(overlay, "Deployment")["vmcloud-web"]
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    hpa = _by_kind(overlay, "HorizontalPodAutoscaler")["vmcloud-web"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "vmcloud-web"
    assert hpa["spec"]["minReplicas"] >= 2
    assert "vmcloud-web" in _by_kind(overlay, "PodDisruptionBudget")


def test_every_queue_has_its_workers_and_every_long_running_pod_a_probe(overlay):
    deployments = _by_kind(overlay, "Deployment")
    queues = set()
    for name, deployment in deployments.items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert "livenessProbe" in container, name
        if name.startswith("vmcloud-worker-"):
            env = {e["name"]: e["value"] for e in container["env"]}
            queues.update(env["CELERY_QUEUES"].split(","))
    assert queues == {"default", "provisioning", "billing", "notifications"}


def test_beat_cannot_run_twice(overlay):
    beat = _by_kind(overlay, "Deployment")["vmcloud-beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    assert "vmcloud-beat" not in _by_kind(overlay, "HorizontalPodAutoscaler")


def test_the_migrate_job_gates_beat_workers_and_web(overlay):
    assert _by_kind(overlay, "Job")["vmcloud-migrate"]["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "migrate"
    ]
    for name, deployment in _by_kind(overlay, "Deployment").items():
        if name == "vmcloud-console":
            continue  # the console proxy reads no table at start
        init = deployment["spec"]["template"]["spec"]["initContainers"]
        assert init[0]["args"][:2] == ["manage", "wait_for_migrations"], name


def test_the_ingress_carries_the_console_websocket_over_tls(overlay):
    ingress = _by_kind(overlay, "Ingress")["vmcloud"]
    assert ingress["spec"]["tls"][0]["secretName"]
    paths = {p["path"]: p["backend"]["service"]["name"] for p in ingress["spec"]["rules"][0]["http"]["paths"]}
    assert paths == {"/console/": "vmcloud-console", "/": "vmcloud-web"}
    assert int(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600


def test_network_policies_deny_ingress_by_default(overlay):
    policies = _by_kind(overlay, "NetworkPolicy")
    deny = policies["vmcloud-default-deny-ingress"]
    assert deny["spec"]["policyTypes"] == ["Ingress"]
    assert "ingress" not in deny["spec"]


# --- compose -------------------------------------------------------------------


def _check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_file_validates_against_the_compose_spec():
    result = _check_compose(DEPLOY / "compose" / "compose.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_check_rejects_a_broken_file(tmp_path):
    broken = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    broken["services"]["web"]["replica"] = 2  # a typo of deploy.replicas
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(broken))
    assert _check_compose(path).returncode != 0


def test_compose_runs_the_production_like_stack():
    services = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())["services"]
    assert {"postgres", "rabbitmq", "redis", "migrate", "web", "beat", "console"} <= set(services)
    assert services["web"]["deploy"]["replicas"] == 2
    assert services["beat"]["deploy"]["replicas"] == 1
    workers = {name: s for name, s in services.items() if name.startswith("worker-")}
    assert len(workers) == 2
    queue_sets = [set(w["environment"]["CELERY_QUEUES"].split(",")) for w in workers.values()]
    assert queue_sets[0].isdisjoint(queue_sets[1])
    assert set().union(*queue_sets) == {"default", "provisioning", "billing", "notifications"}
    for name in ["web", "beat", "console", *workers]:
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        assert services[name]["read_only"] is True, name
        assert services[name]["user"] == "10001:10001", name


def test_compose_takes_the_official_engine_images_unless_told_otherwise():
    """An operator with a registry changes nothing; make engine-images (no registry) sets the variables."""
    services = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())["services"]
    assert services["postgres"]["image"] == "${POSTGRES_IMAGE:-postgres:15-bookworm}"
    assert services["rabbitmq"]["image"] == "${RABBITMQ_IMAGE:-rabbitmq:3.13-management}"
    assert services["redis"]["image"] == "${REDIS_IMAGE:-redis:7-bookworm}"
    assert services["proxy"]["image"] == "${HAPROXY_IMAGE:-haproxy:2.8-bookworm}"
    engines = (ROOT / "scripts" / "engine_images.sh").read_text()
    for variable in ["POSTGRES_IMAGE", "RABBITMQ_IMAGE", "REDIS_IMAGE", "HAPROXY_IMAGE"]:
        assert f"{variable}=" in engines


def test_compose_publishes_only_on_loopback_by_default():
    services = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())["services"]
    published = [port for service in services.values() for port in service.get("ports", [])]
    assert published == ["${HTTP_BIND:-127.0.0.1}:${HTTP_PORT:-8080}:8080"]


# --- image -----------------------------------------------------------------------


def _hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool("hadolint"), "--no-color", "--config", str(DEPLOY / "docker" / "hadolint.yaml"), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "dockerfile",
    [
        "docker/Dockerfile",
        "engines/postgres/Dockerfile",
        "engines/rabbitmq/Dockerfile",
        "engines/redis/Dockerfile",
        "engines/haproxy/Dockerfile",
    ],
)
def test_the_dockerfiles_pass_hadolint(dockerfile):
    result = _hadolint(DEPLOY / dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_rejects_a_dockerfile_running_as_root(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nUSER root\n")
    assert _hadolint(bad).returncode != 0


def test_the_image_runs_as_a_non_root_user_and_serves_every_role():
    dockerfile = (DEPLOY / "docker" / "Dockerfile").read_text()
    final_stage = dockerfile.rsplit("\nFROM ", 1)[1]
    assert "USER 10001:10001" in final_stage
    assert "collectstatic" in dockerfile
    entrypoint = (DEPLOY / "docker" / "entrypoint.sh").read_text()
    for role in ["web)", "worker)", "beat)", "console)", "migrate)"]:
        assert role in entrypoint
    beat = entrypoint.split("beat)", 1)[1].split(";;", 1)[0]
    assert beat.index("wait_for_migrations") < beat.index("celery -A config beat")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_gunicorn_writes_nothing_to_its_home(tmp_path):
    """Found by building the image: gunicorn created $HOME/.gunicorn (its control socket),
    which fails for the image's user with no home."""
    home = tmp_path / "home"
    port = _free_port()
    env = {
        **os.environ,
        "HOME": str(home),
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    env.pop("XDG_RUNTIME_DIR", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            *("--config", str(DEPLOY / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}"),
            "config.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.3)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert not home.exists()
