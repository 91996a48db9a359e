# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Exclusive mode of netbird_user (batch): the list is the truth, everyone else in scope is offboarded.

``ExclusiveUserKind`` is the users kind with one more planning step: after the listed users are planned, every user
in ``exclusive_scope`` that no entry names gets an extra planned change (block, or delete), checked against the
guard rails before anything is written. The ``BatchRunner`` applies those changes like any other (same user list,
same group list, one request per change); results list them under ``offboarded``, not under ``users``.
Private to netbird_ops.netbird; not a public API.
"""

from __future__ import annotations

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._audit import state_known, with_state
from ansible_collections.netbird_ops.netbird.plugins.module_utils._groups import GroupResolver
from ansible_collections.netbird_ops.netbird.plugins.module_utils._task import module_runner
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import (
    UserKind,
    UserSpec,
    list_filter,
    user_key,
    user_label,
    user_specs,
)

SCOPES = ("regular", "service", "all")
OFFBOARD_MODES = ("block", "delete")
SHOWN = 5  # users named in a refusal before "and N more"


def exclusive_argument_spec():
    """The batch-level options of exclusive mode (not part of a ``users`` element)."""
    return dict(
        exclusive=dict(type="bool", default=False),
        exclusive_scope=dict(type="str", choices=list(SCOPES), default="regular"),
        offboard=dict(type="str", choices=list(OFFBOARD_MODES), default="block"),
        protect=dict(type="list", elements="str", default=[]),
        max_offboard=dict(type="int", default=10),
    )


def names(labels):
    shown = ", ".join(labels[:SHOWN])
    return shown + (" and %d more" % (len(labels) - SHOWN) if len(labels) > SHOWN else "")


class OffboardSpec(UserSpec):
    """The planned offboarding of one unlisted user: block it, or delete it. Built from the user as read."""

    def __init__(self, raw, mode):
        entry = {"user_id": raw.get("id"), "state": "absent" if mode == "delete" else "present",
                 "blocked": True if mode == "block" else None, "service_user": bool(raw.get("is_service_user"))}
        self.who = user_label(raw)
        super().__init__(entry)

    @property
    def label(self):
        return "%s (offboarded: not in the list)" % self.who


class Policy:
    """The exclusive-mode options, checked before any request."""

    def __init__(self, params):
        self.scope = params.get("exclusive_scope") or "regular"
        self.mode = params.get("offboard") or "block"
        self.max = params.get("max_offboard")
        if self.max is None:
            self.max = 10
        if self.max < 0:
            raise NetBirdInputError("max_offboard must be 0 or more, got %s" % self.max)
        self.protect = set()
        for item in params.get("protect") or []:
            if not isinstance(item, str) or not item.strip():
                raise NetBirdInputError("protect must contain emails or service user names, got %r" % (item,))
            self.protect.add(item.strip())
        self.protect_lower = set(p.lower() for p in self.protect)
        # exclusive without users at all is refused by the argument spec (required_if)
        if not params["users"]:
            raise NetBirdInputError("exclusive with an empty users list would offboard every user in exclusive_scope=%s; "
                                    "refused: list the users to keep" % self.scope)

    def in_scope(self, raw):
        service = bool(raw.get("is_service_user"))
        return self.scope == "all" or (self.scope == "service") == service

    def protected(self, raw):
        if raw.get("id") in self.protect:
            return True
        if raw.get("is_service_user"):
            return raw.get("name") in self.protect
        return (raw.get("email") or "").lower() in self.protect_lower


class ExclusiveUserKind(UserKind):
    """The users kind in exclusive mode: the listed users as usual, plus one offboarding change per unlisted user."""

    def __init__(self, client, check_mode=False, groups=None, policy=None):
        super().__init__(client, check_mode, groups)
        self.policy = policy

    @classmethod
    def from_params(cls, client, params, check_mode=False):
        return cls(client, check_mode, GroupResolver(client, create=bool(params.get("create_groups"))), Policy(params))

    def prepare(self, specs):
        # the one user list must hold everyone in scope: narrow it by service_user only where the scope allows
        wanted = list_filter(specs)
        scope = {"regular": False, "service": True}.get(self.policy.scope)
        self.load_users(service_user=wanted if wanted is not None and wanted == scope else None)

    def plan_all(self, specs):
        changes = super().plan_all(specs)
        named = set()
        for change in changes:
            if change.current is not None:
                named.add(change.current.get("id"))
        offboards = self.plan_offboard(named)
        if offboards and not self.groups.loaded and any(c.changed for c in offboards):
            self.groups.load()
        return changes + offboards

    def plan_offboard(self, named):
        """One change per unlisted user in scope, after the guard rails; raises before any write."""
        policy = self.policy
        changes = []
        for raw in self.users:
            if raw.get("id") in named or not policy.in_scope(raw):
                continue
            if raw.get("is_current") or (raw.get("role") or "").lower() == "owner" or policy.protected(raw):
                continue
            if not state_known(raw):
                state = self.audit.state_of(raw.get("id"))
                if state.known:
                    raw = with_state(raw, state.blocked, state.pending)
                elif policy.mode == "delete" and not raw.get("is_service_user"):
                    # it may be pending approval, which offboarding never touches: left alone, and said so
                    self.warnings.append("%s was not offboarded: the server does not report its state (external-IdP stub, "
                                         "NetBird issue #6651) and the audit log %s, so it may be pending approval, which "
                                         "offboarding never deletes; block it (offboard: block) or delete it by name"
                                         % (user_label(raw), state.reason))
                    continue
                else:
                    self.warnings.append("%s: the server does not report whether it is blocked (external-IdP stub) and the "
                                         "audit log %s, so the block is written again on every run until the audit log shows "
                                         "a block of it (NetBird logs one only when the state changes); protect it or "
                                         "delete it by name to stop this" % (user_label(raw), state.reason))
            if state_known(raw) and raw.get("pending_approval"):
                continue  # pending approval: netbird_user_approval's job
            spec = OffboardSpec(raw, policy.mode)
            change = self.plan(spec, raw)
            changes.append(change.evolve(info=dict(change.info, offboard=True, label=spec.label)))
        acting = [c for c in changes if c.changed]
        if len(acting) > policy.max:
            labels = sorted(user_key(c.current) or c.current.get("id") for c in acting)
            raise NetBirdInputError("exclusive would offboard (%s) %d users, more than max_offboard=%d: %s; nothing was "
                                    "changed: add the users to keep to users or protect, or raise max_offboard"
                                    % (policy.mode, len(acting), policy.max, names(labels)))
        if acting and policy.mode == "delete":
            counts = [c.info.get("peers") for c in acting if not c.current.get("is_service_user")]
            known = sum(n for n in counts if n is not None)
            unknown = len([n for n in counts if n is None])
            self.warnings.append("offboard: delete removes %d user%s, and NetBird deletes their %d peer%s with them%s"
                                 % (len(acting), "" if len(acting) == 1 else "s", known, "" if known == 1 else "s",
                                    " (and the peers of %d users whose peers could not be read)" % unknown if unknown else ""))
        return changes

    def brief(self, change, outcome, partial=False):
        # finish() reads every entry's _offboard mark and lists the entries again: the full view
        return self.view(change, outcome, partial)

    def view(self, change, outcome, partial=False):
        entry = super().view(change, outcome, partial)
        if entry is not None and change.info.get("offboard"):
            entry["_offboard"] = True
        return entry

    def finish(self, result, entries, changes, outcomes):
        listed = [e for e in entries if not e.get("_offboard")]
        offboarded = [e for e in entries if e.pop("_offboard", False) and e.get("changed")]
        if self.result_key in result:
            result[self.result_key] = listed
        super().finish(result, listed, changes, outcomes)
        result["offboarded"] = [e["user"] for e in offboarded]
        if "summary" in result:
            result["summary"]["offboarded"] = [user_key(e["user"]) for e in offboarded]


def user_kind(client, params, check_mode=False):
    """netbird_user's kind: the listed users; with ``exclusive``, also the offboarding of everyone else in scope."""
    return (ExclusiveUserKind if params.get("exclusive") else UserKind).from_params(client, params, check_mode)


run_users = module_runner(user_kind, user_specs, "users")
