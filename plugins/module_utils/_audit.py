# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Users whose state the server does not report, and what the audit log says about them.

With an external IdP manager NetBird lists service users, and regular users the IdP does not
return, as stubs built from the stored row: ``issued: ""``, ``is_blocked: false``,
``pending_approval: false``, ``status: active`` whatever is really stored (NetBird issue #6651).
Their block state is learnt from the activity log instead: at most one
``GET /api/events/audit`` per module run, and only when a stub user needs it.
Private to netbird_ops.netbird; not a public API.
"""

from __future__ import annotations

from typing import Any, Dict, List

from collections import namedtuple

from ansible_collections.netbird_ops.netbird.plugins.module_utils import _resources as api
from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdAPIError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._common import time_key

# Events that set the blocked state: code -> blocked afterwards. Approving unblocks a pending user.
BLOCK_EVENTS = {"user.block": True, "user.unblock": False, "user.approve": False}
# Events that create a user (NetBird's activity codes, management/server/activity/codes.go). A user
# who joined an account that requires approval was created blocked and pending: its user.join
# event carries ``meta.pending_approval``.
CREATE_EVENTS = ("user.create", "service.user.create", "user.invite", "user.join", "user.invite.link.accept")


def state_reported(raw):
    """False for a stub: the server did not report the user's blocked / pending / status state."""
    return not (isinstance(raw, dict) and raw.get("issued") == "")


def state_known(raw):
    """True when ``raw``'s is_blocked / status / pending_approval can be trusted (reported, or learnt)."""
    return state_reported(raw) or bool(raw.get("_state_known"))


def with_state(raw, blocked, pending=False):
    """A copy of a stub user carrying a learnt (or just written) state."""
    user = dict(raw)
    user.update(is_blocked=bool(blocked), pending_approval=bool(pending), _state_known=True)
    user["status"] = "blocked" if blocked else "active"
    return user


def _truthy(value):
    return value is True or str(value).lower() == "true"


class UserState(namedtuple("UserState", "blocked pending reason")):
    """What the audit log says about one user: ``blocked`` True / False / None (unknown), and why."""

    __slots__ = ()

    @property
    def known(self):
        return self.blocked is not None


class AuditLog:
    """The account's activity log, read once, lazily; only stub users ever need it."""

    def __init__(self, client):
        self.client = client
        self._by_target = None
        self.error = None

    @property
    def loaded(self):
        return self._by_target is not None or self.error is not None

    def _load(self):
        if self.loaded:
            return
        try:
            events = api.list_events(self.client)
        except NetBirdAPIError as exc:
            self.error = exc
            return
        by_target: Dict[Any, List[Any]] = {}
        for event in events:
            if isinstance(event, dict) and event.get("target_id"):
                by_target.setdefault(event["target_id"], []).append(event)
        self._by_target = by_target

    def state_of(self, user_id):
        """The user's blocked state as the audit log tells it, as a UserState."""
        self._load()
        if self.error is not None:
            return UserState(None, False, "could not be read (%s)" % self.error)
        events = (self._by_target or {}).get(user_id, [])
        newest = None
        newest_key = None
        created = None
        for event in events:
            code = event.get("activity_code")
            if code in CREATE_EVENTS:
                created = created or event
            if code not in BLOCK_EVENTS:
                continue
            key = time_key(event.get("timestamp"))
            if key is None:
                continue
            ident = str(event.get("id") or "")
            key = key + (int(ident) if ident.isdigit() else 0,)
            if newest_key is None or key > newest_key:
                newest, newest_key = event, key
        if newest is not None:
            return UserState(BLOCK_EVENTS[newest["activity_code"]], False, "has %s at %s as the newest block event"
                             % (newest["activity_code"], newest.get("timestamp")))
        if created is not None:
            pending = created.get("activity_code") == "user.join" and _truthy((created.get("meta") or {}).get("pending_approval"))
            if pending:
                return UserState(True, True, "shows it joined pending approval (user.join) and was neither approved nor unblocked")
            return UserState(False, False, "shows its creation (%s) and no block since" % created.get("activity_code"))
        return UserState(None, False, "has no event about it")
