#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: netbird_onboarding
short_description: Onboard a team into NetBird in one task (the onboarding role's engine)
version_added: 0.3.0
description:
  - The one task of the role P(netbird_ops.netbird.onboarding#role), which documents every option under its variable
    name (O(users) is C(netbird_onboarding_users), and so on). Use the role; this action is what it wraps.
  - Runs on the controller. It reads O(team_file), checks the whole input before any request, then runs
    M(netbird_ops.netbird.netbird_user_invite) (invite mode), M(netbird_ops.netbird.netbird_user) (users and service
    users, one batch), M(netbird_ops.netbird.netbird_user_token) (the service users' tokens) and
    M(netbird_ops.netbird.netbird_user_approval) (approvals, then rejections), each once, with the connection options
    given here.
  - With the C(local) connection (the role's usual way, and the implicit localhost), no C(become) and no task
    C(environment), these modules run in the action's own Python process, with the same code, argument checks, check and
    diff mode, results and masking of secrets as a module run, without packing and starting each module (at 10,000
    users that was most of a re-run's time). The modules then use the controller's Python (C(ansible_playbook_python))
    and its C(requests), not C(ansible_python_interpreter). Otherwise, or when the controller's Python has no
    C(requests), they run as modules on the target. C(-vvv) says which.
  - Loop semantics. When entries of a step fail, the steps that do not depend on them still run (the tokens of the
    other service users, the approvals, the rejections); a service user that failed gets no token attempt. The task
    fails at the end with one line naming each failed entry as the person gave it (C(netbird_onboarding_users[3] (bob@example.com))
    or C(team.csv line 4 (bob@example.com))), the server's message and what was done in all. A step that fails as a
    whole (a connection error, input a module refuses) stops the run.
  - Messages name the role's variables, because the role is how this action is meant to be used.
  - Values from O(team_file) are data, never templates.
author:
  - netbird_ops.netbird maintainers (@netbird-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - netbird_ops.netbird.netbird
  - netbird_ops.netbird.netbird.actiongroup
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details:
      - Each module predicts its changes and writes nothing; no secret exists in check mode.
  diff_mode:
    support: full
    details:
      - The diffs of every module, one per user, service user, token and approval that would change.
  platform:
    support: full
    platforms: all
options:
  users:
    description: Regular users, the elements of the role variable C(netbird_onboarding_users).
    type: list
    elements: dict
    default: []
  service_users:
    description: Service users with their C(tokens), the elements of the role variable C(netbird_onboarding_service_users).
    type: list
    elements: dict
    default: []
  approve:
    description: Emails of users pending approval to approve.
    type: list
    elements: str
    default: []
  reject:
    description: Emails of users pending approval to reject (deletes them and their peers).
    type: list
    elements: str
    default: []
  team_file:
    description:
      - A team file on the controller, the role variable C(netbird_onboarding_team_file); its entries join the lists above.
      - A relative path is found as M(ansible.builtin.copy) finds O(ansible.builtin.copy#module:src).
    type: str
  create_groups:
    description: Create the group names in C(auto_groups) that do not exist yet.
    type: bool
    default: false
  invite:
    description: Invite new regular users with a link each instead of creating them (embedded IdP only).
    type: bool
    default: false
  invite_expires_in:
    description: Lifetime of new invite links in seconds.
    type: int
  fail_fast:
    description: Stop at the first failure; what was not attempted is named in the message.
    type: bool
    default: false
  exclusive:
    description: The lists are the truth; see O(netbird_ops.netbird.netbird_user#module:exclusive).
    type: bool
    default: false
  exclusive_scope:
    description: See O(netbird_ops.netbird.netbird_user#module:exclusive_scope).
    type: str
    choices: [regular, service, all]
    default: regular
  offboard:
    description: See O(netbird_ops.netbird.netbird_user#module:offboard).
    type: str
    choices: [block, delete]
    default: block
  protect:
    description: See O(netbird_ops.netbird.netbird_user#module:protect).
    type: list
    elements: str
    default: []
  max_offboard:
    description: See O(netbird_ops.netbird.netbird_user#module:max_offboard).
    type: int
    default: 10
notes:
  - The connection options left unset are left to each module, so that their environment fallbacks apply.
seealso:
  - name: The onboarding role
    description: The role that wraps this action, with every variable documented.
    link: https://github.com/netbird-ops/netbird_ops.netbird/blob/main/roles/onboarding/README.md
'''

EXAMPLES = r'''
- name: Onboard a team (prefer the role netbird_ops.netbird.onboarding, which runs this)
  netbird_ops.netbird.netbird_onboarding:
    users:
      - email: alice@example.com
        name: Alice
        auto_groups: [developers]
    team_file: team.csv
  register: onboarding
  no_log: true
'''

RETURN = r'''
result:
  description: What was done; the role sets it as the fact C(netbird_onboarding_result) (see the role). Carries secrets.
  returned: always
  type: dict
onboarding_failed:
  description: Whether anything failed (the role reports the failure in a task of its own, outside C(no_log)).
  returned: always
  type: bool
msg:
  description: On failure, one line naming each failed entry, the server's message and what was done.
  returned: failure
  type: str
'''
