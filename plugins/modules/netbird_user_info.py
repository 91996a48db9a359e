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
    whatever is stored; NetBird issue #6651). Such users get RV(users[].state_reported=false) and V(null) for
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
    description: Only users with this role (case-insensitive).
    type: str
    choices: [owner, admin, user, billing_admin, auditor, network_admin]
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

- name: Service users and their tokens, to audit expiry dates
  netbird_ops.netbird.netbird_user_info:
    service_user: true
    include_tokens: true
  register: service_users_tokens

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
'''

from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import NetBirdAPIError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._audit import state_reported
from ansible_collections.netbird_ops.netbird.plugins.module_utils._groups import GroupResolver
from ansible_collections.netbird_ops.netbird.plugins.module_utils._module import NetBirdModule
from ansible_collections.netbird_ops.netbird.plugins.module_utils._tokens import add_token_lists
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import ROLES, public_user, user_label

# filters on the state a stub user (external IdP) does not report
STATE_FILTERS = ("status", "pending_approval", "blocked")


def matches(user, params):
    if params["user_id"] is not None and user.get("id") != params["user_id"]:
        return False
    if params["email"] is not None and (user.get("email") or "").lower() != params["email"].strip().lower():
        return False
    if params["name"] is not None and user.get("name") != params["name"]:
        return False
    if params["role"] is not None and (user.get("role") or "").lower() != params["role"].lower():
        return False
    if params["service_user"] is not None and bool(user.get("is_service_user")) != params["service_user"]:
        return False
    if not state_reported(user) and any(params[key] is not None for key in STATE_FILTERS):
        return None  # a stub: its state is not reported, so a state filter can neither match nor exclude it
    if params["status"] is not None and user.get("status") != params["status"]:
        return False
    for option, key in (("pending_approval", "pending_approval"), ("blocked", "is_blocked")):
        if params[option] is not None and bool(user.get(key)) != params[option]:
            return False
    return True


def run(nb):
    params = nb.params
    client = nb.client
    if params["current"]:
        try:
            raw_users = [client.get_object("/users/current")]
        except NetBirdAPIError as exc:
            if exc.status == 403 and "blocked" not in exc.message and "pending" not in exc.message:
                exc.hint = ("NetBird does not answer /api/users/current for a service user's token; "
                            "use netbird_user_info with name (and service_user: true) to read a service user")
            raise
    else:
        query = None
        if params["service_user"] is not None:
            query = {"service_user": "true" if params["service_user"] else "false"}
        raw_users = client.get_list("/users", params=query)
    verdicts = [(u, matches(u, params)) for u in raw_users]
    selected = [u for u, verdict in verdicts if verdict]
    unreported = [user_label(u) for u, verdict in verdicts if verdict is None]
    if unreported:
        nb.warn("%d user%s left out because the server does not report their state (external-IdP stubs, NetBird issue #6651), "
                "so %s cannot be checked: %s" % (len(unreported), "" if len(unreported) == 1 else "s",
                                                 "/".join(k for k in STATE_FILTERS if params[k] is not None),
                                                 ", ".join(sorted(unreported)[:5]) + (" and more" if len(unreported) > 5 else "")))
    groups = GroupResolver(client)
    if selected and any(u.get("auto_groups") for u in selected):
        if not groups.load():
            nb.warn("auto_groups_names are not returned: the token may not read groups (%s)" % groups.read_error)
    else:
        groups.seed([])
    users = []
    for raw in selected:
        user = public_user(raw, groups)
        if "permissions" in raw:
            user["permissions"] = raw["permissions"]
        users.append(user)
    users.sort(key=lambda u: ((u.get("email") or "").lower(), u.get("name") or "", u.get("id") or ""))
    if params["include_tokens"]:
        add_token_lists(client, users, raw_users, nb.warn)
    return {"changed": False, "users": users}


def main():
    argument_spec = dict(
        current=dict(type="bool", default=False),
        user_id=dict(type="str"),
        email=dict(type="str"),
        name=dict(type="str"),
        role=dict(type="str", choices=list(ROLES)),
        status=dict(type="str", choices=["active", "invited", "blocked"]),
        service_user=dict(type="bool", aliases=["is_service_user"]),
        pending_approval=dict(type="bool"),
        blocked=dict(type="bool", aliases=["is_blocked"]),
        include_tokens=dict(type="bool", default=False),
    )
    module = NetBirdModule(argument_spec, supports_check_mode=True)
    module.run(run)


if __name__ == "__main__":
    main()
