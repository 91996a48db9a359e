# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""netbird_user_invite, create_groups (netbird_user and invites), netbird_user_info include_invites and the
onboarding role's invite mode, through real ansible-playbook runs against the emulator. Few runs, many asserts."""

from __future__ import annotations

import json
import os

import pytest

from nb_testlib import Emulator

M = "netbird_ops.netbird.netbird_user_invite"
USER = "netbird_ops.netbird.netbird_user"
INFO = "netbird_ops.netbird.netbird_user_info"
LIST = "GET /api/users/invites"
CREATE = "POST /api/users/invites"
DELETE = "DELETE /api/users/invites/{inviteId}"
REGEN = "POST /api/users/invites/{inviteId}/regenerate"
ALICE = {"email": "Alice@Example.com", "name": "Alice", "auto_groups": ["dev", "newteam"], "create_groups": True}


def task(name, args, module=M, **extra):
    item = {"name": name, module: args}
    item.update(extra)
    return item


def stored_invites(emulator):
    return dict((i["email"].lower(), i) for i in emulator.state()["invites"])


def group_names(emulator):
    return sorted(g["name"] for g in emulator.state()["groups"])


@pytest.mark.compat
def test_invite_lifecycle_check_diff_idempotence_batch_and_info(ansible, emulator):
    emulator.seed(groups=[{"name": "dev"}], users=[{"email": "bob@example.com", "name": "Bob"}])
    emulator.reset_counters()
    # check mode: predicted (a group to create included), zero writes, no link
    run = ansible.playbook([task("check", ALICE, check_mode=True, diff=True)])
    res = run.result("check")
    assert run.rc == 0 and res["changed"] and res["action"] == "create", run.output
    assert res["groups_created"] == ["newteam"] and "invite_url" not in res and "invite_token" not in res
    assert res["invite"]["auto_groups_names"] == ["dev", "newteam"]
    assert emulator.requests() == {"total": 3, "writes": 0, "by_route": {LIST: 1, "GET /api/users": 1, "GET /api/groups": 1}}

    emulator.reset_counters()
    run = ansible.playbook([
        task("create", ALICE, diff=True),
        task("again", dict(ALICE, email="alice@example.com")),
        task("replace", dict(ALICE, role="ADMIN"), diff=True),
        task("regenerate", dict(ALICE, role="admin", regenerate="always", expires_in=7200)),
        task("existing user", {"email": "BOB@example.com", "name": "Bob"}),
        task("batch", {"invites": [{"email": "c1@example.com", "name": "C1", "groups": ["dev"]},
                                   {"email": "c2@example.com", "name": "C2", "role": "auditor"},
                                   {"email": "bob@example.com", "name": "Bob"},
                                   {"email": "alice@example.com", "state": "absent"},
                                   {"email": "gone@example.com", "state": "absent"}]}, diff=True),
        task("batch again", {"invites": [{"email": "c1@example.com", "name": "C1", "groups": ["dev"]},
                                         {"email": "c2@example.com", "name": "C2", "role": "auditor"},
                                         {"email": "alice@example.com", "state": "absent"}]}),
        task("info", {"include_invites": True}, module=INFO),
    ], diff=False)
    assert run.rc == 0, run.output
    create = run.result("create")
    token = create["invite_token"]
    assert create["changed"] and token.startswith("nbi_") and create["groups_created"] == ["newteam"]
    assert create["invite_url"] == "%s/invite?token=%s" % (emulator.url, token)
    assert token not in json.dumps(create["diff"]) and create["diff"]["after"]["link"] == "new"
    assert create["diff"]["after"]["auto_groups"] == ["dev", "newteam"]
    again = run.result("again")
    assert not again["changed"] and again["action"] == "none" and "invite_url" not in again and again["groups_created"] == []
    replace = run.result("replace")
    assert replace["changed"] and replace["action"] == "replace" and replace["invite_token"] != token
    assert replace["diff"]["before"]["role"] == "user" and replace["diff"]["after"]["role"] == "admin"
    regen = run.result("regenerate")
    assert regen["action"] == "regenerate" and regen["invite_token"] not in (token, replace["invite_token"])
    existing = run.result("existing user")
    assert not existing["changed"] and existing["user_exists"] is True and existing["invite"] is None
    batch = run.result("batch")
    assert batch["changed"] and [e["action"] for e in batch["invites"]] == ["create", "create", "none", "delete", "none"]
    assert batch["summary"]["invited"] == ["c1@example.com", "c2@example.com"] and batch["summary"]["user_exists"] == ["bob@example.com"]
    assert batch["summary"]["deleted"] == ["alice@example.com"]
    assert all(e["invite_url"].endswith(e["invite_token"]) for e in batch["invites"][:2])
    assert not any("invite_url" in e for e in batch["invites"][2:])
    assert not run.result("batch again")["changed"]
    info = run.result("info")
    assert [i["email"] for i in info["invites"]] == ["c1@example.com", "c2@example.com"]
    assert info["invites"][0]["auto_groups_names"] == ["dev"] and "nbi_" not in json.dumps(info)
    assert run.status("again") == "ok" and run.status("batch again") == "ok"

    routes = emulator.requests()["by_route"]
    # the batch: one invite list, one user list, one group list, then one request per change (2 creates, 1 delete)
    assert routes[CREATE] == 1 + 1 + 2 and routes[DELETE] == 1 + 1 and routes[REGEN] == 1 and routes["POST /api/groups"] == 1
    invites = stored_invites(emulator)
    assert sorted(invites) == ["c1@example.com", "c2@example.com"] and group_names(emulator) == ["All", "dev", "newteam"]


def test_bad_inputs_fail_before_any_write(ansible, emulator):
    emulator.seed(groups=[{"name": "dev"}])
    emulator.reset_counters()
    cases = [
        ("malformed email", {"email": "not-an-email", "name": "X"}, "email 'not-an-email' is not an email address"),
        ("unknown group id", {"email": "x@example.com", "name": "X", "auto_groups": ["d000000000000000000g"]},
         "auto_groups: unknown group 'd000000000000000000g'"),
        ("unknown id with create_groups", {"email": "x@example.com", "name": "X", "auto_groups": ["d000000000000000000g"],
                                           "create_groups": True}, "auto_groups: unknown group 'd000000000000000000g'"),
        ("typo", {"email": "x@example.com", "name": "X", "auto_groups": ["devv"]}, "set create_groups: true"),
        ("All group", {"email": "x@example.com", "name": "X", "auto_groups": ["All"]}, "'All' group cannot be assigned"),
        ("owner", {"email": "x@example.com", "name": "X", "role": "owner"}, "role owner cannot be given to an invite"),
        ("short link", {"email": "x@example.com", "name": "X", "expires_in": 60}, "expires_in must be at least 3600"),
        ("no name", {"email": "x@example.com"}, "name is required to create an invite"),
        ("batch element", {"invites": [{"email": "ok@example.com", "name": "Ok"}, {"email": "bad", "name": "B"}]},
         "invites[1].email 'bad' is not an email address"),
        ("duplicate", {"invites": [{"email": "d@example.com", "name": "D"}, {"email": "D@example.com", "name": "D"}]},
         "name the same invite"),
        ("user typo", {"users": [{"email": "u@example.com", "name": "U", "auto_groups": ["newg"]}], "create_groups": False},
         "users[0].auto_groups: unknown group 'newg'"),
    ]
    run = ansible.playbook([task(name, args, module=USER if "users" in args else M, ignore_errors=True)
                            for name, args, dummy in cases])
    for name, dummy, message in cases:
        res = run.result(name)
        assert res["failed"] and message in res["msg"], (name, res.get("msg"))
        assert "\n" not in res["msg"] and "Traceback" not in res["msg"]
    assert emulator.writes() == 0


def test_server_without_embedded_idp_says_so_in_one_line(ansible, tmp_path):
    emu = Emulator.start("--idp", "external")
    try:
        run = ansible.playbook([task("invite", {"email": "x@example.com", "name": "X"}, ignore_errors=True),
                                task("info", {"include_invites": True}, module=INFO)], url=emu.url, token=emu.token)
        res = run.result("invite")
        assert res["failed"] and "HTTP 412" in res["msg"] and "need NetBird's embedded identity provider" in res["msg"]
        assert "\n" not in res["msg"]
        info = run.result("info")
        assert info["invites"] == [] and any("embedded identity provider" in w for w in info["warnings"])
        assert emu.requests()["writes"] == 0
    finally:
        emu.stop()


def test_create_groups_for_users_single_and_batch(ansible, emulator):
    emulator.seed(groups=[{"name": "dev"}])
    emulator.reset_counters()
    single = {"email": "u1@example.com", "name": "U1", "auto_groups": ["dev", "g1"], "create_groups": True}
    batch = {"users": [{"email": "u2@example.com", "name": "U2", "auto_groups": ["g2", "g1"]},
                       {"email": "u3@example.com", "name": "U3", "auto_groups": ["g2"]}], "create_groups": True}
    run = ansible.playbook([task("check", single, module=USER, check_mode=True, diff=True)])
    res = run.result("check")
    assert res["changed"] and res["groups_created"] == ["g1"] and res["diff"]["after"]["auto_groups"] == ["dev", "g1"], run.output
    assert emulator.writes() == 0
    run = ansible.playbook([task("single", single, module=USER), task("batch", batch, module=USER),
                            task("again", batch, module=USER)])
    assert run.rc == 0, run.output
    assert run.result("single")["groups_created"] == ["g1"] and run.result("batch")["groups_created"] == ["g2"]
    assert not run.result("again")["changed"] and run.result("again")["groups_created"] == []
    assert run.result("batch")["users"][0]["user"]["auto_groups_names"] == ["g1", "g2"]
    assert group_names(emulator) == ["All", "dev", "g1", "g2"]
    assert emulator.route("POST /api/groups") == 2


def test_role_invites_new_users_and_updates_existing(ansible, emulator):
    emulator.seed(groups=[{"name": "dev"}], users=[{"email": "old@example.com", "name": "Old", "role": "user"}])
    team = {
        "netbird_onboarding_invite": True,
        "netbird_onboarding_create_groups": True,
        "netbird_onboarding_invite_expires_in": 7200,
        "netbird_onboarding_users": [
            {"email": "new1@example.com", "name": "New1", "auto_groups": ["dev", "fresh"], "auto_groups_mode": "replace"},
            {"email": "new2@example.com", "name": "New2", "role": "admin"},
            {"email": "old@example.com", "name": "Old", "role": "auditor"},
        ],
        "netbird_onboarding_service_users": [{"name": "bot", "auto_groups": ["fresh"]}],
    }
    tasks = [
        {"name": "onboard", "ansible.builtin.include_role": {"name": "netbird_ops.netbird.onboarding"}},
        {"name": "result", "ansible.builtin.copy": {"content": "{{ netbird_onboarding_result | to_json }}",
                                                    "dest": "{{ playbook_dir }}/result.json", "mode": "0600"},
         "no_log": True, "diff": False, "check_mode": False},
    ]
    emulator.reset_counters()
    run = ansible.playbook(tasks, play_vars=team, check=True)
    assert run.rc == 0 and emulator.writes() == 0, run.output
    run = ansible.playbook(tasks, play_vars=team)
    assert run.rc == 0, run.output
    with open(os.path.join(str(ansible.tmp_path), "result.json"), encoding="utf-8") as handle:
        result = json.load(handle)
    assert sorted(result["invited"]) == ["new1@example.com", "new2@example.com"]
    assert sorted(result["invite_urls"]) == result["invited"] and all("/invite?token=nbi_" in u for u in result["invite_urls"].values())
    assert result["updated"] == ["old@example.com"] and result["created"] == ["bot"] and result["passwords"] == {}
    for url in result["invite_urls"].values():
        assert url not in run.output
    assert emulator.user(email="old@example.com")["role"] == "auditor" and emulator.user(email="new1@example.com") is None
    assert sorted(stored_invites(emulator)) == ["new1@example.com", "new2@example.com"]
    assert group_names(emulator) == ["All", "dev", "fresh"]
    # one module call per family, no per-user loop
    routes = emulator.requests()["by_route"]
    assert routes[CREATE] == 2 and routes[LIST] == 2 and routes["POST /api/users"] == 1

    run = ansible.playbook(tasks, play_vars=team)
    assert run.rc == 0 and run.recap()["changed"] == 1, run.output  # only the result file differs
    with open(os.path.join(str(ansible.tmp_path), "result.json"), encoding="utf-8") as handle:
        again = json.load(handle)
    assert again["invited"] == [] and again["changed"] is False and again["unchanged"] == ["old@example.com", "bot"]
