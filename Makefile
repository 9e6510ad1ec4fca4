# Two commands on a fresh machine with Python 3.11 and make:
#   make demo   sandbox -> connectors -> local DuckDB warehouse
#   make test   lint, types and the whole test suite
PY ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)


.PHONY: node-deps setup demo test test-all lint typecheck unit bench reliability sandbox clean meltano dbt dist sizes bump-version

$(UV):
	$(PY) -m venv .uv
	.uv/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PY)
	@touch $@

setup: $(VENV)/.synced

# The wheel and sdist (uv build) plus one constraints file per runtime exported from uv.lock:
# what the Dockerfile, Meltano (meltano.yml's find-links) and PyAirbyte install from.
dist: setup
	rm -rf dist
	$(VENV)/bin/python scripts/runtimes.py build --out dist

# Installed size of each runtime (a clean venv per extra, from dist/); docs/packaging.md has the figures.
sizes: dist
	$(VENV)/bin/python scripts/runtimes.py sizes --dist dist

# One version for every artifact: pyproject.toml's, copied where a file cannot read it.
bump-version: setup
	@test -n "$(VERSION)" || (echo "usage: make bump-version VERSION=x.y.z" && exit 2)
	$(VENV)/bin/python scripts/bump_version.py $(VERSION)

demo: setup meltano dbt dist
	$(VENV)/bin/python -m trastpay_demo

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

# Meltano lives in its own venv (its pins clash with the SDKs'); `meltano install` then adds the
# tap (from this checkout) and the loaders from the package registry.
# requirements/meltano.txt pins its whole dependency tree (uv pip compile requirements/meltano.in).
.meltano/meltano-venv/bin/meltano: requirements/meltano.txt
	$(PY) -m venv .meltano/meltano-venv
	.meltano/meltano-venv/bin/pip install --quiet -r requirements/meltano.txt

meltano: .meltano/meltano-venv/bin/meltano

# dbt (the dbt_trastpay package) lives in its own venv too: dbt-core, dbt-duckdb, dbt-postgres and
# sqlglot pinned by requirements/dbt.txt (uv pip compile requirements/dbt.in).
.dbt/venv/bin/dbt: requirements/dbt.txt
	$(PY) -m venv .dbt/venv
	.dbt/venv/bin/pip install --quiet -r requirements/dbt.txt
	@touch $@

dbt: .dbt/venv/bin/dbt

# `make test` is what CI runs: everything but the cases marked slow (bench-sized runs);
# `make test-all` runs those too.
# newman (Postman's runner) for the collection test; the Node.js client itself has no dependencies.
clients/postman/node_modules/.bin/newman: clients/postman/package-lock.json
	npm ci --prefix clients/postman --no-audit --no-fund
	@touch $@

node-deps: clients/postman/node_modules/.bin/newman

test: lint typecheck meltano dbt node-deps
	$(VENV)/bin/pytest -m "not slow"

test-all: lint typecheck meltano dbt node-deps
	$(VENV)/bin/pytest

# The whole reliability suite (slow cases included); CI runs its representative subset via `make test`.
reliability: setup
	$(VENV)/bin/pytest tests/reliability --reliability-report docs/reliability.md

bench: setup
	$(VENV)/bin/python bench/sandbox_throughput.py
	$(VENV)/bin/python bench/run.py --sizes 100000,1000000 --latency

sandbox: setup
	$(VENV)/bin/trastpay-sandbox

clean:
	rm -rf $(VENV) .uv .pytest_cache .mypy_cache .ruff_cache dist
