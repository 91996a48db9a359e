#!/usr/bin/env bash
# Release dry run: everything a release does, in a scratch copy of the collection, nothing in the
# checkout (the changelog fragments stay where they are):
#   1. antsibull-changelog release --version <galaxy.yml version>: changelogs/changelog.yaml and
#      CHANGELOG.rst are generated and linted (if that version is released already, the existing
#      changelog is linted and no fragment may be pending);
#   2. scripts/build.sh of the released copy: build the artifact, install it into a scratch path and
#      run ansible-doc on every module and the role;
#   3. antsibull-nox's build-import-check session on the released copy: galaxy-importer on its artifact
#      (what Galaxy / Automation Hub run on upload, its ansible-lint step included; settings in
#      scripts/galaxy-importer.cfg, without the Docker-only ansible-test step); any ERROR or WARNING line
#      of its log fails the check (Galaxy shows them to every user), and so does a log without the lint step.
# The artifact and the generated CHANGELOG.rst are left in build/release/ for inspection.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
use_venv

VERSION="${COLLECTION_VERSION}"
OUT="${REPO_ROOT}/build/release"
make_tmpdir WORK
REL="$(copy_collection "${WORK}/src")"
export ANSIBLE_NOCOLOR=1

# -- 1. changelog -------------------------------------------------------------------------------
cd "${REL}"
log "antsibull-changelog lint (fragments)"
antsibull-changelog lint
shopt -s nullglob
pending=(changelogs/fragments/*.yml changelogs/fragments/*.yaml)
shopt -u nullglob
released="$(python -c 'import sys, yaml; print(sys.argv[2] in (yaml.safe_load(open(sys.argv[1])).get("releases") or {}))' \
    changelogs/changelog.yaml "${VERSION}")"
if [[ "${released}" == True ]]; then
    [[ ${#pending[@]} -eq 0 ]] ||
        die "version ${VERSION} is released already but ${#pending[@]} changelog fragment(s) are pending: bump version in galaxy.yml"
    log "version ${VERSION} is released already; checking the existing changelog"
    [[ -f CHANGELOG.rst ]] || antsibull-changelog generate
else
    [[ ${#pending[@]} -gt 0 ]] || die "no changelog fragments for the unreleased version ${VERSION}"
    log "antsibull-changelog release --version ${VERSION} (${#pending[@]} fragment(s))"
    antsibull-changelog release --version "${VERSION}"
    shopt -s nullglob
    left=(changelogs/fragments/*.yml changelogs/fragments/*.yaml)
    shopt -u nullglob
    [[ ${#left[@]} -eq 0 ]] || die "fragments left after the release: ${left[*]}"
fi
antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
python - "${VERSION}" <<'PYEOF'
import sys
import yaml
version = sys.argv[1]
with open("changelogs/changelog.yaml", encoding="utf-8") as handle:
    release = (yaml.safe_load(handle).get("releases") or {}).get(version)
if not release or not release.get("release_date"):
    sys.exit("changelogs/changelog.yaml has no dated release %s" % version)
with open("CHANGELOG.rst", encoding="utf-8") as handle:
    text = handle.read()
if "v%s" % version not in text:
    sys.exit("CHANGELOG.rst has no section for v%s" % version)
print("==> changelog ok: release %s of %s, %d change kind(s)" % (version, release["release_date"], len(release.get("changes") or {})),
      file=sys.stderr)
PYEOF

# -- 2. build, install, ansible-doc ---------------------------------------------------------------
log "scripts/build.sh on the released copy"
bash "${REL}/scripts/build.sh"
TARBALL="${REL}/build/${COLLECTION_NAMESPACE}-${COLLECTION_NAME}-${VERSION}.tar.gz"
contents="$(tar -tzf "${TARBALL}")"
grep -qxE '(\./)?CHANGELOG\.rst' <<<"${contents}" || die "CHANGELOG.rst is missing from the artifact"

# -- 3. build-import-check (antsibull-nox): build, galaxy-importer --------------------------------
# The released copy's own noxfile, with the checkout's session venvs (.nox/). antsibull-nox fails on
# an importer failure and only warns on its ERROR lines; any ERROR or WARNING from the importer fails here.
log "nox -e build-import-check on the released copy"
importer_log="${WORK}/build-import-check.log"
status=0
# shellcheck disable=SC2086  # NOX_ARGS is a list of arguments
(cd "${REL}" && "${VENV}/bin/nox" ${NOX_ARGS:-} --envdir "${REPO_ROOT}/.nox" -e build-import-check) >"${importer_log}" 2>&1 ||
    status=$?
cat "${importer_log}" >&2
[[ ${status} -eq 0 ]] || die "build-import-check failed (exit ${status})"
# The importer logs INFO lines bare and everything else as "LEVEL: message" (ansible-lint's findings, for
# example "WARNING: examples/x.yml:31:7: syntax-check[unknown-module]: ..."); antsibull-nox indents them.
problems="$(grep -vE '^nox > (Running|Creating|python -m pip|Re-using|Session)' "${importer_log}" |
    grep -iE '^\s*(WARNING|ERROR|CRITICAL):|(^|[^a-z])(warning|error)[: ]|non-fatal error' || true)"
[[ -z "${problems}" ]] || die "galaxy-importer reported problems (Galaxy's import log would show them to every user):
${problems}"
if ! grep -q 'Linting collection via ansible-lint' "${importer_log}" || ! grep -q 'ansible-lint run complete' "${importer_log}"; then
    die "galaxy-importer did not run its ansible-lint step (run_ansible_lint in scripts/galaxy-importer.cfg)"
fi
grep -q 'Importer processing completed successfully' "${importer_log}" || die "galaxy-importer did not complete"

rm -rf -- "${OUT}"
mkdir -p -- "${OUT}"
cp -- "${TARBALL}" "${REL}/CHANGELOG.rst" "${REL}/changelogs/changelog.yaml" "${OUT}/"
log "release-check passed for ${COLLECTION_NAMESPACE}.${COLLECTION_NAME} ${VERSION}: ${OUT}"
