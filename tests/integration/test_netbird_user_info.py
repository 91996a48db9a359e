# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""netbird_user_info through ansible-playbook and ad-hoc ansible against the emulator."""

from __future__ import annotations

import pytest

M = "netbird_ops.netbird.netbird_user_info"

SEED_USERS = [
    {"email": "adm@x.io", "name": "Adm", "role": "admin", "auto_groups": ["dev"]},
    {"email": "blk@x.io", "name": "Blk", "blocked": True},
    {"email": "pen@x.io", "name": "Pen", "pending_approval": True},
    {"name": "svc", "service_user": True, "role": "auditor", "auto_groups": ["ops"], "tokens": [{"name": "t"}]},
    {"email": "plain@x.io", "name": "Plain", "role": "user", "tokens": [{"name": "t"}]},
]


@pytest.fixture()
def seeded(emulator):
    return emulator.seed(groups=[{"name": "dev"}, {"name": "ops"}], users=SEED_USERS)


def info(ansible, args, **kwargs):
    run = ansible.playbook([{"name": "t", M: args, "register": "r", "ignore_errors": True}], **kwargs)
    return run, run.result("t")


FILTERS = [
    ({}, ["adm@x.io", "blk@x.io", "owner@example.com", "pen@x.io", "plain@x.io", "svc"]),
    ({"role": "admin"}, ["adm@x.io"]),
    ({"blocked": True}, ["blk@x.io", "pen@x.io"]),
    ({"pending_approval": True}, ["pen@x.io"]),
    ({"status": "blocked", "pending_approval": False}, ["blk@x.io"]),
    ({"service_user": True}, ["svc"]),
    ({"email": "ADM@x.io"}, ["adm@x.io"]),
    ({"name": "Plain"}, ["plain@x.io"]),
    ({"current": True}, ["owner@example.com"]),
]


def test_filters(ansible, emulator, seeded):
    """Each filter is a task of one playbook (the module only reads: no task changes what the next one sees)."""
    run = ansible.playbook([{"name": "filter %d" % i, M: args, "register": "r", "ignore_errors": True}
                            for i, (args, dummy) in enumerate(FILTERS)], check=True)
    for i, (args, expected) in enumerate(FILTERS):
        res = run.result("filter %d" % i)
        assert not res["failed"], (args, run.output)
        assert sorted(u["email"] or u["name"] for u in res["users"]) == expected, args
        assert res["changed"] is False
    assert emulator.writes() == 0


def test_group_names_and_user_id_filter(ansible, emulator, seeded):
    uid = seeded["users"][0]["id"]
    run, res = info(ansible, {"user_id": uid})
    assert res["users"][0]["auto_groups_names"] == ["dev"], run.output
    assert emulator.requests()["by_route"] == {"GET /api/users": 1, "GET /api/groups": 1}


def test_token_that_may_not_read_groups_still_lists(ansible, emulator, seeded):
    token = seeded["users"][4]["tokens"][0]["plain_token"]
    run, res = info(ansible, {}, token=token)
    assert not res["failed"], run.output
    assert [u["email"] for u in res["users"]] == ["plain@x.io"]


def test_service_user_current_is_explained(ansible, emulator, seeded):
    token = seeded["users"][3]["tokens"][0]["plain_token"]
    run, res = info(ansible, {"current": True}, token=token)
    assert res["failed"]
    assert "GET /api/users/current failed with HTTP 403" in res["msg"] and "service user" in res["msg"]
    run, res = info(ansible, {"name": "svc", "service_user": True}, token=token)
    assert res["users"][0]["auto_groups_names"] == ["ops"], run.output


@pytest.mark.compat
def test_adhoc_owner_with_env_only(ansible, emulator):
    run = ansible.adhoc(M, "role=owner")
    assert run.rc == 0, run.output
    assert '"email": "owner@example.com"' in run.stdout


@pytest.mark.parametrize("token,status", [
    ("nbp_" + "A" * 36, "401"),   # malformed: bad checksum
    ("garbage", "401"),           # not a PAT: sent as a Bearer JWT and refused
])
def test_adhoc_rejected_token_is_one_clear_line(ansible, emulator, token, status):
    run = ansible.adhoc(M, "role=owner", token=token)
    assert run.rc != 0
    assert "; the API token was rejected" in run.output and ("HTTP %s" % status) in run.output
    assert "Traceback" not in run.output and token not in run.output


def test_adhoc_unknown_wellformed_token_is_rejected(ansible, emulator):
    seeded = emulator.seed(users=[{"name": "tmp", "service_user": True, "tokens": [{"name": "x"}]}])
    token = seeded["users"][0]["tokens"][0]["plain_token"]
    emulator.reset()  # the token is now well-formed but unknown
    run = ansible.adhoc(M, "role=owner", token=token)
    assert run.rc != 0
    # v0.77.1 answers 401 "token invalid" for a well-formed unknown PAT (recorded transcript, exchange 61)
    assert "HTTP 401" in run.output and "; the API token was rejected" in run.output
    assert token not in run.output


@pytest.mark.compat
def test_nb_env_fallbacks(ansible, emulator):
    run = ansible.adhoc(M, "current=true", env={"NETBIRD_API_URL": None, "NETBIRD_API_TOKEN": None,
                                                "NB_MANAGEMENT_URL": emulator.url + "/api/", "NB_PAT": emulator.token})
    assert run.rc == 0, run.output


@pytest.mark.compat
def test_missing_token_names_the_option(ansible, emulator):
    run = ansible.adhoc(M, "", env={"NETBIRD_API_TOKEN": None})
    assert run.rc != 0 and "api_token" in run.output
