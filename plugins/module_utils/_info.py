# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""netbird_user_info: list and filter users (read only). Private to netbird_ops.netbird; not a public API."""

from __future__ import annotations

from ansible_collections.netbird_ops.netbird.plugins.module_utils import _resources as api
from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdAPIError, NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._audit import state_reported
from ansible_collections.netbird_ops.netbird.plugins.module_utils._common import parse_time, utcnow
from ansible_collections.netbird_ops.netbird.plugins.module_utils._groups import GroupResolver
from ansible_collections.netbird_ops.netbird.plugins.module_utils._rules import normalize_role
from ansible_collections.netbird_ops.netbird.plugins.module_utils._invites import list_invites, public_invite
from ansible_collections.netbird_ops.netbird.plugins.module_utils._team import team_from_users
from ansible_collections.netbird_ops.netbird.plugins.module_utils._tokens import add_token_lists
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import public_user, user_label

# filters on the state a stub user (external IdP) does not report
STATE_FILTERS = ("status", "pending_approval", "blocked")
# filters on the last login, which a stub does not report either (it always says never)
LOGIN_FILTERS = ("inactive_days", "never_logged_in")
NEVER = "0001-01-01T00:00:00Z"


def days_since(value, now):
    """Whole days since a NetBird timestamp; None for never (the zero time), an empty or an unreadable value."""
    when = parse_time(value)
    if when is None or when.year <= 1:
        return None
    return max((now - when).days, 0)


def days_until(value, now):
    """Whole days until a NetBird timestamp (negative once past; rounded down); None if unreadable."""
    when = parse_time(value)
    if when is None:
        return None
    return (when - now).days


def login_matches(user, params, days):
    """The inactive_days / never_logged_in filters: True, False, or None for a stub (its last login is not reported)."""
    if all(params.get(key) is None for key in LOGIN_FILTERS):
        return True
    if not state_reported(user):
        return None
    if params.get("never_logged_in") is not None and (days is None) != params["never_logged_in"]:
        return False
    return params.get("inactive_days") is None or days is None or days >= params["inactive_days"]


def count_peers(client, warn):
    """{user id: number of peers} from one GET /api/peers; None (with a warning) when the token may not read peers."""
    counts, error = api.peer_counts(client)
    if error is not None:
        warn("peers_count is not returned: the token may not read peers (%s)" % error)
    return counts


def add_ages(users, now):
    """Days since the last login on every user, and days to expiry / since last use on every token read."""
    for user in users:
        user["last_login_days"] = days_since(user.get("last_login"), now) if user.get("state_reported", True) else None
        for token in user.get("tokens") or []:
            token["expires_in_days"] = days_until(token.get("expiration_date"), now)
            when = parse_time(token.get("expiration_date"))
            token["expired"] = bool(when is not None and when <= now)
            token["last_used_days"] = days_since(token.get("last_used"), now)


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
    return read_users(nb.client, nb.params, nb.warn)


def read_users(client, options, warn, unreadable_tokens_warning=True):
    """The reader of netbird_user_info and netbird_access_review: the users ``options`` select (the module's filters and
    include_* options), with ``warn`` called for what could not be read. ``unreadable_tokens_warning``: False when the
    caller expects other users' tokens to be unreadable (the review says so in its report)."""
    params = dict(options)
    params["role"] = normalize_role(params["role"])
    if params.get("inactive_days") is not None and params["inactive_days"] < 0:
        raise NetBirdInputError("inactive_days must be 0 or more, got %s" % params["inactive_days"])
    if params["current"]:
        try:
            raw_users = [api.current_user(client)]
        except NetBirdAPIError as exc:
            if exc.status == 403 and "blocked" not in exc.message and "pending" not in exc.message:
                exc.hint = ("NetBird does not answer /api/users/current for a service user's token; "
                            "use netbird_user_info with name (and service_user: true) to read a service user")
            raise
    else:
        raw_users = api.list_users(client, service_user=params["service_user"])
    now = utcnow()
    verdicts = [(u, matches(u, params)) for u in raw_users]
    login = dict((id(u), login_matches(u, params, days_since(u.get("last_login"), now))) for u, verdict in verdicts if verdict)
    selected = [u for u, verdict in verdicts if verdict and login[id(u)]]
    unreported_login = [user_label(u) for u, verdict in verdicts if verdict and login[id(u)] is None]
    if unreported_login:
        warn("%d user%s left out because the server does not report their last login (external-IdP stubs always say "
             "never, NetBird issue #6651), so %s cannot be checked: %s"
             % (len(unreported_login), "" if len(unreported_login) == 1 else "s",
                "/".join(k for k in LOGIN_FILTERS if params.get(k) is not None),
                ", ".join(sorted(unreported_login)[:5]) + (" and more" if len(unreported_login) > 5 else "")))
    unreported = [user_label(u) for u, verdict in verdicts if verdict is None]
    if unreported:
        warn("%d user%s left out because the server does not report their state (external-IdP stubs, NetBird issue #6651), "
             "so %s cannot be checked: %s" % (len(unreported), "" if len(unreported) == 1 else "s",
                                              "/".join(k for k in STATE_FILTERS if params[k] is not None),
                                              ", ".join(sorted(unreported)[:5]) + (" and more" if len(unreported) > 5 else "")))
    invites = read_invites(client, warn) if params.get("include_invites") else None
    groups = GroupResolver(client)
    if any(u.get("auto_groups") for u in selected + (invites or [])):
        if not groups.load():
            warn("auto_groups_names are not returned: the token may not read groups (%s)" % groups.read_error)
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
        add_token_lists(client, users, raw_users, warn if unreadable_tokens_warning else None)
    if params.get("include_peers"):
        counts = count_peers(client, warn)
        if counts is not None:
            for user in users:
                user["peers_count"] = counts.get(user.get("id"), 0)
    add_ages(users, now)
    result = {"changed": False, "users": users}
    if params.get("as_team"):
        result["team"] = team_from_users(users, groups, warn)
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
        inactive_days=dict(type="int"),
        never_logged_in=dict(type="bool"),
        include_peers=dict(type="bool", default=False),
        as_team=dict(type="bool", default=False),
    )
