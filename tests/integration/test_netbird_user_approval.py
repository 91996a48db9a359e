# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""netbird_user_approval through ansible-playbook against the emulator."""

from __future__ import annotations

import pytest

M = "netbird_ops.netbird.netbird_user_approval"

PENDING = [
    {"email": "new1@example.com", "name": "New1", "pending_approval": True},
    {"email": "new2@example.com", "name": "New2", "pending_approval": True, "peers": 1},
    {"email": "stranger@gmail.com", "name": "Stranger", "pending_approval": True, "peers": 2},
    {"email": "active@example.com", "name": "Active"},
]


def run_task(ansible, args, check=False, diff=False):
    run = ansible.playbook([{"name": "t", M: args, "register": "r", "ignore_errors": True}], check=check, diff=diff)
    return run, run.result("t")


@pytest.mark.compat
def test_approve_one_then_idempotent(ansible, emulator):
    emulator.seed(users=PENDING)
    run, res = run_task(ansible, {"email": "NEW1@example.com"}, diff=True)
    assert res["changed"] is True, run.output
    assert [u["email"] for u in res["users"]] == ["new1@example.com"]
    assert res["users"][0]["pending_approval"] is False
    stored = emulator.user(email="new1@example.com")
    assert stored["pending_approval"] is False and stored["is_blocked"] is False
    assert res["diff"][0]["before"]["pending_approval"] is True
    emulator.reset_counters()
    run, res = run_task(ansible, {"email": "new1@example.com"})
    assert res["changed"] is False and res["users"] == []
    assert emulator.writes() == 0


def test_approve_all_pending_in_domain(ansible, emulator):
    emulator.seed(users=PENDING)
    run, res = run_task(ansible, {"all_pending": True, "email_domains": ["Example.com"]})
    assert res["changed"] is True, run.output
    assert sorted(u["email"] for u in res["users"]) == ["new1@example.com", "new2@example.com"]
    assert emulator.user(email="stranger@gmail.com")["pending_approval"] is True
    emulator.reset_counters()
    run, res = run_task(ansible, {"all_pending": True, "email_domains": ["example.com"]})
    assert res["changed"] is False and emulator.writes() == 0


def test_reject_one_then_gone_is_no_change(ansible, emulator):
    emulator.seed(users=PENDING)
    run, res = run_task(ansible, {"email": "stranger@gmail.com", "state": "rejected"})
    assert res["changed"] is True, run.output
    assert any("2 peers" in w for w in res["warnings"])
    assert emulator.user(email="stranger@gmail.com") is None
    emulator.reset_counters()
    run, res = run_task(ansible, {"email": "stranger@gmail.com", "state": "rejected"})
    assert res["changed"] is False and emulator.writes() == 0


def test_rejecting_an_active_user_fails_and_deletes_nothing(ansible, emulator):
    emulator.seed(users=PENDING)
    emulator.reset_counters()
    run, res = run_task(ansible, {"email": "active@example.com", "state": "rejected"})
    assert res["failed"], run.output
    assert "is not pending approval" in res["msg"] and "nothing was deleted" in res["msg"]
    # the user is named once
    assert res["msg"].startswith("email active@example.com is not pending approval (status active)"), res["msg"]
    assert emulator.writes() == 0 and emulator.user(email="active@example.com") is not None


def test_approving_an_unknown_user_fails(ansible, emulator):
    run, res = run_task(ansible, {"email": "nobody@example.com"})
    assert res["failed"] and "no user with email nobody@example.com exists" in res["msg"]


@pytest.mark.compat
def test_check_mode_makes_no_write(ansible, emulator):
    emulator.seed(users=PENDING)
    emulator.reset_counters()
    run, res = run_task(ansible, {"all_pending": True}, check=True)
    assert res["changed"] is True and len(res["users"]) == 3, run.output
    run, res = run_task(ansible, {"emails": ["stranger@gmail.com"], "state": "rejected"}, check=True)
    assert res["changed"] is True
    assert emulator.writes() == 0
    assert all(u["pending_approval"] for u in emulator.users() if u["email"] != "active@example.com" and u["email"] != "owner@example.com")


def test_emails_batch(ansible, emulator):
    emulator.seed(users=PENDING)
    emulator.reset_counters()
    run, res = run_task(ansible, {"emails": ["new1@example.com", "new2@example.com", "active@example.com"]})
    assert res["changed"] is True, run.output
    assert sorted(u["email"] for u in res["users"]) == ["new1@example.com", "new2@example.com"]
    assert emulator.requests()["by_route"]["GET /api/users"] == 1
    assert emulator.route("POST /api/users/{userId}/approve") == 2


@pytest.mark.compat
def test_conflicting_options_fail_before_any_request(ansible, emulator):
    emulator.reset_counters()
    run, res = run_task(ansible, {"email": "a@example.com", "all_pending": True})
    assert res["failed"] and "exactly one of" in res["msg"]
    run, res = run_task(ansible, {"email": "a@example.com", "email_domains": ["example.com"]})
    assert res["failed"] and "email_domains applies only with all_pending" in res["msg"]
    assert emulator.requests()["total"] == 0
