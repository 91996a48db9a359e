# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The onboarding role through ansible-playbook against the emulator, and the example playbook."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from ansible_collections.netbird_ops.netbird.plugins.filter.onboarding_errors import onboarding_errors
from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._tokens import EXPIRES_MAX, TokenSpec
from ansible_collections.netbird_ops.netbird.plugins.module_utils._rules import EMAIL_RE, email_problem
from nb_testlib import REPO

SEED = {
    "groups": [{"name": "developers"}, {"name": "ops"}, {"name": "ci"}],
    "users": [
        {"email": "mallory@example.com", "name": "Mallory", "peers": 2},
        {"email": "dave@example.com", "name": "Dave", "pending_approval": True},
        {"email": "eve@example.net", "name": "Eve", "pending_approval": True},
    ],
}

TEAM = {
    "netbird_onboarding_users": [
        {"email": "alice@example.com", "name": "Alice", "role": "admin", "auto_groups": ["developers", "ops"]},
        {"email": "bob@example.com", "name": "Bob", "auto_groups": ["developers"]},
        {"email": "mallory@example.com", "state": "absent"},
    ],
    "netbird_onboarding_service_users": [{"name": "ci-pipeline", "role": "network_admin", "auto_groups": ["ci"]}],
    "netbird_onboarding_approve": ["dave@example.com"],
    "netbird_onboarding_reject": ["eve@example.net"],
}

ROLE_TASKS = [
    {"name": "onboard", "ansible.builtin.include_role": {"name": "netbird_ops.netbird.onboarding"}},
    # written to a file under no_log, so that the test reads the one-time passwords without printing them
    {"name": "result", "ansible.builtin.copy": {"content": "{{ netbird_onboarding_result | to_json }}",
                                                "dest": "{{ playbook_dir }}/result.json", "mode": "0600"},
     "no_log": True, "diff": False, "check_mode": False},
]


def read_result(ansible):
    with open(os.path.join(str(ansible.tmp_path), "result.json"), encoding="utf-8") as handle:
        return json.load(handle)


@pytest.mark.compat
def test_first_run_creates_second_run_changes_nothing(ansible, emulator):
    emulator.seed(**SEED)
    emulator.reset_counters()
    run = ansible.playbook(ROLE_TASKS, play_vars=TEAM)
    assert run.rc == 0, run.output
    result = read_result(ansible)
    assert result["created"] == ["alice@example.com", "bob@example.com", "ci-pipeline"]
    assert result["removed"] == ["mallory@example.com"]
    assert result["approved"] == ["dave@example.com"] and result["rejected"] == ["eve@example.net"]
    assert sorted(result["passwords"]) == ["alice@example.com", "bob@example.com"]
    assert emulator.user(email="alice@example.com")["role"] == "admin"
    assert emulator.user(name="ci-pipeline")["role"] == "network_admin"
    by_route = emulator.requests()["by_route"]
    assert by_route["GET /api/users"] == 3 and by_route["GET /api/groups"] == 1
    # the one-time passwords are under no_log: never printed
    for password in result["passwords"].values():
        assert password not in run.output

    emulator.reset_counters()
    run = ansible.playbook(ROLE_TASKS, play_vars=TEAM)
    assert run.rc == 0, run.output
    assert all(not r["result"].get("changed") for r in run.results if r["task"] != "result"), run.output
    result = read_result(ansible)
    assert result["unchanged"] == ["alice@example.com", "bob@example.com", "ci-pipeline"]
    assert result["created"] == [] and result["passwords"] == {}
    assert emulator.writes() == 0


@pytest.mark.compat
def test_check_mode_writes_nothing(ansible, emulator):
    emulator.seed(**SEED)
    emulator.reset_counters()
    run = ansible.playbook(ROLE_TASKS, play_vars=TEAM, check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.recap()["changed"] >= 1
    assert emulator.writes() == 0
    assert emulator.user(email="alice@example.com") is None


@pytest.mark.compat
def test_invalid_variable_fails_before_any_api_call(ansible, emulator):
    bad = dict(TEAM, netbird_onboarding_users=[{"email": "x@example.com", "name": "X", "role": "superuser"}])
    emulator.reset_counters()
    run = ansible.playbook(ROLE_TASKS, play_vars=bad)
    assert run.rc != 0
    assert "netbird_onboarding_users" in run.output and "superuser" in run.output
    assert emulator.requests()["total"] == 0


@pytest.mark.compat
def test_secure_logging_controls_no_log(ansible, emulator):
    vars_ = {"netbird_onboarding_users": [{"email": "z@example.com", "name": "Z"}]}
    run = ansible.playbook(ROLE_TASKS, play_vars=vars_, verbosity=1)
    assert run.rc == 0, run.output
    password = read_result(ansible)["passwords"]["z@example.com"]
    assert "censored" in run.stdout and password not in run.output
    vars_ = {"netbird_onboarding_users": [{"email": "y@example.com", "name": "Y"}], "netbird_onboarding_secure_logging": False}
    run = ansible.playbook(ROLE_TASKS, play_vars=vars_, verbosity=1)
    assert run.rc == 0, run.output
    assert "y@example.com" in run.stdout


def test_connection_variables_override_env(ansible, emulator):
    vars_ = {"netbird_onboarding_users": [{"email": "v@example.com", "name": "V"}],
             "netbird_api_url": emulator.url, "netbird_api_token": emulator.token}
    run = ansible.playbook(ROLE_TASKS, play_vars=vars_, env={"NETBIRD_API_URL": None, "NETBIRD_API_TOKEN": None})
    assert run.rc == 0, run.output
    assert emulator.user(email="v@example.com") is not None


def test_example_playbook_runs(ansible, emulator):
    seed_file = os.path.join(REPO, "examples", "emulator-seed.json")
    with open(seed_file, encoding="utf-8") as handle:
        emulator.seed(**json.load(handle))
    playbook = os.path.join(REPO, "examples", "onboard.yml")
    team = "@" + os.path.join(REPO, "examples", "team.yml")
    run = ansible.playbook(playbook=playbook, args=["-e", team])
    assert run.rc == 0, run.output
    run = ansible.playbook(playbook=playbook, args=["-e", team])
    assert run.rc == 0 and run.recap()["changed"] == 0, run.output


@pytest.mark.compat
def test_connection_variables_reach_the_modules(ansible, emulator):
    """netbird_api_retries and netbird_api_timeout go to the modules through the role's module_defaults."""
    vars_ = {"netbird_onboarding_users": [{"email": "w@example.com", "name": "W"}], "netbird_api_retries": 0}
    emulator.faults([{"method": "GET", "path": "/api/users", "times": 1, "status": 503}])
    run = ansible.playbook(ROLE_TASKS, play_vars=vars_)
    assert run.rc != 0 and "GET /api/users failed with HTTP 503" in run.output, run.output
    assert emulator.route("GET /api/users") == 1 and emulator.writes() == 0  # not retried

    emulator.clear_faults()
    emulator.reset_counters()
    emulator.faults([{"method": "GET", "path": "/api/users", "times": 1, "delay": 3}])
    run = ansible.playbook(ROLE_TASKS, play_vars=dict(vars_, netbird_api_timeout=1))
    assert run.rc != 0 and "GET /api/users failed: read timed out" in run.output, run.output
    assert emulator.writes() == 0

    # without them, the defaults (5 retries, 30 s) ride out the same 503
    emulator.clear_faults()
    emulator.faults([{"method": "GET", "path": "/api/users", "times": 1, "status": 503}])
    run = ansible.playbook(ROLE_TASKS, play_vars={"netbird_onboarding_users": [{"email": "w@example.com", "name": "W"}]})
    assert run.rc == 0, run.output
    assert emulator.user(email="w@example.com") is not None


@pytest.mark.compat
def test_input_checks_use_the_modules_rules():
    """The role checks, before its first write, input that the token and approval modules would reject only after
    netbird_user has written. It asks their own rules (the onboarding_errors filter over module_utils) and states
    none of them again: no pattern, no range in the role."""
    with open(os.path.join(REPO, "roles", "onboarding", "tasks", "main.yml"), encoding="utf-8") as handle:
        block = yaml.safe_load(handle)[0]
    check = block["block"][0]
    assert check["name"] == "Check approvals, rejections and tokens before anything is written"
    assert "| netbird_ops.netbird.onboarding_errors" in check["vars"]["__netbird_onboarding_input_errors"]
    text = yaml.safe_dump(block)
    assert EMAIL_RE.pattern not in text and "match" not in text
    assert "range(" not in text and str(EXPIRES_MAX) not in text and str(EXPIRES_MAX + 1) not in text
    # each message the role gives for a bad input (tests/integration/test_bad_input.py ROLE_CASES runs them) is the rule's
    tokens = [{"user_name": "bot", "name": "ci", "expires_in": EXPIRES_MAX + 1},
              {"user_name": "bot", "name": "cd", "expires_in": 30, "rotate_before_days": 30}]
    assert onboarding_errors({"approve": ["p@x.io", "bob"], "reject": ["P@x.io"], "tokens": tokens}) == [
        email_problem("netbird_onboarding_approve[1]", "bob"),
        "p@x.io is in both netbird_onboarding_approve and netbird_onboarding_reject",
        "netbird_onboarding_service_users: service user 'bot', token 'ci': " + token_rule(tokens[0]),
        "netbird_onboarding_service_users: service user 'bot', token 'cd': " + token_rule(tokens[1]),
    ]


def token_rule(entry):
    """What netbird_user_token's own validation says of one token."""
    params = dict(state="present", user_id=None, token_id=None, expires_in=None, rotate_before_days=None)
    params.update(entry)
    try:
        TokenSpec(params)
    except NetBirdInputError as exc:
        return str(exc)
    raise AssertionError("TokenSpec accepted %r" % entry)
