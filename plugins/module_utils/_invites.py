# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The invites kind: invite links of NetBird's embedded IdP (``/api/users/invites``).

A person opens ``<dashboard>/invite?token=...``, chooses a password, and only then does the user exist.
Idempotent by email (case-insensitive): one invite list, one user list and at most one group list per
run, then one request per change. The token is returned once, in the run that made it, and nowhere else.
Private to netbird_ops.netbird; not a public API.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.netbird_ops.netbird.plugins.module_utils import _resources as api
from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import AmbiguousWriteError, NetBirdAPIError, NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._core import (
    ApplyError,
    Change,
    Kind,
    Outcome,
    Spec,
)
from ansible_collections.netbird_ops.netbird.plugins.module_utils._groups import GroupResolver
from ansible_collections.netbird_ops.netbird.plugins.module_utils._rules import check_email, group_refs, normalize_role
from ansible_collections.netbird_ops.netbird.plugins.module_utils._task import build_specs, entry_keys, module_runner
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import UserIndex

REGENERATE = ("expired", "always", "never")
# NetBird refuses links that live less than an hour (and defaults to 72 hours)
MIN_EXPIRES_IN = 3600
EMBEDDED_IDP_HINT = ("Invite links need NetBird's embedded identity provider; this server has none (an external IdP or none): "
                     "create users with netbird_ops.netbird.netbird_user instead")

PAST_INVITE = {"create": "invited", "replace": "re-invited", "regenerate": "new link for", "delete": "deleted the invite of"}


def invite_entry_argument_spec():
    """Argument spec of one invite; in batch mode it is the ``invites`` element spec."""
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        email=dict(type="str"),
        name=dict(type="str"),
        role=dict(type="str"),
        auto_groups=dict(type="list", elements="str", aliases=["groups"]),
        expires_in=dict(type="int"),
        regenerate=dict(type="str", choices=list(REGENERATE), default="expired"),
    )


INVITE_ENTRY_KEYS = entry_keys(invite_entry_argument_spec())


def invite_url(dashboard_url, token):
    return "%s/invite?token=%s" % (dashboard_url.rstrip("/"), token)


def public_invite(raw, groups=None):
    """The invite dict this collection returns: never its token."""
    if raw is None:
        return None
    auto_groups = sorted(raw.get("auto_groups") or [])
    invite = {
        "id": raw.get("id"),
        "email": raw.get("email"),
        "name": raw.get("name"),
        "role": raw.get("role"),
        "auto_groups": auto_groups,
        "expires_at": raw.get("expires_at"),
        "expired": bool(raw.get("expired", False)),
        "created_at": raw.get("created_at"),
    }
    if groups is not None and groups.readable:
        invite["auto_groups_names"] = groups.to_names(auto_groups)
    return invite


def list_invites(client):
    """``GET /api/users/invites``; a server without the embedded IdP (412) fails with one line that says so."""
    try:
        return api.list_invites(client)
    except NetBirdAPIError as exc:
        if exc.status == 412:
            exc.hint = EMBEDDED_IDP_HINT
        raise


class InviteSpec(Spec):
    """One desired invite, validated before any request."""

    keys = INVITE_ENTRY_KEYS
    cleaned = ("email", "name", "role")
    state: str
    email: str
    name: Optional[str]
    role: Optional[str]
    auto_groups: Optional[List[str]]
    expires_in: Optional[int]
    regenerate: str

    @property
    def label(self):
        who = "invite %s" % (self.email or "?")
        return "%s (%s)" % (self.where, who) if self.where else who

    def validate(self):
        o = self.opt
        self.state = self.state or "present"
        self.regenerate = self.regenerate or "expired"
        if not self.email:
            self.fail("%s is required: it identifies the invite" % o("email"))
        # NetBird accepts malformed emails on invites (and sends a link nobody can use): refuse them here
        check_email(o("email"), self.email)
        self.role = normalize_role(self.role, o("role"))
        if self.role == "owner":
            self.fail("%s owner cannot be given to an invite (NetBird refuses it); invite the person, then transfer "
                      "ownership in a later task" % o("role"))
        self.auto_groups = group_refs(self.auto_groups, o("auto_groups"))
        if self.expires_in is not None and self.expires_in < MIN_EXPIRES_IN:
            self.fail("%s must be at least %d seconds (one hour; NetBird refuses shorter links), got %s"
                      % (o("expires_in"), MIN_EXPIRES_IN, self.expires_in))
        if self.state == "absent":
            for key in ("name", "role", "auto_groups", "expires_in"):
                if getattr(self, key) is not None:
                    self.fail("%s cannot be combined with %s=absent" % (o(key), o("state")))

    def identity(self):
        return self.email.lower()


def invite_specs(params):
    return build_specs(params, "invites", InviteSpec, lambda first, spec, key: (
        "%s and %s name the same invite (email %s); give each invite once" % (first, spec.where, key)))


class InviteKind(Kind):
    """Invite links: create, replace (delete + create: a new link), regenerate, delete."""

    result_key = "invites"
    single_keys = ("invite", "invite_token", "invite_url", "user_exists", "action")

    def __init__(self, client, check_mode=False, groups=None, dashboard_url=None):
        super().__init__(client, check_mode)
        self.groups = groups or GroupResolver(client)
        self.dashboard_url = dashboard_url or getattr(client, "base_url", "")
        self.invites = None
        self.by_email = {}
        self.users = None

    @classmethod
    def from_params(cls, client, params, check_mode=False):
        """``dashboard_url`` defaults to api_url without /api."""
        return cls(client, check_mode=check_mode, groups=GroupResolver(client, create=bool(params.get("create_groups"))),
                   dashboard_url=params.get("dashboard_url"))

    def prerequisites(self, changes):
        return self.groups.prerequisites(changes)

    # -- reading -----------------------------------------------------------------------------
    def prepare(self, specs):
        self.invites = list_invites(self.client)
        self.by_email = {}
        for invite in self.invites:
            self.by_email.setdefault((invite.get("email") or "").lower(), []).append(invite)
        if any(spec.state == "present" for spec in specs):
            self.users = UserIndex(api.list_users(self.client, service_user=False))
        if any(spec.auto_groups for spec in specs):
            self.groups.load(required=any(self.groups.needs_lookup(spec.auto_groups) for spec in specs if spec.auto_groups))

    def find(self, spec):
        matches = self.by_email.get(spec.email.lower(), [])
        if len(matches) > 1:
            raise NetBirdInputError("%s: %d pending invites have this email (%s); delete the extra ones in the dashboard"
                                    % (spec.label, len(matches), ", ".join(sorted(m.get("id") or "" for m in matches))))
        return matches[0] if matches else None

    def plan_all(self, specs):
        changes = super().plan_all(specs)
        if any(change.changed for change in changes) and not self.groups.loaded:
            self.groups.load()  # so that results and diffs name the groups
        return changes

    # -- planning ----------------------------------------------------------------------------
    def _wanted_groups(self, spec):
        if not spec.auto_groups:
            return []
        if self.groups.readable is False and not self.groups.needs_lookup(spec.auto_groups):
            return sorted(set(spec.auto_groups))
        # NetBird stores unknown group IDs on invites unchecked: every ID must name a group (and never All)
        return self.groups.to_ids(spec.auto_groups, option=spec.opt("auto_groups"))

    def plan(self, spec):
        current = self.find(spec)
        if spec.state == "absent":
            if current is None:
                return Change(spec, None)
            return Change(spec, current, "delete", {"delete": current.get("id")})
        user = (self.users.by_email.get(spec.email.lower()) or [None])[0] if self.users else None
        if user is not None:
            warnings = []
            if current is not None:
                warnings.append("%s: a user with this email exists already, yet an invite for it is pending (id %s)"
                                % (spec.label, current.get("id")))
            return Change(spec, current, "none", None, current, warnings, {"user_exists": True})
        groups = self._wanted_groups(spec)
        role = spec.role or "user"
        body = {"email": spec.email, "name": spec.name, "role": role, "auto_groups": groups}
        if spec.expires_in is not None:
            body["expires_in"] = spec.expires_in
        predicted = {"id": None, "email": spec.email, "name": spec.name, "role": role, "auto_groups": groups,
                     "expires_at": None, "expired": False, "created_at": None}
        if current is None:
            if not spec.name:
                raise NetBirdInputError("%s: %s is required to create an invite" % (spec.label, spec.opt("name")))
            return Change(spec, None, "create", {"create": body}, predicted)
        name = spec.name or current.get("name")
        body["name"] = predicted["name"] = name
        same = (name == current.get("name") and role == (current.get("role") or "").lower()
                and groups == sorted(current.get("auto_groups") or []))
        if not same:
            # NetBird cannot update an invite: delete it and create it again (a new link)
            return Change(spec, current, "replace", {"delete": current.get("id"), "create": body}, predicted)
        expired = bool(current.get("expired"))
        if spec.regenerate == "always" or (spec.regenerate == "expired" and expired):
            regen = {"expires_in": spec.expires_in} if spec.expires_in is not None else {}
            predicted = dict(current, expired=False, expires_at=None)
            return Change(spec, current, "regenerate", {"regenerate": regen}, predicted)
        warnings = []
        if expired:
            warnings.append("%s has expired and regenerate is never: the link no longer works" % spec.label)
        return Change(spec, current, "none", None, current, warnings)

    # -- applying ----------------------------------------------------------------------------
    def apply(self, change, stage=None, previous=None):
        warnings: List[str] = []
        if change.step("delete"):
            self._delete(change, warnings)
            if change.action == "delete":
                return Outcome(change, None, warnings=warnings)
        if change.step("create"):
            try:
                return self._create(change, warnings)
            except NetBirdAPIError as exc:
                if change.action != "replace":
                    raise
                raise ApplyError(exc, Outcome(change, None, warnings=warnings, done=False)) from exc
        return self._regenerate(change, change.current, change.step("regenerate"), warnings)

    def _delete(self, change, warnings):
        try:
            api.delete_invite(self.client, change.step("delete"))
        except NetBirdAPIError as exc:
            if exc.status != 404:
                raise
            warnings.append("%s was already gone when it was deleted (accepted or deleted meanwhile)" % change.label)

    def _create(self, change, warnings):
        body = self.groups.real_body(change.step("create"))
        try:
            created = api.create_invite(self.client, body)
        except AmbiguousWriteError as exc:
            # the answer (and its token) was lost: if the invite exists now, a regenerate hands out a usable link
            found = [i for i in list_invites(self.client) if (i.get("email") or "").lower() == change.spec.email.lower()]
            if not found:
                exc.hint = "%s did not exist afterwards; the request was not re-sent: run the task again" % change.label
                raise
            warnings.append("%s: the answer to the create request was lost (%s), so the new invite's link was regenerated"
                            % (change.label, exc))
            regen = {"expires_in": body["expires_in"]} if "expires_in" in body else {}
            return self._regenerate(change, found[0], regen, warnings)
        created = dict(created or {})
        token = created.pop("invite_token", None)
        return Outcome(change, created, self._secrets(token), warnings)

    def _regenerate(self, change, invite, body, warnings):
        answer = api.regenerate_invite(self.client, invite.get("id"), body or {})
        answer = answer or {}
        raw = dict(invite, expired=False, expires_at=answer.get("invite_expires_at") or invite.get("expires_at"))
        return Outcome(change, raw, self._secrets(answer.get("invite_token")), warnings)

    def _secrets(self, token):
        if not token:
            return {}
        return {"invite_token": token, "invite_url": invite_url(self.dashboard_url, token)}

    # -- results -----------------------------------------------------------------------------
    def view(self, change, outcome, partial=False):
        shown = change.current if change.action == "delete" else outcome.result
        entry = {"email": change.spec.email, "invite": public_invite(shown, self.groups), "changed": outcome.change.changed,
                 "action": outcome.change.action, "user_exists": bool(change.info.get("user_exists"))}
        entry.update(outcome.secrets)
        return entry

    def done_text(self, change, outcome, stage=None):
        if not outcome.change.changed:
            return None
        return "%s %s" % (PAST_INVITE.get(change.action, change.action), change.spec.email)

    def failure_text(self, change, outcome, stage, exc):
        if change.action == "replace" and outcome is not None and not outcome.done:
            return "%s: the old invite was deleted (its link no longer works) but creating the new one failed: %s" % (change.label, exc)
        return "%s: %s" % (change.label, exc)

    def diff_view(self, raw):
        if raw is None:
            return {"state": "absent"}
        groups = sorted(raw.get("auto_groups") or [])
        return {"state": "present", "email": raw.get("email"), "name": raw.get("name"), "role": raw.get("role"),
                "auto_groups": self.groups.to_names(groups) if self.groups.readable else groups,
                "expired": bool(raw.get("expired"))}

    def diff(self, change, outcome=None):
        before = self.diff_view(change.current)
        after = self.diff_view(None if change.action == "delete" else change.predicted)
        if change.action in ("create", "replace", "regenerate"):
            after["link"] = "new"  # never the link itself
        return {"before": before, "after": after, "before_header": change.spec.email, "after_header": change.spec.email}

    def finish(self, result, entries, changes, outcomes):
        self.groups.report(result, self.check_mode)
        if self.result_key in result:
            summary: Dict[str, List[Any]] = dict((key, []) for key in ("invited", "reinvited", "regenerated", "deleted", "unchanged", "user_exists"))
            names = {"create": "invited", "replace": "reinvited", "regenerate": "regenerated", "delete": "deleted"}
            for entry in entries:
                if entry.get("failed"):
                    continue
                key = "user_exists" if entry.get("user_exists") else names.get(entry["action"], "unchanged")
                summary[key].append(entry["email"])
            result["summary"] = summary


run_invites = module_runner(InviteKind.from_params, invite_specs, "invites")
