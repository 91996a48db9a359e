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
  api_concurrency:
    description:
      - How many write requests a batch (a list of entries) may have in flight at once, over a small pool of keep-alive
        connections. V(1) sends them strictly one after the other.
      - Results, warnings, the summary, check mode and the report of a failure part-way are the same as with V(1)
        (in the same order). Dependent steps keep their order, and two changes of one user never run at once; a change
        of the account owner or of the token's own user runs alone.
      - On HTTP 429 (rate limit) the module keeps this many in flight and spaces their starts out to the server's
        refill rate (first NetBird Cloud's 120 requests per minute, then the rate measured between two 429 answers),
        start to start, so that a slow answer never holds up the next request; it tries a faster pace now and then.
      - The default, V(8), was measured (see the scale guide). Over a 50 ms link it makes a first run of 1,000 users
        about seven times faster than V(1), while more connections gain little.
      - If not set, the environment variable E(NETBIRD_API_CONCURRENCY) is used.
    type: int
    default: 8
requirements:
  - requests (on the host that runs the module, usually the controller)
notes:
  - All modules of this collection belong to the action group C(netbird_ops.netbird.netbird), so the connection
    options can be set once with C(module_defaults) and C(group/netbird_ops.netbird.netbird).
  - Run the modules on the controller (C(delegate_to=localhost) or C(connection=local)).
'''

    # Loop semantics of every module that takes a list of entries.
    BATCH = r'''
options:
  fail_fast:
    description:
      - What a failed write does to the rest of the batch (a list of entries).
      - V(false) (the default) behaves like an Ansible loop. Every entry that does not depend on a failed one is
        attempted, and then the task fails with one line. That line names each failed entry (its method, path, status
        and the server's message) and says what was done.
      - An entry depends on a failed one in three cases. A later step of the same change never runs after an earlier
        step failed (a token rotation keeps the old token when creating the new one failed). An entry that needs a group
        which O(ignore:create_groups) could not create is not attempted. A change of the account owner or of the token's
        own user still runs alone, after every earlier entry has ended, failed or not.
      - Offboarding in exclusive mode (M(netbird_ops.netbird.netbird_user)) does not depend on the listed entries. A
        person who left is blocked even when a newcomer's create fails. Listed users are never offboarded, whether
        their change failed or not.
      - V(true) starts no new write after the first failure (writes already in flight finish). The message lists what
        was done and what was C(not attempted).
      - A failure that no later request can escape stops the batch even with V(false). This is the case when the token
        is rejected (HTTP 401), when the server keeps answering HTTP 429 after O(api_retries), or when it cannot be
        reached.
      - On failure the result still holds one entry per input element, also with O(ignore:batch_results=changed). A
        failed entry has C(failed=true) and C(msg), its one-line error. An entry not attempted also has
        C(not_attempted=true), and its C(msg) says why. Each entry keeps the keys that identify it.
      - Input errors (a bad option, an unknown group, a user named twice) fail the task before any write. They do not
        count as failures of the batch.
    type: bool
    default: false
'''

    # Which entries the result of a batch lists.
    BATCH_RESULTS = r'''
options:
  batch_results:
    description:
      - Which entries the list in the result holds, in batch mode (a list of entries).
      - V(all) returns one entry per element of the list, in order.
      - V(changed) returns only the entries that changed (or would change, in check mode), in the same order. The
        result's summary, where the module has one, still names every entry. With thousands of entries, most of them
        unchanged, this makes the result, and what Ansible copies, scrubs and registers, much smaller.
    type: str
    choices: [all, changed]
    default: all
'''

    ACTIONGROUP = r'''
attributes:
  action_group:
    description: Use C(group/netbird_ops.netbird.netbird) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - netbird_ops.netbird.netbird
'''
