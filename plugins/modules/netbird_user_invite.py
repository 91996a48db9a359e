#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: netbird_user_invite
short_description: Manage invite links of NetBird's embedded identity provider
version_added: 0.2.0
description:
  - Ensures a pending invite link exists for a person (or does not), through C(/api/users/invites) of a self-hosted
    NetBird server with the embedded identity provider.
  - The person opens the link (C(<dashboard>/invite?token=...)), chooses a password, and only then does the user
    exist, with the invite's role and groups. No password has to be passed on by an admin.
  - Idempotent by O(email), compared case-insensitively. A user who already exists with that email is no change
    (RV(user_exists=true)); a pending invite with the same name, role and groups is no change; an invite that differs
    is replaced (deleted and created again, which makes a new link) and reported as changed.
  - The link is returned once, in RV(invite_url) and RV(invite_token), only in the run that created or regenerated
    it. NetBird keeps only a hash of the token, so it can never be read again. It is never shown in diffs, warnings or
    error messages.
  - "NetBird accepts malformed emails, unknown group IDs and the C(All) group on invites: this module refuses them
    before any write, naming the option. It refuses the role C(owner) too, as NetBird does."
  - A server without the embedded IdP (NetBird Cloud, an external IdP) answers HTTP 412; the task then fails with one
    line that says invite links need the embedded IdP.
  - With O(invites), many invites are handled in one module run (one invite list, one user list and at most one group
    list request, then one request per change).
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
      - Predicts the result without any write request. No link is returned.
  diff_mode:
    support: full
    details:
      - Shows the invite's email, name, role, groups (by name) and whether it expired, before and after, and
        C(link=new) when a new link is made; never the link or its token.
  platform:
    support: full
    platforms: all
options:
  state:
    description:
      - V(present) ensures a pending invite with these attributes exists (unless the user exists already).
      - V(absent) deletes the pending invite for O(email). No invite is no change; an existing user is never deleted.
    type: str
    choices: [present, absent]
    default: present
  email:
    description:
      - Email address of the person. Identifies the invite, compared case-insensitively. Required.
      - Must look like an email address (NetBird itself does not check it).
    type: str
  name:
    description:
      - Display name of the future user. Required to create an invite; when omitted on an existing one, its name is kept.
    type: str
  role:
    description:
      - Role of the future user, case-insensitive; any role but V(owner). Default V(user).
    type: str
  auto_groups:
    description:
      - Groups (names or IDs) the future user gets. Compared as a set. Default none.
      - Unknown names and IDs, ambiguous names and the C(All) group are refused before any write (unknown names are
        created with O(create_groups=true)).
    type: list
    elements: str
    aliases: [groups]
  expires_in:
    description:
      - Lifetime of a new link in seconds, at least V(3600). When omitted, the server's default (72 hours).
      - Used when a link is created or regenerated; never compared with an existing invite.
    type: int
  regenerate:
    description:
      - When an invite with the same attributes exists already, make a new link (C(POST .../regenerate))
        V(expired) only when it has expired, V(always) on every run, or V(never).
    type: str
    choices: [expired, always, never]
    default: expired
  invites:
    description:
      - Batch mode. Each element takes the per-invite options of this module (O(invites[].state) included) and is
        handled as if it were its own task, in one module run. All elements are validated and planned before the
        first write. Mutually exclusive with the single-invite options.
    type: list
    elements: dict
    suboptions:
      state:
        description: See O(state).
        type: str
        choices: [present, absent]
        default: present
      email:
        description: See O(email).
        type: str
      name:
        description: See O(name).
        type: str
      role:
        description: See O(role).
        type: str
      auto_groups:
        description: See O(auto_groups).
        type: list
        elements: str
        aliases: [groups]
      expires_in:
        description: See O(expires_in).
        type: int
      regenerate:
        description: See O(regenerate).
        type: str
        choices: [expired, always, never]
        default: expired
  create_groups:
    description:
      - Create the groups named in O(auto_groups) that do not exist yet (one C(POST /api/groups) each, before any
        invite is written; predicted in check mode). Unknown IDs still fail. The result lists them in RV(groups_created).
    type: bool
    default: false
  dashboard_url:
    description:
      - Base URL of the NetBird dashboard, for RV(invite_url).
      - When omitted, O(api_url) without a trailing C(/api) (the combined server serves both).
    type: str
notes:
  - Register the result with C(no_log=true) and deliver RV(invite_url) to the person at once (for example by mail, see
    the collection's C(examples/invite_mail.yml)); it cannot be shown again, only regenerated.
  - Accepting an invite is the person's step (they choose their own password); this module never accepts one.
seealso:
  - module: netbird_ops.netbird.netbird_user
  - module: netbird_ops.netbird.netbird_user_info
  - module: netbird_ops.netbird.netbird_setup
'''

EXAMPLES = r'''
- name: Invite a developer; the link is returned only when it was made in this run
  netbird_ops.netbird.netbird_user_invite:
    email: alice@example.com
    name: Alice
    auto_groups: [developers]
    create_groups: true
  register: alice_invite
  no_log: true

- name: Hand the link over (only set in the run that created it)
  ansible.builtin.copy:
    content: "{{ alice_invite.invite_url }}"
    dest: /root/alice-invite-link.txt
    mode: "0600"
  when: alice_invite.invite_url is defined
  no_log: true

- name: Many invites at once, links valid for 24 hours
  netbird_ops.netbird.netbird_user_invite:
    invites:
      - email: bob@example.com
        name: Bob
        role: admin
      - email: carol@example.com
        name: Carol
        auto_groups: [ops]
    expires_in: 86400
  register: invites
  no_log: true

- name: Withdraw an invite
  netbird_ops.netbird.netbird_user_invite:
    email: carol@example.com
    state: absent
'''

RETURN = r'''
invite:
  description:
    - The pending invite after the task (in check mode, as it would be), without its token.
    - After O(state=absent), the invite as it was before the deletion; V(null) when there was none, or when the user
      exists already and no invite is pending.
  returned: when O(invites) is not used
  type: dict
  contains:
    id:
      description: Invite ID. V(null) for an invite check mode would create.
      type: str
    email:
      description: Email address.
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
      description: Group names, sorted, where the token may read groups.
      type: list
      elements: str
    expires_at:
      description: When the link expires. V(null) in check mode for a new link.
      type: str
    expired:
      description: Whether the link has expired.
      type: bool
    created_at:
      description: When the invite was created.
      type: str
invite_token:
  description: The invite's secret token (C(nbi_...)); a secret.
  returned: only in the run that created or regenerated the link, not in check mode
  type: str
invite_url:
  description: The link to hand to the person, C(<dashboard_url>/invite?token=<invite_token>); a secret.
  returned: only in the run that created or regenerated the link, not in check mode
  type: str
  sample: https://netbird.example.com/invite?token=nbi_...
user_exists:
  description: Whether a user with this email exists already (then nothing is done).
  returned: when O(invites) is not used
  type: bool
action:
  description: C(create), C(replace), C(regenerate), C(delete) or C(none).
  returned: when O(invites) is not used
  type: str
groups_created:
  description: Names of the groups O(create_groups) created (in check mode, would create).
  returned: when O(create_groups=true)
  type: list
  elements: str
invites:
  description: Batch mode results, one per element of O(invites), in order (with O(batch_results=changed), only the entries that changed).
  returned: when O(invites) is used
  type: list
  elements: dict
  contains:
    email:
      description: The element's email.
      type: str
    invite:
      description: As RV(invite).
      type: dict
    changed:
      description: Whether this element changed anything.
      type: bool
    action:
      description: As RV(action).
      type: str
    user_exists:
      description: As RV(user_exists).
      type: bool
    invite_token:
      description: As RV(invite_token).
      type: str
      returned: when the link was made in this run
    invite_url:
      description: As RV(invite_url).
      type: str
      returned: when the link was made in this run
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
summary:
  description: Batch mode emails by outcome.
  returned: when O(invites) is used
  type: dict
  contains:
    invited:
      description: New invites.
      type: list
      elements: str
    reinvited:
      description: Invites replaced because their name, role or groups differed (a new link).
      type: list
      elements: str
    regenerated:
      description: Invites that got a new link.
      type: list
      elements: str
    deleted:
      description: Invites deleted.
      type: list
      elements: str
    unchanged:
      description: Invites left as they were (or absent ones that were not there).
      type: list
      elements: str
    user_exists:
      description: Emails of users that exist already.
      type: list
      elements: str
'''

from ansible_collections.netbird_ops.netbird.plugins.module_utils._task import batch_argument_spec
from ansible_collections.netbird_ops.netbird.plugins.module_utils._invites import invite_entry_argument_spec, run_invites
from ansible_collections.netbird_ops.netbird.plugins.module_utils._module import NetBirdModule


def argument_spec():
    """The module's options (the connection options aside) and the rules between them."""
    spec, rules = batch_argument_spec(invite_entry_argument_spec(), "invites", no_log=False)
    spec.update(create_groups=dict(type="bool", default=False), dashboard_url=dict(type="str"))
    return spec, rules


def main(module_class=None):
    """``module_class``: see NetBirdModule (the onboarding action runs this module in its own process)."""
    spec, rules = argument_spec()
    NetBirdModule(spec, supports_check_mode=True, module_class=module_class, **rules).run(run_invites)


if __name__ == "__main__":
    main()
