# Developer and CI entry points. `make test` is the single entry point used by .ci/run and
# documented in the README; it needs only python3.11 (or python3 3.11-3.13), make, git and
# access to PyPI. Each stage is also a target of its own.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
override VENV := $(abspath $(VENV))
export VENV
PYTHON := $(VENV)/bin/python
# Tools called by name from tests and scripts (ansible-playbook, ansible-doc, ...) come from the venv.
export PATH := $(VENV)/bin:$(PATH)
PYTEST_ARGS ?=
# benchmarks/scale.py arguments for `make bench` (see README, Performance)
BENCH_ARGS ?= --n 100 --n 1000 --repeat 3
# Stages of `make test`, in order.
TEST_STAGES := venv pytest sanity lint build

.PHONY: help venv test unit pytest sanity lint build demo bench clean distclean

help:
	@echo "make test       venv -> pytest (unit+contract+integration) -> sanity -> lint -> build"
	@echo "make venv       create/refresh $(VENV) from requirements/*.txt"
	@echo "make unit       unit tests only (tests/unit)"
	@echo "make pytest     the whole pytest suite (tests/), in parallel"
	@echo "make sanity     ansible-test sanity (offline, --venv, Python 3.11)"
	@echo "make lint       ansible-lint (production), changelog lint, action group check, shellcheck"
	@echo "make build      build the artifact into build/ and ansible-doc every module from it"
	@echo "make demo       run scripts/demo.py against the local NetBird API emulator"
	@echo "make bench      scale benchmark: role vs uri loop vs raw requests floor, N=100 and 1,000 (BENCH_ARGS)"
	@echo "make clean      remove generated files (distclean also removes $(VENV))"

venv:
	@bash scripts/venv.sh

# Runs every stage in order and stops at the first failure, naming it.
test:
	@total_start=$$SECONDS; \
	for stage in $(TEST_STAGES); do \
		echo "=================== make test: stage '$$stage' ==================="; \
		start=$$SECONDS; \
		if ! $(MAKE) --no-print-directory $$stage; then \
			echo "*** make test: stage '$$stage' FAILED after $$((SECONDS - start))s (stages: $(TEST_STAGES)) ***" >&2; \
			exit 1; \
		fi; \
		echo "=================== stage '$$stage' passed in $$((SECONDS - start))s ==================="; \
	done; \
	echo "make test: all stages passed ($(TEST_STAGES)) in $$((SECONDS - total_start))s"

unit: venv
	$(PYTHON) -m pytest -q tests/unit $(PYTEST_ARGS)

pytest: venv
	$(PYTHON) -m pytest -q -p xdist -n auto tests $(PYTEST_ARGS)

sanity: venv
	@bash scripts/sanity.sh

lint: venv
	@bash scripts/lint.sh

build: venv
	@bash scripts/build.sh

demo: venv
	$(PYTHON) scripts/demo.py

bench: venv
	$(PYTHON) benchmarks/scale.py $(BENCH_ARGS)

clean:
	rm -rf build/ tests/output/ .pytest_cache/ .ansible/ changelogs/.plugin-cache.yaml tests/integration/inventory
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf .venv
