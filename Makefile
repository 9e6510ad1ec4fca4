# Two commands on a fresh machine with Python 3.11 and make:
#   make demo   sandbox -> connectors -> local DuckDB warehouse
#   make test   lint, types and the whole test suite
PY ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup demo test lint typecheck unit bench sandbox clean

$(UV):
	$(PY) -m venv .uv
	.uv/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PY)
	@touch $@

setup: $(VENV)/.synced

demo: setup
	$(VENV)/bin/python -m trastpay_demo

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

test: lint typecheck
	$(VENV)/bin/pytest

bench: setup
	$(VENV)/bin/python bench/sandbox_throughput.py

sandbox: setup
	$(VENV)/bin/trastpay-sandbox

clean:
	rm -rf $(VENV) .uv .pytest_cache .mypy_cache .ruff_cache
