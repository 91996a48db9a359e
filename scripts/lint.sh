#!/usr/bin/env bash
# Lint the collection: ansible-lint (production profile, offline, inside an
# ansible_collections/<namespace>/<name> copy), antsibull-changelog lint, the action group
# generator in --check mode, and shellcheck on the shell scripts sanity does not see.
# Every check runs; the script fails at the end if any of them failed.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
use_venv

failed=()
run_check() {
    local name=$1
    shift
    log "${name}"
    if "$@"; then
        log "${name}: ok"
    else
        failed+=("${name}")
        printf 'FAILED: %s\n' "${name}" >&2
    fi
}

ansible_lint() {
    local work collection_dir
    make_tmpdir work
    collection_dir="$(copy_collection "${work}")" || return 1
    (
        cd "${collection_dir}" || exit 1
        ANSIBLE_COLLECTIONS_PATH="${work}" ANSIBLE_LINT_SKIP_VERSION_CHECK=1 \
            ansible-lint --profile production --offline --nocolor
    )
}

changelog_lint() { (cd "${REPO_ROOT}" && antsibull-changelog lint); }
shell_lint() { (cd "${REPO_ROOT}" && shellcheck -x .ci/run scripts/*.sh); }

run_check "ansible-lint (production profile)" ansible_lint
run_check "antsibull-changelog lint" changelog_lint
run_check "action group is up to date (scripts/gen_action_group.py --check)" \
    python "${REPO_ROOT}/scripts/gen_action_group.py" --check
run_check "shellcheck (.ci/run and scripts/*.sh)" shell_lint

if [[ ${#failed[@]} -gt 0 ]]; then
    printf 'lint FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
log "lint passed"
