#!/usr/bin/env bash
# Supported versions, proven: run tests/unit and the version-dependent part of tests/integration (the
# collection built and installed by that leg's ansible-galaxy, real ansible-playbook runs against the
# emulator) on
#   core216 - ansible-core 2.16, the requires_ansible floor (Automation Platform 2.5), Python 3.11;
#   newest  - the newest ansible-core release, on the newest Python 3.12/3.13 found (2.20+ needs 3.12).
# The main leg (ansible-core of requirements/test.txt) is `make pytest`: it runs every test. A leg here
# runs `pytest -m compat`: every unit test, and the integration tests marked compat (tests/conftest.py says
# how they are chosen): those whose outcome can depend on the ansible-core or Python version (argument
# specs and their messages, the role's argument_specs and Jinja expressions, module_defaults and the action
# group, no_log and -vvvv secret handling, warnings, check/diff display, callback output, TLS), i.e. one
# idempotence and one check/diff test per module, the role, bad input, the secrets sweep. The fault
# matrix, concurrency, the AWX, EE and benchmark tests exercise the client, the emulator and other tools,
# which do not change with ansible-core: main leg only. Each leg has its own venv under .venv-compat/
# (git-ignored), created by scripts/venv.sh from requirements/compat/<leg>.txt.
#
#   bash scripts/compat.sh            # every leg
#   bash scripts/compat.sh core216    # one leg
#
# A leg whose Python is missing is reported as SKIPPED (and listed at the end); every other failure
# fails the script.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

COMPAT_DIR="${REPO_ROOT}/.venv-compat"
PYTEST_ARGS="${PYTEST_ARGS:-}"

python_minor_ok() {  # python_minor_ok PYTHON MIN MAX: is PYTHON a working 3.MIN..3.MAX interpreter?
    "$1" -c "import sys; sys.exit(0 if (3, $2) <= sys.version_info[:2] <= (3, $3) else 1)" >/dev/null 2>&1
}

# find_python MIN MAX: the newest working python3.X (MIN <= X <= MAX) on PATH or in pyenv's versions.
find_python() {
    local min=$1 max=$2 minor candidate
    for ((minor = max; minor >= min; minor--)); do
        for candidate in "$(command -v "python3.${minor}" 2>/dev/null || true)" \
            "${PYENV_ROOT:-${HOME}/.pyenv}"/versions/3."${minor}".*/bin/python3."${minor}"; do
            if [[ -n "${candidate}" && -x "${candidate}" ]] && python_minor_ok "${candidate}" "${minor}" "${minor}"; then
                printf '%s\n' "${candidate}"
                return 0
            fi
        done
    done
    return 1
}

run_leg() {
    local leg=$1 python venv core
    case "${leg}" in
        core216) python="$(find_python 11 11)" || python="" ;;
        newest) python="$(find_python 12 13)" || python="" ;;
        *) die "unknown leg ${leg} (legs: core216 newest)" ;;
    esac
    if [[ -z "${python}" ]]; then
        log "SKIPPED leg ${leg}: no suitable Python found"
        skipped+=("${leg}")
        return 0
    fi
    venv="${COMPAT_DIR}/${leg}"
    log "leg ${leg}: ${python} -> ${venv}"
    VENV="${venv}" PYTHON="${python}" REQUIREMENTS="requirements/compat/${leg}.txt" bash "${REPO_ROOT}/scripts/venv.sh"
    core="$("${venv}/bin/python" -c 'import ansible; print(ansible.__version__)')"
    log "leg ${leg}: ansible-core ${core}, Python $("${venv}/bin/python" -c 'import platform; print(platform.python_version())')"
    # The leg's own tools (ansible-playbook, ansible-galaxy, ansible, ...) come first on PATH.
    # shellcheck disable=SC2086  # PYTEST_ARGS is a list of arguments
    (cd "${REPO_ROOT}" && PATH="${venv}/bin:${PATH}" NETBIRD_TESTS_REQUIRE_TOOLS=1 \
        "${venv}/bin/python" -m pytest -q -p xdist -n auto -p no:cacheprovider -m compat tests/unit tests/integration \
        ${PYTEST_ARGS}) ||
        die "leg ${leg} (ansible-core ${core}) failed"
    passed+=("${leg} (ansible-core ${core})")
}

legs=("$@")
[[ ${#legs[@]} -gt 0 ]] || legs=(core216 newest)
passed=()
skipped=()
for leg in "${legs[@]}"; do
    run_leg "${leg}"
done
log "compat passed: ${passed[*]:-none}${skipped[*]:+; SKIPPED (no Python): ${skipped[*]}}"
