"""apps.managed.rules: the service object of an order, per family, against the seed's real tiers.

Pure: the offers are built in memory from ``apps.catalogue.services.seed_data`` (no database),
so every tier limit tested here is the one the catalogue sells.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

import pytest

from apps.catalogue.models import Offer, ProductFamily
from apps.catalogue.services import seed_data as seed
from apps.core.errors import ValidationFailed
from apps.managed import rules as validation
from apps.managed.rules import service_config_clean

FAMILIES = {f["slug"]: f for f in seed.FAMILIES}
OFFERS = {o["code"]: o for o in seed.OFFERS}


def offer(code: str) -> Offer:
    """The seed's offer ``code`` as an unsaved Offer with its unsaved family."""
    data = dict(OFFERS[code])
    fam = FAMILIES[data.pop("family")]
    family = ProductFamily(
        slug=fam["slug"], name=fam["name"], kind=fam["kind"], features=fam["features"], position=fam["position"]
    )
    data.pop("datacentres", None)
    data.pop("gpu_model", None)
    data["price_monthly"] = Decimal(data["price_monthly"])
    data.setdefault("price_hourly", Decimal("0.01"))
    for key in ("sla_percent", "storage_latency_ms"):
        if key in data:
            data[key] = Decimal(data[key])
    return Offer(family=family, **data)


def fail(code: str, data: Any, **kw: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        service_config_clean(offer=offer(code), data=data, **kw)
    assert caught.value.code == "validation_error"
    return caught.value.fields


WEB = {"domain": "example.com", "runtime": "php", "version": "8.3"}


# ---------------------------------------------------------------------------
# Which offers take a service object
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["VPS-NANO", "GPU-STARTER", "STORAGE-SSD"])
def test_servers_and_storage_take_no_service_object(code):
    fields = fail(code, WEB)
    assert list(fields) == ["service"]


def test_service_object_must_be_an_object():
    assert "service" in fail("WEB-STARTER", ["example.com"])


def test_unknown_field_is_named():
    fields = fail("WEB-STARTER", {**WEB, "image": "ubuntu-24.04"})
    assert fields == {"service.image": ["Unknown field for this kind of service."]}


def test_every_problem_is_listed_at_once():
    fields = fail("WEB-STARTER", {"domain": "bad_domain", "runtime": "cobol"})
    assert set(fields) == {"service.domain", "service.runtime"}


# ---------------------------------------------------------------------------
# Web hosting
# ---------------------------------------------------------------------------
def test_web_hosting_good_order_is_normalised():
    config, secrets = service_config_clean(
        offer=offer("WEB-BUSINESS"),
        data={"domain": " Shop.Example.COM. ", "runtime": "PHP", "version": "8.1", "app": "WordPress"},
    )
    assert config == {
        "domain": "shop.example.com",
        "runtime": "php",
        "version": "8.1",
        "app": "wordpress",
        "extra_domains": [],
    }
    assert secrets == {}


def test_web_hosting_idn_is_stored_as_punycode_and_read_back():
    config, _ = service_config_clean(offer=offer("WEB-STARTER"), data={**WEB, "domain": "bücher.de"})
    assert config["domain"] == "xn--bcher-kva.de"
    assert validation.dns_name_display(config["domain"]) == "bücher.de"


def test_web_hosting_idna_2008_keeps_sharp_s():
    # IDNA 2003 (Python's codec) maps ß to ss; IDNA 2008 keeps it (RFC 5892), as registries do since 2010.
    config, _ = service_config_clean(offer=offer("WEB-STARTER"), data={**WEB, "domain": "straße.de"})
    assert config["domain"] == "xn--strae-oqa.de"


@pytest.mark.parametrize(
    "domain",
    [
        "",
        None,
        42,
        "localhost",
        "example",
        "-bad.example.com",
        "bad-.example.com",
        "under_score.example.com",
        "a..example.com",
        ".example.com",
        "example.com..",
        "192.168.1.10",
        "x" * 64 + ".com",
        ("a" * 60 + ".") * 5 + "com",
        "*.example.com",
        "xn--zz.com",
        "exa mple.com",
        "http://example.com",
    ],
)
def test_web_hosting_bad_domain(domain):
    fields = fail("WEB-STARTER", {**WEB, "domain": domain})
    assert list(fields) == ["service.domain"]


def test_web_hosting_trailing_dot_is_the_same_name():
    a, _ = service_config_clean(offer=offer("WEB-STARTER"), data={**WEB, "domain": "example.com."})
    b, _ = service_config_clean(offer=offer("WEB-STARTER"), data={**WEB, "domain": "example.com"})
    assert a == b


@pytest.mark.parametrize(
    ("runtime", "version"),
    [
        ("php", "7.4"),
        ("php", "8.3"),
        ("nodejs", "20"),
        ("python", "3.12"),
        ("python", "3.8"),
        ("ruby", "3.0"),
        ("dotnet", "8.0"),
    ],
)
def test_web_hosting_runtimes_of_the_catalogue(runtime, version):
    config, _ = service_config_clean(
        offer=offer("WEB-STARTER"), data={"domain": "example.com", "runtime": runtime, "version": version}
    )
    assert (config["runtime"], config["version"]) == (runtime, version)


def test_web_hosting_form_value_runtime_colon_version():
    config, _ = service_config_clean(offer=offer("WEB-STARTER"), data={"domain": "example.com", "runtime": "nodejs:18"})
    assert (config["runtime"], config["version"]) == ("nodejs", "18")


@pytest.mark.parametrize(
    ("runtime", "version", "field"),
    [
        ("", "8.3", "service.runtime"),
        ("cobol", "1", "service.runtime"),
        ("php", "", "service.version"),
        ("php", "7.3", "service.version"),
        ("php", "8.4", "service.version"),
        ("python", "3.7", "service.version"),
        ("python", "3.13", "service.version"),
        ("nodejs", "22", "service.version"),
        ("ruby", "2.6", "service.version"),
        ("dotnet", "5.0", "service.version"),
    ],
)
def test_web_hosting_runtime_outside_the_stack(runtime, version, field):
    fields = fail("WEB-STARTER", {"domain": "example.com", "runtime": runtime, "version": version})
    assert list(fields) == [field]


def test_web_stack_matches_the_seed():
    """Every runtime version offered is written in the seed's "Web stack" block, and every range is covered."""
    stack = next(b for b in FAMILIES["web-hosting"]["features"] if b["title"] == "Web stack")["items"]
    for _key, (name, versions) in validation.WEB_RUNTIMES.items():
        line = next(item for item in stack if item.startswith(name + " "))
        bounds = re.findall(r"\d+(?:\.\d+)?", line)
        if " - " in line:  # a range: its two ends are the first and last versions offered
            assert (versions[0], versions[-1]) == (bounds[0], bounds[1])
        else:
            assert list(versions) == bounds


def test_web_hosting_one_click_apps_from_the_family_list():
    config, _ = service_config_clean(offer=offer("WEB-STARTER"), data={**WEB, "app": "GitLab CE"})
    assert config["app"] == "gitlab-ce"
    config, _ = service_config_clean(offer=offer("WEB-STARTER"), data={**WEB, "app": "matomo"})
    assert config["app"] == "matomo"


def test_web_hosting_unknown_one_click_app():
    fields = fail("WEB-STARTER", {**WEB, "app": "Ghost"})
    assert "WordPress" in fields["service.app"][0]


def test_web_hosting_one_click_app_follows_the_family_data():
    o = offer("WEB-STARTER")
    o.family.features = [{"title": "1-click apps", "items": ["Ghost"]}]
    config, _ = service_config_clean(offer=o, data={**WEB, "app": "ghost"})
    assert config["app"] == "ghost"
    with pytest.raises(ValidationFailed):
        service_config_clean(offer=o, data={**WEB, "app": "wordpress"})


def test_web_hosting_starter_hosts_one_site():
    fields = fail("WEB-STARTER", {**WEB, "extra_domains": ["example.org"]})
    assert "1 website" in fields["service.extra_domains"][0]


def test_web_hosting_business_hosts_ten_sites():
    extra = [f"site{i}.example.org" for i in range(9)]
    config, _ = service_config_clean(offer=offer("WEB-BUSINESS"), data={**WEB, "extra_domains": extra})
    assert config["extra_domains"] == extra
    fields = fail("WEB-BUSINESS", {**WEB, "extra_domains": [*extra, "one-more.example.org"]})
    assert list(fields) == ["service.extra_domains"]


def test_web_hosting_unlimited_tier_has_no_site_limit_below_the_guard():
    extra = [f"site{i}.example.org" for i in range(60)]
    config, _ = service_config_clean(offer=offer("WEB-ENTERPRISE"), data={**WEB, "extra_domains": extra})
    assert len(config["extra_domains"]) == 60


def test_web_hosting_extra_domain_errors_carry_their_index():
    fields = fail("WEB-PRO", {**WEB, "extra_domains": ["ok.example.org", "bad_one", "example.com"]})
    assert set(fields) == {"service.extra_domains.1", "service.extra_domains.2"}


# ---------------------------------------------------------------------------
# PaaS
# ---------------------------------------------------------------------------
GIT = {"kind": "git", "url": "https://github.com/acme/shop.git", "branch": "main"}


def test_paas_git_source_with_env_secrets():
    config, secrets = service_config_clean(
        offer=offer("PAAS-BUSINESS"),
        data={
            "source": GIT,
            "environment": "staging",
            "env": [{"name": "DATABASE_URL", "value": "postgres://u:p@db/x"}, {"name": "_DEBUG", "value": ""}],
            "containers": 5,
            "ram_gb": 4,
        },
    )
    assert config == {
        "source": GIT,
        "environment": "staging",
        "env": ["DATABASE_URL", "_DEBUG"],
        "containers": 5,
        "ram_gb": 4,
    }
    assert secrets == {"DATABASE_URL": "postgres://u:p@db/x", "_DEBUG": ""}
    assert "postgres://u:p@db/x" not in repr(config)


def test_paas_defaults():
    config, _ = service_config_clean(offer=offer("PAAS-CONTAINER"), data={"source": {"url": GIT["url"]}})
    assert config["source"]["branch"] == "main"
    assert (config["environment"], config["containers"], config["ram_gb"]) == ("prod", 1, 2)


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/shop.git",
        "https://gitlab.example.com:8443/group/sub/app",
        "ssh://git@git.example.com:2222/acme/shop.git",
        "git@github.com:acme/shop.git",
        "git@bitbucket.org:acme/shop",
    ],
)
def test_paas_git_urls(url):
    config, _ = service_config_clean(offer=offer("PAAS-CONTAINER"), data={"source": {"kind": "git", "url": url}})
    assert config["source"]["url"] == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "github.com/acme/shop",
        "http://github.com/acme/shop.git",
        "ftp://example.com/repo.git",
        "file:///srv/repo.git",
        "https://user:token@github.com/acme/shop.git",
        "https://github.com",
        "https://github.com/acme/shop.git?ref=x",
        "https://127.0.0.1/acme/shop.git",
        "https://10.0.0.5/acme/shop.git",
        "git@192.168.0.2:acme/shop.git",
        "https://localhost/acme/shop.git",
        "https://git example.com/acme.git",
        "https://bad_host.example.com/a.git",
        "https://example.com:99999/a.git",
    ],
)
def test_paas_bad_git_urls(url):
    fields = fail("PAAS-CONTAINER", {"source": {"kind": "git", "url": url, "branch": "main"}})
    assert list(fields) == ["service.source.url"]


@pytest.mark.parametrize("branch", ["main", "release/2.1", "feature/JIRA-12_x", "v1.0"])
def test_paas_good_branches(branch):
    config, _ = service_config_clean(offer=offer("PAAS-CONTAINER"), data={"source": {**GIT, "branch": branch}})
    assert config["source"]["branch"] == branch


@pytest.mark.parametrize(
    "branch",
    [
        "-x",
        "/x",
        "x/",
        "a..b",
        "a b",
        "x.lock",
        "a/.hidden",
        "x@{1}",
        "@",
        "a~1",
        "a^",
        "a:b",
        "a?",
        "a*",
        "a[",
        "a\\b",
        "x.",
        "a//b",
    ],
)
def test_paas_bad_branches(branch):
    fields = fail("PAAS-CONTAINER", {"source": {**GIT, "branch": branch}})
    assert list(fields) == ["service.source.branch"]


@pytest.mark.parametrize(
    "image",
    [
        "nginx",
        "nginx:1.27",
        "library/nginx:latest",
        "ghcr.io/acme/shop:2.1",
        "registry.example.com:5000/team/app_name__x/api-v2:1.0.0-rc.1",
        "localhost:5000/app",
        "nginx@sha256:" + "a" * 64,
        "ghcr.io/acme/shop:2.1@sha256:" + "0123456789abcdef" * 4,
        "[2001:db8::1]:5000/app:1",
    ],
)
def test_paas_image_references(image):
    config, _ = service_config_clean(offer=offer("PAAS-CONTAINER"), data={"source": {"kind": "image", "image": image}})
    assert config["source"] == {"kind": "image", "image": image}


@pytest.mark.parametrize(
    "image",
    [
        "",
        "Nginx",
        "ghcr.io/Acme/shop",
        "nginx:",
        "nginx:-bad",
        "nginx:" + "a" * 129,
        "nginx@sha256:abc",
        "nginx@sha256:" + "a" * 63,
        "acme//shop",
        "acme/shop/",
        "acme/-shop",
        "acme/shop..x",
        "https://ghcr.io/acme/shop",
        "nginx latest",
        "a/" * 130 + "b",
    ],
)
def test_paas_bad_image_references(image):
    fields = fail("PAAS-CONTAINER", {"source": {"kind": "image", "image": image}})
    assert list(fields) == ["service.source.image"]


def test_paas_source_required_and_kind_checked():
    assert list(fail("PAAS-CONTAINER", {})) == ["service.source"]
    assert list(fail("PAAS-CONTAINER", {"source": {"kind": "svn", "url": "x"}})) == ["service.source.kind"]
    fields = fail("PAAS-CONTAINER", {"source": {"kind": "image", "image": "nginx", "url": GIT["url"]}})
    assert list(fields) == ["service.source.url"]


@pytest.mark.parametrize("environment", ["test", "production", "PROD", 3])
def test_paas_environment_is_dev_staging_or_prod(environment):
    assert list(fail("PAAS-CONTAINER", {"source": GIT, "environment": environment})) == ["service.environment"]


@pytest.mark.parametrize("name", ["1ABC", "A-B", "A B", "", "É", "A=B", None, "x" * 256])
def test_paas_bad_env_names(name):
    fields = fail(
        "PAAS-CONTAINER", {"source": GIT, "env": [{"name": "OK", "value": "1"}, {"name": name, "value": "x"}]}
    )
    assert list(fields) == ["service.env.1.name"]


def test_paas_env_duplicates_values_and_shape():
    fields = fail(
        "PAAS-CONTAINER",
        {
            "source": GIT,
            "env": [
                {"name": "A", "value": "1"},
                {"name": "A", "value": "2"},
                {"name": "B", "value": 3},
                {"name": "C", "value": "x" * (32 * 1024 + 1)},
                "D=4",
                {"name": "E", "value": "a\x00b"},
                {"name": "F", "value": "", "secret": True},
            ],
        },
    )
    assert set(fields) == {
        "service.env.1.name",
        "service.env.2.value",
        "service.env.3.value",
        "service.env.4",
        "service.env.5.value",
        "service.env.6.secret",
    }


def test_paas_env_count_is_limited():
    env = [{"name": f"V{i}", "value": "x"} for i in range(validation.ENV_MAX + 1)]
    assert "service.env" in fail("PAAS-CONTAINER", {"source": GIT, "env": env})


@pytest.mark.parametrize(
    ("code", "containers", "ram", "ok"),
    [
        ("PAAS-CONTAINER", 1, 2, True),
        ("PAAS-CONTAINER", 2, 2, False),
        ("PAAS-CONTAINER", 1, 4, False),
        ("PAAS-CONTAINER", 1, 1, True),
        ("PAAS-BUSINESS", 5, 4, True),
        ("PAAS-BUSINESS", 6, 4, False),
        ("PAAS-BUSINESS", 5, 8, False),
        ("PAAS-SCALE", 20, 8, True),
        ("PAAS-SCALE", 21, 8, False),
        ("PAAS-SCALE", 20, 16, False),
        ("PAAS-KUBERNETES", 200, 64, True),
        ("PAAS-KUBERNETES", 1001, 4, False),
        ("PAAS-KUBERNETES", 1, 3, False),
    ],
)
def test_paas_containers_and_ram_within_the_tier(code, containers, ram, ok):
    data = {"source": GIT, "containers": containers, "ram_gb": ram}
    if ok:
        config, _ = service_config_clean(offer=offer(code), data=data)
        assert (config["containers"], config["ram_gb"]) == (containers, ram)
    else:
        assert set(fail(code, data)) <= {"service.containers", "service.ram_gb"}


@pytest.mark.parametrize("containers", [0, -1, "two", 1.5, True])
def test_paas_container_count_must_be_a_positive_integer(containers):
    assert list(fail("PAAS-SCALE", {"source": GIT, "containers": containers})) == ["service.containers"]


def test_paas_ram_choices_follow_the_tier():
    assert validation.paas_ram_choices(offer("PAAS-BUSINESS")) == (1, 2, 4)
    assert validation.paas_ram_choices(offer("PAAS-KUBERNETES")) == validation.PAAS_CONFIGURABLE_RAM_GB


# ---------------------------------------------------------------------------
# CDN
# ---------------------------------------------------------------------------
CDN = {"origin": {"kind": "url", "url": "https://origin.example.com"}, "hostnames": ["cdn.example.com"]}


def test_cdn_good_order():
    config, secrets = service_config_clean(
        offer=offer("CDN-PRO"),
        data={
            "origin": "https://origin.example.com:8443/app",
            "hostnames": ["CDN.example.com", "static.exämple.com"],
            "cache_rules": [{"path": "/static/*", "ttl": 86400}, {"path": "/", "ttl": "0"}],
            "waf": "basic",
        },
    )
    assert config == {
        "origin": {"kind": "url", "url": "https://origin.example.com:8443/app"},
        "hostnames": ["cdn.example.com", "static.xn--exmple-cua.com"],
        "cache_rules": [{"path": "/static/*", "ttl": 86400}, {"path": "/", "ttl": 0}],
        "waf": "basic",
    }
    assert secrets == {}


@pytest.mark.parametrize(
    "url",
    [
        "",
        "origin.example.com",
        "ftp://origin.example.com",
        "https://user:pw@origin.example.com",
        "http://127.0.0.1",
        "http://192.168.1.1",
        "http://[::1]/",
        "http://169.254.169.254/latest",
        "http://localhost:8000",
        "https://origin.example.com/?q=1",
        "https://bad_host/",
    ],
)
def test_cdn_bad_origin_url(url):
    fields = fail("CDN-PRO", {**CDN, "origin": {"kind": "url", "url": url}})
    assert list(fields) == ["service.origin.url"]


def test_cdn_origin_server_is_resolved_in_the_organisation():
    mine = str(uuid.uuid4())
    seen: list[tuple[str, str]] = []

    def resolve(kind: str, public_id: str) -> dict[str, Any] | None:
        seen.append((kind, public_id))
        return {"id": public_id, "name": "web-1", "address": "203.0.113.7"} if public_id == mine else None

    config, _ = service_config_clean(
        offer=offer("CDN-PRO"), data={**CDN, "origin": {"kind": "server", "id": mine}}, resolve_origin=resolve
    )
    assert config["origin"] == {"kind": "server", "id": mine, "name": "web-1", "address": "203.0.113.7"}
    other = str(uuid.uuid4())
    fields = fail("CDN-PRO", {**CDN, "origin": {"kind": "load_balancer", "id": other}}, resolve_origin=resolve)
    assert fields == {"service.origin.id": ["No load balancer of your organisation has this id."]}
    assert seen[-1] == ("load_balancer", other)


def test_cdn_origin_by_id_without_resolver_or_bad_id():
    assert list(fail("CDN-PRO", {**CDN, "origin": {"kind": "server", "id": str(uuid.uuid4())}})) == [
        "service.origin.id"
    ]
    assert list(fail("CDN-PRO", {**CDN, "origin": {"kind": "server", "id": "web-1"}})) == ["service.origin.id"]
    assert list(fail("CDN-PRO", {**CDN, "origin": {"kind": "bucket"}})) == ["service.origin.kind"]
    assert list(fail("CDN-PRO", {**CDN, "origin": None})) == ["service.origin"]


def test_cdn_hostnames():
    assert list(fail("CDN-PRO", {**CDN, "hostnames": []})) == ["service.hostnames"]
    assert list(fail("CDN-PRO", {**CDN, "hostnames": "cdn.example.com"})) == ["service.hostnames"]
    fields = fail("CDN-PRO", {**CDN, "hostnames": ["cdn.example.com", "CDN.example.com.", "bad host"]})
    assert set(fields) == {"service.hostnames.1", "service.hostnames.2"}
    many = [f"h{i}.example.com" for i in range(validation.CDN_HOSTNAMES_MAX + 1)]
    assert "service.hostnames" in fail("CDN-PRO", {**CDN, "hostnames": many})


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"path": "static/*", "ttl": 60}, "service.cache_rules.0.path"),
        ({"path": "", "ttl": 60}, "service.cache_rules.0.path"),
        ({"path": "/a b", "ttl": 60}, "service.cache_rules.0.path"),
        ({"path": "/x", "ttl": -1}, "service.cache_rules.0.ttl"),
        ({"path": "/x", "ttl": 365 * 24 * 3600 + 1}, "service.cache_rules.0.ttl"),
        ({"path": "/x", "ttl": "1h"}, "service.cache_rules.0.ttl"),
        ({"path": "/x"}, "service.cache_rules.0.ttl"),
        ({"path": "/x", "ttl": 1, "vary": "cookie"}, "service.cache_rules.0.vary"),
        ("/x=60", "service.cache_rules.0"),
    ],
)
def test_cdn_bad_cache_rules(rule, field):
    assert list(fail("CDN-PRO", {**CDN, "cache_rules": [rule]})) == [field]


def test_cdn_duplicate_cache_rule_path():
    fields = fail("CDN-PRO", {**CDN, "cache_rules": [{"path": "/x", "ttl": 1}, {"path": "/x", "ttl": 2}]})
    assert list(fields) == ["service.cache_rules.1.path"]


@pytest.mark.parametrize(
    ("code", "allowed", "refused"),
    [
        ("CDN-STARTER", ["none"], ["basic", "advanced", "custom_rules"]),
        ("CDN-PRO", ["none", "basic"], ["advanced", "custom_rules"]),
        ("CDN-BUSINESS", ["none", "basic", "advanced"], ["custom_rules"]),
        ("CDN-GLOBAL", ["none", "basic", "advanced", "custom_rules"], []),
    ],
)
def test_cdn_waf_up_to_the_tier(code, allowed, refused):
    assert validation.waf_choices(offer(code)) == allowed
    config, _ = service_config_clean(offer=offer(code), data=CDN)
    assert config["waf"] == allowed[-1]  # default: what the tier includes
    for level in allowed:
        assert service_config_clean(offer=offer(code), data={**CDN, "waf": level})[0]["waf"] == level
    for level in refused:
        assert list(fail(code, {**CDN, "waf": level})) == ["service.waf"]
    assert list(fail(code, {**CDN, "waf": "paranoid"})) == ["service.waf"]


# ---------------------------------------------------------------------------
# Load balancer
# ---------------------------------------------------------------------------
def test_load_balancer_good_order():
    server = str(uuid.uuid4())
    config, _ = service_config_clean(
        offer=offer("LB-BUSINESS"),
        data={
            "rules": [
                {"protocol": "https", "port": 443, "target_protocol": "http", "target_port": 8080},
                {"protocol": "TCP", "port": 5432, "target_protocol": "TCP", "target_port": 5432},
            ],
            "targets": [{"kind": "server", "id": server}, {"label_selector": "role=web,env in (prod,staging)"}],
        },
    )
    assert config == {
        "rules": [
            {"protocol": "HTTPS", "port": 443, "target_protocol": "HTTP", "target_port": 8080},
            {"protocol": "TCP", "port": 5432, "target_protocol": "TCP", "target_port": 5432},
        ],
        "targets": [
            {"kind": "server", "id": server},
            {"kind": "label_selector", "label_selector": "role=web,env in (prod,staging)"},
        ],
    }


@pytest.mark.parametrize(
    ("code", "protocol", "ok"),
    [
        ("LB-STARTER", "HTTP", True),
        ("LB-STARTER", "TCP", False),
        ("LB-BUSINESS", "UDP", True),
        ("LB-BUSINESS", "WebSocket", False),
        ("LB-ENTERPRISE", "websocket", True),
        ("LB-ENTERPRISE", "gRPC", False),
        ("LB-GLOBAL", "grpc", True),
        ("LB-GLOBAL", "HTTP/3", True),
    ],
)
def test_load_balancer_protocols_the_tier_allows(code, protocol, ok):
    target = {"UDP": "UDP", "TCP": "TCP"}.get(protocol.upper(), "HTTP")
    data = {"rules": [{"protocol": protocol, "port": 443, "target_protocol": target, "target_port": 80}]}
    if ok:
        service_config_clean(offer=offer(code), data=data)
    else:
        assert "service.rules.0.protocol" in fail(code, data)


def test_load_balancer_rule_problems():
    fields = fail(
        "LB-BUSINESS",
        {
            "rules": [
                {"protocol": "HTTP", "port": 80, "target_protocol": "TCP", "target_port": 80},
                {"protocol": "SMTP", "port": 25},
                {"protocol": "TCP", "port": 0, "target_port": 70000},
                {"protocol": "HTTP", "port": 80, "target_port": 8080},
                {"protocol": "UDP", "port": 80, "target_port": 80},
                "80:8080",
            ]
        },
    )
    assert set(fields) == {
        "service.rules.0.target_protocol",
        "service.rules.1.protocol",
        "service.rules.1.target_protocol",
        "service.rules.2.port",
        "service.rules.2.target_port",
        "service.rules.3.port",
        "service.rules.5",
    }


def test_load_balancer_needs_a_rule():
    assert list(fail("LB-STARTER", {"targets": []})) == ["service.rules"]


@pytest.mark.parametrize(("code", "limit"), [("LB-STARTER", 5), ("LB-BUSINESS", 20), ("LB-ENTERPRISE", 100)])
def test_load_balancer_backend_count_of_the_tier(code, limit):
    rules = [{"protocol": "HTTP", "port": 80, "target_port": 80}]
    servers = [{"kind": "server", "id": str(uuid.uuid4())} for _ in range(limit + 1)]
    service_config_clean(offer=offer(code), data={"rules": rules, "targets": servers[:limit]})
    assert list(fail(code, {"rules": rules, "targets": servers})) == ["service.targets"]


def test_load_balancer_unlimited_backends():
    rules = [{"protocol": "HTTP", "port": 80, "target_port": 80}]
    servers = [{"kind": "server", "id": str(uuid.uuid4())} for _ in range(150)]
    config, _ = service_config_clean(offer=offer("LB-GLOBAL"), data={"rules": rules, "targets": servers})
    assert len(config["targets"]) == 150


def test_load_balancer_target_problems():
    server = str(uuid.uuid4())
    fields = fail(
        "LB-STARTER",
        {
            "rules": [{"protocol": "HTTP", "port": 80, "target_port": 80}],
            "targets": [
                {"kind": "server", "id": server},
                {"kind": "server", "id": server},
                {"kind": "server", "id": "web-1"},
                {"kind": "label_selector", "label_selector": "role=web!"},
                {"kind": "ip", "address": "10.0.0.1"},
            ],
        },
    )
    assert set(fields) == {
        "service.targets.1.id",
        "service.targets.2.id",
        "service.targets.3.label_selector",
        "service.targets.4.kind",
    }


def test_one_rule_parser_reads_the_forms_lines_and_writes_them_back():
    lb_rules_parse, lb_rules_text = validation.lb_rules_parse, validation.lb_rules_text
    text = "HTTPS 443 HTTP 8080\r\n\r\n  TCP 5432 -> TCP 5432  \nHTTP 80 \u2192 HTTP 8080\nUDP 53"
    rules = lb_rules_parse(text)
    assert rules == [
        {"protocol": "HTTPS", "port": "443", "target_protocol": "HTTP", "target_port": "8080"},
        {"protocol": "TCP", "port": "5432", "target_protocol": "TCP", "target_port": "5432"},
        {"protocol": "HTTP", "port": "80", "target_protocol": "HTTP", "target_port": "8080"},
        {"protocol": "UDP", "port": "53"},  # short: service_config_clean names what is missing
    ]
    assert lb_rules_parse(lb_rules_text(rules[:3])) == rules[:3]
    assert lb_rules_parse(None) == [] and lb_rules_parse("  \n ") == []
