# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exclusive mode of netbird_user (offboarding) and the stale-user filters of netbird_user_info, against the emulator.

Few playbook runs, many assertions each: the guard rails are one playbook whose failing tasks each must leave the
write counter at zero (checked between tasks through the emulator's control API with ansible.builtin.uri).
"""

from __future__ import annotations


import pytest

from nb_testlib import Emulator, days_ago

M = "netbird_ops.netbird.netbird_user"
INFO = "netbird_ops.netbird.netbird_user_info"


SEED = {
    "groups": [{"name": "dev"}, {"name": "ops"}],
    "users": [
        {"email": "keep@x.io", "name": "Keep", "auto_groups": ["dev"], "last_login": days_ago(2), "peers": 1},
        {"email": "adm@x.io", "name": "Adm", "role": "admin", "last_login": days_ago(400)},
        {"email": "gone1@x.io", "name": "Gone1", "last_login": days_ago(120), "peers": 2},
        {"email": "gone2@x.io", "name": "Gone2", "peers": 1},
        {"email": "old@x.io", "name": "Old", "blocked": True, "last_login": days_ago(30)},
        {"email": "pen@x.io", "name": "Pen", "pending_approval": True},
        {"email": "glass@x.io", "name": "Glass", "role": "admin", "last_login": days_ago(200)},
        {"name": "ci-bot", "service_user": True, "role": "admin"},
        {"name": "old-bot", "service_user": True},
    ],
}

LIST = [{"email": "keep@x.io", "name": "Keep"}, {"email": "adm@x.io"}, {"email": "OLD@x.io"}, {"name": "ci-bot", "service_user": True}]


@pytest.fixture()
def seeded(emulator):
    emulator.seed(**SEED)
    emulator.reset_counters()
    return emulator


def writes_task(name):
    """A task that reads the emulator's write counter into a fact (the control API needs no auth)."""
    return {"name": name, "ansible.builtin.uri": {"url": "{{ lookup('env', 'NETBIRD_API_URL') }}/__emulator__/requests"},
            "register": "counter"}


def test_guard_rails_fail_before_any_write(ansible, seeded):
    """Each refused run names the reason and leaves the write counter at zero (one playbook, one counter read each)."""
    cases = [
        ("empty list", {"users": [], "exclusive": True}, "empty users list"),
        ("single mode", {"email": "keep@x.io", "exclusive": True}, "exclusive is True but all of the following are missing: users"),
        ("too many", {"users": LIST[:1], "exclusive": True, "exclusive_scope": "all", "max_offboard": 2},
         "more than max_offboard=2"),
        ("bad max", {"users": LIST, "exclusive": True, "max_offboard": -1}, "max_offboard must be 0 or more"),
        ("bad protect", {"users": LIST, "exclusive": True, "protect": [" "]}, "protect must contain"),
    ]
    tasks = []
    for name, args, dummy in cases:
        tasks.append({"name": name, M: args, "register": "r", "ignore_errors": True})
        tasks.append(writes_task("writes after " + name))
    run = ansible.playbook(tasks, diff=True)
    for name, dummy, text in cases:
        res = run.result(name)
        assert res["failed"] and text in res["msg"], (name, res.get("msg"), run.output)
        assert run.result("writes after " + name)["json"]["writes"] == 0, name
    too_many = run.result("too many")["msg"]
    # named: how many and the first few; never the owner, the token's user, the pending user
    assert "would offboard (block) 6 users" in too_many
    assert "adm@x.io" in too_many and "gone1@x.io" in too_many and "owner@example.com" not in too_many
    assert "pen@x.io" not in too_many and "and 1 more" in too_many
    assert seeded.writes() == 0


def test_check_diff_apply_rerun(ansible, seeded):
    """Check mode and --diff name exactly who; the real run does it; the re-run (module and check) changes nothing."""
    args = {"users": LIST, "exclusive": True, "exclusive_scope": "all", "protect": ["GLASS@x.io"]}
    run = ansible.playbook([{"name": "x", M: args, "register": "r"}], check=True, diff=True)
    res = run.result("x")
    assert not res["failed"], run.output
    assert sorted(res["summary"]["offboarded"]) == ["gone1@x.io", "gone2@x.io", "old-bot"]
    assert sorted(u["email"] or u["name"] for u in res["offboarded"]) == ["gone1@x.io", "gone2@x.io", "old-bot"]
    assert all(u["is_blocked"] for u in res["offboarded"])
    # the listed users stay in users, one entry per element, in order
    assert [u["user"]["email"] or u["user"]["name"] for u in res["users"]] == ["keep@x.io", "adm@x.io", "old@x.io", "ci-bot"]
    assert not any(u["changed"] for u in res["users"])
    headers = sorted(d["before_header"] for d in res["diff"])
    assert headers == ["gone1@x.io", "gone2@x.io", "old-bot"]
    assert all(d["before"]["blocked"] is False and d["after"]["blocked"] is True for d in res["diff"])
    for who in ("gone1@x.io", "gone2@x.io", "old-bot"):
        assert who in run.stdout
    assert seeded.writes() == 0

    seeded.reset_counters()
    run = ansible.playbook([{"name": "x", M: args, "register": "r"}])
    res = run.result("x")
    assert res["changed"] and sorted(res["summary"]["offboarded"]) == ["gone1@x.io", "gone2@x.io", "old-bot"], run.output
    requests = seeded.requests()["by_route"]
    assert requests["GET /api/users"] == 1 and requests["PUT /api/users/{userId}"] == 3 and seeded.writes() == 3
    for email in ("gone1@x.io", "gone2@x.io"):
        assert seeded.user(email=email)["is_blocked"]
    assert seeded.user(name="old-bot", email=None)["is_blocked"]
    for email in ("keep@x.io", "adm@x.io", "glass@x.io", "owner@example.com"):
        assert not seeded.user(email=email)["is_blocked"]
    assert seeded.user(email="old@x.io")["is_blocked"]  # listed again without blocked: left blocked
    assert seeded.user(email="pen@x.io")["pending_approval"]

    seeded.reset_counters()
    run = ansible.playbook([{"name": "x", M: args, "register": "r"}])
    res = run.result("x")
    assert res["changed"] is False and res["offboarded"] == [] and res["summary"]["offboarded"] == [], run.output
    assert seeded.writes() == 0

    # a blocked user comes back only when the list says blocked: false
    back = [dict(u) for u in LIST] + [{"email": "gone1@x.io", "blocked": False}]
    run = ansible.playbook([{"name": "x", M: dict(args, users=back), "register": "r"}])
    res = run.result("x")
    assert res["summary"]["updated"] == ["gone1@x.io"] and res["summary"]["offboarded"] == [], run.output
    assert not seeded.user(email="gone1@x.io")["is_blocked"]


def test_delete_warns_peers_and_scope(ansible, seeded):
    """offboard: delete in the default scope (regular users): service users stay, the warning counts the peers."""
    args = {"users": LIST, "exclusive": True, "offboard": "delete", "protect": ["glass@x.io"]}
    run = ansible.playbook([{"name": "x", M: args, "register": "r"}], check=True, diff=True)
    res = run.result("x")
    assert sorted(res["summary"]["offboarded"]) == ["gone1@x.io", "gone2@x.io"], run.output
    # ansible-core 2.16 wraps long warnings across lines: compare with the white space folded
    assert "NetBird deletes their 3 peers with them" in " ".join(run.output.split()), run.output
    assert all(d["after"] == {"state": "absent"} for d in res["diff"])
    assert sorted(d["before"]["peers"] for d in res["diff"]) == [1, 2]
    assert seeded.writes() == 0
    run = ansible.playbook([{"name": "x", M: args, "register": "r"}])
    res = run.result("x")
    assert res["peers_deleted"] == {"gone1@x.io": 2, "gone2@x.io": 1}, run.output
    assert seeded.user(email="gone1@x.io") is None and seeded.user(name="old-bot") is not None
    assert seeded.requests()["by_route"].get("DELETE /api/users/{userId}") == 2
    seeded.reset_counters()
    run = ansible.playbook([{"name": "x", M: args, "register": "r"}])
    assert run.result("x")["changed"] is False and seeded.writes() == 0, run.output


def test_info_stale_filters(ansible, seeded):
    """inactive_days / never_logged_in / last_login_days / include_peers on seeded last logins: one run, a few tasks."""
    tasks = [
        {"name": "inactive", INFO: {"inactive_days": 90, "service_user": False, "include_peers": True}, "register": "a"},
        {"name": "never", INFO: {"never_logged_in": True, "service_user": False}, "register": "b"},
        {"name": "logged", INFO: {"never_logged_in": False}, "register": "c"},
        {"name": "all", INFO: {"include_peers": True}, "register": "d"},
    ]
    run = ansible.playbook(tasks, check=True)
    inactive = run.result("inactive")["users"]
    assert sorted(u["email"] for u in inactive) == ["adm@x.io", "glass@x.io", "gone1@x.io", "gone2@x.io",
                                                    "pen@x.io"], run.output
    never = run.result("never")["users"]
    assert sorted(u["email"] for u in never) == ["gone2@x.io", "pen@x.io"]
    logged = sorted(u["email"] for u in run.result("logged")["users"])
    assert logged == ["adm@x.io", "glass@x.io", "gone1@x.io", "keep@x.io", "old@x.io", "owner@example.com"]
    everyone = dict((u["email"] or u["name"], u) for u in run.result("all")["users"])
    assert everyone["keep@x.io"]["last_login_days"] == 2 and everyone["adm@x.io"]["last_login_days"] == 400
    assert everyone["gone2@x.io"]["last_login_days"] is None and everyone["ci-bot"]["last_login_days"] is None
    assert everyone["gone1@x.io"]["peers_count"] == 2 and everyone["adm@x.io"]["peers_count"] == 0
    assert seeded.requests()["by_route"]["GET /api/peers"] == 2
    assert seeded.writes() == 0


@pytest.fixture(scope="module")
def external():
    emu = Emulator.start("--idp", "external")
    yield emu
    emu.stop()


def test_external_idp_stubs(ansible, external):
    """Stubs: offboarding blocks by the audit-derived state and settles; unknown state is blocked (safe) with a warning,
    never deleted as a regular user; info does not claim a stub never logged in."""
    external.reset()
    external.seed(users=[
        {"email": "alice@x.io", "name": "Alice", "last_login": days_ago(3)},
        {"name": "svc-blocked", "service_user": True, "blocked": True},
        {"name": "svc-active", "service_user": True},
        {"email": "carl@x.io", "name": "Carl", "idp_missing": True},
    ])
    # users seeded without audit events: their stub state is unknown to the collection
    external.control("POST", "seed", {"audit": False, "users": [
        {"email": "dora@x.io", "name": "Dora", "idp_missing": True},
        {"name": "svc-quiet", "service_user": True, "blocked": True}]})
    external.reset_counters()
    env = {"NETBIRD_API_URL": external.url, "NETBIRD_API_TOKEN": external.token}
    keep = [{"email": "alice@x.io"}]
    delete = {"users": keep, "exclusive": True, "exclusive_scope": "all", "offboard": "delete"}
    block = {"users": keep, "exclusive": True, "exclusive_scope": "all"}
    tasks = [
        {"name": "delete check", M: delete, "register": "d", "check_mode": True},
        {"name": "block", M: block, "register": "b"},
        {"name": "block again", M: block, "register": "b2"},
        {"name": "stale", INFO: {"inactive_days": 2}, "register": "i"},
        {"name": "all", INFO: {}, "register": "a"},
    ]
    run = ansible.playbook(tasks, env=env, diff=True)
    deleted = run.result("delete check")
    # svc-blocked (audit: blocked) and svc-quiet (unknown, service: never pending) would go; dora is left with a warning
    assert sorted(deleted["summary"]["offboarded"]) == ["carl@x.io", "svc-active", "svc-blocked", "svc-quiet"], run.output
    assert "dora@x.io was not offboarded" in run.output
    first = run.result("block")
    # svc-blocked is known blocked: no change; svc-quiet and dora are unknown: blocked, reported, with a warning
    assert sorted(first["summary"]["offboarded"]) == ["carl@x.io", "dora@x.io", "svc-active", "svc-quiet"], run.output
    assert "its blocked state is unknown" in run.output
    assert all(u["is_blocked"] is True for u in first["offboarded"])
    # settles for every stub whose state the audit log tells (dora's block is in it now); svc-quiet was blocked
    # already, so NetBird logged nothing and its state stays unknown: written again (safe), said so
    again = run.result("block again")
    assert again["summary"]["offboarded"] == ["svc-quiet"], run.output
    assert "is written again on every run" in run.output
    for who in ("carl@x.io", "dora@x.io"):
        assert external.user(email=who)["is_blocked"]
    for who in ("svc-active", "svc-quiet", "svc-blocked"):
        assert external.user(name=who)["is_blocked"]
    assert not external.user(email="alice@x.io")["is_blocked"]
    stale = run.result("stale")["users"]
    # stubs always say never: left out, said so, not claimed stale
    assert [u["email"] for u in stale] == ["alice@x.io"]
    assert "does not report their last login" in run.output
    everyone = dict((u["email"] or u["name"], u) for u in run.result("all")["users"])
    assert everyone["carl@x.io"]["state_reported"] is False and everyone["carl@x.io"]["last_login_days"] is None
    assert everyone["alice@x.io"]["last_login_days"] == 3
