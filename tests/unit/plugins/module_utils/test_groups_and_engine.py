# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of group resolution and the user engine's decisions (HTTP mocked by a fake client)."""

from __future__ import annotations

import pytest

from fakes import FakeClient, raw_user as user

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdAPIError, NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._groups import GroupResolver, looks_like_group_id
from ansible_collections.netbird_ops.netbird.plugins.module_utils._core import BatchRunner
from ansible_collections.netbird_ops.netbird.plugins.module_utils._task import batch_argument_spec
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import (
    UserKind,
    UserSpec,
    list_filter,
    public_user,
    user_entry_argument_spec,
    user_specs,
)

G_ALL = "c0000000000000000all"[:20]
G_DEV = "d0000000000000000dev"
G_OPS = "d0000000000000000ops"
G_DUP1 = "d000000000000000dup1"
G_DUP2 = "d000000000000000dup2"
GROUPS = [
    {"id": G_ALL, "name": "All", "issued": "api"},
    {"id": G_DEV, "name": "dev", "issued": "api"},
    {"id": G_OPS, "name": "ops", "issued": "api"},
    {"id": G_DUP1, "name": "sso", "issued": "jwt"},
    {"id": G_DUP2, "name": "sso", "issued": "integration"},
]


OWNER = user("owner1", "owner@example.com", "Owner", role="owner", current=True)


PEERS = [{"id": "p1", "user_id": "u1"}, {"id": "p2", "user_id": "u1"}, {"id": "p3", "user_id": "x"}]


def make_client(users=None, groups=None, groups_status=None):
    """The shared fake (tests/unit/fakes.py) with this file's groups and peers."""
    return FakeClient([OWNER] if users is None else users, groups=GROUPS if groups is None else groups, peers=PEERS,
                      groups_status=groups_status)


def spec(**kwargs):
    entry = {"state": "present", "auto_groups_mode": "replace", "resend_invite": False}
    entry.update(kwargs)
    return UserSpec(entry)


def engine_for(users, check_mode=False, **kwargs):
    client = make_client([OWNER] + users, **kwargs)
    eng = UserKind(client, check_mode=check_mode)
    eng.load_users()
    return eng, client


# -- groups ------------------------------------------------------------------------------------

def test_group_id_shape():
    assert looks_like_group_id(G_DEV)
    assert not looks_like_group_id("developers")
    assert not looks_like_group_id("D0000000000000000DEV")


def test_names_and_ids_resolve_to_sorted_unique_ids():
    resolver = GroupResolver(make_client())
    assert resolver.to_ids(["ops", G_DEV, "dev"]) == sorted([G_OPS, G_DEV])
    assert resolver.to_names([G_OPS, G_DEV, "zzz-unknown"]) == ["dev", "ops", "zzz-unknown"]


def test_one_groups_call_per_run():
    client = make_client()
    resolver = GroupResolver(client)
    resolver.to_ids(["dev"])
    resolver.to_ids(["ops"])
    resolver.to_names([G_DEV])
    assert len(client.reads("/groups")) == 1


def test_unknown_group_names_error_names_the_option():
    with pytest.raises(NetBirdInputError, match=r"users\[1\]\.auto_groups: unknown groups 'nope', 'nada'"):
        GroupResolver(make_client()).to_ids(["dev", "nope", "nada"], option="users[1].auto_groups")


@pytest.mark.parametrize("given, message", [
    # a typo leads with the existing name it is close to, create_groups comes second
    (["Opps"], "unknown group 'Opps' (no group has that name or ID; did you mean 'ops'?); or set create_groups: true to create it"),
    (["devs"], "unknown group 'devs' (no group has that name or ID; did you mean 'dev'?); or set create_groups: true"),
    (["opz", "dve"], "unknown groups 'opz', 'dve' (no group has that name or ID; did you mean 'ops' for 'opz', 'dev' for 'dve'?)"),
    # nothing close: no guess
    (["nope"], "unknown group 'nope' (no group has that name or ID); set create_groups: true to create it"),
])
def test_unknown_group_suggests_a_close_name(given, message):
    with pytest.raises(NetBirdInputError) as caught:
        GroupResolver(make_client()).to_ids(given, option="auto_groups")
    assert message in str(caught.value)


def test_ambiguous_group_name_lists_candidates():
    with pytest.raises(NetBirdInputError, match="ambiguous.*%s.*%s" % (G_DUP1, G_DUP2)):
        GroupResolver(make_client()).to_ids(["sso"])


@pytest.mark.parametrize("value", ["All", G_ALL])
def test_all_group_refused_by_name_and_id(value):
    with pytest.raises(NetBirdInputError, match="'All' group cannot be assigned"):
        GroupResolver(make_client()).to_ids([value])


def test_unreadable_groups_allow_ids_but_not_names():
    resolver = GroupResolver(make_client(groups_status=403))
    assert resolver.to_ids([G_DEV]) == [G_DEV]
    assert resolver.to_names([G_DEV]) is None
    with pytest.raises(NetBirdInputError, match="may not read groups"):
        resolver.to_ids(["dev"])


def test_other_group_errors_propagate():
    with pytest.raises(NetBirdAPIError):
        GroupResolver(make_client(groups_status=500)).load()


# -- specs (static validation, before any request) ----------------------------------------------

@pytest.mark.parametrize("kwargs,message", [
    (dict(email="a@x.io", role="boss"), "role 'boss' is not a NetBird role"),
    (dict(email="not-an-email"), "is not an email address"),
    (dict(name="bot", service_user=True, role="owner"), "owner is not allowed for a service user"),
    (dict(name="bot", service_user=True, email="b@x.io"), "email does not apply to service users"),
    (dict(name="bot", service_user=True, old_password="a", new_password="b"), "do not apply to service users"),
    (dict(name="bot", service_user=True, resend_invite=True), "resend_invite does not apply"),
    (dict(email="a@x.io", state="absent", role="admin"), "role cannot be combined with state=absent"),
    (dict(old_password="same", new_password="same"), "must differ"),
    (dict(name="Alice"), "email is required to identify or create a regular user"),
    (dict(), "needs user_id, email"),
    (dict(email="a@x.io", auto_groups=["dev", " "]), "non-empty group names"),
])
def test_static_validation(kwargs, message):
    with pytest.raises(NetBirdInputError, match=message):
        spec(**kwargs)


def argspec_errors(params):
    """What Ansible's own validation of netbird_user's argument spec says about ``params`` (no request is made)."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # pylint: disable=import-outside-toplevel
    spec, rules = batch_argument_spec(user_entry_argument_spec(), "users")
    return " ".join(ArgumentSpecValidator(spec, **rules).validate(params).error_messages)


@pytest.mark.parametrize("params, message", [
    ({"email": "a@x.io", "old_password": "a"}, "required together: old_password, new_password"),
    ({"users": [{"email": "a@x.io", "old_password": "a"}]}, "required together: old_password, new_password found in users"),
    ({"users": [], "email": "a@x.io"}, "mutually exclusive: users|email"),
    ({"email": "a@x.io", "auto_groups_mode": "merge"}, "auto_groups_mode must be one of"),
])
def test_argument_spec_validation(params, message):
    assert message in argspec_errors(params)


def test_batch_option_names_carry_the_index():
    with pytest.raises(NetBirdInputError, match=r"users\[1\]\.role 'boss'"):
        user_specs({"users": [{"email": "a@x.io"}, {"email": "b@x.io", "role": "boss"}]})


def test_batch_duplicates_refused():
    with pytest.raises(NetBirdInputError, match=r"users\[0\] and users\[1\] name the same user"):
        user_specs({"users": [{"email": "a@x.io"}, {"email": "A@X.io"}]})


def test_role_is_case_insensitive():
    assert spec(email="a@x.io", role="Network_Admin").role == "network_admin"


def test_list_filter():
    assert list_filter([spec(email="a@x.io")]) is False
    assert list_filter([spec(name="b", service_user=True)]) is True
    assert list_filter([spec(email="a@x.io"), spec(name="b", service_user=True)]) is None
    assert list_filter([spec(user_id="u1")]) is None


# -- planning: read-merge-write ------------------------------------------------------------------

def test_omitted_role_is_never_defaulted():
    """Pitfall: community.ansible_netbird demotes admins when role is omitted."""
    eng, client = engine_for([user("u1", "a@x.io", "A", role="admin", groups=[G_DEV])])
    plan = eng.plan(spec(email="a@x.io", auto_groups=["dev", "ops"]))
    assert plan.step("put") == {"role": "admin", "auto_groups": sorted([G_DEV, G_OPS]), "is_blocked": False}


def test_omitted_blocked_never_unblocks():
    """Pitfall: a PUT without is_blocked unblocks the user."""
    eng, _client = engine_for([user("u1", "a@x.io", "A", blocked=True)])
    plan = eng.plan(spec(email="a@x.io", role="auditor"))
    assert plan.step("put") == {"role": "auditor", "auto_groups": [], "is_blocked": True}


def test_omitted_groups_are_kept():
    eng, _client = engine_for([user("u1", "a@x.io", "A", groups=[G_OPS])])
    plan = eng.plan(spec(email="a@x.io", blocked=True))
    assert plan.step("put") == {"role": "user", "auto_groups": [G_OPS], "is_blocked": True}


def test_groups_compared_as_a_set():
    eng, client = engine_for([user("u1", "a@x.io", "A", groups=[G_OPS, G_DEV])])
    plan = eng.plan(spec(email="A@X.IO", auto_groups=["dev", "ops", "dev"]))
    assert plan.action == "none" and not plan.changed
    assert not client.writes()


def test_ids_only_no_change_needs_no_groups_call():
    eng, client = engine_for([user("u1", "a@x.io", "A", groups=[G_OPS, G_DEV])])
    plan = eng.plan(spec(email="a@x.io", auto_groups=[G_DEV, G_OPS]))
    assert not plan.changed
    assert not client.reads("/groups")


def test_ids_are_validated_before_a_write():
    eng, _client = engine_for([user("u1", "a@x.io", "A")])
    with pytest.raises(NetBirdInputError, match="unknown group 'd0000000000000000zzz'"):
        eng.plan(spec(email="a@x.io", auto_groups=["d0000000000000000zzz"]))


@pytest.mark.parametrize("mode,expected", [
    ("add", [G_DEV, G_OPS]),
    ("remove", []),
    ("replace", [G_DEV]),
])
def test_group_modes(mode, expected):
    eng, _client = engine_for([user("u1", "a@x.io", "A", groups=[G_OPS])])
    plan = eng.plan(spec(email="a@x.io", auto_groups=["dev"] if mode != "remove" else ["ops"], auto_groups_mode=mode))
    assert plan.step("put")["auto_groups"] == sorted(expected)


def test_add_mode_keeps_unmanaged_groups_and_is_idempotent():
    eng, _client = engine_for([user("u1", "a@x.io", "A", groups=[G_OPS, G_DEV])])
    assert not eng.plan(spec(email="a@x.io", auto_groups=["dev"], auto_groups_mode="add")).changed
    assert not eng.plan(spec(email="a@x.io", auto_groups=[], auto_groups_mode="remove")).changed


def test_pending_user_is_never_unblocked():
    eng, _client = engine_for([user("u1", "p@x.io", "P", blocked=True, pending=True)])
    plan = eng.plan(spec(email="p@x.io", blocked=False, auto_groups=["dev"]))
    assert plan.step("put") == {"role": "user", "auto_groups": [G_DEV], "is_blocked": True}
    assert any("pending approval" in w for w in plan.warnings)


@pytest.mark.parametrize("kwargs,message", [
    (dict(email="owner@example.com", role="admin"), "cannot change your own role"),
    (dict(email="owner@example.com", blocked=True), "cannot block or unblock your own user"),
    (dict(email="owner@example.com", state="absent"), "cannot delete your own user"),
    (dict(email="boss@x.io", blocked=True), "owner cannot be blocked"),
    (dict(email="boss@x.io", state="absent"), "owner cannot be deleted"),
    (dict(email="new@x.io", name="N", role="owner"), "owner cannot be given when creating"),
    (dict(email="new@x.io"), "name is required to create a regular user"),
    (dict(user_id="ghost"), "no user with user_id 'ghost' exists"),
    (dict(user_id="svc1", role="owner"), "owner is not allowed for a service user"),
    (dict(user_id="svc1", service_user=False), "service user; service_user cannot be changed"),
    (dict(email="a@x.io", auto_groups=["All"]), "'All' group cannot be assigned"),
    (dict(email="a@x.io", auto_groups=["nope"]), "unknown group 'nope'"),
    (dict(email="a@x.io", old_password="x1", new_password="y2"), "change only the token's own password"),
])
def test_server_rules_checked_before_any_write(kwargs, message):
    eng, client = engine_for([
        user("boss1", "boss@x.io", "Boss", role="owner"),
        user("a1", "a@x.io", "A"),
        user("svc1", "", "bot", service=True),
    ])
    with pytest.raises(NetBirdInputError, match=message):
        eng.plan(spec(**kwargs))
    assert not client.writes()


def test_admin_cannot_grant_owner():
    admin = user("adm", "adm@x.io", "Adm", role="admin", current=True)
    client = make_client([admin, user("a1", "a@x.io", "A")])
    eng = UserKind(client)
    eng.load_users()
    with pytest.raises(NetBirdInputError, match="only the owner can give the owner role"):
        eng.plan(spec(email="a@x.io", role="owner"))


def test_owner_transfer_warns():
    eng, _client = engine_for([user("a1", "a@x.io", "A", status="invited")])
    plan = eng.plan(spec(email="a@x.io", role="owner"))
    assert plan.step("put")["role"] == "owner"
    assert any("demotes" in w for w in plan.warnings)
    assert any("invited" in w for w in plan.warnings)


def test_name_change_is_not_a_recreate():
    eng, _client = engine_for([user("a1", "a@x.io", "Alice")])
    plan = eng.plan(spec(email="a@x.io", name="Alicia"))
    assert plan.action == "none"
    assert any("cannot rename" in w for w in plan.warnings)


def test_create_plan_and_block_after_create():
    eng, client = engine_for([])
    plan = eng.plan(spec(email="n@x.io", name="N", auto_groups=["dev"], blocked=True))
    assert plan.action == "create"
    assert plan.step("create") == {"role": "user", "auto_groups": [G_DEV], "is_service_user": False, "name": "N", "email": "n@x.io"}
    assert plan.step("put") == {"role": "user", "auto_groups": [G_DEV], "is_blocked": True}
    outcome = eng.apply(plan)
    created, password = outcome.result, outcome.secrets.get("password")
    assert password == "one-time-secret!"
    assert "password" not in created
    assert [c[0] for c in client.writes()] == ["POST", "PUT"]


def test_service_user_create_body():
    eng, _client = engine_for([])
    plan = eng.plan(spec(name="ci-bot", service_user=True, role="network_admin"))
    assert plan.step("create") == {"role": "network_admin", "auto_groups": [], "is_service_user": True, "name": "ci-bot"}


def test_check_mode_writes_nothing_and_predicts():
    # check mode is the runner's decision: it calls predict, never apply
    eng, client = engine_for([user("a1", "a@x.io", "A")], check_mode=True)
    for s in (spec(email="n@x.io", name="N", blocked=True), spec(email="a@x.io", role="admin"), spec(email="a@x.io", state="absent")):
        outcome = eng.predict(eng.plan(s))
        assert outcome.secrets.get("password") is None
    assert not client.writes()
    created = eng.plan(spec(email="n@x.io", name="N"))
    assert eng.predict(created).result["id"] is None
    result = BatchRunner(eng, check_mode=True).run([spec(email="n@x.io", name="N", blocked=True)])
    assert result["changed"] and result["user"]["id"] is None and "password" not in result and not client.writes()


def test_delete_counts_peers_and_absent_is_no_change():
    eng, _client = engine_for([user("u1", "a@x.io", "A")])
    plan = eng.plan(spec(email="a@x.io", state="absent"))
    assert plan.action == "delete" and plan.info["peers"] == 2
    assert any("2 peers" in w for w in plan.warnings)
    assert not eng.plan(spec(email="gone@x.io", state="absent")).changed


def test_resend_invite_only_when_invited():
    eng, _client = engine_for([user("i1", "i@x.io", "I", status="invited"), user("a1", "a@x.io", "A")])
    assert eng.plan(spec(email="i@x.io", resend_invite=True)).step("invite")
    assert not eng.plan(spec(email="a@x.io", resend_invite=True)).changed


def test_diff_has_group_names_and_no_secret():
    eng, _client = engine_for([user("u1", "a@x.io", "A", groups=[G_OPS])])
    eng.groups.load()
    diff = eng.diff(eng.plan(spec(email="a@x.io", auto_groups=["dev"])))
    assert diff["before"]["auto_groups"] == ["ops"] and diff["after"]["auto_groups"] == ["dev"]
    created = eng.plan(spec(email="n@x.io", name="N"))
    eng.check_mode = False
    eng.apply(created)
    assert "one-time-secret" not in repr(eng.diff(created))


def test_ambiguous_email_lookup():
    eng, _client = engine_for([user("u1", "a@x.io", "A"), user("u2", "A@x.io", "A2")])
    with pytest.raises(NetBirdInputError, match="matches 2 users"):
        eng.plan(spec(email="a@x.io"))


def test_public_user_shape():
    resolver = GroupResolver(make_client())
    out = public_user(user("u1", "a@x.io", "A", groups=[G_OPS, G_DEV]), resolver if resolver.load() else None)
    assert out["auto_groups"] == sorted([G_DEV, G_OPS]) and out["auto_groups_names"] == ["dev", "ops"]
    assert set(out) >= {"id", "email", "name", "role", "status", "auto_groups", "auto_groups_names", "is_service_user",
                        "is_blocked", "pending_approval", "last_login", "issued"}
