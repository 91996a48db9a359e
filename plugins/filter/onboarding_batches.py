# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: onboarding_batches
short_description: The onboarding role's module batches, built from its variables in one pass
version_added: 0.2.0
author:
  - netbird_ops.netbird maintainers (@netbird-ops)
positional: _input, part
description:
  - Turns the variables of the C(netbird_ops.netbird.onboarding) role into the batches of its modules, in Python, in
    one pass, for a playbook that calls the modules itself. Jinja filter chains over every user cost seconds for 10,000
    users (every element through every filter is templated and tagged, since ansible-core 2.19).
  - The role itself runs M(netbird_ops.netbird.netbird_onboarding), which builds the same batches with the same code.
  - V(users) is the M(netbird_ops.netbird.netbird_user) batch, V(tokens) the M(netbird_ops.netbird.netbird_user_token)
    batch and V(invites) the M(netbird_ops.netbird.netbird_user_invite) batch (invite mode only).
  - With O(part), only that batch is built (and only the variables it needs are read).
options:
  _input:
    description: The role's variables, without their C(netbird_onboarding_) prefix.
    type: dict
    required: true
    suboptions:
      users:
        description: C(netbird_onboarding_users).
        type: list
        elements: dict
        default: []
      service_users:
        description: C(netbird_onboarding_service_users); their C(tokens) go to the token batch.
        type: list
        elements: dict
        default: []
      invite:
        description: C(netbird_onboarding_invite).
        type: bool
        default: false
      invite_expires_in:
        description: C(netbird_onboarding_invite_expires_in).
        type: int
  part:
    description: Only this batch, returned as the list itself.
    type: str
    choices: [users, tokens, invites]
  existing:
    description:
      - Invite mode, after the invites ran; the emails M(netbird_ops.netbird.netbird_user_invite) found to belong to
        users already. Those users join the V(users) batch, so that their role and groups are kept up to date.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: The token batch of the onboarding role
  ansible.builtin.debug:
    msg: "{{ {'service_users': netbird_onboarding_service_users} | netbird_ops.netbird.onboarding_batches('tokens') }}"

- name: The batches of the onboarding role
  ansible.builtin.debug:
    msg: >-
      {{ {'users': [{'email': 'alice@example.com', 'name': 'Alice'}],
          'service_users': [{'name': 'ci', 'tokens': [{'name': 'deploy', 'expires_in': 30}]}]}
         | netbird_ops.netbird.onboarding_batches }}
    # {"invites": [],
    #  "tokens": [{"expires_in": 30, "name": "deploy", "user_name": "ci"}],
    #  "users": [{"email": "alice@example.com", "name": "Alice"}, {"name": "ci", "service_user": true}]}
"""

RETURN = r"""
_value:
  description: The batches; with O(part), that batch (a list).
  type: raw
  contains:
    users:
      description:
        - The M(netbird_ops.netbird.netbird_user) batch. Regular users as given (in invite mode only the absent ones and
          the O(existing) ones), then the service users without their C(tokens) and with C(service_user=true).
      type: list
      elements: dict
    tokens:
      description: Every token of a present service user, with C(user_name) set to its service user's name.
      type: list
      elements: dict
    invites:
      description:
        - Invite mode only, otherwise empty. The present regular users with the keys an invite takes (C(email),
          C(name), C(role), C(auto_groups)) and C(expires_in).
      type: list
      elements: dict
"""

from ansible_collections.netbird_ops.netbird.plugins.plugin_utils._onboarding import onboarding_batches


class FilterModule:
    """The onboarding role's batches."""

    def filters(self):
        return {"onboarding_batches": onboarding_batches}
