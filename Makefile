# Opus Adgang. `make run` to try it, `make test` to test it. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# Local development defaults; production sets its own environment (README.md).
DEV_ENV := DJANGO_DEBUG=1

.PHONY: install install-prod run test lint seed worker webhook-worker beat messages clean

$(VENV)/.installed: requirements.txt requirements-dev.txt package.json package-lock.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	npm ci --no-audit --no-fund --loglevel=error
	@ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || \
	  echo "NOTE: Debian's libharfbuzz-subset0 is not installed; PDF rendering will be slower (apt-get install libharfbuzz-subset0)."
	touch $@

install: $(VENV)/.installed

# Production: the pinned runtime packages only (requirements.txt) and the front-end packages the pages
# use (dkfds, htmx.org); no test or lint tools, no npm dev dependencies (axe-core). README.md, "Run it in production".
install-prod:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	npm ci --omit=dev --no-audit --no-fund --loglevel=error
	@ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || \
	  echo "NOTE: Debian's libharfbuzz-subset0 is not installed; PDF rendering will be slower (apt-get install libharfbuzz-subset0)."

# `make run PORT=8080` serves on another port; SITE_URL (the links in e-mails) follows it unless set. The
# demo's own MitID Erhverv broker and Entra ID (manage.py demo_identity_provider) stay on ports 8001 and
# 8002, the issuers seed_demo records on the demo users. Beside the server run the identity provider and
# the beat schedule (manage.py run_schedule: without a broker nothing else retries a failed e-mail or
# webhook); all three stop together.
PORT ?= 8000
SITE_URL ?= http://127.0.0.1:$(PORT)
RUN_ENV = $(DEV_ENV) SITE_URL=$(SITE_URL)
run: install
	$(if $(filter 8001 8002,$(PORT)),$(error PORT=$(PORT) is the demo identity provider's (8001 and 8002): choose another))
	$(RUN_ENV) $(PY) manage.py migrate --no-input
	$(RUN_ENV) $(PY) manage.py seed_demo
	$(RUN_ENV) $(PY) manage.py demo_identity_provider & provider=$$!; \
	  $(RUN_ENV) $(PY) manage.py run_schedule & schedule=$$!; \
	  trap 'kill $$provider $$schedule 2>/dev/null' EXIT INT TERM; \
	  $(RUN_ENV) DEMO_IDENTITY_PROVIDER=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

seed: install
	$(RUN_ENV) $(PY) manage.py seed_demo

# The checks first, so CI (.ci/run calls `make test`) fails on them too; then the suite. The tests marked
# `processes` start Celery workers and brokers of their own and mostly wait for them (a redispatch window, a
# broker coming back): they run in a second pytest beside the rest, with a test database of their own
# (OPUS_TEST_DATABASE_SUFFIX, tests/conftest.py); its output, in a file of this run's own, follows the rest's.
# Its exit 5 is "no test selected" (PYTEST_ARGS naming other tests); either run failing fails `make test`.
test: lint
	@set +e; log=$$(mktemp); \
	  OPUS_TEST_DATABASE_SUFFIX=processes $(PY) -m pytest -m processes -p no:cacheprovider $(PYTEST_ARGS) \
	    > $$log 2>&1 & side=$$!; \
	  $(PY) -m pytest -m "not processes" $(PYTEST_ARGS); rest=$$?; \
	  wait $$side; processes=$$?; [ $$processes = 5 ] && processes=0; \
	  echo "=== the tests that start processes of their own (pytest -m processes), run beside the rest: exit $$processes"; \
	  cat $$log; rm -f $$log; \
	  [ $$rest = 0 ] && [ $$processes = 0 ]

# The checks alone: lint, formatting, the import contracts in .importlinter, migrations in step with the models.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo --no-cache  # no shared cache: CI runs two `make test` at once
	$(DEV_ENV) $(PY) manage.py makemigrations --check --dry-run

# Two workers, as in production (README.md, deploy/systemd/): every job but webhooks on the default queue,
# webhook deliveries on their own, so a slow receiver never holds up a render or an e-mail.
worker: install
	$(VENV)/bin/celery -A config worker --queues=celery --hostname=default@%h --loglevel=INFO

webhook-worker: install
	$(VENV)/bin/celery -A config worker --queues=webhooks --hostname=webhooks@%h --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A config beat --loglevel=INFO

# After changing user-facing text (needs GNU gettext): makemessages adds the new texts to
# locale/da/LC_MESSAGES/django.po and keeps every translation already there; write the Danish for the
# new (empty or fuzzy) entries in django.po itself, then run this again to compile.
# tests/test_translations.py fails while any entry lacks its Danish.
messages: install
	$(DEV_ENV) $(PY) manage.py makemessages -l da --no-obsolete --ignore=node_modules --ignore=.venv --ignore=tests
	$(DEV_ENV) $(PY) manage.py compilemessages --ignore=node_modules --ignore=.venv

clean:
	rm -rf $(VENV) node_modules staticfiles
