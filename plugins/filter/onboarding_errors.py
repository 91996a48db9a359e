# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: onboarding_errors
short_description: What the onboarding role's token and approval steps would reject, found before any request
version_added: 0.1.0
author:
  - netbird_ops.netbird maintainers (@netbird-ops)
description:
  - Checks the approvals, rejections and service user tokens of the C(netbird_ops.netbird.onboarding) role with the
    rules of M(netbird_ops.netbird.netbird_user_approval) and M(netbird_ops.netbird.netbird_user_token) themselves
    (the same code, not a copy), without a request to the server.
  - The token and approval modules check their input only when they run, after M(netbird_ops.netbird.netbird_user) may
    already have written; this filter lets a playbook refuse that input first. The role itself runs
    M(netbird_ops.netbird.netbird_onboarding), which applies the same rules (the same code) before its first request.
  - Covers the rules the role's argument spec cannot express (its argument spec has checked types, choices and
    required keys). These are the email address pattern, an email both approved and rejected, a token lifetime
    (C(expires_in)) missing or outside NetBird's 1 to 365 days, a rotation window (C(rotate_before_days)) not
    smaller than the lifetime, the same token given twice.
options:
  _input:
    description: The role's input.
    type: dict
    required: true
    suboptions:
      approve:
        description: The emails to approve (the role variable C(netbird_onboarding_approve)).
        type: list
        elements: str
        default: []
      reject:
        description: The emails to reject (the role variable C(netbird_onboarding_reject)).
        type: list
        elements: str
        default: []
      tokens:
        description:
          - The token batch for M(netbird_ops.netbird.netbird_user_token) that the role builds from
            C(netbird_onboarding_service_users) (the tokens of service users with C(state=present)); each entry a
            C(tokens) element of that module, C(user_name) set to its service user's name.
          - A key set to V(null) counts as omitted, as it does for the module.
        type: list
        elements: dict
        default: []
"""

EXAMPLES = r"""
- name: Refuse input the token and approval modules would reject, before anything is written
  ansible.builtin.fail:
    msg: "{{ errors | join('; ') }}"
  vars:
    errors: >-
      {{ {'approve': ['dave@example.com', 'bob'], 'reject': ['Dave@example.com'],
          'tokens': [{'user_name': 'ci-pipeline', 'name': 'deploy', 'expires_in': 400}]}
         | netbird_ops.netbird.onboarding_errors }}
    # [
    #   "netbird_onboarding_approve[1] 'bob' is not an email address",
    #   "dave@example.com is in both netbird_onboarding_approve and netbird_onboarding_reject",
    #   "netbird_onboarding_service_users: service user 'ci-pipeline', token 'deploy': expires_in must be between
    #    1 and 365 days (NetBird's limits), got 400"
    # ]
  when: errors | length > 0
"""

RETURN = r"""
_value:
  description:
    - One sentence per problem, each naming the role variable and the entry (by index for emails, by service user and
      token name for tokens); empty when the input is fine.
    - A module rule's message is the module's own wording, so the role says what the module would have said.
  type: list
  elements: str
"""

from ansible_collections.netbird_ops.netbird.plugins.plugin_utils._onboarding import onboarding_errors


class FilterModule:
    """The onboarding role's check before its first write."""

    def filters(self):
        return {"onboarding_errors": onboarding_errors}
