# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a module echoes back as invocation.module_args: everything, except a long batch list, given as its length."""

from __future__ import annotations

from ansible_collections.netbird_ops.netbird.plugins.module_utils._module import ECHO_LIMIT, NetBirdModule


def invocation(params):
    module = object.__new__(NetBirdModule)
    module.params = params
    return module._invocation()["module_args"]


def test_short_lists_and_other_options_are_echoed_as_given():
    users = [{"email": "u%d@example.com" % index} for index in range(ECHO_LIMIT)]
    params = {"api_token": "nbp_secret", "users": users, "protect": ["a@example.com"] * (ECHO_LIMIT + 1), "exclusive": False}
    # unchanged (Ansible masks the no_log values of the whole result afterwards, the echo included)
    assert invocation(params) == params


def test_a_long_batch_list_is_given_as_its_length():
    users = [{"email": "u%d@example.com" % index} for index in range(ECHO_LIMIT + 1)]
    echoed = invocation({"users": users, "api_url": "http://127.0.0.1:1/api"})
    assert echoed == {"users": "%d entries (not echoed back)" % (ECHO_LIMIT + 1), "api_url": "http://127.0.0.1:1/api"}
