# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_defaults with the action group group/netbird_ops.netbird.netbird: the connection is set once
for every module (examples/module_defaults.yml), with no NETBIRD_* / NB_* environment at all."""

from __future__ import annotations

import os

import pytest
import yaml

from nb_testlib import REPO

# scripts/compat.sh runs this file on every ansible-core leg (tests/conftest.py, marker compat)
pytestmark = pytest.mark.compat

EXAMPLE = os.path.join(REPO, "examples", "module_defaults.yml")
GROUP = "group/netbird_ops.netbird.netbird"
NO_ENV = {"NETBIRD_API_URL": None, "NETBIRD_API_TOKEN": None, "NB_MANAGEMENT_URL": None, "NB_PAT": None}


def _action_group():
    with open(os.path.join(REPO, "meta", "runtime.yml"), encoding="utf-8") as handle:
        return {"netbird_ops.netbird." + name for name in yaml.safe_load(handle)["action_groups"]["netbird"]}


def test_example_uses_every_module_of_the_group():
    with open(EXAMPLE, encoding="utf-8") as handle:
        play = yaml.safe_load(handle)[0]
    assert set(play["module_defaults"]) == {GROUP}
    used = {key for task in play["tasks"] for key in task if key.startswith("netbird_ops.netbird.")}
    assert used == _action_group(), "examples/module_defaults.yml must exercise every module of the action group"
    assert not any(key in task[module] for task in play["tasks"] for module in used if module in task
                   for key in ("api_url", "api_token"))


def test_example_playbook_without_environment(ansible, emulator, tmp_path):
    connection = {"netbird_api_url": emulator.url, "netbird_api_token": emulator.token,
                  "netbird_review_dest": str(tmp_path / "review")}
    emulator.seed(users=[{"email": "dave@example.com", "name": "Dave", "pending_approval": True},
                         {"email": "eve@example.net", "name": "Eve", "pending_approval": True}])
    run = ansible.playbook(playbook=EXAMPLE, env=NO_ENV, extra_vars=connection)
    assert run.rc == 0, run.output
    assert run.recap()["failed"] == 0
    assert run.result("Read the token's own user")["users"][0]["role"] == "owner"
    assert run.result("Ensure a service user for CI")["changed"] is True
    assert emulator.user(name="ci-pipeline")["role"] == "network_admin"
    assert run.status("Ensure its deploy token (the secret is returned once, when it is created)") == "ok"
    approved = run.result("Approve the users of our domain who wait for approval")
    assert [user["email"] for user in approved["users"]] == ["dave@example.com"]
    assert emulator.user(email="eve@example.net")["pending_approval"] is True
    assert emulator.token not in run.output
    assert (tmp_path / "review" / "report.md").is_file()

    again = ansible.playbook(playbook=EXAMPLE, env=NO_ENV, extra_vars=connection)
    assert again.rc == 0 and again.recap()["changed"] == 0, again.output


def test_task_options_win_over_module_defaults(ansible, emulator):
    defaults = {GROUP: {"api_url": emulator.url, "api_token": emulator.token}}
    tasks = [
        {"name": "defaults", "netbird_ops.netbird.netbird_user_info": {"current": True}},
        {"name": "override", "netbird_ops.netbird.netbird_user_info": {"current": True, "api_token": "nbp_" + "x" * 36},
         "ignore_errors": True},
    ]
    run = ansible.playbook(tasks, module_defaults=defaults, env=NO_ENV)
    assert run.result("defaults")["users"][0]["role"] == "owner", run.output
    override = run.result("override")
    assert override["failed"] and "HTTP 401" in override["msg"], override


def test_without_defaults_or_environment_the_token_is_missing(ansible, emulator):
    run = ansible.playbook([{"name": "info", "netbird_ops.netbird.netbird_user_info": {"current": True},
                             "ignore_errors": True}], env=NO_ENV)
    result = run.result("info")
    assert result["failed"] and result["msg"] == "missing required arguments: api_token", result
    assert emulator.requests()["total"] == 0
