# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The onboarding_batches filter: the onboarding role's module batches, built in Python from its variables."""

from __future__ import annotations

import re

import pytest

from ansible.errors import AnsibleFilterError

from fakes import Unreadable

from ansible_collections.netbird_ops.netbird.plugins.filter.onboarding_batches import FilterModule
from ansible_collections.netbird_ops.netbird.plugins.plugin_utils._onboarding import onboarding_batches

ALICE = {"email": "alice@example.com", "name": "Alice", "role": "admin", "auto_groups": ["devs"], "blocked": False}
BOB = {"email": "Bob@Example.com", "name": "Bob", "role": None, "state": "present"}
GONE = {"email": "gone@example.com", "state": "absent"}
BOT = {"name": "ci-bot", "role": "user", "state": None,
       "tokens": [{"name": "deploy", "expires_in": 30}, {"name": "old", "state": "absent", "expires_in": None}]}
OLD_BOT = {"name": "old-bot", "state": "absent", "tokens": [{"name": "never", "expires_in": 7}]}


def test_registered_under_its_name():
    assert FilterModule().filters()["onboarding_batches"] is onboarding_batches


def test_without_invites_the_users_go_as_given_and_service_users_without_tokens():
    batches = onboarding_batches({"users": [ALICE, BOB, GONE], "service_users": [BOT, OLD_BOT]})
    assert batches["users"] == [ALICE, BOB, GONE,
                                {"name": "ci-bot", "role": "user", "state": None, "service_user": True},
                                {"name": "old-bot", "state": "absent", "service_user": True}]
    # a present service user's tokens (state null counts as omitted: present), each with its user's name
    assert batches["tokens"] == [{"name": "deploy", "expires_in": 30, "user_name": "ci-bot"},
                                 {"name": "old", "state": "absent", "expires_in": None, "user_name": "ci-bot"}]
    assert batches["invites"] == []
    # the input is not changed
    assert "user_name" not in BOT["tokens"][0] and "service_user" not in BOT


def test_invite_mode_invites_present_users_and_keeps_existing_ones_in_the_user_batch():
    data = {"users": [ALICE, BOB, GONE], "service_users": [BOT], "invite": True, "invite_expires_in": 3600}
    batches = onboarding_batches(data)
    # only the keys an invite takes, nulls left out, the lifetime added
    assert batches["invites"] == [
        {"email": "alice@example.com", "name": "Alice", "role": "admin", "auto_groups": ["devs"], "expires_in": 3600},
        {"email": "Bob@Example.com", "name": "Bob", "expires_in": 3600},
    ]
    # before the invites ran, the user batch has the absent users and the service users only
    assert [entry.get("email", entry.get("name")) for entry in batches["users"]] == ["gone@example.com", "ci-bot"]
    # afterwards, the users netbird_user_invite found to exist join it (emails compared case-insensitively)
    users = onboarding_batches(data, "users", existing=["bob@example.com"])
    assert [entry.get("email", entry.get("name")) for entry in users] == ["gone@example.com", "Bob@Example.com", "ci-bot"]


def test_a_part_reads_only_what_it_needs():
    assert onboarding_batches({"users": Unreadable([ALICE]), "service_users": [BOT]}, "tokens")[0]["user_name"] == "ci-bot"
    assert onboarding_batches({"users": Unreadable([ALICE]), "service_users": Unreadable([BOT])}, "invites") == []
    assert onboarding_batches({"users": [ALICE], "service_users": []}, "users") == [ALICE]
    assert onboarding_batches({}) == {"users": [], "tokens": [], "invites": []}


@pytest.mark.parametrize("data, part, message", [
    (["not", "a", "dict"], None, "expects a dict of the role's variables, got list"),
    ({}, "errors", "part must be one of users, tokens, invites, got 'errors'"),
    ({"users": "alice@example.com"}, "users", "users must be a list, got str"),
    ({"service_users": [["ci-bot"]]}, "tokens", "service_users[0] must be a dict, got list"),
])
def test_bad_input_is_named(data, part, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        onboarding_batches(data, part)
