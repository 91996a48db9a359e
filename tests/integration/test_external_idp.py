# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A server with an external IdP (the emulator with ``--idp external``): service users, and regular users the IdP
does not return (``idp_missing``), are listed as stubs that say ``is_blocked: false`` whatever is stored.

The true state is read through ``GET /__emulator__/state``: a groups-only or role-only task never unblocks such a
user, ``blocked: true`` settles, and netbird_user_info marks the stubs.
"""

from __future__ import annotations

import pytest

from nb_testlib import Emulator

M = "netbird_ops.netbird.netbird_user"

SEED = {
    "groups": [{"name": "dev"}, {"name": "ops"}],
    "users": [
        {"name": "svc-blocked", "service_user": True, "auto_groups": ["ops"], "blocked": True},
        {"name": "svc-active", "service_user": True, "auto_groups": ["ops"]},
        {"email": "carl@example.com", "name": "Carl", "auto_groups": ["dev"], "blocked": True, "idp_missing": True},
        {"email": "dora@example.com", "name": "Dora", "auto_groups": ["dev"], "idp_missing": True},
        {"email": "alice@example.com", "name": "Alice", "auto_groups": ["dev"]},
    ],
}

SVC = {"name": "svc-blocked", "service_user": True}
CARL = {"email": "carl@example.com"}


@pytest.fixture(scope="module")
def external_emulator():
    emu = Emulator.start("--idp", "external")
    yield emu
    emu.stop()


@pytest.fixture()
def emulator(external_emulator):
    """Overrides the shared emulator for this module: the ``ansible`` fixture then runs against this one."""
    external_emulator.reset()
    external_emulator.seed(**SEED)
    external_emulator.reset_counters()
    return external_emulator


@pytest.fixture()
def emu(emulator):
    return emulator


@pytest.fixture()
def ansible_ext(ansible):
    return ansible


def stored(emu, who):
    return emu.user(email=who.get("email"), name=who.get("name") if who.get("service_user") else None)


def run_task(ansible, args, **kwargs):
    run = ansible.playbook([{"name": "t", M: args, "register": "r", "ignore_errors": True}], **kwargs)
    return run, run.result("t")


def test_the_emulator_lists_stubs(emu):
    # guard: the emulator answers as the recorded external-IdP server (else these tests prove nothing)
    assert stored(emu, SVC)["is_blocked"] is True and stored(emu, CARL)["is_blocked"] is True


@pytest.mark.parametrize("who, change", [
    (SVC, {"auto_groups": ["dev", "ops"]}),
    (SVC, {"role": "admin"}),
    (CARL, {"auto_groups": ["dev", "ops"]}),
    (CARL, {"role": "auditor"}),
])
def test_groups_or_role_only_change_never_unblocks(ansible_ext, emu, who, change):
    run, res = run_task(ansible_ext, dict(who, **change))
    assert not res["failed"], run.output
    assert res["changed"] is True
    assert stored(emu, who)["is_blocked"] is True, run.output
    assert res["user"]["is_blocked"] is True and res["user"]["state_reported"] is False
    assert emu.route("GET /api/events/audit") == 1
    run, res = run_task(ansible_ext, dict(who, **change))
    assert res["changed"] is False, run.output
    assert stored(emu, who)["is_blocked"] is True


@pytest.mark.parametrize("who", [SVC, CARL])
def test_check_mode_predicts_without_writing(ansible_ext, emu, who):
    run, res = run_task(ansible_ext, dict(who, role="auditor"), check=True)
    assert not res["failed"], run.output
    assert res["changed"] is True and res["user"]["is_blocked"] is True
    assert emu.writes() == 0


@pytest.mark.parametrize("who", [{"name": "svc-active", "service_user": True}, {"email": "dora@example.com"}])
def test_blocked_true_settles(ansible_ext, emu, who):
    run, res = run_task(ansible_ext, dict(who, blocked=True))
    assert not res["failed"], run.output
    assert res["changed"] is True
    assert stored(emu, who)["is_blocked"] is True
    run, res = run_task(ansible_ext, dict(who, blocked=True))
    assert not res["failed"], run.output
    assert res["changed"] is False, run.output
    run, res = run_task(ansible_ext, dict(who, blocked=False))
    assert res["changed"] is True and stored(emu, who)["is_blocked"] is False


def test_unknown_state_fails_before_any_write(ansible_ext, emu):
    emu.control("POST", "audit/clear")
    emu.reset_counters()
    run, res = run_task(ansible_ext, dict(SVC, auto_groups=["dev"]))
    assert res["failed"] is True
    assert "svc-blocked" in res["msg"] and "stub" in res["msg"] and "set blocked explicitly" in res["msg"], res["msg"]
    assert emu.writes() == 0
    assert stored(emu, SVC)["is_blocked"] is True


@pytest.mark.compat
def test_explicit_blocked_with_unknown_state_writes_and_warns(ansible_ext, emu):
    emu.control("POST", "audit/clear")
    run, res = run_task(ansible_ext, dict(SVC, blocked=True))
    assert not res["failed"], run.output
    assert res["changed"] is True
    assert any("blocked state is unknown" in w for w in res.get("warnings", [])), res
    # and displayed to the user (ansible-core 2.16 wraps long warnings: compare with the white space folded)
    assert "[WARNING]" in run.output and "blocked state is unknown" in " ".join(run.output.split()), run.output
    assert stored(emu, SVC)["is_blocked"] is True


def test_user_info_marks_stubs(ansible_ext, emu):
    """One playbook: the users as listed, then the same users as a team (as_team), which never passes a stub's
    is_blocked: false on as if it were true."""
    run = ansible_ext.playbook([{"name": "t", "netbird_ops.netbird.netbird_user_info": {}, "register": "r"},
                                {"name": "team", "netbird_ops.netbird.netbird_user_info": {"as_team": True}, "register": "r2"}])
    team = run.result("team")
    assert not team["failed"], run.output
    assert team["team"] == {
        "users": [
            {"email": "alice@example.com", "name": "Alice", "role": "user", "auto_groups": ["dev"], "blocked": False},
            {"email": "carl@example.com", "role": "user", "auto_groups": ["dev"]},
            {"email": "dora@example.com", "role": "user", "auto_groups": ["dev"]},
        ],
        "service_users": [
            {"name": "svc-active", "role": "user", "auto_groups": ["ops"]},
            {"name": "svc-blocked", "role": "user", "auto_groups": ["ops"]},
        ],
    }, run.output
    assert any("leaves blocked out for 4 users" in w for w in team["warnings"]), team["warnings"]
    assert "leaves blocked out" in " ".join(run.output.split())
    res = run.result("t")
    users = dict((u["email"] or u["name"], u) for u in res["users"])
    for key in ("svc-blocked", "svc-active", "carl@example.com", "dora@example.com"):
        assert users[key]["state_reported"] is False, users[key]
        assert users[key]["is_blocked"] is None and users[key]["status"] is None
    for key in ("alice@example.com", "owner@example.com"):
        assert users[key]["state_reported"] is True and users[key]["is_blocked"] is False
    assert emu.route("GET /api/events/audit") == 0
