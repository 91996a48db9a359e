# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Execution environment: the collection's meta/execution-environment.yml and the examples in examples/ee.

There is no container engine here, so the image is not built. Instead the test does what the
build would do, stage by stage, on this machine: ``ansible-builder create`` writes the build
context from the example definition; the galaxy stage's ``ansible-galaxy collection install -r
requirements.yml`` runs in the context's ``_build`` directory; the builder stage's
``introspect.py`` (from the context) collects the collections' Python requirements, which must
bring ``requests``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from nb_awx import require_tool
from nb_testlib import REPO, bin_path

EXAMPLES = os.path.join(REPO, "examples", "ee")
DEFINITIONS = ["execution-environment.yml", "execution-environment-community.yml"]


def _galaxy_version():
    with open(os.path.join(REPO, "galaxy.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["version"]


def _run(cmd, cwd=None):
    proc = subprocess.run([str(part) for part in cmd], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, "%s failed (%s):\n%s\n%s" % (cmd, proc.returncode, proc.stdout, proc.stderr)
    return proc


def _python_requirements(text):
    """Package names of a pip requirements text, comments and blank lines dropped."""
    names = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(re.split(r"[<>=!~\[;\s]", line, maxsplit=1)[0].lower())
    return names


def test_collection_metadata_lists_requests():
    with open(os.path.join(REPO, "meta", "execution-environment.yml"), encoding="utf-8") as handle:
        meta = yaml.safe_load(handle)
    deps = meta["dependencies"]
    for key in ("python", "system"):
        assert not os.path.isabs(deps[key]), "ansible-builder needs paths relative to the collection root"
        assert os.path.isfile(os.path.join(REPO, deps[key])), deps[key]
    with open(os.path.join(REPO, deps["python"]), encoding="utf-8") as handle:
        assert _python_requirements(handle.read()) == ["requests"]


def test_example_requirements_match_the_collection_version():
    with open(os.path.join(EXAMPLES, "requirements.yml"), encoding="utf-8") as handle:
        collections = yaml.safe_load(handle)["collections"]
    assert collections == [{"name": "collections/netbird_ops-netbird-%s.tar.gz" % _galaxy_version(), "type": "file"}], \
        "examples/ee/requirements.yml must name the artifact of the version in galaxy.yml"


def test_introspect_installed_collection(collections_path):
    builder = require_tool("ansible-builder")
    proc = _run([builder, "introspect", "--sanitize", collections_path])
    data = yaml.safe_load(proc.stdout.split("---", 1)[1])
    assert data["python"] == ["requests  # from collection netbird_ops.netbird"], proc.stdout
    assert not data.get("system"), proc.stdout


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_build_context_from_example(definition, collection_tarball, tmp_path):
    builder = require_tool("ansible-builder")
    # The example refers to ../../build/ for the artifact of `make build`; recreate that layout.
    examples = tmp_path / "repo" / "examples" / "ee"
    shutil.copytree(EXAMPLES, str(examples))
    (tmp_path / "repo" / "build").mkdir()
    shutil.copy(collection_tarball, str(tmp_path / "repo" / "build"))
    context = tmp_path / "context"
    _run([builder, "create", "-f", examples / definition, "-c", context, "--output-filename", "Containerfile"])

    with open(str(examples / definition), encoding="utf-8") as handle:
        ee = yaml.safe_load(handle)
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    assert 'ARG EE_BASE_IMAGE="%s"' % ee["images"]["base_image"]["name"] in containerfile
    assert "ansible-galaxy collection install" in containerfile and "introspect.py introspect" in containerfile
    build = context / "_build"
    assert (build / "requirements.yml").read_text(encoding="utf-8") == (examples / "requirements.yml").read_text(encoding="utf-8")
    assert (build / "collections" / os.path.basename(collection_tarball)).is_file()

    # Galaxy stage: `COPY _build /build; WORKDIR /build; ansible-galaxy collection install -r requirements.yml`.
    installed = tmp_path / "usr-share-ansible" / "collections"
    _run([bin_path("ansible-galaxy"), "collection", "install", "--offline", "-r", "requirements.yml",
          "--collections-path", installed], cwd=str(build))
    assert (installed / "ansible_collections" / "netbird_ops" / "netbird" / "MANIFEST.json").is_file()

    # Builder stage: the context's own introspect script writes the Python and system requirements.
    pip_file, bindep_file = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    _run([sys.executable, build / "scripts" / "introspect.py", "introspect", installed,
          "--write-pip", pip_file, "--write-bindep", bindep_file])
    assert _python_requirements(pip_file.read_text(encoding="utf-8")) == ["requests"]
    assert not bindep_file.exists(), "the collection needs no system packages"
