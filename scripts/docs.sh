#!/usr/bin/env bash
# The documentation site: render the collection as built and installed by ansible-galaxy with
# antsibull-docs sphinx-init + Sphinx, offline. Output: build/docs/html. Fails on any Sphinx warning,
# except references to labels of the Ansible documentation itself (intersphinx is off: no network
# here), which are listed. (antsibull-nox's docs-check session, run by `make docs` first, lints the
# docs; it has no site build.)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
use_venv

FQCN="${COLLECTION_NAMESPACE}.${COLLECTION_NAME}"
OUT="${REPO_ROOT}/build/docs"
make_tmpdir WORK
COLLECTION_DIR="$(copy_collection "${WORK}/src")"
export ANSIBLE_NOCOLOR=1

log "building and installing the collection artifact"
export ANSIBLE_COLLECTIONS_PATH="${WORK}/installed"
ansible-galaxy collection build --force --output-path "${WORK}/dist" "${COLLECTION_DIR}" >/dev/null
ansible-galaxy collection install --offline --force -p "${WORK}/installed" "${WORK}"/dist/*.tar.gz >/dev/null

log "antsibull-docs sphinx-init"
SITE="${WORK}/site"
mkdir -m 700 "${SITE}"
antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "${SITE}" \
    --project "${FQCN}" --copyright "${FQCN} contributors" \
    --title "${FQCN} documentation" --html-short-title "${FQCN}" "${FQCN}" >/dev/null
# No network: intersphinx inventories cannot be fetched, so intersphinx is switched off.
printf '\n# scripts/docs.sh: offline build\nintersphinx_mapping = {}\n' >>"${SITE}/conf.py"

log "antsibull-docs collection (RST from the installed collection)"
chmod og-w "${SITE}/rst"  # antsibull-docs wants the directory writable only by its owner
(
    cd "${SITE}"
    # sphinx-init wrote rst/ with the index; the collection pages go next to it.
    antsibull-docs --config-file antsibull-docs.cfg collection --use-current --fail-on-error \
        --cleanup everything --dest-dir rst "${FQCN}"
)

log "sphinx-build (html)"
rm -rf -- "${OUT}"
mkdir -p -- "${OUT}"
warnings="${WORK}/sphinx-warnings.txt"
sphinx-build -M html "${SITE}/rst" "${WORK}/sphinx" -c "${SITE}" -q -w "${warnings}" --keep-going 2>/dev/null ||
    die "sphinx-build failed; warnings:
$(cat "${warnings}" 2>/dev/null)"
cp -r "${WORK}/sphinx/html" "${OUT}/html"

# Undefined labels outside this collection belong to the Ansible docs (reachable only with
# intersphinx); anything else, such as a broken reference between our own pages, fails.
external='WARNING: undefined label: '"'"'[^'"'"']*'"'"' \[ref\.ref\]$'
own="undefined label: 'ansible_collections\\.${COLLECTION_NAMESPACE}\\.${COLLECTION_NAME}\\."
problems="$(grep -v '^[[:space:]]*$' "${warnings}" | { grep -vE "${external}" || true; })"
problems+="$(grep -E "${own}" "${warnings}" || true)"
if [[ -n "${problems}" ]]; then
    die "Sphinx warnings:
${problems}"
fi
ignored="$(grep -cE "${external}" "${warnings}" || true)"
log "ignored ${ignored} reference(s) to the Ansible documentation (offline): $(grep -oE "undefined label: '[^']*'" "${warnings}" | sort -u | sed "s/undefined label: //" | paste -sd' ' -)"
[[ -f "${OUT}/html/index.html" && -f "${OUT}/html/collections/${COLLECTION_NAMESPACE}/${COLLECTION_NAME}/index.html" ]] ||
    die "the rendered site lacks its index pages"
log "docs passed: ${OUT}/html/index.html"
