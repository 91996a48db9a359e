# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX / Automation Platform credential type (extensions/awx/credential_type_netbird.yml) injects
exactly the environment variables the modules read as fallbacks of their connection options."""

from __future__ import annotations

import os
import re
import textwrap

import pytest
import yaml
from ansible.module_utils.basic import env_fallback

from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import NetBirdClient
from ansible_collections.netbird_ops.netbird.plugins.module_utils._module import connection_argument_spec
from nb_awx import CREDENTIAL_TYPE, REPO, inject, load_credential_type

PAT = "nbp_" + "T" * 36


def _fallback_names():
    """{option: [env names]} from the connection argument spec every module uses."""
    names = {}
    for option, spec in connection_argument_spec().items():
        fallback = spec.get("fallback")
        if fallback:
            assert fallback[0] is env_fallback, option
            names[option] = list(fallback[1])
    return names


@pytest.fixture(scope="module")
def credential_type():
    return load_credential_type()


def test_shipped_in_the_collection():
    # galaxy.yml build_ignore must not drop it: it is documented as part of the collection.
    with open(os.path.join(REPO, "galaxy.yml"), encoding="utf-8") as handle:
        ignored = yaml.safe_load(handle).get("build_ignore", [])
    relative = os.path.relpath(CREDENTIAL_TYPE, REPO)
    assert not any(relative == pattern or relative.startswith(pattern.rstrip("/") + "/") for pattern in ignored)


def test_injector_env_names_are_module_env_fallbacks(credential_type):
    fallbacks = _fallback_names()
    known = {name for names in fallbacks.values() for name in names}
    injected = set(credential_type["injectors"]["env"])
    assert injected <= known, "injected names that no module reads: %s" % sorted(injected - known)
    # URL and token must always reach the modules; use the preferred (first) fallback name of each.
    for option in ("api_url", "api_token"):
        assert fallbacks[option][0] in injected, option
    # One variable per option: two names of the same option would be ambiguous ("first set wins").
    for option, names in fallbacks.items():
        assert len(injected & set(names)) <= 1, option


def test_inputs(credential_type):
    fields = {field["id"]: field for field in credential_type["inputs"]["fields"]}
    assert len(fields) == len(credential_type["inputs"]["fields"]), "duplicate input ids"
    assert set(credential_type["inputs"]["required"]) == {"netbird_api_url", "netbird_api_token"}
    assert fields["netbird_api_token"].get("secret") is True
    assert not fields["netbird_api_url"].get("secret")
    assert credential_type["kind"] == "cloud"
    templates = list(credential_type["injectors"]["env"].values()) + list(credential_type["injectors"].get("file", {}).values())
    for field_id in fields:
        assert any(field_id in template for template in templates), "input %s is never injected" % field_id
    assert not any(name.startswith("ANSIBLE_") for name in credential_type["injectors"]["env"])


def test_injection_without_ca_certificate(credential_type, tmp_path, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)  # these would name the default store instead
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    env = inject(credential_type, {"netbird_api_url": "https://netbird.example.com", "netbird_api_token": PAT}, str(tmp_path))
    assert env == {"NETBIRD_API_URL": "https://netbird.example.com", "NETBIRD_API_TOKEN": PAT, "NETBIRD_CA_PATH": ""}
    # An empty NETBIRD_CA_PATH (what the controller injects when no certificate was entered) means the system store.
    client = NetBirdClient(env["NETBIRD_API_URL"], env["NETBIRD_API_TOKEN"], ca_path=env["NETBIRD_CA_PATH"])
    assert client.verify is True


def test_injection_with_ca_certificate(credential_type, tmp_path):
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    env = inject(credential_type, {"netbird_api_url": "https://nb.internal", "netbird_api_token": PAT, "netbird_ca_cert": pem},
                 str(tmp_path))
    path = env["NETBIRD_CA_PATH"]
    assert os.path.dirname(path) == str(tmp_path / "env")
    with open(path, encoding="utf-8") as handle:
        assert handle.read() == pem
    assert os.stat(path).st_mode & 0o077 == 0
    client = NetBirdClient(env["NETBIRD_API_URL"], env["NETBIRD_API_TOKEN"], ca_path=path)
    assert client.verify == path


def test_required_inputs_are_enforced(credential_type, tmp_path):
    with pytest.raises(ValueError, match="netbird_api_token"):
        inject(credential_type, {"netbird_api_url": "https://api.netbird.io"}, str(tmp_path))


def _guide_blocks(path):
    """The code blocks of an RST file, dedented."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    return [textwrap.dedent(block) for block in re.findall(r"^\.\. code-block:: \S+\n\n((?:(?:  .*)?\n)+)", text, re.M)]


def test_awx_guide_shows_the_shipped_definition(credential_type):
    blocks = _guide_blocks(os.path.join(REPO, "docs", "docsite", "rst", "guide_awx.rst"))
    shown = {}
    for block in blocks:
        first = block.lstrip().splitlines()[0]
        if first in ("# Input configuration", "# Injector configuration"):
            shown[first] = yaml.safe_load(block)
    assert shown.get("# Input configuration") == credential_type["inputs"], "guide_awx.rst: input configuration is stale"
    assert shown.get("# Injector configuration") == credential_type["injectors"], "guide_awx.rst: injector configuration is stale"
