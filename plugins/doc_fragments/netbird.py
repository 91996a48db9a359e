# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:

    # Connection options shared by every module of the collection.
    DOCUMENTATION = r'''
options:
  api_url:
    description:
      - URL of the NetBird management API.
      - NetBird Cloud is V(https://api.netbird.io); a self-hosted server is usually V(https://netbird.example.com).
      - Accepted with or without a trailing C(/api) or C(/).
      - Plain C(http://) works but the module warns, unless the host is a loopback address.
      - If not set, the environment variables E(NETBIRD_API_URL) and then E(NB_MANAGEMENT_URL) (the Terraform provider's name) are used.
    type: str
    default: https://api.netbird.io
  api_token:
    description:
      - Token used to authenticate to the API.
      - "A personal access token (C(nbp_...)) is sent with the C(Token) authorization scheme; anything else is taken for a JWT
        and sent with the C(Bearer) scheme."
      - If not set, the environment variables E(NETBIRD_API_TOKEN) and then E(NB_PAT) (the Terraform provider's name) are used.
      - The token never appears in output, warnings or error messages.
    type: str
    required: true
  validate_certs:
    description:
      - Verify the server's TLS certificate.
      - Set to V(false) only for tests; prefer O(ca_path) for a self-signed CA. The module warns when it is V(false).
      - If not set, the environment variable E(NETBIRD_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - Path to a PEM CA bundle used to verify a self-hosted server's certificate.
      - If not set, the environment variable E(NETBIRD_CA_PATH) is used; without it the system store (or E(REQUESTS_CA_BUNDLE)) applies.
    type: path
  api_timeout:
    description:
      - Timeout in seconds of each HTTP request.
      - If not set, the environment variable E(NETBIRD_API_TIMEOUT) is used.
    type: int
    default: 30
  api_retries:
    description:
      - How often a request is retried after HTTP 429, 502, 503 or 504, or a connection error, with jittered exponential backoff.
      - A C(Retry-After) header is honoured (up to 120 seconds).
      - A create or approve request (POST) is never blindly re-sent; the module reads the state again instead.
      - If not set, the environment variable E(NETBIRD_API_RETRIES) is used.
    type: int
    default: 5
requirements:
  - requests (on the host that runs the module, usually the controller)
notes:
  - All modules of this collection belong to the action group C(netbird_ops.netbird.netbird), so the connection
    options can be set once with C(module_defaults) and C(group/netbird_ops.netbird.netbird).
  - Run the modules on the controller (C(delegate_to=localhost) or C(connection=local)).
'''

    ACTIONGROUP = r'''
attributes:
  action_group:
    description: Use C(group/netbird_ops.netbird.netbird) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - netbird_ops.netbird.netbird
'''
