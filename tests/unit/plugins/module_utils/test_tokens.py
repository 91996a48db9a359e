# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the PAT engine's decisions (HTTP mocked by a fake client)."""

from __future__ import annotations

import datetime

import pytest

import fakes

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import AmbiguousWriteError, NetBirdAPIError, NetBirdInputError, OperationFailed
from ansible_collections.netbird_ops.netbird.plugins.module_utils._task import batch_argument_spec
import ansible_collections.netbird_ops.netbird.plugins.module_utils._tokens as tokens_mod
from ansible_collections.netbird_ops.netbird.plugins.module_utils._tokens import (
    TOKEN_ENTRY_KEYS,
    TokenSpec,
    access_problem,
    add_token_lists,
    parse_time,
    run_tokens,
    token_entry_argument_spec,
    token_specs,
)

NOW = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


def iso(days):
    return (NOW + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.123456789Z")


def user(uid, email="", name="", role="user", service=False, current=False):
    return {"id": uid, "email": email, "name": name, "role": role, "auto_groups": [], "is_blocked": False,
            "pending_approval": False, "is_service_user": service, "is_current": current, "status": "active"}


def token(tid, name, days=30, created_by="owner1"):
    return {"id": tid, "name": name, "expiration_date": iso(days), "created_by": created_by, "created_at": iso(-1)}


OWNER = user("owner1", "owner@example.com", "Owner", role="owner", current=True)
ADMIN = user("admin1", "admin@example.com", "Admin", role="admin")
PLAIN = user("plain1", "plain@example.com", "Plain", role="user")
NETADMIN = user("net1", "net@example.com", "Net", role="network_admin")
AUDITOR = user("aud1", "aud@example.com", "Aud", role="auditor")
SVC = user("svc1", name="ci-bot", role="admin", service=True)
SVC_USER_ROLE = user("svc2", name="reader-bot", role="user", service=True)


def as_current(raw):
    return dict(raw, is_current=True)


class FakeClient(fakes.FakeClient):
    """The shared fake, with this file's users and tokens (expiry relative to NOW)."""

    def __init__(self, users, tokens=None):
        super().__init__(users, tokens=tokens, token_factory=lambda tid, name, days, by: token(tid, name, days, created_by=by))


def FakeNB(client, params, check_mode=False, diff_mode=False):  # pylint: disable=invalid-name
    """The shared FakeNB with every token option unset but the given ones."""
    full = dict((key, None) for key in TOKEN_ENTRY_KEYS)
    full.update(state="present", tokens=None)
    full.update(params)
    return fakes.FakeNB(client, full, check_mode=check_mode, diff_mode=diff_mode)


def run(users, server_tokens=None, check_mode=False, diff_mode=False, **params):
    client = FakeClient(users, server_tokens)
    nb = FakeNB(client, params, check_mode=check_mode, diff_mode=diff_mode)
    return client, nb


def execute(client, nb):
    return run_tokens(nb)


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr(tokens_mod, "utcnow", lambda: NOW)


# -- the server's rules -------------------------------------------------------------------------

@pytest.mark.parametrize("actor, target, write, allowed", [
    (OWNER, OWNER, True, True),
    (OWNER, SVC, True, True),
    (OWNER, ADMIN, False, False),
    (ADMIN, ADMIN, True, True),
    (ADMIN, SVC, True, True),
    (ADMIN, PLAIN, True, False),
    (ADMIN, OWNER, False, False),
    (NETADMIN, NETADMIN, True, True),
    (NETADMIN, SVC, False, False),
    (AUDITOR, AUDITOR, False, True),
    (AUDITOR, AUDITOR, True, False),
    (PLAIN, PLAIN, False, False),
    (PLAIN, PLAIN, True, False),
    (SVC_USER_ROLE, SVC_USER_ROLE, False, True),
    (SVC_USER_ROLE, SVC_USER_ROLE, True, False),
    (SVC, SVC_USER_ROLE, True, True),
    (user("b1", "b@x.io", "B", role="billing_admin"), user("b1", "b@x.io", "B", role="billing_admin"), False, False),
])
def test_access_rules(actor, target, write, allowed):
    problem = access_problem(actor, target, write)
    assert (problem is None) is allowed, problem


def test_plain_user_message_says_not_even_its_own():
    assert "not even its own" in access_problem(PLAIN, PLAIN, False)


def test_admin_on_regular_user_message_names_the_rule():
    text = access_problem(ADMIN, PLAIN, True)
    assert "plain@example.com is a regular user" in text and "admin role required" in text


# -- static validation: before any request ------------------------------------------------------

@pytest.mark.parametrize("entry, message", [
    ({"name": "ci", "expires_in": 0}, "expires_in must be between 1 and 365 days"),
    ({"name": "ci", "expires_in": 366}, "expires_in must be between 1 and 365 days"),
    ({"name": "ci", "expires_in": True}, "expires_in must be a whole number"),
    ({"name": "ci"}, "expires_in is required with state=present"),
    ({"expires_in": 30}, "name is required"),
    ({"name": "ci", "expires_in": 30, "token_id": "t1"}, "token_id applies only to state=absent"),
    ({"name": "ci", "expires_in": 30, "rotate_before_days": 30}, r"rotate_before_days \(30\) must be smaller than expires_in \(30\)"),
    ({"name": "ci", "expires_in": 30, "rotate_before_days": -1}, "rotate_before_days must be between 0 and 364"),
    ({"state": "absent"}, "name or token_id is required to delete a token"),
])
def test_spec_validation(entry, message):
    with pytest.raises(NetBirdInputError, match=message):
        TokenSpec(entry)


@pytest.mark.parametrize("params, message", [
    ({"name": "ci", "expires_in": 30, "user_id": "u", "user_name": "s"}, "mutually exclusive: user_id|user_name"),
    ({"tokens": [{"name": "ci", "expires_in": 30, "user_id": "u", "user_name": "s"}]},
     "mutually exclusive: user_id|user_name found in tokens"),
])
def test_argument_spec_validation(params, message):
    """The rules the argument spec carries (single mode and every batch element), checked by Ansible itself."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # pylint: disable=import-outside-toplevel
    spec, rules = batch_argument_spec(token_entry_argument_spec(), "tokens", no_log=False)
    assert message in " ".join(ArgumentSpecValidator(spec, **rules).validate(params).error_messages)


def test_batch_errors_name_the_element():
    with pytest.raises(NetBirdInputError, match=r"tokens\[1\]\.expires_in must be between 1 and 365"):
        token_specs({"tokens": [{"name": "a", "expires_in": 1}, {"name": "b", "expires_in": 400}]})


def test_batch_duplicate_entries_refused():
    with pytest.raises(NetBirdInputError, match=r"tokens\[0\] and tokens\[1\] name the same token"):
        token_specs({"tokens": [{"user_name": "x", "name": "a", "expires_in": 1},
                                {"user_name": "x", "name": "a", "expires_in": 9}]})


def test_invalid_input_makes_no_request():
    client, nb = run([OWNER], user_name="ci-bot", name="ci", expires_in=400)
    with pytest.raises(NetBirdInputError):
        execute(client, nb)
    assert client.calls == []


def test_parse_time_nanoseconds_and_offsets():
    assert parse_time("2026-03-01T12:00:00.123456789Z") == NOW.replace(microsecond=123456)
    assert parse_time("2026-03-01T14:00:00+02:00") == NOW
    assert parse_time("not a date") is None


# -- planning and applying ----------------------------------------------------------------------

def test_create_then_result_carries_plain_token_once():
    client, nb = run([OWNER, SVC], user_name="ci-bot", name="ci", expires_in=30, diff_mode=True)
    result = execute(client, nb)
    assert result["changed"] and result["action"] == "create"
    assert result["plain_token"] == "nbp_secret1"
    assert result["token"]["id"] == "new1" and result["user_id"] == "svc1" and result["user_name"] == "ci-bot"
    assert "nbp_" not in repr(result["diff"]) and "nbp_" not in repr(result["token"])
    assert client.writes() == [("POST", "/users/svc1/tokens", {"name": "ci", "expires_in": 30})]


def test_existing_token_is_no_change_whatever_expires_in_says():
    client, nb = run([OWNER, SVC], {"svc1": [token("t1", "ci", days=5)]}, user_name="ci-bot", name="ci", expires_in=365)
    result = execute(client, nb)
    assert not result["changed"] and result["action"] == "none" and "plain_token" not in result
    assert result["token"]["id"] == "t1"
    assert client.writes() == []
    assert [c[1] for c in client.calls] == ["/users", "/users/svc1/tokens"]


def test_rotation_inside_window_creates_first_then_deletes():
    client, nb = run([OWNER, SVC], {"svc1": [token("t1", "ci", days=5)]},
                     user_name="ci-bot", name="ci", expires_in=90, rotate_before_days=7, diff_mode=True)
    result = execute(client, nb)
    assert result["action"] == "rotate" and result["changed"]
    assert [c[0] for c in client.writes()] == ["POST", "DELETE"]
    assert client.writes()[1][1] == "/users/svc1/tokens/t1"
    assert result["replaced_token"]["id"] == "t1" and result["token"]["id"] == "new1"
    assert result["plain_token"] == "nbp_secret1"
    assert result["diff"]["before"]["id"] == "t1" and result["diff"]["after"]["id"] == "new1"


def test_no_rotation_outside_window():
    client, nb = run([OWNER, SVC], {"svc1": [token("t1", "ci", days=8)]},
                     user_name="ci-bot", name="ci", expires_in=90, rotate_before_days=7)
    assert not execute(client, nb)["changed"]


def test_expired_token_without_rotation_warns():
    client, nb = run([OWNER, SVC], {"svc1": [token("t1", "ci", days=-2)]}, user_name="ci-bot", name="ci", expires_in=30)
    assert not execute(client, nb)["changed"]
    assert any("expired" in w and "rotate_before_days" in w for w in nb.warnings)


def test_rotate_zero_replaces_only_expired():
    client, nb = run([OWNER, SVC], {"svc1": [token("t1", "ci", days=-1)]},
                     user_name="ci-bot", name="ci", expires_in=30, rotate_before_days=0)
    assert execute(client, nb)["action"] == "rotate"


def test_duplicate_names_error_lists_ids_before_any_write():
    client, nb = run([OWNER, SVC], {"svc1": [token("t2", "ci"), token("t1", "ci")]}, user_name="ci-bot", name="ci", expires_in=30)
    with pytest.raises(NetBirdInputError, match=r"2 tokens of service user 'ci-bot' are named 'ci' \(ids t1, t2\)"):
        execute(client, nb)
    assert client.writes() == []


def test_absent_by_name_and_by_id_and_gone():
    tokens = {"svc1": [token("t1", "ci"), token("t2", "dup"), token("t3", "dup")]}
    client, nb = run([OWNER, SVC], tokens, user_name="ci-bot", name="ci", state="absent")
    result = execute(client, nb)
    assert result["changed"] and result["action"] == "delete" and result["token"]["id"] == "t1"
    client, nb = run([OWNER, SVC], tokens, user_name="ci-bot", token_id="t3", state="absent")
    assert execute(client, nb)["changed"]
    assert client.writes() == [("DELETE", "/users/svc1/tokens/t3", None)]
    client, nb = run([OWNER, SVC], tokens, user_name="ci-bot", name="nope", state="absent")
    result = execute(client, nb)
    assert not result["changed"] and result["token"] is None and client.writes() == []


def test_absent_token_id_with_other_name_refused():
    client, nb = run([OWNER, SVC], {"svc1": [token("t1", "ci")]}, user_name="ci-bot", token_id="t1", name="other", state="absent")
    with pytest.raises(NetBirdInputError, match="token t1 is named 'ci', not 'other'"):
        execute(client, nb)


def test_absent_for_missing_service_user_is_no_change():
    client, nb = run([OWNER], user_name="gone", name="ci", state="absent")
    assert not execute(client, nb)["changed"]


def test_missing_service_user_fails_but_check_mode_predicts():
    client, nb = run([OWNER], user_name="new-bot", name="ci", expires_in=30)
    with pytest.raises(NetBirdInputError, match="no service user named 'new-bot' exists"):
        execute(client, nb)
    client, nb = run([OWNER], user_name="new-bot", name="ci", expires_in=30, check_mode=True)
    result = execute(client, nb)
    assert result["changed"] and result["token"]["id"] is None and result["user_id"] is None
    assert any("does not exist (yet)" in w for w in nb.warnings)
    assert client.writes() == []


def test_check_mode_predicts_without_writes_or_secret():
    client, nb = run([OWNER, SVC], {"svc1": [token("t1", "ci", days=2)]}, check_mode=True, diff_mode=True,
                     tokens=[{"user_name": "ci-bot", "name": "ci", "expires_in": 30, "rotate_before_days": 5, "state": "present"},
                             {"user_name": "ci-bot", "name": "new", "expires_in": 10, "state": "present"}])
    result = execute(client, nb)
    assert [e["action"] for e in result["tokens"]] == ["rotate", "create"]
    assert all("plain_token" not in e for e in result["tokens"])
    assert result["tokens"][1]["token"]["expiration_date"] == "2026-03-11T12:00:00Z"
    assert len(result["diff"]) == 2 and client.writes() == []


def test_current_user_is_the_default_target():
    client, nb = run([OWNER, SVC], name="mine", expires_in=7)
    result = execute(client, nb)
    assert result["user_id"] == "owner1" and client.writes()[0][1] == "/users/owner1/tokens"


def test_plain_user_refused_before_reading_tokens():
    client, nb = run([as_current(PLAIN)], name="mine", expires_in=7)
    with pytest.raises(NetBirdInputError, match="not even its own"):
        execute(client, nb)
    assert [c[1] for c in client.calls] == ["/users"]


def test_plain_user_naming_a_service_user_gets_the_rule_not_not_found():
    client, nb = run([as_current(PLAIN)], user_name="ci-bot", name="x", expires_in=7)
    with pytest.raises(NetBirdInputError, match="not even its own"):
        execute(client, nb)


def test_admin_refused_on_another_regular_user():
    client, nb = run([as_current(ADMIN), PLAIN], user_id="plain1", name="x", expires_in=7)
    with pytest.raises(NetBirdInputError, match="plain@example.com is a regular user"):
        execute(client, nb)
    assert [c[1] for c in client.calls] == ["/users"]


def test_auditor_may_read_but_not_create():
    client, nb = run([as_current(AUDITOR)], {"aud1": [token("t1", "mine")]}, name="mine", expires_in=7)
    assert not execute(client, nb)["changed"]
    client, nb = run([as_current(AUDITOR)], name="mine", expires_in=7)
    with pytest.raises(NetBirdInputError, match="may only read"):
        execute(client, nb)
    assert client.writes() == []


def test_batch_creates_everything_before_deleting_anything():
    stored = {"svc1": [token("t1", "old", days=1)], "svc2": [token("t9", "legacy")]}
    client, nb = run([OWNER, SVC, SVC_USER_ROLE], stored, tokens=[
        {"user_name": "ci-bot", "name": "old", "expires_in": 30, "rotate_before_days": 3, "state": "present"},
        {"user_name": "reader-bot", "name": "legacy", "state": "absent"},
        {"user_name": "reader-bot", "name": "fresh", "expires_in": 30, "state": "present"},
    ])
    result = execute(client, nb)
    assert [c[0] for c in client.writes()] == ["POST", "POST", "DELETE", "DELETE"]
    assert [e["action"] for e in result["tokens"]] == ["rotate", "delete", "create"]
    assert [e.get("plain_token") for e in result["tokens"]] == ["nbp_secret1", None, "nbp_secret2"]
    # one user list, one token list per user
    assert [c[1] for c in client.calls if c[0] == "GET"] == ["/users", "/users/svc1/tokens", "/users/svc2/tokens"]


def test_batch_entries_reaching_the_same_user_two_ways_are_refused():
    client, nb = run([OWNER, SVC], tokens=[
        {"user_name": "ci-bot", "name": "a", "expires_in": 3, "state": "present"},
        {"user_id": "svc1", "name": "a", "expires_in": 3, "state": "present"},
    ])
    with pytest.raises(NetBirdInputError, match="name the same token"):
        execute(client, nb)
    assert client.writes() == []


def test_failed_delete_after_rotation_keeps_the_new_secret_in_the_failure():
    client, nb = run([OWNER, SVC], {"svc1": [token("t1", "ci", days=1)]},
                     user_name="ci-bot", name="ci", expires_in=30, rotate_before_days=3)
    client.delete_error = NetBirdAPIError("DELETE", "/api/users/svc1/tokens/t1", status=500, message="boom")
    with pytest.raises(OperationFailed) as info:
        execute(client, nb)
    assert "new token new1 was created" in str(info.value) and "old one t1 is still there" in str(info.value)
    assert info.value.extra["plain_token"] == "nbp_secret1"
    assert info.value.extra["changed"] is True
    assert "nbp_secret1" not in str(info.value)


def test_lost_create_answer_removes_the_orphan_and_creates_again():
    client, nb = run([OWNER, SVC], user_name="ci-bot", name="ci", expires_in=30)
    client.post_error = AmbiguousWriteError("POST", "/api/users/svc1/tokens", message="read timed out")
    result = execute(client, nb)
    assert [c[0] for c in client.writes()] == ["POST", "DELETE", "POST"]
    assert client.writes()[1][1] == "/users/svc1/tokens/new1"
    assert result["plain_token"] == "nbp_secret2" and [t["id"] for t in client.tokens["svc1"]] == ["new2"]
    assert any("answer to the create request was lost" in w for w in nb.warnings)


def test_lost_create_that_lands_late_is_removed_after_the_second_create():
    client, nb = run([OWNER, SVC], user_name="ci-bot", name="ci", expires_in=30)
    client.post_error = AmbiguousWriteError("POST", "/api/users/svc1/tokens", message="read timed out")
    client.delay_lost_create = True
    result = execute(client, nb)
    assert [c[0] for c in client.writes()] == ["POST", "POST", "DELETE"]
    assert client.writes()[2][1] == "/users/svc1/tokens/new1"
    assert result["token"]["id"] == "new2" and [t["id"] for t in client.tokens["svc1"]] == ["new2"]


def test_two_lost_create_answers_stop_with_advice():
    class TwiceLost(FakeClient):
        def post(self, path, body=None, idempotent=False):
            self.calls.append(("POST", path, body))
            raise AmbiguousWriteError("POST", "/api" + path, message="read timed out")
    client = TwiceLost([OWNER, SVC])
    nb = FakeNB(client, {"user_name": "ci-bot", "name": "ci", "expires_in": 30})
    with pytest.raises(OperationFailed, match="nothing more was sent, and a token named .* may exist now: delete it"):
        execute(client, nb)
    assert [c[0] for c in client.writes()] == ["POST", "POST"]


def test_delete_already_gone_is_a_warning_not_a_failure():
    client, nb = run([OWNER, SVC], {"svc1": [token("t1", "ci")]}, user_name="ci-bot", name="ci", state="absent")
    client.delete_error = NetBirdAPIError("DELETE", "/api/users/svc1/tokens/t1", status=404, message="pat: t1 not found")
    assert execute(client, nb)["changed"]
    assert any("already deleted" in w for w in nb.warnings)


# -- netbird_user_info include_tokens -----------------------------------------------------------

def test_info_tokens_only_where_readable():
    client = FakeClient([as_current(ADMIN), PLAIN, SVC], {"admin1": [token("a2", "z"), token("a1", "a")], "svc1": [token("s1", "ci")]})
    users = [{"id": u["id"], "email": u["email"], "name": u["name"], "is_service_user": u["is_service_user"]} for u in client.users]
    warnings = []
    add_token_lists(client, users, client.users, warnings.append)
    assert [t["name"] for t in users[0]["tokens"]] == ["a", "z"]
    assert "tokens" not in users[1] and users[2]["tokens"][0]["id"] == "s1"
    assert len(warnings) == 1 and "plain@example.com" in warnings[0]
    assert [c[1] for c in client.calls] == ["/users/admin1/tokens", "/users/svc1/tokens"]


def test_info_tokens_server_refusal_becomes_a_warning():
    class Refusing(FakeClient):
        def get_list(self, path, params=None):
            raise NetBirdAPIError("GET", "/api" + path, status=403, message="permission denied")
    client = Refusing([OWNER])
    users = [{"id": "owner1", "email": "owner@example.com", "name": "Owner", "is_service_user": False}]
    warnings = []
    add_token_lists(client, users, [], warnings.append)
    assert "tokens" not in users[0] and "permission denied" in warnings[0]
