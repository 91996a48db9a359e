# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""netbird_user_info: list and filter users (read only). Private to netbird_ops.netbird; not a public API."""

from __future__ import annotations

from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import NetBirdAPIError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._audit import state_reported
from ansible_collections.netbird_ops.netbird.plugins.module_utils._groups import GroupResolver
from ansible_collections.netbird_ops.netbird.plugins.module_utils._core import normalize_role
from ansible_collections.netbird_ops.netbird.plugins.module_utils._invites import list_invites, public_invite
from ansible_collections.netbird_ops.netbird.plugins.module_utils._tokens import add_token_lists
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import public_user, user_label

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


def run_user_info(nb):
    """netbird_user_info: one list (or the current user), filtered here; never a write."""
    params = dict(nb.params)
    params["role"] = normalize_role(params["role"])
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
    invites = read_invites(client, nb.warn) if params.get("include_invites") else None
    groups = GroupResolver(client)
    if any(u.get("auto_groups") for u in selected + (invites or [])):
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
    result = {"changed": False, "users": users}
    if invites is not None:
        result["invites"] = sorted((public_invite(i, groups) for i in invites), key=lambda i: ((i.get("email") or "").lower(), i.get("id") or ""))
    return result


def read_invites(client, warn):
    """The pending invite links (never their tokens: the list does not carry them); none without the embedded IdP."""
    try:
        return list_invites(client)
    except NetBirdAPIError as exc:
        if exc.status != 412:
            raise
        warn("invites is empty: %s" % exc)
        return []


def info_argument_spec():
    return dict(
        current=dict(type="bool", default=False),
        user_id=dict(type="str"),
        email=dict(type="str"),
        name=dict(type="str"),
        role=dict(type="str"),
        status=dict(type="str", choices=["active", "invited", "blocked"]),
        service_user=dict(type="bool", aliases=["is_service_user"]),
        pending_approval=dict(type="bool"),
        blocked=dict(type="bool", aliases=["is_blocked"]),
        include_tokens=dict(type="bool", default=False),
        include_invites=dict(type="bool", default=False),
    )
