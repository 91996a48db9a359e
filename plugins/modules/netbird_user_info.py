#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: netbird_user_info
short_description: List and filter NetBird users
version_added: 0.1.0
description:
  - Lists the users of a NetBird account, regular and service users, optionally filtered.
  - All filters are optional and combine with AND. The list is read once; filters other than O(service_user) apply
    client-side, since NetBird has no search by ID or email.
  - With O(current=true), returns only the token's own user, read from C(/api/users/current).
  - Each user carries the names of its auto groups when the token may read groups; a token that may not (role
    C(user)) still gets the users, without names.
  - With an external IdP (NetBird Cloud, most self-hosted servers) the server lists service users, and regular users
    the IdP does not return, as stubs that do not report their state (C(is_blocked=false) and C(status=active)
    whatever is stored; NetBird issue 6651). Such users get RV(users[].state_reported=false) and V(null) for
    C(is_blocked), C(pending_approval) and C(status), and the filters O(status), O(pending_approval) and O(blocked)
    leave them out with a warning instead of guessing.
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
      - This module never changes anything.
  diff_mode:
    support: N/A
    details:
      - This module never changes anything.
  platform:
    support: full
    platforms: all
options:
  current:
    description:
      - Return only the token's own user.
      - Service users' tokens cannot use this (NetBird answers 403); filter by O(name) instead.
    type: bool
    default: false
  user_id:
    description: Only the user with this ID.
    type: str
  email:
    description: Only users with this email address (case-insensitive).
    type: str
  name:
    description: Only users with this display name (case-sensitive, exact).
    type: str
  role:
    description:
      - Only users with this role, case-insensitive. One of V(owner), V(admin), V(user), V(billing_admin), V(auditor),
        V(network_admin).
    type: str
  status:
    description: Only users with this status.
    type: str
    choices: [active, invited, blocked]
  service_user:
    description:
      - V(true) for service users only, V(false) for regular users only. Filtered by the server.
    type: bool
    aliases: [is_service_user]
  pending_approval:
    description: Only users whose approval is (V(true)) or is not (V(false)) pending.
    type: bool
  blocked:
    description: Only users who are (V(true)) or are not (V(false)) blocked.
    type: bool
    aliases: [is_blocked]
  include_tokens:
    description:
      - Add each user's personal access tokens (metadata only, never a secret) as RV(users[].tokens).
      - Costs one extra request per listed user, so combine it with filters on large accounts.
      - NetBird lets an owner or admin read only its own tokens and those of service users, other roles only their
        own; users whose tokens the token's user may not read get no RV(users[].tokens), with one warning.
    type: bool
    default: false
  include_invites:
    description:
      - Add RV(invites), the pending invite links of the embedded IdP (people invited with
        M(netbird_ops.netbird.netbird_user_invite) who have not accepted yet), without their tokens. One extra request.
      - On a server without the embedded IdP, RV(invites) is empty, with a warning.
    type: bool
    default: false
    version_added: 0.2.0
  inactive_days:
    description:
      - Only users who last logged in O(inactive_days) days ago or earlier, or who never logged in
        (C(last_login) C(0001-01-01T00:00:00Z)). Combine with O(service_user=false) to leave service users out (they never
        log in).
      - Users whose last login the server does not report (external-IdP stubs with RV(users[].state_reported=false), which
        always say never) are left out, with a warning, rather than reported as stale.
    type: int
  never_logged_in:
    description:
      - V(true) for users who never logged in only, V(false) for users who did. Stubs are left out as with O(inactive_days).
    type: bool
  include_peers:
    description:
      - Add RV(users[].peers_count), the number of peers each user registered, from one C(GET /api/peers).
      - A token that may not read peers gets the users without the key, and a warning.
    type: bool
    default: false
  as_team:
    description:
      - Add RV(team), the listed users in the input shape of the P(netbird_ops.netbird.onboarding#role) role (and of
        its team files), to move a team to another server (see the collection's C(examples/migrate.yml)).
      - Groups by name; no owner and no users pending approval; no tokens; C(blocked) only where the server reports
        it. Warnings name the users left out, the users without C(blocked) (external-IdP stubs) and those without a name.
      - The other filters apply first, for example O(service_user=false) for a team of regular users only.
      - Needs a token that may read groups when any listed user has groups.
    type: bool
    default: false
    version_added: 0.2.0
seealso:
  - module: netbird_ops.netbird.netbird_user
  - module: netbird_ops.netbird.netbird_user_approval
  - module: netbird_ops.netbird.netbird_user_token
'''

EXAMPLES = r'''
- name: All admins
  netbird_ops.netbird.netbird_user_info:
    role: admin
  register: admins

- name: Who am I?
  netbird_ops.netbird.netbird_user_info:
    current: true
  register: me

- name: Users waiting for approval
  netbird_ops.netbird.netbird_user_info:
    pending_approval: true
  register: pending

- name: Blocked regular users
  netbird_ops.netbird.netbird_user_info:
    service_user: false
    blocked: true
  register: blocked

- name: Show their emails
  ansible.builtin.debug:
    msg: "{{ blocked.users | map(attribute='email') | list }}"

- name: Regular users who have not logged in for 90 days (or never), with their peers
  netbird_ops.netbird.netbird_user_info:
    service_user: false
    inactive_days: 90
    include_peers: true
  register: stale

- name: Service users and their tokens, to audit expiry dates
  netbird_ops.netbird.netbird_user_info:
    service_user: true
    include_tokens: true
  register: service_users_tokens

- name: The team, in the onboarding role's shape, to onboard it into another server
  netbird_ops.netbird.netbird_user_info:
    as_team: true
  register: export

- name: Write it to a team file (values in a team file are data, never templates)
  ansible.builtin.copy:
    content: "{{ export.team | to_nice_yaml }}"
    dest: team.yml
    mode: "0600"

- name: Service users, with connection options set once for the whole play
  module_defaults:
    group/netbird_ops.netbird.netbird:
      api_url: https://netbird.example.com
      api_token: "{{ vault_netbird_token }}"
  block:
    - name: List service users
      netbird_ops.netbird.netbird_user_info:
        service_user: true
      register: service_users
'''

RETURN = r'''
users:
  description: The matching users, sorted by email, then name. Always a list, possibly empty.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: User ID.
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
      sample: admin
    status:
      description: C(active), C(invited) or C(blocked); V(null) when the server does not report it (RV(users[].state_reported=false)).
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
      returned: when the token may read groups
      sample: [developers]
    is_service_user:
      description: Whether this is a service user.
      type: bool
    is_blocked:
      description:
        - Whether the user is blocked.
        - V(null) when the server does not report it (RV(users[].state_reported=false)).
      type: bool
    pending_approval:
      description:
        - Whether the user waits for an admin's approval.
        - V(null) when the server does not report it (RV(users[].state_reported=false)).
      type: bool
    state_reported:
      description:
        - V(false) for a stub of a server with an external IdP (C(issued) empty) that does not report the user's
          blocked state, approval and status; those keys are then V(null).
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
    last_login_days:
      description:
        - Whole days since the last login; V(null) when the user never logged in, and when the server does not report
          it (RV(users[].state_reported=false), a stub whose C(last_login) always says never, whatever is true).
      type: int
    peers_count:
      description: Number of peers the user registered.
      type: int
      returned: with O(include_peers=true), when the token may read peers
    permissions:
      description: The user's permissions, as NetBird reports them.
      type: dict
      returned: with O(current=true)
    tokens:
      description: The user's personal access tokens, sorted by name; metadata only, never a secret.
      type: list
      elements: dict
      returned: with O(include_tokens=true), for users whose tokens the token's user may read
      contains:
        id:
          description: Token ID.
          type: str
        name:
          description: Token name.
          type: str
        expiration_date:
          description: When the token expires.
          type: str
        created_by:
          description: ID of the user who created the token.
          type: str
        created_at:
          description: When the token was created.
          type: str
        last_used:
          description: When the token was last used; V(null) if never.
          type: str
        expires_in_days:
          description: Whole days until the token expires; negative once it has expired.
          type: int
        expired:
          description: Whether the token has expired.
          type: bool
        last_used_days:
          description: Whole days since the token was last used; V(null) if never.
          type: int
team:
  description:
    - The listed users in the input shape of the P(netbird_ops.netbird.onboarding#role) role, for its
      C(netbird_onboarding_team_file) (or C(netbird_onboarding_users) and C(netbird_onboarding_service_users)).
    - Leaves out the owner, users pending approval and every token; C(blocked) is left out where the server does not
      report it (RV(users[].state_reported=false)), so that onboarding the team never unblocks anyone on that word.
  returned: with O(as_team=true)
  type: dict
  version_added: 0.2.0
  sample:
    users:
      - email: alice@example.com
        name: Alice Example
        role: admin
        auto_groups: [developers]
        blocked: false
    service_users:
      - name: ci-bot
        role: user
        auto_groups: [ci]
  contains:
    users:
      description: Regular users, sorted by email, each with C(email), C(name) (left out when the server reports none),
        C(role), C(auto_groups) (names) and C(blocked) (where reported).
      type: list
      elements: dict
    service_users:
      description: Service users, sorted by name, each with C(name), C(role), C(auto_groups) (names) and C(blocked)
        (where reported).
      type: list
      elements: dict
invites:
  description:
    - Pending invite links, sorted by email, without their tokens (a link is shown only once, when it is made).
  returned: with O(include_invites=true)
  type: list
  elements: dict
  version_added: 0.2.0
  contains:
    id:
      description: Invite ID.
      type: str
    email:
      description: Email address of the invited person.
      type: str
    name:
      description: Name of the future user.
      type: str
    role:
      description: Role of the future user.
      type: str
    auto_groups:
      description: Group IDs, sorted.
      type: list
      elements: str
    auto_groups_names:
      description: Group names, where the token may read groups.
      type: list
      elements: str
    expires_at:
      description: When the link expires.
      type: str
    expired:
      description: Whether the link has expired.
      type: bool
    created_at:
      description: When the invite was created.
      type: str
'''

from ansible_collections.netbird_ops.netbird.plugins.module_utils._info import info_argument_spec, run_user_info
from ansible_collections.netbird_ops.netbird.plugins.module_utils._module import NetBirdModule


def argument_spec():
    """The module's options (the connection options aside); no rules between them."""
    return info_argument_spec(), {}


def main():
    spec, rules = argument_spec()
    NetBirdModule(spec, supports_check_mode=True, **rules).run(run_user_info)


if __name__ == "__main__":
    main()
