#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: netbird_user
short_description: Manage NetBird users and service users
version_added: 0.1.0
description:
  - Creates, updates and deletes users of a NetBird account through the management REST API, idempotently.
  - Regular users are identified by O(email) (case-insensitively), service users by O(name), any user by O(user_id).
  - Omitted options leave the user as it is. NetBird's update call replaces C(role), C(auto_groups) and C(is_blocked)
    together, so the module reads the user, merges the options the task set, and always writes all three.
  - A regular user is created through the server's identity provider. With an external IdP it is invited by email
    (status C(invited)); with NetBird's embedded IdP the server returns a one-time password, which the module
    returns once in RV(password). Without an IdP manager the server refuses (HTTP 412) and the module says so.
  - Deleting a regular user makes the server delete every peer that user registered; the module warns with the
    number of peers, and diff mode shows it. Blocking (O(blocked=true)) is the reversible alternative.
  - A user who is pending approval is never approved or unblocked by this module;
    use M(netbird_ops.netbird.netbird_user_approval).
  - Servers with an external IdP (NetBird Cloud, most self-hosted servers) list service users, and regular users the
    IdP does not return, as stubs whose C(is_blocked=false) says nothing (NetBird issue 6651). Before a write that
    must carry such a user's blocked state, the module reads it from the audit log (one C(GET /api/events/audit) per
    run at most, only then); if the log cannot tell, the task fails before any write unless it sets O(blocked).
    Such a user is never unblocked because a stub said so.
  - With O(users), many users are handled in one module run (one user list request and at most one group list
    request in total), which is much faster than a loop.
author:
  - netbird_ops.netbird maintainers (@netbird-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - netbird_ops.netbird.netbird
  - netbird_ops.netbird.netbird.batch
  - netbird_ops.netbird.netbird.batch_results
  - netbird_ops.netbird.netbird.actiongroup
attributes:
  check_mode:
    support: full
    details:
      - Predicts the result without any write request.
  diff_mode:
    support: full
    details:
      - Shows the managed keys before and after, with group names; never a password.
  platform:
    support: full
    platforms: all
options:
  state:
    description:
      - V(present) ensures the user exists with the given attributes; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  user_id:
    description:
      - ID of the user. Identifies a regular or a service user.
      - With O(state=present) the user must exist; a user is never created with a chosen ID.
    type: str
  email:
    description:
      - Email address of a regular user, compared case-insensitively. Identifies the user and is required to create one.
      - Cannot be changed on an existing user.
    type: str
  name:
    description:
      - Display name. Required to create a regular user; identifies a service user (with O(service_user=true)).
      - NetBird cannot rename users; a different name on an existing regular user gives a warning and no change.
    type: str
  service_user:
    description:
      - Whether the user is a service user (a non-human identity for automation, with personal access tokens).
      - When omitted, V(false) for a new user; an existing user found by O(user_id) is taken as it is.
      - Cannot be changed after creation.
    type: bool
    aliases: [is_service_user]
  role:
    description:
      - Role of the user, case-insensitive. One of V(owner), V(admin), V(user), V(billing_admin), V(auditor), V(network_admin).
      - When omitted, an existing user keeps its role and a new user gets V(user).
      - V(owner) cannot be given at creation, nor to a service user. Giving V(owner) to another user transfers ownership
        and NetBird demotes the current owner to V(admin).
      - You cannot change your own role (the token's user).
    type: str
  auto_groups:
    description:
      - Groups (names or IDs) whose membership the user's peers get automatically.
      - Compared as a set; order and duplicates do not matter. Unknown names, ambiguous names and the C(All) group
        are refused before any write.
      - When omitted, the user's groups are left as they are. An empty list with O(auto_groups_mode=replace) removes all.
    type: list
    elements: str
    aliases: [groups]
  auto_groups_mode:
    description:
      - How O(auto_groups) applies to the user's current groups.
      - V(replace) makes them exactly O(auto_groups); V(add) adds the listed groups; V(remove) removes them.
      - V(add) and V(remove) leave groups alone that something else manages, such as IdP (JWT) group sync.
    type: str
    choices: [replace, add, remove]
    default: replace
  blocked:
    description:
      - Whether the user is blocked. A blocked user cannot log in and the login of its SSO peers expires.
      - When omitted, left as it is. V(true) at creation creates the user, then blocks it (reported as one change).
      - You cannot block yourself or the owner.
      - For a user whose state the server does not report (external-IdP stub), the current state is taken from the
        audit log; when that cannot tell, the value is written, reported as a change, and a warning says why.
    type: bool
    aliases: [is_blocked]
  resend_invite:
    description:
      - Send the invite again when the user's status is C(invited) (external IdP). No change for any other status.
    type: bool
    default: false
  old_password:
    description:
      - Current password of the token's own user, to change it to O(new_password). Embedded IdP only.
      - Must be given together with O(new_password). A password change always reports a change, since the current
        password cannot be read back.
    type: str
  new_password:
    description:
      - New password of the token's own user. See O(old_password).
    type: str
  create_groups:
    description:
      - Create the groups named in O(auto_groups) (or O(users[].auto_groups)) that do not exist yet, one
        C(POST /api/groups) each, before any user is written. In check mode they are predicted, not created.
      - Only names are created; an unknown group ID still fails, and so does an unknown name when this is V(false)
        (a typo must not become a new group).
      - Applies to every element of O(users). The result lists the groups in RV(groups_created).
    type: bool
    default: false
    version_added: 0.2.0
  users:
    description:
      - Batch mode. Each element takes the per-user options of this module (O(users[].state) included) and is handled
        as if it were its own task, in one module run.
      - All elements are validated and planned before the first write. A failed write fails the task at the end (see
        O(fail_fast)); the error names each failed user and what was done.
      - Mutually exclusive with the single-user options.
    type: list
    elements: dict
    suboptions:
      state:
        description: See O(state).
        type: str
        choices: [present, absent]
        default: present
      user_id:
        description: See O(user_id).
        type: str
      email:
        description: See O(email).
        type: str
      name:
        description: See O(name).
        type: str
      service_user:
        description: See O(service_user).
        type: bool
        aliases: [is_service_user]
      role:
        description: See O(role).
        type: str
      auto_groups:
        description: See O(auto_groups).
        type: list
        elements: str
        aliases: [groups]
      auto_groups_mode:
        description: See O(auto_groups_mode).
        type: str
        choices: [replace, add, remove]
        default: replace
      blocked:
        description: See O(blocked).
        type: bool
        aliases: [is_blocked]
      resend_invite:
        description: See O(resend_invite).
        type: bool
        default: false
      old_password:
        description: See O(old_password).
        type: str
      new_password:
        description: See O(new_password).
        type: str
  exclusive:
    description:
      - Batch mode only. Make O(users) the complete list of the users in O(exclusive_scope). Every user in scope that no
        element of O(users) names is offboarded as O(offboard) says, in the same run (one user list, one group list, one
        request per change).
      - Never offboarded, whatever the list says, are the owner, the token's own user, users pending approval (see
        M(netbird_ops.netbird.netbird_user_approval)) and the users in O(protect).
      - Every guard rail is checked before the first write. O(exclusive) with an empty O(users) list fails; more than
        O(max_offboard) users to offboard fails, naming how many and the first few.
      - A listed user who is blocked (offboarded earlier) stays blocked unless its element says O(users[].blocked=false);
        omitted means unchanged, as everywhere in this module.
      - A re-run changes nothing, since users blocked earlier are already blocked.
      - Servers with an external IdP list service users (and users the IdP does not return) as stubs that do not report
        whether they are blocked. Their state is read from the audit log; when it cannot tell, O(offboard=block) writes
        the block and reports it as a change with a warning (blocking never grants access), and O(offboard=delete)
        leaves a regular user alone with a warning (it may be pending approval); a service user is never pending and is
        deleted.
    type: bool
    default: false
  exclusive_scope:
    description:
      - Which users O(exclusive) may offboard. V(regular) (people), V(service) (service users) or V(all).
    type: str
    choices: [regular, service, all]
    default: regular
  offboard:
    description:
      - What O(exclusive) does to an unlisted user. V(block) is reversible and keeps the user's peers (their SSO logins
        expire). V(delete) deletes the user and NetBird deletes every peer the user registered; a warning says how many.
    type: str
    choices: [block, delete]
    default: block
  protect:
    description:
      - Users O(exclusive) never offboards, given as emails of regular users (case-insensitive), names of service users,
        or user IDs. Break-glass admins and automation accounts belong here.
    type: list
    elements: str
    default: []
  max_offboard:
    description:
      - Most users O(exclusive) may offboard in one run. More fails before the first write, naming how many and the
        first few, so that a truncated list cannot lock out a whole team. Users already blocked do not count.
    type: int
    default: 10
notes:
  - The one-time password in RV(password) is shown only once by the server. Register the result and use C(no_log)
    on tasks that print it; the role P(netbird_ops.netbird.onboarding#role) does this for you.
seealso:
  - module: netbird_ops.netbird.netbird_user_info
  - module: netbird_ops.netbird.netbird_user_approval
  - name: NetBird users API
    description: NetBird's REST API reference for users.
    link: https://docs.netbird.io/api/resources/users
'''

EXAMPLES = r'''
- name: Invite a developer (external IdP) or create them with a one-time password (embedded IdP)
  netbird_ops.netbird.netbird_user:
    email: alice@example.com
    name: Alice Example
    role: user
    auto_groups: [developers, vpn-users]
  register: alice
  no_log: true  # the result may carry a one-time password

- name: Make Bob an admin, leaving his groups and blocked state as they are
  netbird_ops.netbird.netbird_user:
    email: bob@example.com
    role: admin

- name: Add a group without touching the groups that IdP sync manages
  netbird_ops.netbird.netbird_user:
    email: bob@example.com
    auto_groups: [oncall]
    auto_groups_mode: add

- name: Offboard reversibly by blocking
  netbird_ops.netbird.netbird_user:
    email: carol@example.com
    blocked: true

- name: Delete a user (the server also deletes every peer the user registered)
  netbird_ops.netbird.netbird_user:
    email: dave@example.com
    state: absent

- name: A service user for CI
  netbird_ops.netbird.netbird_user:
    name: ci-pipeline
    service_user: true
    role: network_admin

- name: Many users in one run
  netbird_ops.netbird.netbird_user:
    users:
      - email: erin@example.com
        name: Erin
        auto_groups: [developers]
      - email: frank@example.com
        name: Frank
        role: auditor
      - name: backup-bot
        service_user: true
      - email: old@example.com
        state: absent
  register: batch
  no_log: true

- name: The team list is the truth - block every other regular user (at most 5 in one run)
  netbird_ops.netbird.netbird_user:
    users:
      - email: erin@example.com
        name: Erin
      - email: frank@example.com
        name: Frank
    exclusive: true
    offboard: block
    protect: [breakglass@example.com]
    max_offboard: 5
  register: team
  no_log: true

- name: Change the token owner's own password (embedded IdP)
  netbird_ops.netbird.netbird_user:
    old_password: "{{ current_password }}"
    new_password: "{{ new_password }}"
'''

RETURN = r'''
user:
  description:
    - The user after the task (in check mode, as it would be). Not returned in batch mode.
    - After O(state=absent), the user as it was before the deletion, or V(null) if it did not exist.
  returned: when O(users) is not used
  type: dict
  contains:
    id:
      description: User ID. V(null) for a user that check mode would create.
      type: str
      sample: google-oauth2|110467291284740123456
    email:
      description: Email address; empty for service users.
      type: str
      sample: alice@example.com
    name:
      description: Display name, or the service user's name.
      type: str
      sample: Alice Example
    role:
      description: Role.
      type: str
      sample: user
    status:
      description: C(active), C(invited) or C(blocked); V(null) when not reported, as RV(user.is_blocked).
      type: str
      sample: active
    auto_groups:
      description: IDs of the user's auto groups, sorted.
      type: list
      elements: str
      sample: [ch8i4ug6lnn4g9hqv7m0]
    auto_groups_names:
      description: Names of the user's auto groups, sorted.
      type: list
      elements: str
      returned: when the group list was read (group names were used, or something changed) and the token may read groups
      sample: [developers]
    is_service_user:
      description: Whether this is a service user.
      type: bool
    is_blocked:
      description:
        - Whether the user is blocked.
        - V(null) when the server does not report it (RV(user.state_reported=false)) and the task did not need it.
      type: bool
    pending_approval:
      description:
        - Whether the user waits for an admin's approval; V(null) when not reported, as RV(user.is_blocked).
      type: bool
    state_reported:
      description:
        - V(false) for a stub of a server with an external IdP (C(issued) empty) that does not report the user's
          blocked state, approval and status. When the task had to know the blocked state, it was learnt from the
          audit log (or written as the task said), and the keys carry that state; otherwise they are V(null).
      type: bool
    is_current:
      description: Whether this is the token's own user.
      type: bool
    last_login:
      description: Time of the last login; C(0001-01-01T00:00:00Z) if never.
      type: str
    issued:
      description: How the user was created, C(api) or C(integration).
      type: str
password:
  description:
    - One-time password of a regular user just created through NetBird's embedded IdP.
    - The server shows it only once; store it safely. Never shown in diffs or warnings.
  returned: when the server returned a one-time password
  type: str
  sample: 'aB3$dEf6hI9jKlMn'
users:
  description: Batch mode results, one per element of O(users), in order (with O(batch_results=changed), only the entries that changed).
  returned: when O(users) is used
  type: list
  elements: dict
  contains:
    user:
      description: The user after the change, as in RV(user).
      type: dict
    changed:
      description: Whether this element changed anything.
      type: bool
    action:
      description: C(create), C(update), C(delete) or C(none).
      type: str
    password:
      description: One-time password, as in RV(password).
      type: str
      returned: when the server returned one
    failed:
      description: V(true) when this element failed, or was not attempted (see O(fail_fast)).
      type: bool
      returned: when the batch failed, on the elements that failed or were not attempted
    not_attempted:
      description: V(true) when this element was not attempted (O(fail_fast=true), or it depends on a failed one).
      type: bool
      returned: when the batch failed, on the elements that were not attempted
    msg:
      description: This element's one-line error, or why it was not attempted.
      type: str
      returned: when the batch failed, on the elements that failed or were not attempted
    email:
      description: The element's O(users[].email), as given, to match a failed element (whose RV(users[].user) may be null) to its input.
      type: str
      returned: when the batch failed
    name:
      description: The element's O(users[].name), as given.
      type: str
      returned: when the batch failed
    user_id:
      description: The element's O(users[].user_id) as given, else the ID of the user it names (null for a user not created).
      type: str
      returned: when the batch failed
summary:
  description:
    - Batch mode results by outcome, in the order of O(users). Regular users are named by email, service users by name.
    - An element whose user did not exist and was not created (O(users[].state=absent)) is in none of the lists.
    - Also returned when the batch fails, for the elements that succeeded; failed elements are in none of the lists.
  returned: when O(users) is used
  type: dict
  contains:
    created:
      description: Users created (in check mode, that would be).
      type: list
      elements: str
    updated:
      description: Users whose role, groups or blocked state were changed.
      type: list
      elements: str
    deleted:
      description: Users deleted.
      type: list
      elements: str
    unchanged:
      description: Users neither created, updated nor deleted (a re-sent invite or a password change is listed here too).
      type: list
      elements: str
    offboarded:
      description: Users offboarded by O(exclusive), by email (service users by name).
      type: list
      elements: str
      returned: with O(exclusive=true)
  sample: {created: [alice@example.com, ci-pipeline], updated: [bob@example.com], deleted: [], unchanged: []}
groups_created:
  description: Names of the groups O(create_groups) created (in check mode, would create); empty when none was missing.
  returned: when O(create_groups=true)
  type: list
  elements: str
  sample: [developers, ops]
  version_added: 0.2.0
offboarded:
  description:
    - Users offboarded by O(exclusive) (in check mode, that would be), as in RV(user); before the change for
      O(offboard=delete). Users already blocked are not listed.
  returned: with O(exclusive=true)
  type: list
  elements: dict
peers_deleted:
  description: How many peers the server deleted (or would delete, in check mode) with each regular user this task deleted.
  returned: when a regular user is deleted
  type: dict
  sample: {dave@example.com: 2}
'''

from ansible_collections.netbird_ops.netbird.plugins.module_utils._task import batch_argument_spec
from ansible_collections.netbird_ops.netbird.plugins.module_utils._module import NetBirdModule
from ansible_collections.netbird_ops.netbird.plugins.module_utils._offboard import exclusive_argument_spec, run_users
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import user_entry_argument_spec


def argument_spec():
    """The module's options (the connection options aside) and the rules between them."""
    spec, rules = batch_argument_spec(user_entry_argument_spec(), "users")
    spec["create_groups"] = dict(type="bool", default=False)
    spec.update(exclusive_argument_spec())
    rules["required_if"] = [("exclusive", True, ("users",))]
    return spec, rules


def main(module_class=None):
    """``module_class``: see NetBirdModule (the onboarding action runs this module in its own process)."""
    spec, rules = argument_spec()
    NetBirdModule(spec, supports_check_mode=True, module_class=module_class, **rules).run(run_users)


if __name__ == "__main__":
    main()
