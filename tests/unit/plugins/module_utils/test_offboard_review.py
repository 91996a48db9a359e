# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exclusive mode of the users kind (in-process, fake server) and the access review's findings, CSV and Markdown."""

from __future__ import annotations

import csv
import io

import pytest

from fakes import FakeClient, FakeNB, event, raw_user

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._offboard import exclusive_argument_spec, run_users
from ansible_collections.netbird_ops.netbird.plugins.module_utils._review import cell, findings, report_md, users_csv
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import USER_ENTRY_KEYS

OWNER = raw_user("o", "owner@x.io", "Owner", role="owner")
ME = raw_user("me", "me@x.io", "Me", role="admin", current=True)


def entry(**values):
    params = dict((key, None) for key in USER_ENTRY_KEYS)
    params.update(state="present", auto_groups_mode="replace", resend_invite=False)
    params.update(values)
    return params


def run(server_users, users, check_mode=False, events=(), **options):
    client = FakeClient([OWNER, ME] + list(server_users), events=list(events))
    params = entry()
    params.update(dict((k, v["default"]) for k, v in exclusive_argument_spec().items()))
    params.update(users=[entry(**u) for u in users], exclusive=True, **options)
    nb = FakeNB(client, params, check_mode=check_mode, diff_mode=True)
    return client, nb, run_users(nb)


def test_offboards_only_unlisted_users_in_scope_one_request_each():
    users = [raw_user("a", "a@x.io", "A"), raw_user("b", "b@x.io", "B"), raw_user("p", "p@x.io", "P", pending=True, blocked=True),
             raw_user("s", name="bot", service=True), raw_user("k", "keep@x.io", "K")]
    client, nb, result = run(users, [{"email": "a@x.io"}], protect=["KEEP@x.io"])
    assert result["summary"]["offboarded"] == ["b@x.io"] and [u["email"] for u in result["offboarded"]] == ["b@x.io"]
    assert [c[:2] for c in client.writes()] == [("PUT", "/users/b")]
    assert [e["user"]["email"] for e in result["users"]] == ["a@x.io"]
    assert len(client.reads("/users")) == 1


@pytest.mark.parametrize("options, text", [
    ({"max_offboard": 1}, "would offboard (block) 2 users, more than max_offboard=1: b@x.io, c@x.io"),
    ({"users": []}, "empty users list"),
])
def test_guard_rails_refuse_before_any_write(options, text):
    users = [raw_user("b", "b@x.io", "B"), raw_user("c", "c@x.io", "C")]
    with pytest.raises(NetBirdInputError, match=text.replace("(", r"\(").replace(")", r"\)")):
        listed = options.pop("users", [{"email": "me@x.io"}])
        run(users, listed, **options)


def test_stub_state_from_the_audit_log_and_unknown_stub_delete_is_left_alone():
    stub_blocked = raw_user("s1", name="old-bot", service=True, blocked=True, stub=True)
    stub_unknown = raw_user("c", "carl@x.io", "Carl", stub=True)
    events = [event("service.user.create", "s1", 1), event("user.block", "s1", 2)]
    client, nb, result = run([stub_blocked, stub_unknown], [{"email": "me@x.io"}], exclusive_scope="all", events=events)
    # old-bot: the log says blocked, no change; carl: unknown, blocked anyway (safe), reported with a warning
    assert result["summary"]["offboarded"] == ["carl@x.io"] and len(client.writes()) == 1
    assert any("written again on every run" in w for w in nb.warnings)
    client, nb, result = run([stub_blocked, stub_unknown], [{"email": "me@x.io"}], exclusive_scope="all", events=events,
                             offboard="delete", check_mode=True)
    assert result["summary"]["offboarded"] == ["old-bot"] and client.writes() == []
    assert any("carl@x.io was not offboarded" in w for w in nb.warnings)


REVIEW_USERS = [
    {"email": "a@x.io", "name": "=A", "role": "admin", "is_service_user": False, "state_reported": True, "status": "active",
     "last_login": "2026-01-01T00:00:00Z", "last_login_days": 100, "auto_groups_names": ["dev", "ops"], "peers_count": 2},
    {"email": "", "name": "bot", "role": "user", "is_service_user": True, "state_reported": True, "status": "active",
     "last_login_days": None, "auto_groups_names": [], "peers_count": 0,
     "tokens": [{"name": "t1", "expiration_date": "2026-12-01T00:00:00Z", "expires_in_days": 2, "expired": False,
                 "last_used_days": None}]},
    {"email": "stub@x.io", "name": "", "role": "user", "is_service_user": False, "state_reported": False,
     "last_login_days": None, "auto_groups_names": []},
]


def test_review_findings_csv_and_markdown():
    f = findings(REVIEW_USERS, 90, 30)
    assert [u["email"] for u in f["inactive"]] == ["a@x.io"] and f["never"] == []
    assert [u["email"] for u in f["unreported"]] == ["stub@x.io"] and len(f["expiring"]) == 1
    rows = list(csv.DictReader(io.StringIO(users_csv(REVIEW_USERS))))
    assert rows[0]["name"] == "'=A" and rows[0]["groups"] == "dev; ops" and rows[0]["days_since_login"] == "100"
    assert rows[1]["tokens"] == "t1 (expires 2026-12-01T00:00:00Z, last used never)"
    assert rows[2]["status"] == "unreported" and rows[2]["last_login"] == "unreported" and rows[2]["tokens"] == "not readable"
    report = report_md(f, 90, 30)
    assert "## Inactive for 90 days or more (1)\n\n- a@x.io: last login" in report
    assert "## Never logged in (0)\n\nNone." in report
    assert "## Tokens expiring within 30 days (1)\n\n- bot (service user): token t1" in report
    assert cell("+1") == "'+1" and cell(None) == ""
