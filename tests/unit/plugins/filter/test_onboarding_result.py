# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The onboarding_result filter: netbird_onboarding_result from the role's registered results."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from fakes import Unreadable

from ansible_collections.netbird_ops.netbird.plugins.filter.onboarding_result import FilterModule
from ansible_collections.netbird_ops.netbird.plugins.plugin_utils._onboarding import onboarding_result

SKIPPED = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}
NOTHING = {"created": [], "updated": [], "unchanged": [], "removed": [], "offboarded": [], "approved": [], "rejected": [],
           "invited": [], "invite_urls": {}, "passwords": {}, "tokens": {}, "changed": False}


def test_registered_under_its_name():
    assert FilterModule().filters()["onboarding_result"] is onboarding_result


def test_tasks_that_did_not_run_mean_nothing_done():
    assert onboarding_result({}) == NOTHING
    assert onboarding_result(dict((name, SKIPPED) for name in ("users", "invites", "tokens", "approved", "rejected"))) == NOTHING
    assert onboarding_result({"users": None, "tokens": "not a result"}) == NOTHING


def test_everything_the_tasks_did():
    users = {"changed": True,
             "summary": {"created": ["new@example.com", "bot"], "updated": ["old@example.com"], "unchanged": ["same@example.com"],
                         "deleted": ["gone@example.com"], "offboarded": ["left@example.com"]},
             "users": [{"changed": True, "action": "create", "user": {"email": "new@example.com"}, "password": "otp-1"},
                       {"changed": True, "action": "create", "user": {"name": "bot", "email": ""}},
                       {"changed": True, "action": "update", "user": {"email": "old@example.com"}}]}
    invites = {"changed": True, "invites": [{"email": "inv@example.com", "invite_url": "https://x/invite/abc", "changed": True},
                                            {"email": "known@example.com", "user_exists": True, "changed": False}]}
    tokens = {"changed": True, "tokens": [{"user_name": "bot", "token": {"name": "deploy"}, "plain_token": "nbp_1"},
                                          {"user_name": "bot", "token": {"name": "ci"}, "plain_token": "nbp_2"},
                                          {"user_name": "bot", "token": {"name": "kept"}, "changed": False}]}
    approved = {"changed": True, "users": [{"email": "p1@example.com"}]}
    rejected = {"changed": False, "users": []}
    result = onboarding_result({"users": users, "invites": invites, "tokens": tokens, "approved": approved, "rejected": rejected})
    assert result == {
        "created": ["new@example.com", "bot"], "updated": ["old@example.com"], "unchanged": ["same@example.com"],
        "removed": ["gone@example.com"], "offboarded": ["left@example.com"],
        "approved": ["p1@example.com"], "rejected": [],
        "invited": ["inv@example.com"], "invite_urls": {"inv@example.com": "https://x/invite/abc"},
        "passwords": {"new@example.com": "otp-1"},
        "tokens": {"bot": {"deploy": "nbp_1", "ci": "nbp_2"}},
        "changed": True,
    }


def test_a_failed_approval_is_not_counted():
    # a batch that failed part-way lists its failed users too, with failed: true
    approved = {"changed": True, "failed": True, "users": [{"email": "p1@example.com"},
                                                           {"email": "p2@example.com", "failed": True, "msg": "HTTP 404"}]}
    rejected = {"changed": False, "failed": True, "users": [{"email": "p3@example.com", "failed": True, "skipped": True}]}
    result = onboarding_result({"approved": approved, "rejected": rejected})
    assert (result["approved"], result["rejected"]) == (["p1@example.com"], [])


@pytest.mark.parametrize("name", ["users", "invites", "tokens", "approved", "rejected"])
def test_changed_if_any_task_changed(name):
    assert onboarding_result({name: {"changed": True}})["changed"] is True


def test_a_re_run_does_not_look_through_the_user_entries():
    # nobody created: no one-time password to find, whatever the list holds
    users = {"changed": False, "summary": {"created": [], "unchanged": ["a@example.com"]}, "users": Unreadable()}
    assert onboarding_result({"users": users})["unchanged"] == ["a@example.com"]


def test_not_a_dict():
    with pytest.raises(AnsibleFilterError, match="onboarding_result expects a dict"):
        onboarding_result(["users"])
