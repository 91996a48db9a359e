#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: netbird_access_review
short_description: Write an access review of a NetBird account (users.csv and report.md)
version_added: 0.1.0
description:
  - Reads the account once, as M(netbird_ops.netbird.netbird_user_info) with O(netbird_ops.netbird.netbird_user_info#module:include_peers)
    and O(netbird_ops.netbird.netbird_user_info#module:include_tokens) does, one user list, one group list, one peer list,
    and one token list for each service user and for the token's own user (NetBird has no call that lists every token,
    and lets nobody read another regular user's tokens).
  - Writes C(users.csv) (one row a user) and C(report.md) (counts, then the findings) to O(dest), and returns the findings
    as lists in RV(review). Files that already hold the same content are left alone, so a re-run against an unchanged
    account changes nothing.
  - Never writes to NetBird. No secret is read or written (token metadata only).
  - The role P(netbird_ops.netbird.access_review#role) wraps this module.
author:
  - netbird_ops.netbird maintainers (@netbird-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - netbird_ops.netbird.netbird
  - netbird_ops.netbird.netbird.actiongroup
attributes:
  check_mode:
    support: full
    details:
      - Reads the account and reports whether the files would change, without writing them.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: all
options:
  dest:
    description:
      - Directory to write C(users.csv) and C(report.md) to; created (mode C(0750)) if missing. The files get mode C(0640).
    type: path
    required: true
  inactive_days:
    description: Regular users whose last login is this many days ago or more are reported as inactive.
    type: int
    default: 90
  token_days:
    description: Tokens that expire within this many days are reported (expired tokens in a finding of their own).
    type: int
    default: 30
notes:
  - C(users.csv) columns are C(email), C(name), C(kind) (C(regular) or C(service)), C(role), C(status), C(groups) (names,
    separated by C(; )), C(last_login) (C(never), or C(unreported) for an external-IdP stub), C(days_since_login),
    C(peers), C(tokens) (each with its expiry and last use; C(not readable) where NetBird does not let the token read them).
    Every field is quoted; a field that starts with C(=), C(+), C(-) or C(@) gets a leading C(') so that a spreadsheet
    never runs it as a formula.
  - Users whose state the server does not report (external-IdP stubs, see M(netbird_ops.netbird.netbird_user_info)) are
    reported in a finding of their own and never as inactive or as never logged in.
seealso:
  - module: netbird_ops.netbird.netbird_user_info
  - module: netbird_ops.netbird.netbird_user
'''

EXAMPLES = r'''
- name: Review the account
  netbird_ops.netbird.netbird_access_review:
    dest: /srv/reviews/netbird
    inactive_days: 60
  register: review

- name: Who has not logged in for 60 days
  ansible.builtin.debug:
    var: review.review.inactive
'''

RETURN = r'''
review:
  description: The findings; users are named by email, service users by name.
  returned: success
  type: dict
  contains:
    counts:
      description: Counts of users, regular users, service users, peers, tokens and of each finding.
      type: dict
      sample: {users: 120, regular_users: 110, service_users: 10, peers: 240, tokens: 14, inactive: 7}
    owners_admins:
      description: Users with the role C(owner) or C(admin).
      type: list
      elements: str
    inactive:
      description: Regular users whose last login is O(inactive_days) days ago or more.
      type: list
      elements: str
    never_logged_in:
      description: Regular users who never logged in (stubs left out).
      type: list
      elements: str
    blocked:
      description: Blocked users (not pending approval).
      type: list
      elements: str
    pending_approval:
      description: Users pending approval.
      type: list
      elements: str
    state_unreported:
      description: Users whose blocked state, approval and last login the server does not report (external-IdP stubs).
      type: list
      elements: str
    tokens_expiring:
      description: Tokens that expire within O(token_days) days, as C(user / token).
      type: list
      elements: str
    tokens_expired:
      description: Expired tokens, as C(user / token).
      type: list
      elements: str
    service_users_without_tokens:
      description: Service users without any token.
      type: list
      elements: str
    users_csv:
      description: Path of C(users.csv).
      type: str
    report_md:
      description: Path of C(report.md).
      type: str
'''

from ansible_collections.netbird_ops.netbird.plugins.module_utils._module import NetBirdModule
from ansible_collections.netbird_ops.netbird.plugins.module_utils._review import argument_spec, run_review


def main():
    spec, rules = argument_spec()
    NetBirdModule(spec, supports_check_mode=True, **rules).run(run_review)


if __name__ == "__main__":
    main()
