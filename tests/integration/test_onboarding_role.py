# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The onboarding role through ansible-playbook against the emulator, and the example playbook."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._tokens import EXPIRES_MAX, TokenSpec
from ansible_collections.netbird_ops.netbird.plugins.module_utils._rules import EMAIL_RE, email_problem
from ansible_collections.netbird_ops.netbird.plugins.plugin_utils._onboarding import Team
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
def test_check_mode_shows_each_users_diff_and_writes_nothing(ansible, emulator):
    """Secure logging is on (the default), but a check run creates nothing and so has no secret to hide: each user's
    change, with role and group names, is in the --diff output."""
    emulator.seed(**SEED)
    emulator.reset_counters()
    run = ansible.playbook(ROLE_TASKS, play_vars=TEAM, check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.recap()["changed"] >= 1
    assert emulator.writes() == 0
    assert emulator.user(email="alice@example.com") is None
    assert "censored" not in run.stdout, run.stdout
    for text in ("alice@example.com", "bob@example.com", "ci-pipeline", '"admin"', '"network_admin"', '"developers"', '"ops"',
                 '"ci"', "mallory@example.com"):
        assert text in run.stdout, (text, run.stdout)


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
    """A real run under secure logging prints no one-time password and no token, even with -v; without it the
    result is shown."""
    vars_ = {"netbird_onboarding_users": [{"email": "z@example.com", "name": "Z"}],
             "netbird_onboarding_service_users": [{"name": "z-bot", "tokens": [{"name": "deploy", "expires_in": 7}]}]}
    run = ansible.playbook(ROLE_TASKS, play_vars=vars_, verbosity=1)
    assert run.rc == 0, run.output
    result = read_result(ansible)
    secrets = [result["passwords"]["z@example.com"], result["tokens"]["z-bot"]["deploy"]]
    assert "censored" in run.stdout
    for secret in secrets:
        assert secret not in run.output
    vars_ = {"netbird_onboarding_users": [{"email": "y@example.com", "name": "Y"}], "netbird_onboarding_secure_logging": False}
    run = ansible.playbook(ROLE_TASKS, play_vars=vars_, verbosity=1)
    assert run.rc == 0, run.output
    assert "y@example.com" in run.stdout


def test_failure_names_the_role_variable_once(ansible, emulator):
    """An unknown group of the first service user is reported as the person wrote it, once, and nothing is written."""
    emulator.seed(**SEED)
    emulator.reset_counters()
    vars_ = {"netbird_onboarding_users": [{"email": "a@example.com", "name": "A"}, {"email": "b@example.com", "name": "B"}],
             "netbird_onboarding_service_users": [{"name": "ci-bot", "auto_groups": ["deploy"]}]}
    run = ansible.playbook(ROLE_TASKS, play_vars=vars_)
    assert run.rc != 0
    assert "netbird_onboarding_service_users[0] (ci-bot).auto_groups: unknown group 'deploy'" in run.stdout, run.stdout
    assert "users[2]" not in run.stdout.replace("netbird_onboarding_users[", "")
    # one task fails (ansible-core 2.19 shows a failure as an error block and a fatal line), no censored second report
    assert run.stdout.count("FAILED!") == 1 and "fatal: [localhost]: FAILED! => {\"censored\"" not in run.stdout, run.stdout
    assert emulator.writes() == 0


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
    # mallory (state absent) has 2 peers: the module's warning is printed as its text, on ansible-core 2.19 too
    assert "mallory@example.com will be deleted together with its 2 peers" in run.output, run.output
    assert "WarningSummary(" not in run.output and "Event(" not in run.output, run.output
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
    netbird_user has written. It asks their own rules (module_utils) and states none of them again: no pattern, no
    range in the role, whose tasks are one action call, its result and its failure."""
    with open(os.path.join(REPO, "roles", "onboarding", "tasks", "main.yml"), encoding="utf-8") as handle:
        text = handle.read()
    tasks = yaml.safe_load(text)
    assert [next(key for key in task if "." in key) for task in tasks] == [
        "netbird_ops.netbird.netbird_onboarding", "ansible.builtin.set_fact", "ansible.builtin.fail"]
    assert EMAIL_RE.pattern not in text and "match" not in text and "lookup(" not in text and "&" not in text
    assert "range(" not in text and str(EXPIRES_MAX) not in text and str(EXPIRES_MAX + 1) not in text
    # each message the role gives for a bad input (tests/integration/test_bad_input.py ROLE_CASES runs them) is the rule's
    tokens = [{"name": "ci", "expires_in": EXPIRES_MAX + 1}, {"name": "cd", "expires_in": 30, "rotate_before_days": 30}]
    team = Team(approve=["p@x.io", "bob"], reject=["P@x.io"], service_users=[{"name": "bot", "tokens": tokens}])
    assert team.problems == [
        email_problem("netbird_onboarding_approve[1]", "bob"),
        "p@x.io is in both netbird_onboarding_approve and netbird_onboarding_reject",
        "netbird_onboarding_service_users[0] (bot).tokens[0] (ci): " + token_rule(dict(tokens[0], user_name="bot")),
        "netbird_onboarding_service_users[0] (bot).tokens[1] (cd): " + token_rule(dict(tokens[1], user_name="bot")),
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


# the role in a block whose always writes the result: it is set even when the role fails
ROLE_BLOCK = [{"name": "onboard", "block": [ROLE_TASKS[0]], "always": [ROLE_TASKS[1]]}]

KEPT = {
    "groups": [{"name": "developers"}, {"name": "ci"}],
    # the embedded IdP kept this login, NetBird's store did not: every create of the email answers 500 (issue 21)
    "users": [{"email": "kept@example.com", "name": "Kept", "idp_only": True},
              {"email": "dave@example.com", "name": "Dave", "pending_approval": True}],
}
KEPT_TEAM = {
    "netbird_onboarding_users": [{"email": "first@example.com", "name": "First", "auto_groups": ["developers"]},
                                 {"email": "kept@example.com", "name": "Kept", "auto_groups": ["developers"]},
                                 {"email": "last@example.com", "name": "Last"}],
    "netbird_onboarding_service_users": [{"name": "ci-bot", "auto_groups": ["ci"], "tokens": [{"name": "deploy", "expires_in": 7}]},
                                         {"name": "cd-bot", "tokens": [{"name": "deploy", "expires_in": 7}]}],
    "netbird_onboarding_approve": ["dave@example.com"],
}


def test_one_failing_user_does_not_stop_the_team(ansible, emulator):
    """Issue 21 item 1: one user's create always answers 500. Every other user, service user, token and approval is
    done, the role fails at the end naming that user's email, variable entry and the server's message, and its
    result says what was done; after the admin's repair a re-run creates only that user. With fail_fast the role
    stops at the failure and names what it did not attempt."""
    emulator.seed(**KEPT)
    run = ansible.playbook(ROLE_BLOCK, play_vars=dict(KEPT_TEAM, netbird_onboarding_fail_fast=True, netbird_api_concurrency=1))
    assert run.rc != 0
    assert "netbird_onboarding_users[1] (kept@example.com)" in run.stdout and "HTTP 500" in run.stdout, run.stdout
    assert "not attempted" in run.stdout and "the tokens" in run.stdout and "the approvals" in run.stdout, run.stdout
    assert emulator.user(email="last@example.com") is None and emulator.user(email="dave@example.com")["pending_approval"]
    assert read_result(ansible)["created"] == ["first@example.com"]

    # examples/onboard.yml, as a user runs it: the role in a block, the handover in its always, which still gets the
    # one-time passwords and tokens created before the failure (no later run can read them again)
    result_file = os.path.join(str(ansible.tmp_path), "result.json")
    os.remove(result_file)  # the first run's
    handover = ansible.tmp_path / "handover.yml"
    handover.write_text(yaml.safe_dump([{
        "name": "Hand the secrets over (here: a file only the owner reads)",
        "ansible.builtin.copy": {"content": "{{ netbird_onboarding_result | to_json }}", "dest": result_file, "mode": "0600"},
        "diff": False}]), encoding="utf-8")
    run = ansible.playbook(playbook=os.path.join(REPO, "examples", "onboard.yml"),
                           extra_vars=dict(KEPT_TEAM, onboard_handover_tasks=str(handover)))
    assert run.rc != 0
    failure = [r for r in run.results if r["task"].endswith("Fail with what went wrong and what was done")][-1]["result"]["msg"]
    assert failure.count("kept@example.com") >= 1 and "netbird_onboarding_users[1] (kept@example.com)" in failure, failure
    assert "POST /api/users" in failure and "HTTP 500" in failure and "internal server error" in failure, failure
    assert "\n" not in failure and run.stdout.count("FAILED!") == 1, run.stdout
    assert os.stat(result_file).st_mode & 0o777 == 0o600
    result = read_result(ansible)
    assert sorted(result["created"]) == ["cd-bot", "ci-bot", "last@example.com"]
    assert sorted(result["tokens"]) == ["cd-bot", "ci-bot"] and result["approved"] == ["dave@example.com"]
    secrets = [result["passwords"]["last@example.com"], result["tokens"]["ci-bot"]["deploy"], result["tokens"]["cd-bot"]["deploy"]]
    for secret in secrets:
        assert secret and secret not in run.output, secret
    assert emulator.user(email="kept@example.com") is None

    emulator.control("DELETE", "idp-only/kept@example.com")
    emulator.reset_counters()
    run = ansible.playbook(ROLE_BLOCK, play_vars=KEPT_TEAM)
    assert run.rc == 0, run.output
    assert read_result(ansible)["created"] == ["kept@example.com"]
    assert emulator.writes() == 1


TEAM_CSV = (u"email,name,role,auto_groups,department,service_user\n"
            u"zoe@example.com,Zoë Ångström,admin,developers;ops,R&D,\n"
            u"li@example.com,李雷,,,Sales,false\n"
            u",\"{{ lookup('pipe', 'id') }}\",user,ci,,true\n")


def test_team_file(ansible, emulator):
    """A CSV team file (files/ next to the playbook, as ansible.builtin.copy finds src) with unicode names, an ignored
    column, empty group cells and a service user named like a template joins the role's variables: onboarded as
    written, one warning for the column, and a second run changes nothing. Bad files write nothing and name the file
    and the row or key."""
    emulator.seed(**SEED)
    files = ansible.tmp_path / "files"
    files.mkdir()
    (files / "team.csv").write_text(TEAM_CSV, encoding="utf-8")
    vars_ = {"netbird_onboarding_team_file": "team.csv",
             "netbird_onboarding_users": [{"email": "alice@example.com", "name": "Alice"}]}
    run = ansible.playbook(ROLE_TASKS, play_vars=vars_)
    assert run.rc == 0, run.output
    assert run.output.count("ignored the column(s) 'department'") == 1, run.output
    assert sorted(read_result(ansible)["created"]) == sorted(["alice@example.com", "zoe@example.com", "li@example.com",
                                                             "{{ lookup('pipe', 'id') }}"])
    zoe, li = emulator.user(email="zoe@example.com"), emulator.user(email="li@example.com")
    assert zoe["name"] == u"Zoë Ångström" and zoe["role"] == "admin"
    assert sorted(zoe["auto_groups"]) == sorted([emulator.group_id("developers"), emulator.group_id("ops")])
    assert li["name"] == u"李雷" and li["role"] == "user" and li["auto_groups"] == []
    bot = emulator.user(name="{{ lookup('pipe', 'id') }}")
    assert bot["is_service_user"] and bot["auto_groups"] == [emulator.group_id("ci")]

    emulator.reset_counters()
    run = ansible.playbook(ROLE_TASKS, play_vars=vars_)
    assert run.rc == 0, run.output
    assert all(not r["result"].get("changed") for r in run.results if r["task"] != "result"), run.output
    assert emulator.writes() == 0 and read_result(ansible)["created"] == []

    bad = {
        "bad-email.csv": (u"email,name\nok@example.com,Ok\nnot-an-email,Bad\n", "bad-email.csv line 3: email 'not-an-email' is not an email address"),
        # an unclosed quote would swallow the rows below it into one name
        "unclosed.csv": (u'email,name\nok@example.com,"Ok\nb@example.com,B\n', "unclosed.csv line 2: unexpected end of data"),
        "no-email.csv": (u"name,role\nA,user\n", "bad-email.csv line 1: the header has no email column".replace("bad-email", "no-email")),
        "bad-role.yml": (u"users:\n  - {email: ok@example.com, name: Ok}\n  - {email: r@example.com, name: R, role: boss}\n",
                         "bad-role.yml users[1] (r@example.com): value of role must be one of"),
        "broken.yml": (u"users:\n  - email: a@example.com\n    name: [A\n", "broken.yml line 4: "),
        "twice.json": (u'{"users": [{"email": "Alice@example.com", "name": "A"}]}',
                       "Alice@example.com is named twice: netbird_onboarding_users[0] and twice.json users[0]"),
    }
    tasks = []
    for name, (text, dummy) in sorted(bad.items()):
        (files / name).write_text(text, encoding="utf-8")
        tasks.append({"name": name, "block": [dict(ROLE_TASKS[0], vars={"netbird_onboarding_team_file": name})],
                      "rescue": [{"name": "failed " + name, "ansible.builtin.debug": {"msg": "{{ ansible_failed_result.msg }}"}}]})
    emulator.reset_counters()
    run = ansible.playbook(tasks, play_vars={"netbird_onboarding_users": [{"email": "alice@example.com", "name": "Alice"}]})
    assert run.rc == 0, run.output
    for name, (dummy, message) in bad.items():
        msg = run.result("failed " + name)["msg"]
        assert message in msg and msg.endswith("nothing was changed") and "\n" not in msg, (name, msg)
    assert emulator.writes() == 0
