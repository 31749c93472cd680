# Front Door. Two commands do everything on a fresh machine:
#   make run    install, migrate, build assets and start everything on http://127.0.0.1:8000
#   make test   install (browser included) and run every check and test
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

PYTHON_BASE ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PY := .venv/bin/python
PYBABEL := .venv/bin/pybabel
CHROMIUM ?= /usr/bin/chromium
# Rasa Open Source 3.6 runs on Python 3.10 only: pyenv's when there is one, else uv fetches it.
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
BOT_PYTHON_BASE ?= $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.10.*/bin/python)))
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help setup run test lint typecheck pytest unit e2e migrate assets translations extract \
        update-translations browser haproxy bench volume bot bot-accuracy deploy-check scale-test clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON_BASE) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON_BASE)
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The script copies DejaVu Sans too; it is cut to the scripts PDFs draw (portal/i18n/fonts.py).
build/static/manifest.json: node_modules/.installed .venv/.synced scripts/build-assets.mjs $(shell find assets -type f)
	node scripts/build-assets.mjs
	$(PY) -m portal.i18n.fonts build/fonts

build/fonts/DejaVuSans.ttf: node_modules/.installed .venv/.synced portal/i18n/fonts.py
	node scripts/build-assets.mjs
	$(PY) -m portal.i18n.fonts build/fonts

assets: build/static/manifest.json build/fonts/DejaVuSans.ttf ## build CSS (LTR and RTL), JS and images into build/static

translations: .venv/.synced ## compile locales/*/LC_MESSAGES/messages.po into .mo
	@$(PYBABEL) compile -d locales --statistics 2>&1 | grep -v '^compiling'

extract: .venv/.synced ## extract translatable strings into locales/messages.pot
	PYTHONPATH=. $(PYBABEL) extract -F babel.cfg -k _l -k lazy_gettext -k plural_texts:1,2 --sort-by-file --no-wrap \
	  --project "Front Door" --copyright-holder "City of Riverside" -o locales/messages.pot .

update-translations: extract ## merge new strings from the .pot into every language's .po
	$(PYBABEL) update -i locales/messages.pot -d locales --no-wrap --ignore-obsolete --previous

chatbot/.venv/.synced: chatbot/requirements.txt | $(UV)
	rm -rf chatbot/.venv
	@if [ -n "$(BOT_PYTHON_BASE)" ]; then \
	  $(UV) venv --quiet --python "$(BOT_PYTHON_BASE)" chatbot/.venv; \
	else \
	  UV_PYTHON_DOWNLOADS=automatic $(UV) python install 3.10 && \
	  $(UV) venv --quiet --python 3.10 chatbot/.venv; \
	fi
	$(UV) pip sync --quiet --compile-bytecode --python chatbot/.venv/bin/python chatbot/requirements.txt
	@touch $@

bot: .venv/.synced chatbot/.venv/.synced ## install the bot's Python 3.10 environment; train it if its data changed
	$(PY) scripts/bot.py train

bot-accuracy: bot ## per language, on held-out examples: skills accuracy (>= 0.97) and out-of-scope rate (>= 0.90)
	$(PY) scripts/bot.py accuracy

setup: .venv/.synced assets translations ## install everything the portal needs (no browser)
	@# Bytecode made once: with PYTHONDONTWRITEBYTECODE (set on CI) every process would compile
	@# every module it imports again (1.8 s of a worker's 2.9 s start).
	@$(PY) -m compileall -q -j0 portal backend_clients scripts

migrate: setup ## apply database migrations (FRONTDOOR_DATABASE_URL, SQLite under var/ by default)
	$(PY) -m portal check
	.venv/bin/alembic upgrade head

run: migrate bot ## set up, then start the portal, its worker, the bot and the sandbox in the foreground
	@echo "Front Door: http://127.0.0.1:$${FRONTDOOR_PORT:-8000}  (sandbox: http://127.0.0.1:8100)"
	.venv/bin/honcho start -f Procfile

browser: ## install Debian's Chromium for the browser tests when it is missing
	@command -v $(CHROMIUM) >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }

haproxy: ## install Debian's HAProxy for the several-replica test when it is missing
	@command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends haproxy; }

lint: .venv/.synced ## ruff
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: .venv/.synced ## mypy (strict) on portal/ and backend_clients/
	.venv/bin/mypy

unit: setup ## the unit and integration suites only
	$(PY) -m pytest tests

e2e: setup bot browser haproxy ## the browser and bot tests only
	$(PY) -m pytest e2e

# The in-process suites on two pytest-xdist processes (tests that share a Redis database or a
# port run on one, by xdist_group) side by side with the browser and bot suite: that one mostly
# waits on browsers and servers (under one core of CPU), so beside tests/ it fills the idle core
# (a fresh clone here: e2e/ 684 s beside tests/ 548 s). tests/ writes to var/unit.log, shown
# when both are done; either failing fails.
test: setup bot browser haproxy lint typecheck ## every check and test: lint, types, unit, integration, browser, bot
	@mkdir -p var
	@$(PY) -m pytest tests -n 2 --dist loadgroup > var/unit.log 2>&1 & unit=$$!; \
	  $(PY) -m pytest e2e && e2e=0 || e2e=$$?; \
	  wait $$unit && unit=0 || unit=$$?; \
	  echo "=== tests/ (in-process suites), run beside e2e/ ==="; cat var/unit.log; \
	  echo "e2e/ exit $$e2e, tests/ exit $$unit"; \
	  [ $$e2e = 0 ] && [ $$unit = 0 ]

# As production runs: PostgreSQL and Redis (this machine's); `make bench BENCH_ARGS=` for SQLite.
BENCH_ARGS ?= --postgres postgresql+psycopg://postgres@127.0.0.1:5432 --redis-url redis://127.0.0.1:6379/15

bench: setup ## throughput of pages against a bare route, as ratios from one run (needs wrk)
	@command -v wrk >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends wrk; }
	$(PY) scripts/bench.py $(BENCH_ARGS)

# A city's database for `make bench` to measure pages at volume: `make volume`, then
# `make bench BENCH_ARGS="$(BENCH_ARGS) --volume frontdoor_volume"`; VOLUME_ARGS="--scale 0.01".
VOLUME_ARGS ?=

volume: setup ## load a city (1M citizens, 2M applications, 20M timeline events) into the throwaway database frontdoor_volume
	$(PY) scripts/volume.py $(VOLUME_ARGS)

# 1,000 applications and 500 texts over 2 portals (HAProxy), 2 workers and 2 Rasa servers while
# processes are killed and departments fail; `make scale-test SCALE_ARGS="--applications 30"`.
SCALE_ARGS ?=

scale-test: setup bot haproxy ## several replicas under kills and faults: prints lost, duplicated and out-of-order (all must be 0)
	$(PY) scripts/scale_test.py $(SCALE_ARGS)

deploy-check: .venv/.synced ## render deploy/ without kustomize; check it against Kubernetes 1.31's schemas and the production settings
	$(PY) scripts/deploy_check.py

clean: ## remove what setup built (keeps var/, the local database)
	rm -rf .venv .tools node_modules build
