# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The onboarding_errors filter: the onboarding role's check before its first write, made of the modules' own rules."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.netbird_ops.netbird.plugins.filter.onboarding_errors import FilterModule, onboarding_errors
from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._approvals import approval_specs
from ansible_collections.netbird_ops.netbird.plugins.module_utils._tokens import TokenSpec

TOKEN = "netbird_onboarding_service_users: service user 'bot', token 'ci': "
APPROVAL = dict(state="approved", user_id=None, email=None, emails=None, all_pending=False, email_domains=None)


def module_message(spec_class, params):
    """What the module's own validation says about ``params``."""
    with pytest.raises(NetBirdInputError) as exc:
        spec_class(params)
    return str(exc.value)


def test_fine_input_has_no_errors():
    assert onboarding_errors({}) == []
    assert onboarding_errors({"approve": [" Dave@Example.com "], "reject": ["eve@example.net"], "tokens": [
        {"user_name": "bot", "name": "ci", "expires_in": 365, "rotate_before_days": 364, "state": "present"},
        {"user_name": "bot", "name": "gone", "state": "absent", "expires_in": None},
        {"user_name": "other", "name": "ci", "expires_in": "30"},   # converted by the module's argument spec
    ]}) == []


def test_email_messages_are_the_approval_modules():
    errors = onboarding_errors({"approve": ["p@x.io", "bob"], "reject": ["p-at-x.io"]})
    assert errors == ["netbird_onboarding_approve[1] 'bob' is not an email address",
                      "netbird_onboarding_reject[0] 'p-at-x.io' is not an email address"]
    # the same rule, the same wording as netbird_user_approval's, only the option named differently
    assert module_message(approval_specs, dict(APPROVAL, emails=["p@x.io", "bob"])) == "emails[1] 'bob' is not an email address"


def test_an_email_in_both_lists_is_named_once():
    errors = onboarding_errors({"approve": ["p@x.io", " P@X.io"], "reject": ["p@x.io"]})
    assert errors == ["p@x.io is in both netbird_onboarding_approve and netbird_onboarding_reject"]


@pytest.mark.parametrize("token, expected", [
    ({"expires_in": 400}, "expires_in must be between 1 and 365 days (NetBird's limits), got 400"),
    ({"expires_in": 0}, "expires_in must be between 1 and 365 days"),
    ({}, "expires_in is required"),
    ({"expires_in": None, "rotate_before_days": 5}, "expires_in is required"),
    ({"expires_in": 30, "rotate_before_days": 40}, "rotate_before_days (40) must be smaller than expires_in (30)"),
    ({"expires_in": 30, "rotate_before_days": 30}, "rotate_before_days (30) must be smaller than expires_in (30)"),
    ({"expires_in": "soon"}, "expires_in"),
])
def test_token_messages_are_the_token_modules(token, expected):
    entry = dict(token, user_name="bot", name="ci")
    errors = onboarding_errors({"tokens": [entry]})
    assert len(errors) == 1 and errors[0].startswith(TOKEN) and expected in errors[0], errors
    if not isinstance(token.get("expires_in"), str):
        # exactly what netbird_user_token's TokenSpec says of the same entry (the argument spec fills state)
        params = dict(state="present", user_id=None, token_id=None, expires_in=None, rotate_before_days=None)
        params.update(entry)
        assert errors[0] == TOKEN + module_message(TokenSpec, params)


def test_the_same_token_twice():
    tokens = [{"user_name": "bot", "name": "ci", "expires_in": 30}, {"user_name": "bot", "name": "ci", "expires_in": 60}]
    assert onboarding_errors({"tokens": tokens}) == [TOKEN + "given twice; give each token once"]


def test_every_problem_is_reported():
    errors = onboarding_errors({"approve": ["bob", "p@x.io"], "reject": ["p@x.io"], "tokens": [
        {"user_name": "bot", "name": "ci", "expires_in": 400}, {"user_name": "bot", "name": "cd"}]})
    assert len(errors) == 4, errors


def test_wrong_input_and_registration():
    with pytest.raises(AnsibleFilterError):
        onboarding_errors(["p@x.io"])
    assert FilterModule().filters() == {"onboarding_errors": onboarding_errors}
