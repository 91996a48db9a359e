# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""netbird_user_info ``as_team``: the account's users in the onboarding role's input shape.

The result, ``{"users": [...], "service_users": [...]}``, is what ``netbird_onboarding_users`` and
``netbird_onboarding_service_users`` take (or a team file holds), so that a team read from one server can be
onboarded into another:

- groups by name (IDs mean nothing on another server);
- no owner (an account has exactly one, made by the setup or the first login), no user pending approval (approving
  is a person's decision, taken on the server where the user asked to join);
- no token, no secret: only ``name``, ``role``, ``auto_groups`` and ``blocked`` (and ``email`` for regular users);
- ``blocked`` only where the server reports it: an external-IdP stub says ``is_blocked: false`` whatever is stored
  (NetBird issue #6651), so its entry leaves ``blocked`` out (the target then keeps, or creates unblocked) and the
  run warns, naming those users.

Private to netbird_ops.netbird; not a public API.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._groups import ALL_GROUP_NAME

# how many names a warning lists before "and N more"
SHOWN = 5


def _names(labels):
    labels = sorted(labels)
    shown = ", ".join(labels[:SHOWN])
    return shown + (" and %d more" % (len(labels) - SHOWN) if len(labels) > SHOWN else "")


def _plural(count, word):
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


def _label(user):
    return user.get("name") if user.get("is_service_user") else (user.get("email") or user.get("id"))


def team_from_users(users, groups, warn):
    """The team of ``users`` (this collection's public user dicts, as netbird_user_info returns them).

    ``groups`` is the run's GroupResolver (loaded when any user has groups); ``warn`` takes one warning each for the
    users left out or changed on the way. Raises NetBirdInputError when the token may not read group names.
    """
    if any(u.get("auto_groups") for u in users) and not groups.readable:
        raise NetBirdInputError("as_team needs group names, but the token may not read groups (%s); use a token of an "
                                "owner, admin, auditor or network admin" % groups.read_error)
    by_id = groups.by_id() if groups.readable else {}
    name_count: Dict[Optional[str], int] = {}
    for group in (groups.groups if groups.readable else []):
        name_count[group.get("name")] = name_count.get(group.get("name"), 0) + 1
    team: Dict[str, List[Dict[str, Any]]] = {"users": [], "service_users": []}
    left_out: Dict[str, List[str]] = {"owner": [], "pending approval": []}
    unreported = []
    nameless = []
    dangling = set()
    ambiguous = set()
    for user in users:
        label = _label(user)
        if user.get("role") == "owner":
            left_out["owner"].append(label)
            continue
        if user.get("pending_approval"):
            left_out["pending approval"].append(label)
            continue
        names = []
        for gid in user.get("auto_groups") or []:
            group = by_id.get(gid)
            if group is None:
                dangling.add(gid)
            elif group.get("name") != ALL_GROUP_NAME:  # every user is in All; it cannot be assigned
                names.append(group.get("name"))
                if name_count.get(group.get("name"), 0) > 1:
                    ambiguous.add(group.get("name"))
        entry = {}
        if user.get("is_service_user"):
            entry["name"] = user.get("name")
        else:
            entry["email"] = user.get("email")
            if user.get("name"):
                entry["name"] = user["name"]
            else:
                nameless.append(label)
        if user.get("role"):
            entry["role"] = str(user["role"]).lower()
        entry["auto_groups"] = sorted(set(names))
        if user.get("state_reported", True) and user.get("is_blocked") is not None:
            entry["blocked"] = bool(user["is_blocked"])
        else:
            unreported.append(label)
        team["service_users" if user.get("is_service_user") else "users"].append(entry)
    team["users"].sort(key=lambda e: ((e.get("email") or "").lower(), e.get("email") or ""))
    team["service_users"].sort(key=lambda e: e.get("name") or "")
    skipped = ["%s (%s)" % (_names(labels), why) for why, labels in left_out.items() if labels]
    if skipped:
        warn("as_team leaves out %s: %s" % (_plural(sum(len(v) for v in left_out.values()), "user"), "; ".join(skipped)))
    if unreported:
        warn("as_team leaves blocked out for %s whose blocked state the server does not report (external-IdP stubs, "
             "NetBird issue #6651): onboarding keeps what the target has and creates them unblocked; check and set "
             "blocked by hand: %s" % (_plural(len(unreported), "user"), _names(unreported)))
    if nameless:
        warn("as_team has no name for %s (the server reports none); add one before onboarding them into a server "
             "that does not have them yet: %s" % (_plural(len(nameless), "user"), _names(nameless)))
    if dangling:
        warn("as_team leaves out %s that no group has any more: %s" % (_plural(len(dangling), "group ID"), _names(dangling)))
    if ambiguous:
        warn("as_team: more than one group is named %s; the team names them by name only" % _names(repr(n) for n in ambiguous))
    return team
