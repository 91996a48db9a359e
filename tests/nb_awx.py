# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What AWX / Automation Platform does with the collection's credential type, for tests.

``inject()`` turns a credential (the values a user entered for the credential type's inputs)
into the environment variables and files a job gets, following the rules the controller
documents and applies to custom credential types:

- only inputs that were entered are visible to the injector templates (an empty string counts as
  not entered); a boolean input that was not entered is ``False``;
- every ``file`` injector is rendered into a file of its own under ``<private_data_dir>/env``
  (mode 0600); a single unnamed template is ``{{ tower.filename }}``, a template named
  ``template.NAME`` is ``{{ tower.filename.NAME }}``;
- every ``env`` injector is rendered with the same (sandboxed) Jinja2 namespace; an undefined
  name renders as the empty string, so the variable is still set, to ``""``;
- variable names starting with ``ANSIBLE_`` are reserved and refused.
"""

from __future__ import annotations

import os
import stat
import tempfile
import types

import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from nb_testlib import bin_path

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CREDENTIAL_TYPE = os.path.join(REPO, "extensions", "awx", "credential_type_netbird.yml")


def load_credential_type(path=CREDENTIAL_TYPE):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def inject(credential_type, inputs, private_data_dir):
    """Return the environment a job with a credential of ``credential_type`` and ``inputs`` gets."""
    namespace = {}
    for field in credential_type["inputs"]["fields"]:
        value = inputs.get(field["id"])
        if field.get("type") == "boolean":
            namespace[field["id"]] = bool(value)
        elif value not in (None, ""):
            namespace[field["id"]] = value
    unknown = set(inputs) - {field["id"] for field in credential_type["inputs"]["fields"]}
    if unknown:
        raise ValueError("inputs that the credential type does not define: %s" % sorted(unknown))
    missing = [name for name in credential_type["inputs"].get("required", []) if name not in namespace]
    if missing:
        raise ValueError("required inputs missing: %s" % missing)

    sandbox = ImmutableSandboxedEnvironment()
    tower = types.SimpleNamespace()
    namespace["tower"] = tower
    env_dir = os.path.join(private_data_dir, "env")
    os.makedirs(env_dir, exist_ok=True)
    for label, template in credential_type["injectors"].get("file", {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if "." not in label:
            tower.filename = path
        else:
            if not isinstance(getattr(tower, "filename", None), types.SimpleNamespace):
                tower.filename = types.SimpleNamespace()
            setattr(tower.filename, label.split(".", 1)[1], path)

    env = {}
    for name, template in credential_type["injectors"].get("env", {}).items():
        if name.startswith("ANSIBLE_"):
            raise ValueError("%s: environment variables starting with ANSIBLE_ are reserved by the controller" % name)
        env[name] = sandbox.from_string(template).render(**namespace)
    return env


def require_tool(name):
    """Path of an optional tool (ansible-runner, ansible-builder, ...) from the test environment.

    Outside ``make`` a missing tool skips the test; under ``make`` (NETBIRD_TESTS_REQUIRE_TOOLS=1) it
    fails it, so that CI never passes by skipping."""
    try:
        return bin_path(name)
    except RuntimeError:
        if os.environ.get("NETBIRD_TESTS_REQUIRE_TOOLS") == "1":
            raise
    import pytest  # pylint: disable=import-outside-toplevel
    return pytest.skip("%s is not installed (it comes with requirements/release.txt)" % name)
