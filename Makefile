# VMCloud platform. The two commands a newcomer needs:
#   make run    - the whole platform on embedded defaults (SQLite, file broker, Proxmox simulator)
#   make test   - the whole test suite and quality gates, on real PostgreSQL and Redis
PYTHON ?= python3.11
VENV ?= .venv
export PYTHON VENV

.PHONY: run test venv services lint fmt typecheck migrations messages bench clients clean help image engine-images compose-test backup restore chaos

help:
	@echo "make run    - start web, worker, beat and the Proxmox simulator on http://127.0.0.1:8000"
	@echo "make test   - quality gates + the whole test suite on PostgreSQL and Redis"
	@echo "make bench  - benchmarks that print their figures"
	@echo "make chaos  - chaos drill on loopback: broker and PostgreSQL restarts, Redis flush, node 595, webhooks"
	@echo "make clients - regenerate the SDK's core (clients/) from the live OpenAPI schema"
	@echo "make fmt    - format and auto-fix with ruff"
	@echo "make messages - refresh locale/fr (makemessages) and compile it (compilemessages)"
	@echo "make image  - build the container image (needs a Docker daemon)"
	@echo "make engine-images - PostgreSQL, RabbitMQ, Redis, HAProxy images from Debian packages (no registry)"
	@echo "make compose-test - smoke-test the compose stack (needs a Docker daemon; LOCAL_ENGINES=1 with no registry)"
	@echo "make backup / make restore BACKUP=dir - pg_dump + keys / pg_restore into DATABASE_URL"

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

venv:
	@bash scripts/bootstrap.sh

services:
	@bash scripts/services.sh

lint: venv
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

fmt: venv
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

typecheck: venv
	$(VENV)/bin/mypy apps config

migrations: venv
	DJANGO_SETTINGS_MODULE=config.settings.local $(VENV)/bin/python manage.py makemigrations

# Translations (English first, French next): extract every marked string into
# locale/fr/LC_MESSAGES/django.po, then compile django.mo, which is committed.
I18N_IGNORE = --ignore=.venv --ignore=var --ignore=node_modules --ignore=static/vendor
messages: venv
	DJANGO_SETTINGS_MODULE=config.settings.local $(VENV)/bin/python manage.py makemessages -l fr $(I18N_IGNORE)
	DJANGO_SETTINGS_MODULE=config.settings.local $(VENV)/bin/python manage.py compilemessages $(I18N_IGNORE)

bench:
	@bash scripts/bench.sh

# Faults injected into a running multi-process platform, then its convergence checked
# (scripts/chaos.py; apps/docs/content/production.md, "Chaos drill"). It starts its own
# PostgreSQL and Redis and uses RabbitMQ on 127.0.0.1:5672; without them it prints "skipped".
chaos: venv
	DJANGO_SETTINGS_MODULE=config.settings.test $(VENV)/bin/python scripts/chaos.py

# The SDK's generated core follows the API: run after any API change
# (tests/clients/test_sdk_drift.py fails until then).
clients: venv
	@bash scripts/clients.sh

# Production packaging (deploy/, apps/docs/content/production.md).
image:
	@bash scripts/image.sh

# Engine images from Debian's packages, for a host with no registry.
engine-images:
	@bash scripts/engine_images.sh

compose-test:
	@bash scripts/compose_test.sh

backup:
	@bash scripts/backup.sh

restore:
	@bash scripts/restore.sh "$(BACKUP)"

clean:
	rm -rf var
