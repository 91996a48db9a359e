# shellcheck shell=bash
# Shared helpers for the scripts in this directory; source it, do not run it.
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Repository (= collection) root, independent of the caller's working directory.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-${REPO_ROOT}/.venv}"
[[ "${VENV}" == /* ]] || VENV="${REPO_ROOT}/${VENV}"
COLLECTION_NAMESPACE="$(sed -n 's/^namespace:[[:space:]]*\([a-z0-9_]*\).*/\1/p' "${REPO_ROOT}/galaxy.yml")"
COLLECTION_NAME="$(sed -n 's/^name:[[:space:]]*\([a-z0-9_]*\).*/\1/p' "${REPO_ROOT}/galaxy.yml")"
# The version is kept only in galaxy.yml.
COLLECTION_VERSION="$(sed -n "s/^version:[[:space:]]*[\"']\{0,1\}\([0-9A-Za-z.+-]*\).*/\1/p" "${REPO_ROOT}/galaxy.yml")"
[[ -n "${COLLECTION_NAMESPACE}" && -n "${COLLECTION_NAME}" && -n "${COLLECTION_VERSION}" ]] ||
    { printf 'ERROR: cannot read namespace, name and version from %s\n' "${REPO_ROOT}/galaxy.yml" >&2; exit 1; }
export REPO_ROOT VENV COLLECTION_NAMESPACE COLLECTION_NAME COLLECTION_VERSION

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Put the project venv first on PATH (ansible-*, shellcheck, antsibull-changelog).
use_venv() {
    [[ -x "${VENV}/bin/python" ]] || die "no virtualenv at ${VENV}; run 'make venv' (or bash scripts/venv.sh) first"
    PATH="${VENV}/bin:${PATH}"
    export PATH
}

# make_tmpdir VAR: create a scratch directory, store its path in VAR and remove it on exit
# (set KEEP_TMP=1 to keep it for debugging).
_TMPDIRS=()
_cleanup_tmpdirs() {
    local d
    if [[ "${KEEP_TMP:-0}" == 1 ]]; then
        for d in "${_TMPDIRS[@]}"; do log "kept ${d}"; done
        return 0
    fi
    for d in "${_TMPDIRS[@]}"; do rm -rf -- "${d}"; done
}
make_tmpdir() {
    local __var=$1 __dir
    __dir="$(mktemp -d "${TMPDIR:-/tmp}/netbird-collection.XXXXXX")"
    _TMPDIRS+=("${__dir}")
    trap _cleanup_tmpdirs EXIT
    printf -v "${__var}" '%s' "${__dir}"
}

# list_collection_files: the files that make up the working tree of the collection:
# tracked + untracked-but-not-ignored (git), NUL separated, relative to REPO_ROOT.
# Without git (e.g. an unpacked archive) every file except local/generated output is listed.
list_collection_files() {
    if git -C "${REPO_ROOT}" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        local f
        git -C "${REPO_ROOT}" ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' f; do
                # tracked files deleted in the working tree are skipped
                if [[ -e "${REPO_ROOT}/${f}" || -L "${REPO_ROOT}/${f}" ]]; then printf '%s\0' "${f}"; fi
            done
    else
        (cd "${REPO_ROOT}" && find . \( -path ./.git -o -path ./.venv -o -path ./.venv-compat -o -path ./.nox -o -path ./build -o -path ./tests/output \
            -o -path ./.ansible -o -name __pycache__ -o -name .pytest_cache \) -prune -o \( -type f -o -type l \) -print0 |
            sed -z 's|^\./||')
    fi
}

# copy_collection BASE: copy the collection into BASE/ansible_collections/<namespace>/<name>
# (ansible-test and ansible-lint need that layout; a symlink does not work) and print that path.
copy_collection() {
    local base=$1 dest
    dest="${base}/ansible_collections/${COLLECTION_NAMESPACE}/${COLLECTION_NAME}"
    rm -rf -- "${dest}"
    mkdir -p -- "${dest}"
    list_collection_files | (cd "${REPO_ROOT}" && tar --null -cf - -T -) | tar -xf - -C "${dest}"
    printf '%s\n' "${dest}"
}
