# The two commands the README promises do all set-up on a fresh machine:
#   make demo   -> Debian packages, .venv, the project, then the simulator demo
#   make test   -> the same set-up, then the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python
# A prefix whose lib/ and include/ are Debian's Cyclone DDS (the binding's finder looks only in
# $CYCLONEDDS_HOME/{lib,include}, not in Debian's multiarch directory).
CYCLONEDDS_HOME := $(abspath $(VENV))/cyclonedds
STAMP := $(VENV)/.installed-stamp
DEMO_OUT ?= out/demo

.PHONY: setup demo test lint fmt check bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/install_system_deps.sh scripts/cyclonedds_prefix.sh
	bash scripts/install_system_deps.sh
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch (CPU) only serves the smplx cross-check test and users' own SMPL files; the test
	# skips without it. Pinned, and only where this workplace keeps its CPU wheel (CPython 3.11,
	# x86-64): elsewhere pip would fetch a CUDA build of several GB.
	$(PY) -c "import sys, platform; sys.exit(sys.version_info[:2] != (3, 11) or platform.machine() != 'x86_64')" \
		&& $(PY) -m pip install -q torch==2.13.0 \
		|| echo "torch 2.13.0 CPU not installed: the smplx cross-check will skip"
	$(PY) -m pip install -q -e '.[dev,systemd]'
	# The robot extra (the DDS backend, the simulator bridge and their tests): cyclonedds 0.10.2
	# built against Debian's Cyclone 0.10.2, then the SDK's types without their dependencies.
	bash scripts/cyclonedds_prefix.sh $(CYCLONEDDS_HOME)
	CYCLONEDDS_HOME=$(CYCLONEDDS_HOME) $(PY) -m pip install -q --no-binary cyclonedds -e '.[robot]'
	$(PY) -m pip install -q --no-deps unitree-sdk2py-dimos==1.0.3
	# smplx requires torch: only with the pinned one present (never let it pull another).
	$(PY) -c "import torch" 2>/dev/null && $(PY) -m pip install -q 'smplx>=0.1.28' \
		|| echo "smplx not installed: the smplx cross-check will skip"
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
