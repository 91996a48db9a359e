# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: onboarding_result
short_description: The onboarding role's result, built from its tasks' registered results in one pass
version_added: 0.2.0
author:
  - netbird_ops.netbird maintainers (@netbird-ops)
description:
  - Builds the fact C(netbird_onboarding_result) of the C(netbird_ops.netbird.onboarding) role from the results its
    module tasks registered, in Python. Jinja filter chains over the results cost seconds when 10,000 users were created
    (every element through every filter is templated and tagged, since ansible-core 2.19).
  - A task that did not run (skipped, or not reached because an earlier one failed) may be left out or given as V({}).
  - The result carries secrets (one-time passwords, invite links, tokens); use it under C(no_log).
options:
  _input:
    description: The registered results.
    type: dict
    required: true
    suboptions:
      users:
        description: The result of M(netbird_ops.netbird.netbird_user) in batch mode.
        type: dict
      invites:
        description: The result of M(netbird_ops.netbird.netbird_user_invite) in batch mode.
        type: dict
      tokens:
        description: The result of M(netbird_ops.netbird.netbird_user_token) in batch mode.
        type: dict
      approved:
        description: The result of M(netbird_ops.netbird.netbird_user_approval) with O(netbird_ops.netbird.netbird_user_approval#module:state=approved).
        type: dict
      rejected:
        description: The result of M(netbird_ops.netbird.netbird_user_approval) with O(netbird_ops.netbird.netbird_user_approval#module:state=rejected).
        type: dict
"""

EXAMPLES = r"""
- name: Create users, then sum up what happened
  netbird_ops.netbird.netbird_user:
    users: "{{ team }}"
    batch_results: changed
  register: user_results
  no_log: true

- name: The onboarding role's result for that task
  ansible.builtin.set_fact:
    onboarding: "{{ {'users': user_results} | netbird_ops.netbird.onboarding_result }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: The shape of C(netbird_onboarding_result) (see the role's documentation).
  type: dict
  contains:
    created:
      description: Emails (names for service users) of the users created; from the summary of netbird_user.
      type: list
      elements: str
    updated:
      description: Users updated.
      type: list
      elements: str
    unchanged:
      description: Users already as wanted.
      type: list
      elements: str
    removed:
      description: Users deleted because their entry had C(state=absent).
      type: list
      elements: str
    offboarded:
      description: Users offboarded by exclusive mode.
      type: list
      elements: str
    approved:
      description: Emails of the users approved.
      type: list
      elements: str
    rejected:
      description: Emails of the users rejected.
      type: list
      elements: str
    invited:
      description: Emails of the people who got a new invite link.
      type: list
      elements: str
    invite_urls:
      description: Email to new invite link (a secret).
      type: dict
    passwords:
      description: Email to one-time password, for users created with one (a secret).
      type: dict
    tokens:
      description: Service user name to token name to the plain token, for new tokens (a secret).
      type: dict
    changed:
      description: Whether any of the tasks changed something.
      type: bool
"""

from ansible_collections.netbird_ops.netbird.plugins.plugin_utils._onboarding import onboarding_result


class FilterModule:
    """The onboarding role's result."""

    def filters(self):
        return {"onboarding_result": onboarding_result}
