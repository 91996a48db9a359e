#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: netbird_user_token
short_description: Manage personal access tokens of NetBird users and service users
version_added: 0.1.0
description:
  - Ensures a named personal access token (PAT) exists for a user, or deletes it, through the NetBird management REST API.
  - The token's user is a service user given by O(user_name), any user given by O(user_id), or, when neither is
    given, the token's own user (the user of O(api_token)).
  - Tokens are matched by O(name) within the user's tokens. A token that exists is left alone; its lifetime cannot be
    changed after creation, so O(expires_in) is used only when a token is created and never compared with an existing
    token. Set O(rotate_before_days) to replace a token that expires soon.
  - The secret of a new token is returned once, in RV(plain_token). NetBird keeps only a hash of it, so it can never
    be read again. It is never shown in diffs, warnings or error messages.
  - "NetBird's rules are checked before any write, with a clear message: a user with role C(user) cannot manage tokens,
    not even its own; owners and admins may manage their own tokens and those of service users; network admins only
    their own; auditors may only read their own."
  - With O(tokens), many tokens (of many users) are handled in one module run (one user list request, plus one token
    list request per user).
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
      - Predicts the result without any write request. No RV(plain_token) is returned.
      - A service user named by O(user_name) that does not exist yet is assumed to be created by an earlier task, with a
        warning, so that a play that creates a service user and its token can be checked.
  diff_mode:
    support: full
    details:
      - Shows the token's name, ID and expiration date before and after; never the plain token.
  platform:
    support: full
    platforms: all
options:
  state:
    description:
      - V(present) ensures a token named O(name) exists (creating it, or replacing it with O(rotate_before_days)).
      - V(absent) deletes the token named O(name), or the token O(token_id). A token that does not exist is no change.
    type: str
    choices: [present, absent]
    default: present
  user_id:
    description:
      - ID of the user whose token this is. Mutually exclusive with O(user_name).
      - When neither O(user_id) nor O(user_name) is given, the token's own user (of O(api_token)) is meant.
    type: str
  user_name:
    description:
      - Name of the service user whose token this is. Mutually exclusive with O(user_id).
      - Identifies service users only; a regular user can manage its own tokens by giving neither option.
    type: str
  name:
    description:
      - Name of the token; identifies it among the user's tokens.
      - NetBird allows several tokens with one name; this module then fails and lists their IDs, because it cannot
        tell which one is meant. Delete the extra ones with O(token_id).
      - Required with O(state=present).
    type: str
  token_id:
    description:
      - ID of the token to delete, with O(state=absent). If O(name) is also given, it must be the token's name.
    type: str
  expires_in:
    description:
      - Lifetime of a new token in days, between V(1) and V(365) (NetBird's limits), checked before any request.
      - Required with O(state=present). Used only when a token is created; NetBird cannot change the expiry of an
        existing token, so a different value does not replace it (use O(rotate_before_days)).
    type: int
  rotate_before_days:
    description:
      - Replace the token when it expires within this many days (V(0) - only once it has expired).
      - The new token is created first and the old one deleted afterwards, so that automation never loses access. The
        result reports both in RV(token) and RV(replaced_token).
      - Must be smaller than O(expires_in), or every run would replace the token again.
      - When omitted, a token is never replaced; an expired one gives a warning.
    type: int
  tokens:
    description:
      - Batch mode. Each element takes the per-token options of this module (O(tokens[].state) included) and is handled
        as if it were its own task, in one module run.
      - All elements are validated and planned before the first write. All new tokens are created before any token is
        deleted. If a write fails, the error says what was already done, and the result carries the new tokens' secrets.
      - Mutually exclusive with the single-token options.
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
      user_name:
        description: See O(user_name).
        type: str
      name:
        description: See O(name).
        type: str
      token_id:
        description: See O(token_id).
        type: str
      expires_in:
        description: See O(expires_in).
        type: int
      rotate_before_days:
        description: See O(rotate_before_days).
        type: int
notes:
  - Register the result with C(no_log=true) on the task, or on every task that prints it, and store RV(plain_token) in a
    secret store at once; the role P(netbird_ops.netbird.onboarding#role) does this for its service users.
  - A service user's token cannot read C(/api/users/current) (NetBird answers 403); with such a token use
    M(netbird_ops.netbird.netbird_user_info) with O(netbird_ops.netbird.netbird_user_info#module:name) and
    O(netbird_ops.netbird.netbird_user_info#module:service_user=true) rather than
    O(netbird_ops.netbird.netbird_user_info#module:current=true).
  - A task may delete or rotate the very token it authenticates with; later requests made with that token then fail,
    so do that last.
seealso:
  - module: netbird_ops.netbird.netbird_user
  - module: netbird_ops.netbird.netbird_user_info
  - name: NetBird tokens API
    description: NetBird's REST API reference for personal access tokens.
    link: https://docs.netbird.io/api/resources/tokens
'''

EXAMPLES = r'''
- name: A service user for CI
  netbird_ops.netbird.netbird_user:
    name: ci-pipeline
    service_user: true
    role: admin

- name: Its token, created once; re-runs change nothing
  netbird_ops.netbird.netbird_user_token:
    user_name: ci-pipeline
    name: gitlab
    expires_in: 90
  register: ci_token
  no_log: true

- name: Store the secret (only set when the token was created in this run)
  ansible.builtin.copy:
    content: "{{ ci_token.plain_token }}"
    dest: /etc/ci/netbird-token
    mode: "0600"
  when: ci_token.plain_token is defined
  no_log: true

- name: Replace the token two weeks before it expires
  netbird_ops.netbird.netbird_user_token:
    user_name: ci-pipeline
    name: gitlab
    expires_in: 90
    rotate_before_days: 14
  register: ci_token
  no_log: true

- name: A token for the token's own user (an admin's own automation)
  netbird_ops.netbird.netbird_user_token:
    name: laptop-scripts
    expires_in: 30
  register: own_token
  no_log: true

- name: Delete a token by name
  netbird_ops.netbird.netbird_user_token:
    user_name: ci-pipeline
    name: old-jenkins
    state: absent

- name: Delete one of two tokens that share a name, by ID
  netbird_ops.netbird.netbird_user_token:
    user_name: ci-pipeline
    token_id: cq2p0b2n6l1s73e6t1og
    state: absent

- name: Many tokens in one run
  netbird_ops.netbird.netbird_user_token:
    tokens:
      - user_name: ci-pipeline
        name: gitlab
        expires_in: 90
        rotate_before_days: 14
      - user_name: backup-agent
        name: nightly
        expires_in: 365
      - user_name: backup-agent
        name: legacy
        state: absent
  register: batch
  no_log: true
'''

RETURN = r'''
token:
  description:
    - Metadata of the token after the task (in check mode, as it would be); never its secret.
    - After O(state=absent), the token as it was before the deletion, or V(null) if it did not exist.
  returned: when O(tokens) is not used
  type: dict
  contains:
    id:
      description: Token ID. V(null) for a token that check mode would create.
      type: str
      sample: cq2p0b2n6l1s73e6t1og
    name:
      description: Token name.
      type: str
      sample: gitlab
    expiration_date:
      description: When the token expires.
      type: str
      sample: '2026-12-01T10:00:00Z'
    created_by:
      description: ID of the user who created the token (not necessarily its owner).
      type: str
    created_at:
      description: When the token was created.
      type: str
    last_used:
      description: When the token was last used; V(null) if never.
      type: str
plain_token:
  description:
    - The secret of the token created in this run (C(nbp_...)), to be used as an API token.
    - The server shows it only once; store it safely. The only place this module ever puts it.
  returned: when a token was created (or rotated) in this run, not in check mode
  type: str
  sample: nbp_AbCdEfGhIjKlMnOpQrStUvWxYz01230A1b2C
replaced_token:
  description: Metadata of the token that rotation replaced and deleted, as in RV(token).
  returned: when the token was rotated
  type: dict
user_id:
  description: ID of the token's user. V(null) in check mode for a service user that does not exist yet.
  returned: when O(tokens) is not used
  type: str
user_name:
  description: Name of the token's user (the service user's name).
  returned: when O(tokens) is not used
  type: str
action:
  description: C(create), C(rotate), C(delete) or C(none).
  returned: when O(tokens) is not used
  type: str
tokens:
  description: Batch mode results, one per element of O(tokens), in order (with O(batch_results=changed), only the entries that changed).
  returned: when O(tokens) is used
  type: list
  elements: dict
  contains:
    user_id:
      description: As RV(user_id).
      type: str
    user_name:
      description: As RV(user_name).
      type: str
    token:
      description: As RV(token).
      type: dict
    changed:
      description: Whether this element changed anything.
      type: bool
    action:
      description: As RV(action).
      type: str
    plain_token:
      description: As RV(plain_token).
      type: str
      returned: when a token was created in this run
    replaced_token:
      description: As RV(replaced_token).
      type: dict
      returned: when the token was rotated
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
    name:
      description: The element's O(tokens[].name), as given, to match a failed element (whose RV(tokens[].token) may be null) to its input.
      type: str
      returned: when the batch failed
    token_id:
      description: The element's O(tokens[].token_id), as given.
      type: str
      returned: when the batch failed
'''

from ansible_collections.netbird_ops.netbird.plugins.module_utils._task import batch_argument_spec
from ansible_collections.netbird_ops.netbird.plugins.module_utils._module import NetBirdModule
from ansible_collections.netbird_ops.netbird.plugins.module_utils._tokens import run_tokens, token_entry_argument_spec


def argument_spec():
    """The module's options (the connection options aside) and the rules between them."""
    # the entries name tokens; they never hold a secret
    return batch_argument_spec(token_entry_argument_spec(), "tokens", no_log=False)


def main(module_class=None):
    """``module_class``: see NetBirdModule (the onboarding action runs this module in its own process)."""
    spec, rules = argument_spec()
    NetBirdModule(spec, supports_check_mode=True, module_class=module_class, **rules).run(run_tokens)


if __name__ == "__main__":
    main()
