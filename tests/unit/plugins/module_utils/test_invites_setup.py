# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the invites kind, the setup kind and create_groups, on the shared fake client."""

from __future__ import annotations

import json

import pytest

from fakes import FakeClient, FakeNB, raw_user as user

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import AmbiguousWriteError, NetBirdAPIError, NetBirdError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._invites import InviteSpec, invite_url, run_invites
from ansible_collections.netbird_ops.netbird.plugins.module_utils._setup import PAT_WARNING, run_setup
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import run_users

G_DEV = "d0000000000000000dev"
GROUPS = [{"id": "c0000000000000000all", "name": "All"}, {"id": G_DEV, "name": "dev"}]
OWNER = user("owner1", "owner@example.com", "Owner", role="owner", current=True)
BOB = user("u1", "bob@example.com", "Bob")


def pending(email="alice@example.com", name="Alice", role="user", groups=(), expired=False, iid="inv-a"):
    return {"id": iid, "email": email, "name": name, "role": role, "auto_groups": list(groups), "expired": expired,
            "expires_at": "2026-12-02T10:00:00Z", "created_at": "2026-11-29T10:00:00Z"}


def params(**kw):
    base = dict((key, None) for key in InviteSpec.keys)
    base.update(invites=None, create_groups=False, dashboard_url="https://nb.example.com/")
    base.update(kw)
    return base


def run(client, check=False, diff=False, runner=run_invites, **kw):
    nb = FakeNB(client, params(**kw) if runner is run_invites else kw, check_mode=check, diff_mode=diff)
    return runner(nb), nb


def fake(**kw):
    kw.setdefault("users", [OWNER, BOB])
    kw.setdefault("groups", GROUPS)
    return FakeClient(**kw)


def test_create_returns_the_link_once_and_never_in_the_diff():
    client = fake()
    result, dummy = run(client, diff=True, email="Alice@Example.com", name="Alice", auto_groups=["dev"], expires_in=7200)
    assert result["changed"] and result["action"] == "create"
    assert result["invite_token"] == "nbi_secret1"
    assert result["invite_url"] == "https://nb.example.com/invite?token=nbi_secret1"
    assert "nbi_" not in json.dumps(result["diff"]) and "nbi_" not in json.dumps(result["invite"])
    assert client.writes() == [("POST", "/users/invites", {"email": "Alice@Example.com", "name": "Alice", "role": "user",
                                                           "auto_groups": [G_DEV], "expires_in": 7200})]
    # same email in another case, same attributes: no change, no link
    client.calls = []
    again, dummy = run(client, email="alice@example.com", name="Alice", auto_groups=[G_DEV])
    assert not again["changed"] and "invite_url" not in again and client.writes() == []


@pytest.mark.parametrize("change, action, writes", [
    (dict(role="admin"), "replace", [("DELETE", "/users/invites/inv-a"), ("POST", "/users/invites")]),
    (dict(auto_groups=["dev"]), "replace", [("DELETE", "/users/invites/inv-a"), ("POST", "/users/invites")]),
    (dict(regenerate="always"), "regenerate", [("POST", "/users/invites/inv-a/regenerate")]),
    (dict(regenerate="never"), "none", []),
    (dict(state="absent", name=None), "delete", [("DELETE", "/users/invites/inv-a")]),
])
def test_existing_invite(change, action, writes):
    client = fake(invites=[pending()])
    args = dict(email="alice@example.com", name="Alice")
    args.update(change)
    result, dummy = run(client, **args)
    assert result["action"] == action and result["changed"] == bool(writes)
    assert [(c[0], c[1]) for c in client.writes()] == writes
    assert ("invite_url" in result) == (action in ("replace", "regenerate"))


def test_expired_invite_is_regenerated_by_default_and_warned_about_with_never():
    client = fake(invites=[pending(expired=True)])
    result, dummy = run(client, email="alice@example.com", name="Alice", expires_in=3600)
    assert result["action"] == "regenerate" and result["invite_token"] == "nbi_regen1"
    assert client.writes() == [("POST", "/users/invites/inv-a/regenerate", {"expires_in": 3600})]
    client = fake(invites=[pending(expired=True)])
    result, nb = run(client, email="alice@example.com", name="Alice", regenerate="never")
    assert not result["changed"] and "no longer works" in nb.warnings[0]


def test_existing_user_is_no_change_and_absent_never_deletes_a_user():
    client = fake()
    result, dummy = run(client, email="BOB@example.com", name="Bob")
    assert not result["changed"] and result["user_exists"] is True
    result, dummy = run(client, email="bob@example.com", state="absent")
    assert not result["changed"] and client.writes() == []


def test_check_mode_predicts_without_writes_and_create_groups_predicts_the_group():
    client = fake()
    result, dummy = run(client, check=True, diff=True, email="a@example.com", name="A", auto_groups=["dev", "newteam"],
                        create_groups=True)
    assert result["changed"] and result["groups_created"] == ["newteam"] and client.writes() == []
    assert result["diff"]["after"]["auto_groups"] == ["dev", "newteam"] and "invite_url" not in result


def test_create_groups_posts_the_group_before_the_invite_with_its_real_id():
    client = fake()
    result, dummy = run(client, email="a@example.com", name="A", auto_groups=["newteam"], create_groups=True)
    writes = client.writes()
    assert [(c[0], c[1]) for c in writes] == [("POST", "/groups"), ("POST", "/users/invites")]
    new_id = client.groups[-1]["id"]
    assert writes[1][2]["auto_groups"] == [new_id] and result["groups_created"] == ["newteam"]
    assert result["invite"]["auto_groups_names"] == ["newteam"]


def test_create_groups_for_a_user_batch_creates_each_group_once():
    client = fake()
    keys = ("state", "user_id", "email", "name", "service_user", "role", "auto_groups", "auto_groups_mode", "blocked",
            "resend_invite", "old_password", "new_password")
    result, dummy = run(client, runner=run_users, create_groups=True,
                        users=[{"email": "x@example.com", "name": "X", "auto_groups": ["g1", "dev"]},
                               {"email": "y@example.com", "name": "Y", "auto_groups": ["g1"]},
                               {"email": "bob@example.com", "auto_groups": ["dev"], "auto_groups_mode": "add"}],
                        **dict((k, None) for k in keys))
    assert result["groups_created"] == ["g1"]
    assert [c[1] for c in client.writes()].count("/groups") == 1
    ids = [c[2]["auto_groups"] for c in client.writes() if c[1] == "/users"]
    assert all(not any(i.startswith("(new") for i in group_ids) for group_ids in ids)


@pytest.mark.parametrize("args, message", [
    (dict(email="not-an-email", name="X"), "email 'not-an-email' is not an email address"),
    (dict(email="x@example.com", name="X", role="OWNER"), "role owner cannot be given"),
    (dict(email="x@example.com", name="X", auto_groups=["d000000000000000000g"]), "unknown group 'd000000000000000000g'"),
    (dict(email="x@example.com", name="X", auto_groups=["d000000000000000000g"], create_groups=True), "unknown group"),
    (dict(email="x@example.com", name="X", auto_groups=["All"]), "'All' group cannot be assigned"),
    (dict(email="x@example.com", name="X", expires_in=59), "expires_in must be at least 3600"),
    (dict(email="x@example.com"), "name is required to create an invite"),
    (dict(email="x@example.com", state="absent", role="admin"), "role cannot be combined with state=absent"),
    (dict(invites=[{"email": "a@example.com", "name": "A"}, {"email": "A@example.com", "name": "A"}]), "name the same invite"),
])
def test_bad_input_fails_before_any_write(args, message):
    client = fake()
    with pytest.raises(NetBirdError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(client, **args)
    assert client.writes() == []


def test_batch_one_list_of_each_then_one_request_per_change():
    client = fake(invites=[pending(email="old@example.com", iid="inv-o")])
    result, dummy = run(client, invites=[{"email": "n1@example.com", "name": "N1", "auto_groups": ["dev"]},
                                         {"email": "n2@example.com", "name": "N2"},
                                         {"email": "bob@example.com", "name": "Bob"},
                                         {"email": "old@example.com", "state": "absent"}])
    reads = [c[1] for c in client.calls if c[0] == "GET"]
    assert sorted(reads) == ["/groups", "/users", "/users/invites"]
    assert [(c[0], c[1]) for c in client.writes()] == [("POST", "/users/invites"), ("POST", "/users/invites"),
                                                       ("DELETE", "/users/invites/inv-o")]
    assert result["summary"]["invited"] == ["n1@example.com", "n2@example.com"]
    assert result["summary"]["user_exists"] == ["bob@example.com"] and result["summary"]["deleted"] == ["old@example.com"]
    assert [bool(e.get("invite_url")) for e in result["invites"]] == [True, True, False, False]


def test_412_names_the_embedded_idp_in_one_line():
    client = fake(invites_status=412)
    with pytest.raises(NetBirdAPIError) as info:
        run(client, email="x@example.com", name="X")
    assert "HTTP 412" in str(info.value) and "embedded identity provider" in str(info.value) and "\n" not in str(info.value)


def test_lost_create_answer_regenerates_a_usable_link():
    client = fake()
    client.errors[("POST", "/users/invites")] = AmbiguousWriteError("POST", "/api/users/invites", status=504, message="timeout")
    original = client.post

    def post(path, body=None, idempotent=False):
        try:
            return original(path, body, idempotent)
        except AmbiguousWriteError:
            # the create landed although its answer was lost
            client.invites.append(pending(email="x@example.com", name="X", iid="inv-x"))
            raise
    client.post = post
    result, nb = run(client, email="x@example.com", name="X")
    assert result["invite_token"].startswith("nbi_regen") and "was lost" in nb.warnings[0]


def test_replace_failing_after_the_delete_says_so():
    client = fake(invites=[pending()])
    client.errors[("POST", "/users/invites")] = NetBirdAPIError("POST", "/api/users/invites", status=500, message="boom")
    with pytest.raises(NetBirdError, match="old invite was deleted .* but creating the new one failed: POST /api/users/invites"):
        run(client, email="alice@example.com", name="Alice", role="admin")


def test_invite_url_strips_a_trailing_slash():
    assert invite_url("https://nb.example.com/", "nbi_x") == "https://nb.example.com/invite?token=nbi_x"


SETUP = dict(email="o@example.com", name="O", password="Owner-Passw0rd!", create_pat=True, pat_expire_in=1)


def test_setup_only_when_required_pat_once_and_check_mode_writes_nothing():
    client = FakeClient(instance={"setup_required": True})
    result, dummy = run(client, check=True, diff=True, runner=run_setup, **SETUP)
    assert result["changed"] and result["setup_required"] and client.writes() == []
    assert "Owner-Passw0rd!" not in json.dumps(result)
    result, nb = run(client, runner=run_setup, **SETUP)
    assert result["changed"] and result["personal_access_token"] == "nbp_setup1" and result["setup_required"] is False
    assert nb.warnings == [] and [c[1] for c in client.writes()] == ["/setup"]
    result, dummy = run(client, runner=run_setup, **SETUP)
    assert not result["changed"] and result == {"changed": False, "setup_required": False}


def test_setup_without_a_pat_warns_naming_the_server_variable():
    client = FakeClient(instance={"setup_required": True})
    original = client.post
    client.post = lambda path, body=None, idempotent=False: dict(original(path, dict(body, create_pat=False), idempotent))
    result, nb = run(client, runner=run_setup, **SETUP)
    assert result["changed"] and "personal_access_token" not in result and nb.warnings == [PAT_WARNING]
    assert "from NetBird v0.71.0 on, start the management server with NB_SETUP_PAT_ENABLED=true" in PAT_WARNING
    assert "before v0.71.0 that setting does not exist, so log in to the dashboard once as the owner and create a PAT" in PAT_WARNING


@pytest.mark.parametrize("change, message", [
    (dict(password="short"), "password must be 8 to 72 characters long"),
    (dict(password="x" * 73), "got 73"),
    (dict(email="nope"), "is not an email address"),
    (dict(pat_expire_in=0), "pat_expire_in must be between 1 and 365"),
])
def test_setup_bad_input_before_any_request(change, message):
    client = FakeClient(instance={"setup_required": True})
    with pytest.raises(NetBirdError, match=message) as info:
        run(client, runner=run_setup, **dict(SETUP, **change))
    assert client.calls == [] and "Owner-Passw0rd!" not in str(info.value)


def test_setup_options_are_needed_only_when_the_server_needs_setup():
    done = FakeClient(instance={"setup_required": False})
    result, dummy = run(done, runner=run_setup, email=None, name=None, password=None, create_pat=True, pat_expire_in=1)
    assert result == {"changed": False, "setup_required": False}
    fresh = FakeClient(instance={"setup_required": True})
    args = dict(SETUP)
    args.update(name=None, password=None)
    with pytest.raises(NetBirdError, match="needs its first-time setup, so name and password are required"):
        run(fresh, runner=run_setup, **args)
    assert fresh.writes() == []
