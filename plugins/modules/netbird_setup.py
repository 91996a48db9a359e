#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: netbird_setup
short_description: First-time setup of a fresh self-hosted NetBird server
version_added: 0.2.0
description:
  - Creates the owner of a freshly installed self-hosted NetBird server with the embedded identity provider, headlessly,
    instead of the dashboard's first-login page, and optionally a short-lived personal access token for it.
  - Reads C(GET /api/instance) and sends C(POST /api/setup) only when the server answers C(setup_required=true). A
    server that is set up already is no change (RV(setup_required=false)); nothing is compared with its owner.
  - Both calls are public; no O(api_token) is needed, and none is sent.
  - The owner's token is returned once, in RV(personal_access_token). The server makes one only when it runs with
    C(NB_SETUP_PAT_ENABLED=true), a setting that exists from NetBird v0.71.0 on; otherwise the task succeeds and warns,
    naming that variable. Before v0.71.0, log in to the dashboard once as the owner and create a PAT there.
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
      - Reads whether the server needs setup and reports the change, without any write request.
  diff_mode:
    support: full
    details:
      - Shows C(setup_required) before and after and the owner's email and name; never the password or the token.
  platform:
    support: full
    platforms: all
options:
  api_token:
    description:
      - Not used by this module (the setup calls are public); accepted so that C(module_defaults) for the action group
        may set it.
    required: false
  email:
    description:
      - Email address of the owner to create.
      - O(email), O(name) and O(password) are required when the server still needs setup (checked before any write);
        without them a task only reports RV(setup_required).
    type: str
  name:
    description:
      - Display name of the owner.
    type: str
  password:
    description:
      - Password of the owner, 8 to 72 characters (checked before any request). Never logged.
    type: str
  create_pat:
    description:
      - Ask the server for a personal access token of the owner (named C(setup-token)), returned in
        RV(personal_access_token).
    type: bool
    default: true
  pat_expire_in:
    description:
      - Lifetime of that token in days, V(1) to V(365). Keep it short and create a long-lived token for a service user
        with it (see the collection's C(examples/bootstrap.yml)).
    type: int
    default: 1
notes:
  - Register the result with C(no_log=true); store RV(personal_access_token) at once or use it in the same play.
seealso:
  - module: netbird_ops.netbird.netbird_user
  - module: netbird_ops.netbird.netbird_user_token
  - module: netbird_ops.netbird.netbird_user_invite
'''

EXAMPLES = r'''
- name: Set up a fresh server (no change when it is set up already)
  netbird_ops.netbird.netbird_setup:
    api_url: https://netbird.example.com
    email: admin@example.com
    name: Admin
    password: "{{ vault_netbird_owner_password }}"
    pat_expire_in: 1
  register: nb_setup
  no_log: true

- name: Use the setup token in the same play
  netbird_ops.netbird.netbird_user:
    api_url: https://netbird.example.com
    api_token: "{{ nb_setup.personal_access_token }}"
    name: ansible
    service_user: true
    role: admin
  when: nb_setup.personal_access_token is defined
'''

RETURN = r'''
setup_required:
  description: Whether the server still needs the setup after the task (V(true) only in check mode, before the setup).
  returned: always
  type: bool
user_id:
  description: ID of the owner created. V(null) in check mode.
  returned: when the setup was done (or would be, in check mode)
  type: str
email:
  description: Email address of the owner created.
  returned: when the setup was done (or would be, in check mode)
  type: str
personal_access_token:
  description: The owner's personal access token (C(nbp_...)); a secret, returned once.
  returned: when the server made one in this run (it needs C(NB_SETUP_PAT_ENABLED=true)), not in check mode
  type: str
'''

from ansible_collections.netbird_ops.netbird.plugins.module_utils._module import NetBirdModule
from ansible_collections.netbird_ops.netbird.plugins.module_utils._setup import run_setup, setup_argument_spec


def argument_spec():
    """The module's options (the connection options aside) and the rules between them (none)."""
    return setup_argument_spec(), {}


def main():
    spec, rules = argument_spec()
    NetBirdModule(spec, token_required=False, supports_check_mode=True, **rules).run(run_setup)


if __name__ == "__main__":
    main()
