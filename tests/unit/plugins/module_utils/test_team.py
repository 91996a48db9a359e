# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""netbird_user_info ``as_team``: the users in the onboarding role's input shape.

Groups by name, no owner, no users pending approval, no token, ``blocked`` only where the server reports it (an
external-IdP stub's ``is_blocked: false`` says nothing), and every entry valid for the role's argument spec.
"""

from __future__ import annotations

import os

import pytest
import yaml

from fakes import FakeClient, FakeNB, default_token, raw_user

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._info import info_argument_spec, run_user_info

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

G_DEV = "d0000000000000000dev"
G_OPS = "d0000000000000000ops"
G_ALL = "d0000000000000000all"
G_GONE = "d000000000000000gone"
GROUPS = [{"id": G_DEV, "name": "dev", "issued": "api"}, {"id": G_OPS, "name": "ops", "issued": "api"},
          {"id": G_ALL, "name": "All", "issued": "api"}]

OWNER = raw_user("owner1", "owner@example.com", "Owner", role="owner", current=True, groups=[G_DEV])
ALICE = raw_user("alice1", "alice@example.com", "Alice Ä", role="admin", groups=[G_OPS, G_DEV, G_ALL])
BOB = raw_user("bob1", "Bob@Example.com", "Bob", blocked=True)
PEN = raw_user("pen1", "pen@example.com", "Pen", blocked=True, pending=True)
INVITED = raw_user("inv1", "ivy@example.com", "Ivy", role="auditor", status="invited")
CI = raw_user("ci1", name="ci-bot", groups=[G_OPS], service=True, role="network_admin")
SVC_BLK = raw_user("svc1", name="svc-blocked", groups=[G_OPS], blocked=True, service=True)
# an external IdP: service users, and regular users the IdP does not return, come as stubs
STUB_SVC = raw_user("svc2", name="svc-stub", groups=[G_OPS], blocked=True, service=True, stub=True)
STUB_CARL = raw_user("carl1", "carl@example.com", "Carl", groups=[G_DEV], blocked=True, stub=True)
TEMPLATE = raw_user("tpl1", "tpl@example.com", "{{ lookup('pipe', 'id') }}")


def params(**given):
    values = dict((key, spec.get("default")) for key, spec in info_argument_spec().items())
    values.update(as_team=True)
    values.update(given)
    return values


def export(users, groups=None, **given):
    client = FakeClient(users, groups=GROUPS if groups is None else groups, **given.pop("client", {}))
    nb = FakeNB(client, params(**given))
    return run_user_info(nb), nb, client


def role_spec(key):
    with open(os.path.join(REPO, "roles", "onboarding", "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)["argument_specs"]["main"]["options"][key]
    return {key: spec}


def test_team_in_the_role_shape():
    result, nb, client = export([OWNER, ALICE, BOB, PEN, INVITED, CI, SVC_BLK])
    team = result["team"]
    assert team == {
        "users": [
            {"email": "alice@example.com", "name": "Alice Ä", "role": "admin", "auto_groups": ["dev", "ops"], "blocked": False},
            {"email": "Bob@Example.com", "name": "Bob", "role": "user", "auto_groups": [], "blocked": True},
            {"email": "ivy@example.com", "name": "Ivy", "role": "auditor", "auto_groups": [], "blocked": False},
        ],
        "service_users": [
            {"name": "ci-bot", "role": "network_admin", "auto_groups": ["ops"], "blocked": False},
            {"name": "svc-blocked", "role": "user", "auto_groups": ["ops"], "blocked": True},
        ],
    }
    assert result["changed"] is False and not client.writes()
    # the users list is still there, as without as_team
    assert len(result["users"]) == 7
    assert any("leaves out 2 users" in w and "owner@example.com (owner)" in w and "pen@example.com (pending approval)" in w
               for w in nb.warnings), nb.warnings


@pytest.mark.parametrize("key", ["users", "service_users"])
def test_every_entry_passes_the_role_argument_spec(key):
    result, dummy, dummy = export([OWNER, ALICE, BOB, INVITED, CI, SVC_BLK, STUB_SVC, STUB_CARL])
    option = "netbird_onboarding_" + key
    validation = ArgumentSpecValidator(role_spec(option)).validate({option: result["team"][key]})
    assert not validation.error_messages
    assert len(validation.validated_parameters[option]) == len(result["team"][key]) > 0


def test_stubs_leave_blocked_out_and_are_named_in_a_warning():
    result, nb, client = export([OWNER, STUB_SVC, STUB_CARL, ALICE])
    team = result["team"]
    svc = team["service_users"][0]
    carl = next(u for u in team["users"] if u["email"] == "carl@example.com")
    assert svc == {"name": "svc-stub", "role": "user", "auto_groups": ["ops"]}
    # the stub has no name either (the IdP did not return it): left out, not ""
    assert carl == {"email": "carl@example.com", "role": "user", "auto_groups": ["dev"]}
    [blocked] = [w for w in nb.warnings if "leaves blocked out" in w]
    assert "2 users" in blocked and "carl@example.com" in blocked and "svc-stub" in blocked
    assert any("no name for 1 user" in w and "carl@example.com" in w for w in nb.warnings)
    # the stubs' state is not guessed from the audit log either: no extra request
    assert not client.reads("/events/audit")


def test_no_tokens_even_with_include_tokens():
    tokens = {"ci1": [default_token("t1", "deploy", 30, "owner1")]}
    result, dummy, dummy = export([OWNER, CI], include_tokens=True, client={"tokens": tokens})
    assert result["users"][0].get("tokens") or result["users"][1].get("tokens")
    assert result["team"]["service_users"] == [{"name": "ci-bot", "role": "network_admin", "auto_groups": ["ops"], "blocked": False}]


def test_filters_apply_first():
    result, dummy, dummy = export([OWNER, ALICE, CI], service_user=False)
    assert result["team"] == {"users": [{"email": "alice@example.com", "name": "Alice Ä", "role": "admin",
                                         "auto_groups": ["dev", "ops"], "blocked": False}], "service_users": []}


def test_template_like_names_are_kept_as_data():
    result, dummy, dummy = export([TEMPLATE])
    assert result["team"]["users"][0]["name"] == "{{ lookup('pipe', 'id') }}"


def test_group_id_without_group_is_left_out_with_a_warning():
    result, nb, dummy = export([raw_user("u1", "u@example.com", "U", groups=[G_DEV, G_GONE])])
    assert result["team"]["users"][0]["auto_groups"] == ["dev"]
    assert any(G_GONE in w and "no group has" in w for w in nb.warnings)


def test_ambiguous_group_name_is_warned_about():
    groups = GROUPS + [{"id": "d00000000000000dev2", "name": "dev", "issued": "integration"}]
    result, nb, dummy = export([ALICE], groups=groups)
    assert result["team"]["users"][0]["auto_groups"] == ["dev", "ops"]
    assert any("more than one group is named 'dev'" in w for w in nb.warnings)


def test_token_that_may_not_read_groups_fails_clearly():
    with pytest.raises(NetBirdInputError, match="as_team needs group names, but the token may not read groups"):
        export([ALICE], client={"groups_status": 403})


def test_no_groups_needs_no_group_read():
    result, dummy, client = export([BOB], client={"groups_status": 403})
    assert result["team"]["users"][0]["auto_groups"] == []
    assert not client.reads("/groups")


def test_without_as_team_no_team_key():
    result, nb, dummy = export([OWNER, ALICE], as_team=False)
    assert "team" not in result
    assert not nb.warnings
