#!/usr/bin/env bash
# `make clients`: regenerate the client tools' copy of the API from the live schema.
# 1. clients/openapi.json from `manage.py spectacular` (test settings, English),
# 2. the SDK's typed core, clients/python-sdk/vmcloud/_generated/, from that file.
# tests/clients/test_sdk_drift.py fails until this has been run after an API change.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
DJANGO_SETTINGS_MODULE=config.settings.test "$VENV/bin/python" manage.py spectacular \
  --lang en --format openapi-json --file clients/openapi.json
"$VENV/bin/python" clients/python-sdk/codegen.py clients/openapi.json
