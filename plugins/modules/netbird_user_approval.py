#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: netbird_user_approval
short_description: Approve or reject NetBird users who are pending approval
version_added: 0.1.0
description:
  - When an account requires user approval, users who sign in through SSO for the first time wait, blocked and
    C(pending_approval), until an admin approves or rejects them. This module does that, idempotently.
  - Approving a user who is no longer pending is no change; rejecting a user who is already gone is no change.
  - Rejecting deletes the user, and the server deletes the peers that user registered; the module warns with their number.
  - Rejecting a user who is active (not pending) fails with a clear message and deletes nothing; use
    M(netbird_ops.netbird.netbird_user) with O(netbird_ops.netbird.netbird_user#module:state=absent) to delete an active user.
author:
  - netbird_ops.netbird maintainers (@netbird-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - netbird_ops.netbird.netbird
  - netbird_ops.netbird.netbird.batch
  - netbird_ops.netbird.netbird.actiongroup
attributes:
  check_mode:
    support: full
    details:
      - Reports the users that would be approved or rejected, without any write request.
  diff_mode:
    support: full
  platform:
    support: full
    platforms: all
options:
  state:
    description:
      - V(approved) approves the user(s); V(rejected) rejects (deletes) them.
    type: str
    choices: [approved, rejected]
    default: approved
  user_id:
    description: ID of one user to act on.
    type: str
  email:
    description: Email address of one user to act on (case-insensitive).
    type: str
  emails:
    description:
      - Email addresses of several users to act on in one run (case-insensitive). Each is handled as with O(email).
    type: list
    elements: str
  all_pending:
    description: Act on every user who is pending approval (narrowed by O(email_domains)).
    type: bool
    default: false
  email_domains:
    description:
      - With O(all_pending=true), only users whose email address is in one of these domains (case-insensitive, exact
        domain; C(example.com) does not match C(sub.example.com)).
    type: list
    elements: str
seealso:
  - module: netbird_ops.netbird.netbird_user
  - module: netbird_ops.netbird.netbird_user_info
'''

EXAMPLES = r'''
- name: Approve one user
  netbird_ops.netbird.netbird_user_approval:
    email: new.hire@example.com

- name: Approve everyone from our domains who is waiting (for example on an AWX schedule)
  netbird_ops.netbird.netbird_user_approval:
    all_pending: true
    email_domains: [example.com, example.org]

- name: Reject a stranger (deletes the user and the peers it registered)
  netbird_ops.netbird.netbird_user_approval:
    email: stranger@gmail.com
    state: rejected
'''

RETURN = r'''
users:
  description:
    - The users acted on (approved or rejected), or that would be in check mode, as they were before the action
      for a rejection and as they are after it for an approval. Empty when nothing needed doing.
    - Each has the keys of RV(netbird_ops.netbird.netbird_user#module:user).
    - When the task fails part-way (see O(fail_fast)), the users that failed or were not attempted are listed too, with the keys below.
  returned: always
  type: list
  elements: dict
  contains:
    failed:
      description: V(true) when this user failed, or was not attempted (see O(fail_fast)).
      type: bool
      returned: when the batch failed, on the users that failed or were not attempted
    not_attempted:
      description: V(true) when this user was not attempted (O(fail_fast=true), or it depends on a failed one).
      type: bool
      returned: when the batch failed, on the users that were not attempted
    msg:
      description: This user's one-line error, or why it was not attempted.
      type: str
      returned: when the batch failed, on the users that failed or were not attempted
  sample: [{id: "a1b2", email: new.hire@example.com, role: user, status: active, is_blocked: false, pending_approval: false}]
'''

from ansible_collections.netbird_ops.netbird.plugins.module_utils._approvals import (
    APPROVAL_RULES,
    approval_argument_spec,
    run_approvals,
)
from ansible_collections.netbird_ops.netbird.plugins.module_utils._module import NetBirdModule


def argument_spec():
    """The module's options (the connection options aside) and the rules between them."""
    return approval_argument_spec(), dict(APPROVAL_RULES)


def main(module_class=None):
    """``module_class``: see NetBirdModule (the onboarding action runs this module in its own process)."""
    spec, rules = argument_spec()
    NetBirdModule(spec, supports_check_mode=True, module_class=module_class, **rules).run(run_approvals)


if __name__ == "__main__":
    main()
