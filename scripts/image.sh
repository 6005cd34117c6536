#!/usr/bin/env bash
# `make image`: build the VMCloud image (deploy/docker/Dockerfile).
# BASE_IMAGE defaults to debian:bookworm-slim from a registry. With no registry
# reachable, BUILD_BASE=1 builds that base from Debian packages with debootstrap
# and imports it (apps/docs/content/production.md, "Build the image").
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE="${IMAGE:-vmcloud:latest}"
if ! docker info >/dev/null 2>&1; then
  echo "error: make image needs a running Docker daemon (docker info failed)" >&2
  exit 1
fi
base="${BASE_IMAGE:-debian:bookworm-slim}"
if [ "${BUILD_BASE:-0}" = "1" ]; then
  base="vmcloud-base/debian:bookworm"
  echo "==> building $base with debootstrap (a few minutes)"
  root="$(mktemp -d)"
  trap 'rm -rf "$root"' EXIT
  # The mirror this machine's apt uses, unless DEBIAN_MIRROR names another.
  mirror="${DEBIAN_MIRROR:-$(grep -hm1 '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | awk '{print $2}')}"
  security="${DEBIAN_SECURITY_MIRROR:-$(awk '/^URIs:/ {uri = $2} /^Suites:.*-security/ {print uri; exit}' \
    /etc/apt/sources.list.d/debian.sources 2>/dev/null)}"
  debootstrap --variant=minbase bookworm "$root" ${mirror:+"$mirror"}
  # Shaped like debian:bookworm-slim (debuerreotype's "slim" and "docker" tweaks): point
  # releases and security updates, no package cache kept, no documentation but the
  # copyright files, no translations.
  uri="${mirror:-$(awk '{print $2; exit}' "$root/etc/apt/sources.list")}"
  {
    echo "deb $uri bookworm main"
    echo "deb $uri bookworm-updates main"
    [ -n "$security" ] && echo "deb $security bookworm-security main"
    true
  } >"$root/etc/apt/sources.list"
  [ -n "$security" ] || echo "warning: no security mirror found; set DEBIAN_SECURITY_MIRROR" >&2
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CONF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  rm -rf "$root"/usr/share/{man,info,locale,lintian}/* "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
  tar -C "$root" -c . | docker import - "$base"
fi
if [ "${WHEELHOUSE:-0}" = "1" ]; then
  # Wheels fetched by this machine's pip (its index and certificates), installed offline in the build.
  echo "==> downloading the runtime wheels into deploy/docker/wheels"
  # For the image's Python (Debian 12: 3.11.2), whose markers differ from this machine's.
  "${VENV:-.venv}/bin/pip" download --quiet --only-binary=:all: --python-version "${IMAGE_PYTHON_VERSION:-3.11.2}" \
    -r requirements/production.txt -d deploy/docker/wheels
  # pip evaluates python_full_version markers with this machine's Python; redis needs this one below 3.11.3.
  "${VENV:-.venv}/bin/pip" download --quiet --only-binary=:all: "async-timeout>=4.0.3" -d deploy/docker/wheels
fi
echo "==> building $IMAGE on $base"
docker build --build-arg "BASE_IMAGE=$base" -f deploy/docker/Dockerfile -t "$IMAGE" .
echo "==> $IMAGE: $(docker image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"
