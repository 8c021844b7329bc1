# The two commands the README promises do all set-up on a fresh machine:
#   make demo   -> Debian packages, .venv, the project, then the simulator demo
#   make test   -> the same set-up, then the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_OUT ?= out/demo

.PHONY: setup demo test lint fmt check bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/install_system_deps.sh
	bash scripts/install_system_deps.sh
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/exoactor-edge demo --out $(DEMO_OUT)

test: setup
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

fmt: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check: lint test

bench: setup
	$(PY) scripts/bench_loop.py --seconds 30

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
