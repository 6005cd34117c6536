#!/usr/bin/env bash
# Creates .venv with Python 3.11 and installs the pinned requirements.
# Re-runs pip only when a requirements file changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
VENV="${VENV:-.venv}"
REQS="${REQS:-requirements/dev.txt}"

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: $PYTHON not found. Install Python 3.11 (Debian: apt-get install python3.11 python3.11-venv)." >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV with $("$PYTHON" --version)"
  "$PYTHON" -m venv "$VENV"
fi
# The client tools (clients/*) are installed editable from requirements/dev.txt: their
# pyproject.toml files (dependencies, entry points) count too.
stamp="$VENV/.installed-$(cat requirements/*.txt clients/*/pyproject.toml | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "==> installing $REQS (first run: a minute or more; one line per package)"
  # pip's own progress: a "Collecting" line per package, then the install.
  "$VENV/bin/pip" install --disable-pip-version-check --progress-bar on -r "$REQS" \
    | grep --line-buffered -E '^(Collecting|Installing|Successfully|ERROR)' || [ "${PIPESTATUS[0]}" = 0 ]
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
