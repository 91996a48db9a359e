# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""External IdP: users the server answers as stubs (``issued: ""``, ``is_blocked: false`` whatever is stored).

A write that must carry such a user's blocked state learns it from the audit log (one read per run), never
from the stub; when the log cannot tell, the task fails before any write unless it sets ``blocked``.
"""

from __future__ import annotations

import pytest

from fakes import FakeClient, FakeNB, event, raw_user

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._audit import AuditLog
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import USER_ENTRY_KEYS, public_user
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import run_users as run_user_specs

G_DEV = "d0000000000000000dev"
G_OPS = "d0000000000000000ops"
GROUPS = [{"id": G_DEV, "name": "dev", "issued": "api"}, {"id": G_OPS, "name": "ops", "issued": "api"}]
OWNER = raw_user("owner1", "owner@example.com", "Owner", role="owner", current=True)
SVC = raw_user("svc1", name="svc-blocked", groups=[G_OPS], blocked=True, service=True, stub=True)
CARL = raw_user("carl1", "carl@example.com", "Carl", groups=[G_DEV], blocked=True, stub=True)


def entry_params(**entry):
    params = dict((key, None) for key in USER_ENTRY_KEYS)
    params.update(state="present", auto_groups_mode="replace", resend_invite=False)
    params.update(entry)
    return params


def run(server_users, events=(), events_status=None, check_mode=False, batch=None, **entry):
    client = FakeClient([OWNER] + list(server_users), groups=GROUPS, events=list(events), events_status=events_status)
    params = entry_params(**entry)
    params["users"] = None if batch is None else [entry_params(**item) for item in batch]
    nb = FakeNB(client, params, check_mode=check_mode)
    return client, nb


def puts(client):
    return [c for c in client.writes() if c[0] == "PUT"]


BLOCKED_SVC = [event("service.user.create", "svc1", 1), event("user.block", "svc1", 2)]
BLOCKED_CARL = [event("user.create", "carl1", 1), event("user.unblock", "carl1", 2), event("user.block", "carl1", 3)]


@pytest.mark.parametrize("who, events, entry", [
    (SVC, BLOCKED_SVC, {"name": "svc-blocked", "service_user": True, "auto_groups": ["dev", "ops"]}),
    (SVC, BLOCKED_SVC, {"name": "svc-blocked", "service_user": True, "role": "admin"}),
    (CARL, BLOCKED_CARL, {"email": "carl@example.com", "auto_groups": ["ops"]}),
    (CARL, BLOCKED_CARL, {"email": "carl@example.com", "role": "auditor"}),
])
def test_groups_or_role_only_change_keeps_a_stub_blocked(who, events, entry):
    client, nb = run([who], events, **entry)
    result = run_user_specs(nb)
    assert result["changed"] is True
    [put] = puts(client)
    assert put[2]["is_blocked"] is True
    assert client.state(who["id"])["is_blocked"] is True
    assert len(client.reads("/events/audit")) == 1
    assert result["user"]["is_blocked"] is True and result["user"]["state_reported"] is False


def test_newest_event_by_parsed_time_not_by_string_or_list_order():
    # "…:02.5Z" sorts after "…:02.123456789Z" as a string, but is earlier than "…:02.6Z"
    events = [
        {"id": "7", "activity_code": "user.unblock", "target_id": "svc1", "timestamp": "2026-11-29T10:00:02.5Z"},
        {"id": "8", "activity_code": "user.block", "target_id": "svc1", "timestamp": "2026-11-29T10:00:02.600000001Z"},
        {"id": "3", "activity_code": "user.unblock", "target_id": "svc1", "timestamp": "2026-11-29T10:00:01.999999999Z"},
    ]
    client = FakeClient([SVC], events=events)
    state = AuditLog(client).state_of("svc1")
    assert state.blocked is True and "user.block" in state.reason
    events[1]["timestamp"] = "2026-11-29T10:00:02.40Z"
    assert AuditLog(FakeClient([SVC], events=events)).state_of("svc1").blocked is False


def test_never_blocked_when_only_the_creation_is_logged():
    active = raw_user("svc2", name="svc-active", service=True, stub=True)
    client, nb = run([active], [event("service.user.create", "svc2", 1)], name="svc-active", service_user=True,
                     auto_groups=["dev"])
    result = run_user_specs(nb)
    [put] = puts(client)
    assert put[2] == {"role": "user", "auto_groups": [G_DEV], "is_blocked": False}
    assert result["user"]["is_blocked"] is False


def test_joined_pending_approval_counts_as_blocked_and_pending():
    pending = raw_user("p1", "pat@example.com", "Pat", blocked=True, pending=True, stub=True)
    client, nb = run([pending], [event("user.join", "p1", 1, {"pending_approval": True})], email="pat@example.com",
                     auto_groups=["dev"])
    result = run_user_specs(nb)
    [put] = puts(client)
    assert put[2]["is_blocked"] is True
    assert result["user"]["pending_approval"] is True


@pytest.mark.parametrize("events, status, reason", [
    ([], None, "the audit log has no event about it"),
    ([event("user.block", "someone-else", 1)], None, "the audit log has no event about it"),
    ([], 403, "the audit log could not be read"),
])
def test_unknown_state_fails_before_any_write(events, status, reason):
    client, nb = run([SVC], events, events_status=status, name="svc-blocked", service_user=True, auto_groups=["dev"])
    with pytest.raises(NetBirdError) as info:
        run_user_specs(nb)
    text = str(info.value)
    assert "svc-blocked" in text and "stub" in text and reason in text and "set blocked explicitly" in text
    assert not client.writes()
    assert client.state("svc1")["is_blocked"] is True


def test_unknown_state_in_a_batch_fails_before_the_first_write():
    client, nb = run([SVC], [], batch=[{"email": "new@example.com", "name": "New"},
                                       {"name": "svc-blocked", "service_user": True, "role": "admin"}])
    with pytest.raises(NetBirdError, match=r"users\[1\].blocked"):
        run_user_specs(nb)
    assert not client.writes()


def test_no_audit_read_when_a_stub_needs_no_write():
    client, nb = run([SVC], BLOCKED_SVC, name="svc-blocked", service_user=True, auto_groups=["ops"])
    result = run_user_specs(nb)
    assert result["changed"] is False
    assert not client.reads("/events/audit") and not client.writes()
    assert result["user"]["is_blocked"] is None and result["user"]["state_reported"] is False


@pytest.mark.parametrize("who, events, entry", [
    (SVC, BLOCKED_SVC, {"name": "svc-blocked", "service_user": True}),
    (CARL, BLOCKED_CARL, {"email": "carl@example.com"}),
])
def test_blocked_true_settles(who, events, entry):
    unblocked = [e for e in events if e["activity_code"] != "user.block"]
    client, nb = run([dict(who, is_blocked=False, status="active")], unblocked, blocked=True, **entry)
    first = run_user_specs(nb)
    assert first["changed"] is True and client.state(who["id"])["is_blocked"] is True
    assert puts(client)[0][2]["is_blocked"] is True
    # second run against the same server: the audit log now has the block
    client.calls = []
    nb2 = FakeNB(client, nb.params)
    second = run_user_specs(nb2)
    assert second["changed"] is False and not client.writes()
    assert len(client.reads("/events/audit")) == 1


def test_blocked_false_on_a_known_blocked_stub_unblocks():
    client, nb = run([SVC], BLOCKED_SVC, name="svc-blocked", service_user=True, blocked=False)
    assert run_user_specs(nb)["changed"] is True
    assert client.state("svc1")["is_blocked"] is False


def test_explicit_blocked_with_unknown_state_writes_and_warns():
    client, nb = run([SVC], [], events_status=403, name="svc-blocked", service_user=True, blocked=True)
    result = run_user_specs(nb)
    assert result["changed"] is True
    [put] = puts(client)
    assert put[2]["is_blocked"] is True
    assert any("blocked state is unknown" in w and "403" in w for w in nb.warnings)


def test_check_mode_predicts_with_the_audit_log_and_writes_nothing():
    client, nb = run([SVC], BLOCKED_SVC, check_mode=True, name="svc-blocked", service_user=True, auto_groups=["dev"])
    result = run_user_specs(nb)
    assert result["changed"] is True and result["user"]["is_blocked"] is True
    assert not client.writes() and len(client.reads("/events/audit")) == 1


def test_check_mode_unknown_state_fails_too():
    client, nb = run([SVC], [], check_mode=True, name="svc-blocked", service_user=True, role="admin")
    with pytest.raises(NetBirdError, match="cannot tell whether it is blocked"):
        run_user_specs(nb)


def test_one_audit_read_for_a_whole_batch():
    other = raw_user("svc3", name="svc-other", service=True, stub=True)
    events = BLOCKED_SVC + [event("service.user.create", "svc3", 3)]
    client, nb = run([SVC, other], events, batch=[
        {"name": "svc-blocked", "service_user": True, "role": "admin"},
        {"name": "svc-other", "service_user": True, "role": "admin"}])
    run_user_specs(nb)
    assert len(client.reads("/events/audit")) == 1
    assert {c[1]: c[2]["is_blocked"] for c in puts(client)} == {"/users/svc1": True, "/users/svc3": False}


def test_public_user_of_a_stub_reports_no_state():
    view = public_user(dict(SVC, issued="", is_blocked=False, status="active"))
    assert view["state_reported"] is False
    assert view["is_blocked"] is None and view["status"] is None and view["pending_approval"] is None
    assert public_user(OWNER)["state_reported"] is True and public_user(OWNER)["is_blocked"] is False


# -- netbird_user_info and netbird_user_approval ----------------------------------------------------

def info_params(**given):
    params = dict((key, None) for key in ("user_id", "email", "name", "role", "status", "service_user",
                                          "pending_approval", "blocked"))
    params.update(current=False, include_tokens=False)
    params.update(given)
    return params


def test_user_info_marks_stubs_and_does_not_pass_their_state():
    from ansible_collections.netbird_ops.netbird.plugins.module_utils._info import run_user_info as info_run
    client = FakeClient([OWNER, SVC, CARL], groups=GROUPS)
    nb = FakeNB(client, info_params())
    users = dict((u["id"], u) for u in info_run(nb)["users"])
    assert users["owner1"]["state_reported"] is True and users["owner1"]["is_blocked"] is False
    for uid in ("svc1", "carl1"):
        assert users[uid]["state_reported"] is False
        assert users[uid]["is_blocked"] is None and users[uid]["status"] is None
    assert not client.reads("/events/audit")


@pytest.mark.parametrize("filters", [{"blocked": False}, {"blocked": True}, {"status": "active"}, {"pending_approval": False}])
def test_user_info_state_filters_leave_stubs_out_with_a_warning(filters):
    from ansible_collections.netbird_ops.netbird.plugins.module_utils._info import run_user_info as info_run
    client = FakeClient([OWNER, SVC, CARL], groups=GROUPS)
    nb = FakeNB(client, info_params(**filters))
    ids = set(u["id"] for u in info_run(nb)["users"])
    assert not ids & {"svc1", "carl1"}
    assert any("2 users left out" in w and "stub" in w for w in nb.warnings)


def approval_params(**given):
    params = dict(state="approved", user_id=None, email=None, emails=None, all_pending=False, email_domains=None)
    params.update(given)
    return params


def test_approval_a_stub_never_looks_pending_without_the_audit_log():
    from ansible_collections.netbird_ops.netbird.plugins.module_utils._approvals import run_approvals as approval_run
    pending = raw_user("p1", "pat@example.com", "Pat", blocked=True, pending=True, stub=True)
    client = FakeClient([OWNER, pending], events_status=403)
    nb = FakeNB(client, approval_params(all_pending=True))
    assert approval_run(nb) == {"changed": False, "users": []}
    assert any("cannot tell whether it is pending approval" in w for w in nb.warnings)
    nb = FakeNB(client, approval_params(email="pat@example.com", state="rejected"))
    with pytest.raises(NetBirdError, match="nothing was deleted"):
        approval_run(nb)
    assert not client.writes()


def test_approval_learns_pending_from_the_audit_log():
    from ansible_collections.netbird_ops.netbird.plugins.module_utils._approvals import run_approvals as approval_run
    pending = raw_user("p1", "pat@example.com", "Pat", blocked=True, pending=True, stub=True)
    client = FakeClient([OWNER, pending, SVC], events=[event("user.join", "p1", 1, {"pending_approval": True})])
    nb = FakeNB(client, approval_params(all_pending=True))
    result = approval_run(nb)
    assert [u["id"] for u in result["users"]] == ["p1"]
    assert [c[1] for c in client.writes()] == ["/users/p1/approve"]
    assert client.state("p1")["pending_approval"] is False


@pytest.mark.parametrize("role", ["ADMIN", "Admin", "admin"])
def test_user_info_role_filter_is_case_insensitive(role):
    from ansible_collections.netbird_ops.netbird.plugins.module_utils._info import run_user_info as info_run
    admin = raw_user("adm1", "adm@example.com", "Adm", role="admin")
    nb = FakeNB(FakeClient([OWNER, admin], groups=GROUPS), info_params(role=role))
    assert [u["id"] for u in info_run(nb)["users"]] == ["adm1"]


def test_user_info_unknown_role_names_the_option():
    from ansible_collections.netbird_ops.netbird.plugins.module_utils._info import run_user_info as info_run
    with pytest.raises(NetBirdError, match="role 'boss' is not a NetBird role"):
        info_run(FakeNB(FakeClient([OWNER]), info_params(role="boss")))
