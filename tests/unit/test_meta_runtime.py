# Copyright: (c) 2025, NetBird Ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""meta/runtime.yml must declare the ``netbird`` action group with exactly the collection's modules.

Self-contained on purpose (no import of scripts/, which is not shipped in the collection
artifact). A new module is added to the list by hand (`make lint` checks it too).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "meta" / "runtime.yml"
MODULES_DIR = ROOT / "plugins" / "modules"


@pytest.fixture(scope="module")
def runtime():
    with RUNTIME.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _modules():
    return {p.stem for p in MODULES_DIR.glob("*.py") if not p.name.startswith("_")}


def test_requires_ansible_floor(runtime):
    assert runtime["requires_ansible"] == ">=2.16.0"


def test_action_group_lists_every_module(runtime):
    modules = _modules()
    assert modules, "no modules found in plugins/modules/"
    group = runtime["action_groups"]["netbird"]
    assert all(isinstance(entry, str) for entry in group), "use short module names only"
    assert len(group) == len(set(group)), "duplicate entries in the action group"
    assert set(group) == modules, "stale meta/runtime.yml: list every module in action_groups.netbird"


def test_action_group_sorted(runtime):
    group = runtime["action_groups"]["netbird"]
    assert group == sorted(group)


def test_interface_modules_present(runtime):
    # Names fixed by the user-facing interface; the group may grow but never lose them.
    expected = {"netbird_user", "netbird_user_approval", "netbird_user_info"}
    assert expected <= set(runtime["action_groups"]["netbird"])
