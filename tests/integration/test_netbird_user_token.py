# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""netbird_user_token (and netbird_user_info include_tokens, the onboarding role's tokens) through real
ansible-playbook runs against the emulator."""

from __future__ import annotations

import json
import os
import re

import pytest

M = "netbird_ops.netbird.netbird_user_token"
INFO = "netbird_ops.netbird.netbird_user_info"
USER = "netbird_ops.netbird.netbird_user"
TOKENS = "GET /api/users/{userId}/tokens"
CREATE = "POST /api/users/{userId}/tokens"
DELETE = "DELETE /api/users/{userId}/tokens/{tokenId}"


def task(name, args, module=M, **extra):
    item = {"name": name, module: args, "register": "r"}
    item.update(extra)
    return item


def run_task(ansible, args, check=False, diff=False, module=M, **kwargs):
    run = ansible.playbook([task("t", args, module=module, ignore_errors=True)], check=check, diff=diff, **kwargs)
    return run, run.result("t")


def stored_tokens(emulator, name):
    svc = emulator.user(name=name)
    return emulator.state()["tokens"].get(svc["id"], [])


def seed_service_user(emulator, name="ci-bot", role="admin", tokens=None):
    entry = {"name": name, "service_user": True, "role": role}
    if tokens:
        entry["tokens"] = tokens
    return emulator.seed(users=[entry])["users"][0]


@pytest.mark.compat
def test_create_then_rerun_changes_nothing_and_token_works(ansible, emulator):
    seed_service_user(emulator)
    emulator.reset_counters()
    args = {"user_name": "ci-bot", "name": "gitlab", "expires_in": 30}
    run, res = run_task(ansible, args)
    assert res["changed"] is True and res["action"] == "create", run.output
    assert res["plain_token"].startswith("nbp_") and len(res["plain_token"]) == 40
    assert res["token"]["name"] == "gitlab" and res["user_name"] == "ci-bot"
    [stored] = stored_tokens(emulator, "ci-bot")
    assert stored["id"] == res["token"]["id"]
    assert emulator.requests()["by_route"] == {"GET /api/users": 1, TOKENS: 1, CREATE: 1}

    emulator.reset_counters()
    run, again = run_task(ansible, dict(args, expires_in=365))  # a different lifetime is no reason to replace it
    assert again["changed"] is False and again["action"] == "none", run.output
    assert "plain_token" not in again and again["token"]["id"] == res["token"]["id"]
    assert emulator.requests() == {"total": 2, "writes": 0, "by_route": {"GET /api/users": 1, TOKENS: 1}}
    assert run.recap()["changed"] == 0

    # the new token authenticates at once
    run, info = run_task(ansible, {"name": "ci-bot", "service_user": True}, module=INFO, token=res["plain_token"])
    assert not info["failed"], run.output
    assert [u["name"] for u in info["users"]] == ["ci-bot"]


def test_rotation_inside_the_window_creates_first_then_deletes(ansible, emulator):
    seeded = seed_service_user(emulator, tokens=[{"name": "gitlab", "expires_in": 3}])
    old_plain = seeded["tokens"][0]["plain_token"]
    old_id = seeded["tokens"][0]["personal_access_token"]["id"]
    args = {"user_name": "ci-bot", "name": "gitlab", "expires_in": 90, "rotate_before_days": 7}

    emulator.reset_counters()
    run, res = run_task(ansible, args, check=True, diff=True)
    assert res["changed"] and res["action"] == "rotate" and "plain_token" not in res, run.output
    assert emulator.writes() == 0

    emulator.reset_counters()
    run, res = run_task(ansible, args, diff=True)
    assert res["changed"] and res["action"] == "rotate", run.output
    assert res["replaced_token"]["id"] == old_id and res["token"]["id"] != old_id
    assert res["diff"]["before"]["id"] == old_id and res["diff"]["after"]["id"] == res["token"]["id"]
    assert [t["id"] for t in stored_tokens(emulator, "ci-bot")] == [res["token"]["id"]]
    writes = [(e["method"], e["route"]) for e in emulator.log() if e["method"] in ("POST", "DELETE")]
    assert writes == [("POST", "/api/users/{userId}/tokens"), ("DELETE", "/api/users/{userId}/tokens/{tokenId}")]
    # the old secret is gone, the new one works
    run, info = run_task(ansible, {"name": "ci-bot", "service_user": True}, module=INFO, token=old_plain)
    assert info["failed"]
    run, info = run_task(ansible, {"name": "ci-bot", "service_user": True}, module=INFO, token=res["plain_token"])
    assert not info["failed"], run.output

    emulator.reset_counters()
    run, res = run_task(ansible, args)
    assert res["changed"] is False and emulator.writes() == 0, run.output


def test_outside_the_rotation_window_nothing_changes(ansible, emulator):
    seed_service_user(emulator, tokens=[{"name": "gitlab", "expires_in": 20}])
    emulator.reset_counters()
    run, res = run_task(ansible, {"user_name": "ci-bot", "name": "gitlab", "expires_in": 90, "rotate_before_days": 7})
    assert res["changed"] is False and emulator.writes() == 0, run.output


def test_lost_create_answer_ends_with_one_token_whose_secret_is_known(ansible, emulator):
    seed_service_user(emulator)
    # the server creates the token, then the connection breaks before the answer is read
    emulator.faults([{"method": "POST", "path": CREATE.split(" ", 1)[1], "partial": True}])
    emulator.reset_counters()
    run, res = run_task(ansible, {"user_name": "ci-bot", "name": "gitlab", "expires_in": 30})
    assert res["changed"] and res["action"] == "create", run.output
    assert any("answer to the create request was lost" in w for w in res.get("warnings") or []), run.output
    assert [t["id"] for t in stored_tokens(emulator, "ci-bot")] == [res["token"]["id"]]
    assert emulator.requests()["by_route"][CREATE] == 2 and emulator.requests()["by_route"][DELETE] == 1
    run, info = run_task(ansible, {"name": "ci-bot", "service_user": True}, module=INFO, token=res["plain_token"])
    assert not info["failed"], run.output


def test_absent_by_name_and_by_token_id(ansible, emulator):
    seeded = seed_service_user(emulator, tokens=[{"name": "a", "expires_in": 5}, {"name": "b", "expires_in": 5}])
    b_id = seeded["tokens"][1]["personal_access_token"]["id"]
    run, res = run_task(ansible, {"user_name": "ci-bot", "name": "a", "state": "absent"}, diff=True)
    assert res["changed"] and res["action"] == "delete" and res["diff"]["after"] == {"state": "absent"}, run.output
    run, res = run_task(ansible, {"user_name": "ci-bot", "token_id": b_id, "state": "absent"})
    assert res["changed"] and res["token"]["id"] == b_id, run.output
    assert stored_tokens(emulator, "ci-bot") == []
    emulator.reset_counters()
    run = ansible.playbook([task("by name", {"user_name": "ci-bot", "name": "a", "state": "absent"}),
                            task("by id", {"user_name": "ci-bot", "token_id": b_id, "state": "absent"})])
    assert run.rc == 0 and run.recap()["changed"] == 0, run.output
    assert emulator.writes() == 0


def test_duplicate_names_fail_with_the_ids(ansible, emulator):
    seeded = seed_service_user(emulator, tokens=[{"name": "ci", "expires_in": 5}, {"name": "ci", "expires_in": 9}])
    ids = sorted(t["personal_access_token"]["id"] for t in seeded["tokens"])
    emulator.reset_counters()
    run, res = run_task(ansible, {"user_name": "ci-bot", "name": "ci", "expires_in": 30})
    assert res["failed"]
    assert "2 tokens of service user 'ci-bot' are named 'ci' (ids %s, %s)" % tuple(ids) in res["msg"]
    assert emulator.writes() == 0


@pytest.mark.parametrize("days", [0, 366])
def test_expires_in_out_of_range_fails_before_any_request(ansible, emulator, days):
    emulator.reset_counters()
    run, res = run_task(ansible, {"user_name": "ci-bot", "name": "ci", "expires_in": days})
    assert res["failed"] and "expires_in must be between 1 and 365 days" in res["msg"], run.output
    assert emulator.requests()["total"] == 0


def test_plain_user_is_refused_even_for_itself(ansible, emulator):
    seeded = emulator.seed(users=[{"email": "u@x.io", "name": "U", "role": "user", "tokens": [{"name": "mine", "expires_in": 5}]}])
    token = seeded["users"][0]["tokens"][0]["plain_token"]
    emulator.reset_counters()
    run, res = run_task(ansible, {"name": "other", "expires_in": 5}, token=token)
    assert res["failed"] and "role user" in res["msg"] and "not even its own" in res["msg"], run.output
    assert emulator.requests()["by_route"] == {"GET /api/users": 1}


def test_admin_may_not_manage_another_regular_users_tokens(ansible, emulator):
    seeded = emulator.seed(users=[{"email": "a@x.io", "name": "A", "role": "admin", "tokens": [{"name": "mine", "expires_in": 5}]},
                                  {"email": "r@x.io", "name": "R"}])
    admin_token = seeded["users"][0]["tokens"][0]["plain_token"]
    emulator.reset_counters()
    run, res = run_task(ansible, {"user_id": seeded["users"][1]["id"], "name": "x", "expires_in": 5}, token=admin_token)
    assert res["failed"] and "r@x.io is a regular user" in res["msg"], run.output
    assert emulator.requests()["by_route"] == {"GET /api/users": 1}
    # its own tokens and a service user's are fine
    seed_service_user(emulator)
    run = ansible.playbook([task("own", {"name": "laptop", "expires_in": 5}, no_log=True),
                            task("svc", {"user_name": "ci-bot", "name": "x", "expires_in": 5}, no_log=True)], token=admin_token)
    assert run.rc == 0 and run.recap()["changed"] == 2, run.output


@pytest.mark.compat
def test_check_mode_writes_nothing(ansible, emulator):
    seed_service_user(emulator)
    emulator.reset_counters()
    run, res = run_task(ansible, {"user_name": "ci-bot", "name": "ci", "expires_in": 30}, check=True, diff=True)
    assert res["changed"] and res["token"]["id"] is None and "plain_token" not in res, run.output
    assert res["diff"]["before"] == {"state": "absent"} and res["diff"]["after"]["name"] == "ci"
    assert emulator.writes() == 0 and stored_tokens(emulator, "ci-bot") == []


@pytest.mark.compat
def test_plain_token_only_ever_in_the_plain_token_key(ansible, emulator):
    seed_service_user(emulator)
    run, res = run_task(ansible, {"user_name": "ci-bot", "name": "ci", "expires_in": 30}, diff=True, verbosity=4)
    assert run.rc == 0 and res["changed"], run.output
    secret = res["plain_token"]
    hits = [m.start() for m in re.finditer(re.escape(secret), run.output)]
    assert hits, run.output
    for at in hits:
        assert run.output[:at].endswith('"plain_token": "'), run.output[max(0, at - 200):at + 60]
    diff = json.dumps(res["diff"]) + json.dumps(res.get("warnings") or [])
    assert secret not in diff
    assert all(secret not in (e.get("body") or "") for e in emulator.log())


def test_batch_one_user_list_and_one_token_list_per_user(ansible, emulator):
    emulator.seed(users=[{"name": "a-bot", "service_user": True, "tokens": [{"name": "old", "expires_in": 5}]},
                         {"name": "b-bot", "service_user": True}])
    entries = [{"user_name": "a-bot", "name": "ci", "expires_in": 30},
               {"user_name": "a-bot", "name": "old", "state": "absent"},
               {"user_name": "b-bot", "name": "ci", "expires_in": 30},
               {"user_name": "b-bot", "name": "deploy", "expires_in": 60}]
    emulator.reset_counters()
    run, res = run_task(ansible, {"tokens": entries}, diff=True)
    assert res["changed"], run.output
    assert [e["action"] for e in res["tokens"]] == ["create", "delete", "create", "create"]
    assert ["plain_token" in e for e in res["tokens"]] == [True, False, True, True]
    assert emulator.requests()["by_route"] == {"GET /api/users": 1, TOKENS: 2, CREATE: 3, DELETE: 1}
    emulator.reset_counters()
    run, res = run_task(ansible, {"tokens": entries})
    assert res["changed"] is False, run.output
    assert emulator.requests() == {"total": 3, "writes": 0, "by_route": {"GET /api/users": 1, TOKENS: 2}}


def test_info_include_tokens(ansible, emulator):
    seeded = emulator.seed(users=[{"name": "ci-bot", "service_user": True, "tokens": [{"name": "b", "expires_in": 5},
                                                                                      {"name": "a", "expires_in": 5}]},
                                  {"email": "r@x.io", "name": "R", "tokens": [{"name": "mine", "expires_in": 5}]}])
    emulator.reset_counters()
    run, res = run_task(ansible, {"include_tokens": True}, module=INFO)
    assert not res["failed"], run.output
    by_name = dict((u["name"], u) for u in res["users"])
    assert [t["name"] for t in by_name["ci-bot"]["tokens"]] == ["a", "b"]
    assert [t["name"] for t in by_name["Emulator Owner"]["tokens"]] == ["emulator owner"]
    assert "tokens" not in by_name["R"]
    assert any("r@x.io" in w for w in res.get("warnings") or []), run.output
    assert emulator.requests()["by_route"] == {"GET /api/users": 1, TOKENS: 2}
    for entry in seeded["users"]:
        for tok in entry["tokens"]:
            assert tok["plain_token"] not in run.output
    # a service user's own token sees its own tokens
    svc_token = seeded["users"][0]["tokens"][0]["plain_token"]
    run, res = run_task(ansible, {"name": "ci-bot", "service_user": True, "include_tokens": True}, module=INFO, token=svc_token)
    assert not res["failed"] and len(res["users"][0]["tokens"]) == 2, run.output


def test_done_when_service_user_token_used_by_a_following_task(ansible, emulator):
    """The issue's acceptance playbook: service user + token, the token used at once, a re-run changes nothing."""
    token_file = os.path.join(str(ansible.tmp_path), "ci-bot.token")
    the_token = "{{ lookup('ansible.builtin.file', token_file) }}"
    tasks = [
        {"name": "service user", USER: {"name": "ci-bot", "service_user": True, "role": "admin"}},
        {"name": "token", M: {"user_name": "ci-bot", "name": "pipeline", "expires_in": 30}, "register": "tok", "no_log": True},
        {"name": "store the secret", "ansible.builtin.copy": {"content": "{{ tok.plain_token }}", "dest": "{{ token_file }}",
                                                              "mode": "0600"},
         "when": "tok.plain_token is defined", "no_log": True},
        {"name": "current with the service token", INFO: {"api_token": the_token, "current": True},
         "register": "me", "ignore_errors": True},
        {"name": "by name with the service token", INFO: {"api_token": the_token, "name": "ci-bot", "service_user": True},
         "register": "svc"},
    ]
    play_vars = {"token_file": token_file}
    run = ansible.playbook(tasks, play_vars=play_vars)
    assert run.rc == 0, run.output
    current = run.result("current with the service token")
    assert current["failed"] and "HTTP 403" in current["msg"]
    assert "NetBird does not answer /api/users/current for a service user's token" in current["msg"]
    assert "name (and service_user: true)" in current["msg"]
    by_name = run.result("by name with the service token")
    assert [u["name"] for u in by_name["users"]] == ["ci-bot"] and by_name["users"][0]["is_service_user"]
    with open(token_file, encoding="utf-8") as handle:
        secret = handle.read()
    assert secret.startswith("nbp_") and secret not in run.output

    emulator.reset_counters()
    run = ansible.playbook(tasks, play_vars=play_vars)
    assert run.rc == 0, run.output
    assert run.recap()["changed"] == 0 and emulator.writes() == 0
    assert run.result("by name with the service token")["users"][0]["name"] == "ci-bot"
    assert len(stored_tokens(emulator, "ci-bot")) == 1


ROLE_TASKS = [
    {"name": "onboard", "ansible.builtin.include_role": {"name": "netbird_ops.netbird.onboarding"}},
    {"name": "result", "ansible.builtin.copy": {"content": "{{ netbird_onboarding_result | to_json }}",
                                                "dest": "{{ playbook_dir }}/result.json", "mode": "0600"},
     "no_log": True, "diff": False, "check_mode": False},
]

TEAM = {
    "netbird_onboarding_users": [{"email": "alice@example.com", "name": "Alice"}],
    "netbird_onboarding_service_users": [
        {"name": "ci-pipeline", "role": "admin", "tokens": [{"name": "gitlab", "expires_in": 90},
                                                            {"name": "github", "expires_in": 30, "rotate_before_days": 5}]},
        {"name": "backup-agent", "tokens": [{"name": "nightly", "expires_in": 365}]},
        {"name": "no-tokens"},
    ],
}


def read_result(ansible):
    with open(os.path.join(str(ansible.tmp_path), "result.json"), encoding="utf-8") as handle:
        return json.load(handle)


def test_role_service_user_tokens_then_second_run_changes_nothing(ansible, emulator):
    run = ansible.playbook(ROLE_TASKS, play_vars=TEAM, check=True, diff=True)
    assert run.rc == 0, run.output
    assert emulator.writes() == 0
    assert read_result(ansible)["tokens"] == {}

    emulator.reset_counters()
    run = ansible.playbook(ROLE_TASKS, play_vars=TEAM)
    assert run.rc == 0, run.output
    result = read_result(ansible)
    assert sorted(result["tokens"]) == ["backup-agent", "ci-pipeline"]
    assert sorted(result["tokens"]["ci-pipeline"]) == ["github", "gitlab"]
    assert list(result["tokens"]["backup-agent"]) == ["nightly"]
    for by_name in result["tokens"].values():
        for secret in by_name.values():
            assert secret.startswith("nbp_") and secret not in run.output
    assert result["created"] == ["alice@example.com", "ci-pipeline", "backup-agent", "no-tokens"]
    by_route = emulator.requests()["by_route"]
    assert by_route[TOKENS] == 2 and by_route[CREATE] == 3
    assert [t["name"] for t in stored_tokens(emulator, "ci-pipeline")] == ["gitlab", "github"]

    emulator.reset_counters()
    run = ansible.playbook(ROLE_TASKS, play_vars=TEAM)
    assert run.rc == 0, run.output
    assert all(not r["result"].get("changed") for r in run.results if r["task"] != "result"), run.output
    result = read_result(ansible)
    assert result["tokens"] == {} and result["changed"] is False
    assert emulator.writes() == 0
    assert emulator.requests()["by_route"][TOKENS] == 2

    # removing a token is a role input too
    team = json.loads(json.dumps(TEAM))
    team["netbird_onboarding_service_users"][1]["tokens"][0]["state"] = "absent"
    run = ansible.playbook(ROLE_TASKS, play_vars=team)
    assert run.rc == 0, run.output
    assert stored_tokens(emulator, "backup-agent") == [] and read_result(ansible)["changed"] is True
