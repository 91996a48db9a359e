# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""netbird_user through real ansible-playbook / ansible runs against the emulator."""

from __future__ import annotations

import json

import pytest

from nb_testlib import Emulator

M = "netbird_ops.netbird.netbird_user"


def task(name, args, **extra):
    item = {"name": name, M: args, "register": "r"}
    item.update(extra)
    return item


def run_task(ansible, args, check=False, diff=False, **kwargs):
    run = ansible.playbook([task("t", args, ignore_errors=True)], check=check, diff=diff, **kwargs)
    return run, run.result("t")


@pytest.mark.compat
def test_create_regular_user_with_group_names_then_idempotent(ansible, emulator):
    emulator.seed(groups=[{"name": "dev"}, {"name": "ops"}])
    emulator.reset_counters()
    args = {"email": "Alice@Example.com", "name": "Alice", "auto_groups": ["dev", "ops"]}
    run, res = run_task(ansible, args)
    assert res["changed"] is True, run.output
    assert res["user"]["auto_groups_names"] == ["dev", "ops"]
    assert res["user"]["role"] == "user" and res["user"]["status"] == "active"
    assert len(res["password"]) == 16
    stored = emulator.user(email="alice@example.com")
    assert sorted(stored["auto_groups"]) == sorted([emulator.group_id("dev"), emulator.group_id("ops")])
    counts = emulator.requests()
    assert counts["by_route"]["POST /api/users"] == 1 and counts["writes"] == 1

    emulator.reset_counters()
    run, res = run_task(ansible, dict(args, email="alice@example.COM"))
    assert res["changed"] is False, run.output
    assert "password" not in res
    counts = emulator.requests()
    assert counts["writes"] == 0
    assert counts["by_route"] == {"GET /api/users": 1, "GET /api/groups": 1}
    assert run.recap()["changed"] == 0


def test_one_request_for_a_no_change_run_without_group_names(ansible, emulator):
    seeded = emulator.seed(groups=[{"name": "dev"}], users=[{"email": "b@x.io", "name": "B", "role": "admin", "auto_groups": ["dev"]}])
    gid = seeded["groups"][0]["id"]
    emulator.reset_counters()
    run, res = run_task(ansible, {"email": "b@x.io", "role": "admin", "auto_groups": [gid], "blocked": False})
    assert res["changed"] is False, run.output
    assert emulator.requests() == {"total": 1, "writes": 0, "by_route": {"GET /api/users": 1}}


@pytest.mark.compat
def test_check_mode_create_predicts_and_writes_nothing(ansible, emulator):
    emulator.seed(groups=[{"name": "dev"}])
    emulator.reset_counters()
    run, res = run_task(ansible, {"email": "c@x.io", "name": "C", "auto_groups": ["dev"], "blocked": True}, check=True, diff=True)
    assert res["changed"] is True, run.output
    assert res["user"]["id"] is None and res["user"]["is_blocked"] is True
    assert res["diff"]["before"] == {"state": "absent"}
    assert res["diff"]["after"]["auto_groups"] == ["dev"]
    assert emulator.writes() == 0
    assert emulator.user(email="c@x.io") is None


def test_update_merges_and_never_demotes_or_unblocks(ansible, emulator):
    """Regression for peer pitfalls: omitted role demoted admins, omitted is_blocked unblocked users."""
    emulator.seed(groups=[{"name": "dev"}, {"name": "ops"}],
                  users=[{"email": "d@x.io", "name": "D", "role": "admin", "auto_groups": ["dev"], "blocked": True}])
    run, res = run_task(ansible, {"email": "d@x.io", "auto_groups": ["ops"], "auto_groups_mode": "add"}, diff=True)
    assert res["changed"] is True, run.output
    stored = emulator.user(email="d@x.io")
    assert stored["role"] == "admin" and stored["is_blocked"] is True
    assert sorted(stored["auto_groups"]) == sorted([emulator.group_id("dev"), emulator.group_id("ops")])
    assert res["diff"]["before"]["auto_groups"] == ["dev"] and res["diff"]["after"]["auto_groups"] == ["dev", "ops"]
    put = [e for e in emulator.log() if e["method"] == "PUT"]
    assert json.loads(put[-1]["body"]) == {"role": "admin", "auto_groups": sorted(stored["auto_groups"]), "is_blocked": True}

    emulator.reset_counters()
    run, res = run_task(ansible, {"email": "d@x.io", "auto_groups": ["ops"], "auto_groups_mode": "add"})
    assert res["changed"] is False and emulator.writes() == 0

    run, res = run_task(ansible, {"email": "d@x.io", "auto_groups": ["dev"], "auto_groups_mode": "remove", "role": "AUDITOR"})
    stored = emulator.user(email="d@x.io")
    assert res["changed"] is True and stored["role"] == "auditor" and stored["auto_groups"] == [emulator.group_id("ops")]
    assert stored["is_blocked"] is True


def test_block_unblock_idempotent(ansible, emulator):
    emulator.seed(users=[{"email": "e@x.io", "name": "E"}])
    for blocked in (True, False):
        run, res = run_task(ansible, {"email": "e@x.io", "blocked": blocked})
        assert res["changed"] is True, run.output
        assert emulator.user(email="e@x.io")["is_blocked"] is blocked
        emulator.reset_counters()
        run, res = run_task(ansible, {"email": "e@x.io", "blocked": blocked})
        assert res["changed"] is False and emulator.writes() == 0


def test_blocked_at_create_is_one_change(ansible, emulator):
    run = ansible.playbook([task("create", {"email": "f@x.io", "name": "F", "blocked": True}),
                            task("again", {"email": "f@x.io", "name": "F", "blocked": True})])
    assert run.rc == 0, run.output
    assert run.result("create")["changed"] and not run.result("again")["changed"]
    assert run.result("create")["user"]["is_blocked"] is True
    assert emulator.user(email="f@x.io")["is_blocked"] is True
    assert emulator.requests()["by_route"]["PUT /api/users/{userId}"] == 1


def test_delete_by_email_reports_peers_then_idempotent(ansible, emulator):
    emulator.seed(users=[{"email": "g@x.io", "name": "G", "peers": 3}])
    run, res = run_task(ansible, {"email": "g@x.io", "state": "absent"}, check=True, diff=True)
    assert res["changed"] and res["diff"]["before"]["peers"] == 3 and res["diff"]["after"] == {"state": "absent"}
    assert res["peers_deleted"] == {"g@x.io": 3}
    assert emulator.user(email="g@x.io") is not None
    run, res = run_task(ansible, {"email": "g@x.io", "state": "absent"})
    assert res["changed"] is True
    assert any("3 peers" in w for w in res["warnings"])
    assert emulator.user(email="g@x.io") is None
    emulator.reset_counters()
    run, res = run_task(ansible, {"email": "g@x.io", "state": "absent"})
    assert res["changed"] is False and res["user"] is None and emulator.writes() == 0


def test_service_user_create_delete_by_name_and_id(ansible, emulator):
    run = ansible.playbook([
        task("create", {"name": "ci-bot", "service_user": True, "role": "network_admin"}),
        task("again", {"name": "ci-bot", "is_service_user": True, "role": "network_admin"}),
    ])
    assert run.rc == 0, run.output
    created = run.result("create")
    assert created["changed"] and created["user"]["is_service_user"] and "password" not in created
    assert not run.result("again")["changed"]
    uid = created["user"]["id"]
    run, res = run_task(ansible, {"user_id": uid, "state": "absent"})
    assert res["changed"] and emulator.user(name="ci-bot") is None


def test_unknown_user_id_is_an_error_not_a_create(ansible, emulator):
    run, res = run_task(ansible, {"user_id": "does-not-exist", "role": "admin"})
    assert res["failed"] and "no user with user_id 'does-not-exist' exists" in res["msg"]
    assert emulator.writes() == 0


BAD_INPUT = [
    ({"email": "h@x.io", "name": "H", "role": "owner"}, "role owner cannot be given when creating"),
    ({"email": "h@x.io", "name": "H", "role": "superuser"}, "role 'superuser' is not a NetBird role"),
    ({"email": "h@x.io", "name": "H", "auto_groups": ["All"]}, "'All' group cannot be assigned"),
    ({"email": "h@x.io", "name": "H", "auto_groups": ["nope"]}, "unknown group 'nope'"),
    ({"name": "bot", "service_user": True, "role": "owner"}, "owner is not allowed for a service user"),
    ({"email": "owner@example.com", "blocked": True}, "cannot block or unblock your own user"),
    ({"email": "owner@example.com", "role": "admin"}, "cannot change your own role"),
    ({"email": "h@x.io"}, "name is required to create a regular user"),
]


def test_bad_input_fails_before_any_write(ansible, emulator):
    """Every case is a task of one playbook (ignore_errors): no case writes, so no case changes what the next one
    sees, and a write counter of 0 after all of them means 0 for each."""
    emulator.reset_counters()
    run = ansible.playbook([task("case %d" % i, args, ignore_errors=True) for i, (args, dummy) in enumerate(BAD_INPUT)])
    for i, (args, message) in enumerate(BAD_INPUT):
        res = run.result("case %d" % i)
        assert res.get("failed"), (args, run.output)
        assert message in res["msg"], (args, res["msg"])
    assert "Traceback" not in run.output
    assert emulator.writes() == 0


def test_pending_user_stays_pending_when_groups_change(ansible, emulator):
    emulator.seed(groups=[{"name": "dev"}], users=[{"email": "p@x.io", "name": "P", "pending_approval": True}])
    run, res = run_task(ansible, {"email": "p@x.io", "auto_groups": ["dev"], "blocked": False})
    assert res["changed"] is True, run.output
    assert any("pending approval" in w for w in res["warnings"])
    stored = emulator.user(email="p@x.io")
    assert stored["pending_approval"] is True and stored["is_blocked"] is True
    assert stored["auto_groups"] == [emulator.group_id("dev")]


def test_batch_mode_one_list_one_groups_call_and_idempotent(ansible, emulator):
    emulator.seed(groups=[{"name": "dev"}, {"name": "ops"}],
                  users=[{"email": "old@x.io", "name": "Old", "peers": 1}, {"email": "keep@x.io", "name": "Keep", "role": "admin"}])
    users = [
        {"email": "u1@x.io", "name": "U1", "auto_groups": ["dev"]},
        {"email": "u2@x.io", "name": "U2", "role": "auditor", "blocked": True},
        {"name": "svc-1", "service_user": True, "auto_groups": ["ops"]},
        {"email": "keep@x.io", "auto_groups": ["ops"]},
        {"email": "old@x.io", "state": "absent"},
    ]
    emulator.reset_counters()
    run, res = run_task(ansible, {"users": users}, diff=True)
    assert res["changed"] is True, run.output
    assert [u["action"] for u in res["users"]] == ["create", "create", "create", "update", "delete"]
    assert len(res["users"][0]["password"]) == 16 and "password" not in res["users"][2]
    assert res["summary"] == {"created": ["u1@x.io", "u2@x.io", "svc-1"], "updated": ["keep@x.io"], "deleted": ["old@x.io"],
                              "unchanged": []}
    by_route = emulator.requests()["by_route"]
    assert by_route["GET /api/users"] == 1 and by_route["GET /api/groups"] == 1
    assert emulator.user(email="keep@x.io")["role"] == "admin"
    assert emulator.user(email="u2@x.io")["is_blocked"] is True
    assert emulator.user(email="old@x.io") is None
    assert len(res["diff"]) == 5

    emulator.reset_counters()
    run, res = run_task(ansible, {"users": users})
    assert res["changed"] is False, run.output
    assert all(not u["changed"] for u in res["users"])
    assert emulator.requests()["by_route"] == {"GET /api/users": 1, "GET /api/groups": 1}


def test_batch_failure_attempts_every_other_entry_then_a_rerun_creates_only_that_one(ansible, emulator):
    """Loop semantics (fail_fast false, the default): one entry's POST answers 500, every other entry is created, the task
    fails at the end with one line naming that entry and what was done; the next run creates only that entry."""
    emulator.seed(users=[{"email": "a1@x.io", "name": "A1"}])
    # the first create fails, once: a2's (sequential, so that it is a2's)
    emulator.faults([{"method": "POST", "path": "/api/users", "times": 1, "status": 500}])
    emulator.reset_counters()
    users = [{"email": "a1@x.io", "role": "admin"}, {"email": "a2@x.io", "name": "A2"}, {"email": "a3@x.io", "name": "A3"}]
    args = {"users": users, "api_concurrency": 1}
    run = ansible.playbook([task("first", args, ignore_errors=True), task("again", args)])
    res, again = run.result("first"), run.result("again")
    assert res["failed"], run.output
    assert res["msg"].startswith("users[1] (a2@x.io): POST /api/users failed with HTTP 500 Internal Server Error: internal server error")
    assert res["msg"].endswith("; already done: updated a1@x.io; created a3@x.io") and "\n" not in res["msg"]
    assert res["changed"] is True and res["summary"] == {"created": ["a3@x.io"], "updated": ["a1@x.io"], "deleted": [], "unchanged": []}
    failed = res["users"][1]
    assert (failed["failed"], failed["email"], failed["user"], failed["changed"]) == (True, "a2@x.io", None, False)
    assert failed["msg"].startswith("users[1] (a2@x.io): POST /api/users failed with HTTP 500")
    assert [u.get("failed", False) for u in res["users"]] == [False, True, False]
    assert len(res["users"][2]["password"]) == 16  # the one-time password of a user created around the failure is kept
    # the second run (the fault was answered once) creates only a2
    assert again["changed"] is True and not again.get("failed"), run.output
    assert again["summary"] == {"created": ["a2@x.io"], "updated": [], "deleted": [], "unchanged": ["a1@x.io", "a3@x.io"]}
    assert emulator.requests()["by_route"]["POST /api/users"] == 3 and emulator.user(email="a2@x.io") is not None


def test_bad_batch_entry_fails_before_any_write(ansible, emulator):
    users = [{"email": "ok@x.io", "name": "Ok"}, {"email": "bad@x.io", "name": "Bad", "auto_groups": ["missing"]}]
    run, res = run_task(ansible, {"users": users})
    assert res["failed"] and "users[1].auto_groups: unknown group 'missing'" in res["msg"]
    assert emulator.writes() == 0


@pytest.mark.compat
def test_diff_and_verbose_output_never_show_the_one_time_password(ansible, emulator):
    run = ansible.playbook([task("t", {"email": "s@x.io", "name": "S"})], diff=True, verbosity=4)
    assert run.rc == 0, run.output
    password = run.result("t")["password"]
    out = run.output
    # the password is a return value (meant to carry it) but appears in no diff or warning
    assert out.count(password) == 1, out
    assert emulator.token not in out


def test_own_password_change(ansible, emulator):
    created = emulator.seed(users=[{"email": "adm@x.io", "name": "Adm", "role": "admin", "password": "Old-Pass-1!",
                                    "tokens": [{"name": "t"}]}])
    token = created["users"][0]["tokens"][0]["plain_token"]
    run, res = run_task(ansible, {"old_password": "Old-Pass-1!", "new_password": "New-Pass-2!"}, token=token)
    assert res["changed"] is True, run.output
    run, res = run_task(ansible, {"old_password": "Old-Pass-1!", "new_password": "New-Pass-2!"}, token=token)
    assert res["failed"] and "PUT /api/users/" in res["msg"] and "422" in res["msg"]
    assert "Old-Pass-1!" not in run.output and "New-Pass-2!" not in run.output


@pytest.mark.compat
def test_adhoc_create_and_module_defaults_group(ansible, emulator):
    run = ansible.adhoc(M, "email=adhoc@x.io name=Adhoc role=auditor")
    assert run.rc == 0, run.output
    assert emulator.user(email="adhoc@x.io")["role"] == "auditor"
    run = ansible.playbook(
        [task("t", {"email": "adhoc@x.io", "role": "auditor"})],
        env={"NETBIRD_API_URL": None, "NETBIRD_API_TOKEN": None},
        module_defaults={"group/netbird_ops.netbird.netbird": {"api_url": emulator.url, "api_token": emulator.token}},
    )
    assert run.rc == 0 and run.result("t")["changed"] is False, run.output


@pytest.fixture(scope="module")
def external_emulator():
    emu = Emulator.start("--idp", "external")
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def no_idp_emulator():
    emu = Emulator.start("--idp", "none")
    yield emu
    emu.stop()


def test_external_idp_invite_and_resend(ansible, external_emulator):
    emu = external_emulator
    emu.reset()
    run, res = run_task(ansible, {"email": "inv@x.io", "name": "Inv"}, url=emu.url, token=emu.token)
    assert res["changed"] and res["user"]["status"] == "invited" and "password" not in res, run.output
    emu.reset_counters()
    run, res = run_task(ansible, {"email": "inv@x.io", "resend_invite": True}, url=emu.url, token=emu.token)
    assert res["changed"] is True
    assert emu.route("POST /api/users/{userId}/invite") == 1
    emu.seed(users=[{"email": "act@x.io", "name": "Act"}])
    emu.reset_counters()
    run, res = run_task(ansible, {"email": "act@x.io", "resend_invite": True}, url=emu.url, token=emu.token)
    assert res["changed"] is False and emu.writes() == 0


def test_no_idp_create_is_explained(ansible, no_idp_emulator):
    emu = no_idp_emulator
    emu.reset()
    run, res = run_task(ansible, {"email": "x@x.io", "name": "X"}, url=emu.url, token=emu.token)
    assert res["failed"]
    assert "POST /api/users failed with HTTP 412" in res["msg"] and "identity provider" in res["msg"]
    run, res = run_task(ansible, {"name": "svc", "service_user": True}, url=emu.url, token=emu.token)
    assert res["changed"] is True
