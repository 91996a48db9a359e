#!/usr/bin/env bash
# Build the collection artifact into build/, check that no development files leaked into it,
# install it into a scratch collections path and run ansible-doc on every module (and on the
# onboarding role) from the installed artifact. Fails on any error or warning.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
use_venv
cd "${REPO_ROOT}"

FQCN="${COLLECTION_NAMESPACE}.${COLLECTION_NAME}"
VERSION="${COLLECTION_VERSION}"
TARBALL="build/${COLLECTION_NAMESPACE}-${COLLECTION_NAME}-${VERSION}.tar.gz"

log "ansible-galaxy collection build -> ${TARBALL}"
mkdir -p build
ansible-galaxy collection build --force --output-path build/ .
[[ -f "${TARBALL}" ]] || die "expected artifact ${TARBALL} was not created"

# Development-only paths (see build_ignore in galaxy.yml) must not be in the artifact.
leaked="$(tar -tzf "${TARBALL}" | sed 's|^\./||' |
    grep -E '^(\.venv|\.nox|\.ansible|\.ci|\.git[^/]*|\.pytest_cache|build|requirements|scripts|benchmarks|tests/output)(/|$)|(^|/)__pycache__/|\.pyc$|^tests/integration/inventory$|^changelogs/\.plugin-cache\.yaml$|^(Makefile|noxfile\.py|antsibull-nox\.toml|ruff\.toml|mypy\.ini)$|\.tar\.gz$' || true)"
[[ -z "${leaked}" ]] || die "development files leaked into ${TARBALL} (extend build_ignore in galaxy.yml):
${leaked}"
# The listing is read once: `tar | grep -q` fails under pipefail when grep stops reading early (SIGPIPE).
listing="$(tar -tzf "${TARBALL}" | sed 's|^\./||')"
for required in MANIFEST.json FILES.json README.md LICENSE meta/runtime.yml; do
    grep -qxF "${required}" <<<"${listing}" || die "${required} is missing from ${TARBALL}"
done
log "artifact contents ok ($(wc -l <<<"${listing}") entries)"

make_tmpdir WORK
# Only the installed artifact must be visible to ansible-doc (not the checkout).
export ANSIBLE_COLLECTIONS_PATH="${WORK}/collections"
export ANSIBLE_NOCOLOR=1
log "installing ${TARBALL} into ${WORK}/collections"
ansible-galaxy collection install --offline --force -p "${WORK}/collections" "${TARBALL}"
cd "${WORK}"

errors=0
# ansible_doc TYPE NAME: run ansible-doc, fail on a non-zero exit or any warning/error output.
ansible_doc() {
    local type=$1 name=$2 out
    if ! out="$(ansible-doc -t "${type}" "${name}" 2>&1)"; then
        printf 'ERROR: ansible-doc -t %s %s failed:\n%s\n' "${type}" "${name}" "${out}" >&2
        errors=$((errors + 1))
    elif grep -qE '\[(WARNING|ERROR)\]|^ERROR|WARNING:' <<<"${out}"; then
        printf 'ERROR: ansible-doc -t %s %s reported problems:\n%s\n' "${type}" "${name}" \
            "$(grep -E '\[(WARNING|ERROR)\]|^ERROR|WARNING:' <<<"${out}")" >&2
        errors=$((errors + 1))
    else
        log "ansible-doc -t ${type} ${name}: ok"
    fi
}

shopt -s nullglob
modules=()
for path in "${REPO_ROOT}"/plugins/modules/*.py; do
    base="$(basename "${path}" .py)"
    [[ "${base}" == _* ]] || modules+=("${base}")
done
shopt -u nullglob
[[ ${#modules[@]} -gt 0 ]] || die "no modules found in plugins/modules/"
for module in "${modules[@]}"; do
    ansible_doc module "${FQCN}.${module}"
done
for role_dir in "${REPO_ROOT}"/roles/*/; do
    [[ -d "${role_dir}" ]] && ansible_doc role "${FQCN}.$(basename "${role_dir}")"
done

# Every module must be listed for the collection (i.e. loadable from the artifact).
listed="$(ansible-doc -t module -l "${FQCN}" 2>/dev/null | awk '{print $1}' | sort)"
for module in "${modules[@]}"; do
    grep -qxF "${FQCN}.${module}" <<<"${listed}" || {
        printf 'ERROR: %s is not listed by ansible-doc -l %s\n' "${FQCN}.${module}" "${FQCN}" >&2
        errors=$((errors + 1))
    }
done

[[ ${errors} -eq 0 ]] || die "${errors} ansible-doc check(s) failed"
log "build passed: ${TARBALL}"
