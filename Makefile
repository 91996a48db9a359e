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
# Under make, tests that need a tool of the venv (ansible-runner, ansible-builder) fail instead of
# skipping when it is missing (tests/nb_awx.py require_tool).
export NETBIRD_TESTS_REQUIRE_TOOLS := 1
# benchmarks/scale.py arguments for `make bench` (see README, Performance)
BENCH_ARGS ?= --n 100 --n 1000 --n 10000 --repeat 3 --uri-limit 100 --latency 50 --rate-limit 120:1200 \
	--rate-limit 120:30@100 --accounts 8 --plot docs/docsite/rst/images/scale.png
# its own venv: the pinned test tool chain plus matplotlib for the plot (requirements/bench/bench.txt)
BENCH_VENV ?= .venv-bench
# Stages of `make test`, in order.
TEST_STAGES := venv pytest sanity lint build docs release-check compat
# The check sessions (noxfile.py, antsibull-nox.toml) run with nox from the venv; each session has its own
# venv under .nox/, reused on later runs (-r; its pinned packages are still checked).
# uv (scripts/venv.sh, and nox for its session venvs) writes no bytecode unless asked: with PYTHONDONTWRITEBYTECODE
# set, as on the CI machine, every ansible-playbook run then compiled ansible-core again (about 4 s instead of 0.6 s).
export UV_COMPILE_BYTECODE := 1
NOX := $(VENV)/bin/nox
NOX_ARGS ?= --reuse-existing-virtualenvs --no-color
export NOX_ARGS

.PHONY: help venv test unit pytest sanity lint build docs release-check compat demo demo-bootstrap bench clean distclean

help:
	@echo "make test       venv -> pytest (unit+contract+integration) -> sanity -> lint -> build -> docs -> release-check -> compat"
	@echo "make venv       create/refresh $(VENV) from requirements/*.txt"
	@echo "make unit       unit tests only (tests/unit)"
	@echo "make pytest     the whole pytest suite (tests/), in parallel"
	@echo "make sanity     nox: ansible-test sanity (offline, --venv, Python of the venv)"
	@echo "make lint       nox: yamllint, ansible-lint (production), extra checks (action group, unwanted files,"
	@echo "                whitespace, tabs); antsibull-changelog lint; shellcheck"
	@echo "make build      build the artifact into build/ and ansible-doc every module from it"
	@echo "make docs       nox: antsibull-docs lint; the rendered documentation site (build/docs/html)"
	@echo "make release-check  changelog release, build, ansible-doc, nox build-import-check (galaxy-importer), in a scratch copy"
	@echo "make compat     unit tests + the integration tests marked compat, on ansible-core 2.16 and on the newest release (.venv-compat/)"
	@echo "make demo       run scripts/demo.py against the local NetBird API emulator"
	@echo "make demo-bootstrap  day 0: examples/bootstrap.yml against the emulator started --uninitialized"
	@echo "make bench      scale benchmark: role vs uri loop vs raw floor, N=100-10,000, 50 ms link, rate limit, plot (BENCH_ARGS)"
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
	$(NOX) $(NOX_ARGS) -e ansible-test-sanity

# Every check runs; the target fails at the end if any of them failed (nox itself runs all its sessions).
lint: venv
	@failed=""; \
	$(NOX) $(NOX_ARGS) -e lint ansible-lint extra-checks license-check || failed="$$failed nox"; \
	echo "antsibull-changelog lint"; antsibull-changelog lint || failed="$$failed changelog"; \
	echo "shellcheck -x .ci/run scripts/*.sh"; shellcheck -x .ci/run scripts/*.sh || failed="$$failed shellcheck"; \
	if [ -n "$$failed" ]; then echo "lint FAILED:$$failed" >&2; exit 1; fi; echo "lint passed"

build: venv
	@bash scripts/build.sh

docs: venv
	$(NOX) $(NOX_ARGS) -e docs-check
	@bash scripts/docs.sh

release-check: venv
	@bash scripts/release-check.sh

compat:
	@bash scripts/compat.sh

demo: venv
	$(PYTHON) scripts/demo.py

demo-bootstrap: venv
	$(PYTHON) scripts/demo.py --bootstrap

bench:
	@VENV=$(abspath $(BENCH_VENV)) REQUIREMENTS="requirements/test.txt requirements/bench/bench.txt" bash scripts/venv.sh
	PATH=$(abspath $(BENCH_VENV))/bin:$$PATH $(abspath $(BENCH_VENV))/bin/python benchmarks/scale.py $(BENCH_ARGS)

clean:
	rm -rf build/ tests/output/ .pytest_cache/ .ansible/ changelogs/.plugin-cache.yaml tests/integration/inventory
	find . \( -path ./.venv -o -path ./.venv-compat -o -path ./.nox \) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf .venv .venv-compat .venv-bench .nox
