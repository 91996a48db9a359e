# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The users kind: lookup, read-merge-write planning, applying, and how results show a user.

It plugs into the core (``_core.BatchRunner``) with find / plan / apply / view; the runner does the
rest. Also the one user index every family uses. Private to netbird_ops.netbird; not a public API.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.netbird_ops.netbird.plugins.module_utils import _resources as api
from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import AmbiguousWriteError, NetBirdAPIError, NetBirdError, NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._audit import AuditLog, state_known, state_reported, with_state
from ansible_collections.netbird_ops.netbird.plugins.module_utils._core import (
    PAST,
    EXCLUSIVE,
    ApplyError,
    Change,
    Kind,
    Outcome,
    Spec,
)
from ansible_collections.netbird_ops.netbird.plugins.module_utils._groups import GroupResolver
from ansible_collections.netbird_ops.netbird.plugins.module_utils._rules import check_email, group_refs, normalize_role
from ansible_collections.netbird_ops.netbird.plugins.module_utils._task import build_specs, entry_keys, module_runner

GROUP_MODES = ("replace", "add", "remove")


def user_entry_argument_spec():
    """Argument spec of one user; in batch mode it is the ``users`` element spec (``_rules``: its own checks)."""
    spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        user_id=dict(type="str"),
        email=dict(type="str"),
        name=dict(type="str"),
        service_user=dict(type="bool", aliases=["is_service_user"]),
        role=dict(type="str"),
        auto_groups=dict(type="list", elements="str", aliases=["groups"]),
        auto_groups_mode=dict(type="str", choices=list(GROUP_MODES), default="replace"),
        blocked=dict(type="bool", aliases=["is_blocked"]),
        resend_invite=dict(type="bool", default=False),
        old_password=dict(type="str", no_log=True),
        new_password=dict(type="str", no_log=True),
        _rules=dict(required_together=[("old_password", "new_password")]),
    )
    return spec


# Options of one user entry (single-user mode and every element of ``users``), from the spec.
USER_ENTRY_KEYS = entry_keys(dict((k, v) for k, v in user_entry_argument_spec().items() if not k.startswith("_")))


def public_user(raw, groups=None):
    """The user dict this collection returns: stable keys, sorted group IDs, group names where readable."""
    if raw is None:
        return None
    auto_groups = sorted(raw.get("auto_groups") or [])
    known = state_known(raw)
    user = {
        "id": raw.get("id"),
        "email": raw.get("email"),
        "name": raw.get("name"),
        "role": raw.get("role"),
        "status": raw.get("status") if known else None,
        "auto_groups": auto_groups,
        "is_service_user": bool(raw.get("is_service_user", False)),
        # a stub's is_blocked / pending_approval / status say nothing (external IdP): null, not a false "false"
        "is_blocked": bool(raw.get("is_blocked", False)) if known else None,
        "pending_approval": bool(raw.get("pending_approval", False)) if known else None,
        "state_reported": state_reported(raw),
        "is_current": bool(raw.get("is_current", False)),
        "last_login": raw.get("last_login"),
        "issued": raw.get("issued"),
    }
    if groups is not None and groups.readable:
        user["auto_groups_names"] = groups.to_names(auto_groups)
    return user


def user_label(raw_or_spec):
    if raw_or_spec is None:
        return "user"
    if isinstance(raw_or_spec, UserSpec):
        return raw_or_spec.label
    if raw_or_spec.get("is_service_user"):
        return "service user %r" % raw_or_spec.get("name")
    return "user %s" % (raw_or_spec.get("email") or raw_or_spec.get("id"))


def user_key(raw):
    """How results name a user: email for regular users, name for service users."""
    if raw.get("is_service_user"):
        return raw.get("name")
    return raw.get("email") or raw.get("id")


class UserSpec(Spec):
    """One desired user, validated statically (before any request)."""

    keys = USER_ENTRY_KEYS
    cleaned = ("user_id", "email", "name", "role")
    state: str
    user_id: Optional[str]
    email: Optional[str]
    name: Optional[str]
    service_user: Optional[bool]
    role: Optional[str]
    auto_groups: Optional[List[str]]
    auto_groups_mode: str
    blocked: Optional[bool]
    resend_invite: bool
    old_password: Optional[str]
    new_password: Optional[str]

    @property
    def label(self):
        who = self.email or (self.name and "service user %r" % self.name if self.service_user else self.name) or self.user_id
        if self.where:
            return "%s (%s)" % (self.where, who or "current user")
        return who or "the token's own user"

    @property
    def password_change(self):
        return self.new_password is not None or self.old_password is not None

    def validate(self):
        """The rules between options that the argument spec cannot express (choices and types it checked)."""
        o = self.opt
        self.state = self.state or "present"
        self.role = normalize_role(self.role, o("role"))
        self.auto_groups_mode = self.auto_groups_mode or "replace"
        self.resend_invite = bool(self.resend_invite)
        self.auto_groups = group_refs(self.auto_groups, o("auto_groups"))
        check_email(o("email"), self.email)
        if self.service_user:
            if self.email:
                self.fail("%s does not apply to service users (set only %s); service users are identified by name"
                          % (o("email"), o("name")))
            if self.role == "owner":
                self.fail("%s owner is not allowed for a service user (NetBird refuses it)" % o("role"))
            if self.password_change:
                self.fail("%s/%s do not apply to service users: they have no password" % (o("old_password"), o("new_password")))
            if self.resend_invite:
                self.fail("%s does not apply to service users: they are never invited" % o("resend_invite"))
            if not (self.name or self.user_id):
                self.fail("%s is required to identify a service user (or give %s)" % (o("name"), o("user_id")))
        if self.password_change:
            if self.old_password == self.new_password:
                self.fail("%s must differ from %s" % (o("new_password"), o("old_password")))
            if self.state == "absent":
                self.fail("%s/%s cannot be combined with %s=absent" % (o("old_password"), o("new_password"), o("state")))
        if self.state == "absent":
            for key in ("role", "auto_groups", "blocked"):
                if getattr(self, key) is not None:
                    self.fail("%s cannot be combined with %s=absent" % (o(key), o("state")))
            if self.resend_invite:
                self.fail("%s cannot be combined with %s=absent" % (o("resend_invite"), o("state")))
        if not (self.user_id or self.email or self.name or self.password_change):
            self.fail("%s needs %s, %s (regular user) or %s (service user) to identify the user"
                      % (self.where or "the task", o("user_id"), o("email"), o("name")))
        if not self.user_id and not self.email and self.name and not self.service_user and not self.password_change:
            self.fail("%s is required to identify or create a regular user; set %s: true to manage the service user %r"
                      % (o("email"), o("service_user"), self.name))

    def identity(self):
        """A key that identifies the entry, to find duplicates in a batch."""
        if self.user_id:
            return ("id", self.user_id)
        if self.email:
            return ("email", self.email.lower())
        if self.name:
            return ("service", self.name)
        return ("current", None)


class UserIndex:
    """One user list indexed by ID, by lower-case email (regular users) and by name (service users)."""

    def __init__(self, users):
        self.users = users
        self.by_id: Dict[Any, Dict[str, Any]] = {}
        self.by_email: Dict[str, List[Dict[str, Any]]] = {}
        self.by_service_name: Dict[Any, List[Dict[str, Any]]] = {}
        self.regular_names = set()
        self.current = None
        for user in users:
            self.by_id.setdefault(user.get("id"), user)
            if user.get("is_service_user"):
                self.by_service_name.setdefault(user.get("name"), []).append(user)
            else:
                self.by_email.setdefault((user.get("email") or "").lower(), []).append(user)
                self.regular_names.add(user.get("name"))
            if self.current is None and user.get("is_current"):
                self.current = user


def list_filter(specs):
    """``service_user=`` filter for the one list call, when every spec is of one kind."""
    kinds = set()
    for spec in specs:
        if spec.user_id or (spec.password_change and not (spec.email or spec.name)):
            return None
        kinds.add(bool(spec.service_user))
    return kinds.pop() if len(kinds) == 1 else None


def summarize(entries):
    """Batch results by outcome: created, updated, deleted, unchanged; each a list of emails (names for service users).

    Built here, in one pass, so that callers such as the onboarding role need no per-user templating.
    """
    summary: Dict[str, List[Any]] = dict((past, []) for past in ("created", "updated", "deleted", "unchanged"))
    for entry in entries:
        if entry.get("user"):
            summary[PAST.get(entry.get("action"), "unchanged")].append(user_key(entry["user"]))
    return summary


def user_specs(params):
    """UserSpecs from the module parameters: one in single mode, one per element of ``users``."""
    return build_specs(params, "users", UserSpec, lambda first, spec, key: (
        "%s and %s name the same user (%s %s); give each user once" % (first, spec.where, key[0], key[1])))


class UserKind(Kind):
    """Users: one list call and at most one groups call per run; the audit log only for stub users."""

    result_key = "users"
    single_keys = ("user", "password")
    concurrent = True  # apply() keeps no state between changes; a lost create re-reads a list of its own

    def lane(self, change):
        """The account owner changes, and so does the token's own user, only alone (ownership moves between them)."""
        current = change.current if isinstance(change.current, dict) else {}
        if current.get("is_current") or current.get("role") == "owner" or getattr(change.spec, "role", None) == "owner":
            return EXCLUSIVE
        return super().lane(change)

    def __init__(self, client, check_mode=False, groups=None):
        super().__init__(client, check_mode)
        self.groups = groups or GroupResolver(client)  # create_groups lives there
        self._users = None
        self._peers: Any = None   # {user id: peers}, False when unreadable
        self._index = None          # UserIndex of self._users, built on first lookup
        self.audit = AuditLog(client)  # read only when a stub user's blocked state is needed

    @classmethod
    def from_params(cls, client, params, check_mode=False):
        return cls(client, check_mode=check_mode, groups=GroupResolver(client, create=bool(params.get("create_groups"))))

    def prerequisites(self, changes):
        return self.groups.prerequisites(changes)

    # -- reading -----------------------------------------------------------------------------
    def load_users(self, service_user=None):
        self._users = api.list_users(self.client, service_user=service_user)
        return self._users

    def prepare(self, specs):
        if specs:
            self.load_users(service_user=list_filter(specs))

    @property
    def users(self):
        if self._users is None:
            self.load_users()
        return self._users

    @property
    def index(self):
        """Lookups into the user list, built once per list (a batch of n users costs O(n), not O(n^2))."""
        users = self.users
        if self._index is None or self._index.users is not users:
            self._index = UserIndex(users)
        return self._index

    def current_user(self):
        return self.index.current

    def peers_of(self, user_id):
        """How many peers the user owns (the server deletes them with the user); None if unreadable."""
        if self._peers is None:
            counts, dummy = api.peer_counts(self.client)
            self._peers = False if counts is None else counts
        if self._peers is False:
            return None
        return self._peers.get(user_id, 0)

    def find(self, spec, users=None):
        """The raw user a spec refers to, or None. Raises on ambiguity."""
        index = self.index if users is None else UserIndex(users)
        if spec.user_id:
            return index.by_id.get(spec.user_id)
        if spec.email:
            matches = index.by_email.get(spec.email.lower(), [])
            what = "email %s" % spec.email
        elif spec.name:
            matches = index.by_service_name.get(spec.name, [])
            what = "service user name %r" % spec.name
        else:
            return index.current
        if len(matches) > 1:
            raise NetBirdInputError("%s: %s matches %d users (%s); give %s instead"
                                    % (spec.label, what, len(matches), ", ".join(sorted(str(m.get("id")) for m in matches)),
                                       spec.opt("user_id")))
        return matches[0] if matches else None

    def reread(self, spec):
        """The user a spec refers to, from a fresh list (after a lost or refused create)."""
        users = api.list_users(self.client, service_user=bool(spec.service_user))
        return self.find(spec, users=users)

    # -- planning ----------------------------------------------------------------------------
    def resolve_groups(self, spec, current_ids):
        """The desired sorted group IDs, or None when auto_groups is not managed."""
        if spec.auto_groups is None:
            return None
        if self.groups.loaded or self.groups.needs_lookup(spec.auto_groups):
            # removing a group that does not exist is no reason to create it (create_groups)
            wanted = self.groups.to_ids(spec.auto_groups, option=spec.opt("auto_groups"),
                                        create=spec.auto_groups_mode != "remove") or []
        else:
            # IDs alone compare without the group list; _require_valid_ids reads it before any write.
            wanted = sorted(set(spec.auto_groups))
        current = set(current_ids or [])
        if spec.auto_groups_mode == "add":
            return sorted(current | set(wanted))
        if spec.auto_groups_mode == "remove":
            return sorted(current - set(wanted))
        return sorted(wanted)

    def plan_all(self, specs):
        changes = super().plan_all(specs)
        if any(change.changed for change in changes) and not self.groups.loaded:
            # one groups call so that diffs and results show group names
            self.groups.load()
        return changes

    def plan(self, spec, current=None):
        current = self.find(spec) if current is None else current
        if spec.state == "absent":
            return self._plan_absent(spec, current)
        if current is None:
            if spec.user_id:
                raise NetBirdInputError("%s: no user with %s %r exists; a user cannot be created with a chosen ID "
                                        "(omit %s and give %s to create one)"
                                        % (spec.label, spec.opt("user_id"), spec.user_id, spec.opt("user_id"), spec.opt("email")))
            if spec.password_change and not (spec.email or spec.name):
                raise NetBirdInputError("cannot find the token's own user in the user list, so its password cannot be changed "
                                        "(service users have no password)")
            return self._plan_create(spec)
        return self._plan_update(spec, current)

    def _plan_create(self, spec):
        service = bool(spec.service_user)
        if spec.password_change:
            raise NetBirdInputError("%s: old_password/new_password change the token's own password; %s does not exist yet"
                                    % (spec.label, spec.label))
        if not service:
            if not spec.email:
                raise NetBirdInputError("%s: %s is required to create a regular user" % (spec.label, spec.opt("email")))
            if not spec.name:
                raise NetBirdInputError("%s: %s is required to create a regular user" % (spec.label, spec.opt("name")))
        role = spec.role or "user"
        if role == "owner":
            raise NetBirdInputError("%s: %s owner cannot be given when creating a user (NetBird refuses it); create the user, "
                                    "then transfer ownership in a later task" % (spec.label, spec.opt("role")))
        groups = self.resolve_groups(spec, [])
        if groups:
            self._require_valid_ids(spec, groups)
        request = {"create": {"role": role, "auto_groups": groups or [], "is_service_user": service, "name": spec.name}}
        if not service:
            request["create"]["email"] = spec.email
        if spec.blocked:
            request["put"] = {"role": role, "auto_groups": groups or [], "is_blocked": True}
        warnings = []
        if spec.resend_invite:
            warnings.append("%s: resend_invite ignored: a new user gets its invite when it is created" % spec.label)
        predicted = {
            "id": None, "email": spec.email or "", "name": spec.name, "role": role, "status": "blocked" if spec.blocked else None,
            "auto_groups": groups or [], "is_service_user": service, "is_blocked": bool(spec.blocked),
            "pending_approval": False, "is_current": False, "last_login": None, "issued": "api",
        }
        return Change(spec, None, "create", request, predicted, warnings)

    def _require_valid_ids(self, spec, ids):
        """Before a write: IDs must name existing groups (create stores them unchecked), and never All."""
        if not self.groups.loaded:
            self.groups.load()
        if self.groups.readable:
            self.groups.to_ids(ids, option=spec.opt("auto_groups"))

    def _plan_update(self, spec, cur):
        label = user_label(cur) if not spec.where else "%s (%s)" % (spec.where, user_key(cur))
        warnings = []
        if spec.service_user is not None and bool(spec.service_user) != bool(cur.get("is_service_user")):
            raise NetBirdInputError("%s is a %s user; %s cannot be changed after creation"
                                    % (label, "service" if cur.get("is_service_user") else "regular", spec.opt("service_user")))
        if spec.name and spec.name != cur.get("name") and not cur.get("is_service_user"):
            warnings.append("%s: name %r differs from the server's %r, but NetBird cannot rename users; left as it is"
                            % (label, spec.name, cur.get("name")))
        if spec.email and cur.get("email") and spec.email.lower() != cur.get("email", "").lower():
            raise NetBirdInputError("%s has email %s, not %s: NetBird cannot change a user's email"
                                    % (label, cur.get("email"), spec.email))
        cur_role = (cur.get("role") or "").lower()
        cur_groups = sorted(cur.get("auto_groups") or [])
        role = spec.role if spec.role is not None else cur_role
        groups = self.resolve_groups(spec, cur_groups)
        if groups is None:
            groups = cur_groups
        if not state_known(cur) and (spec.blocked is not None or role != cur_role or groups != cur_groups):
            cur = self._learn_state(spec, cur, label, warnings)
        cur_blocked = bool(cur.get("is_blocked")) if state_known(cur) else None
        is_self = bool(cur.get("is_current"))
        pending = bool(cur.get("pending_approval")) and state_known(cur)

        blocked = cur_blocked if spec.blocked is None else bool(spec.blocked)
        if pending and not blocked:
            warnings.append("%s is pending approval: netbird_user never unblocks or approves it; "
                            "use netbird_ops.netbird.netbird_user_approval" % label)
            blocked = cur_blocked

        if role != cur_role:
            self._check_role_change(spec, cur, label, role, cur_role, is_self, warnings)
        if blocked != cur_blocked and (cur_blocked is not None or blocked):
            if is_self:
                raise NetBirdInputError("%s: you cannot block or unblock your own user (NetBird refuses it)" % label)
            if blocked and (role == "owner" or cur_role == "owner"):
                raise NetBirdInputError("%s: the owner cannot be blocked (NetBird refuses it)" % label)

        request: Dict[str, Any] = {}
        action = "none"
        if role != cur_role or groups != cur_groups or blocked != cur_blocked:
            if groups != cur_groups:
                self._require_valid_ids(spec, [g for g in groups if g not in cur_groups])
            action = "update"
            request["put"] = {"role": role, "auto_groups": groups, "is_blocked": blocked}
        predicted = dict(cur)
        predicted.update({"role": role, "auto_groups": groups})
        if blocked is not None:
            predicted["is_blocked"] = blocked
            if cur_blocked is None:
                predicted = with_state(predicted, blocked)
            elif blocked and not cur_blocked:
                predicted["status"] = "blocked"
            elif cur_blocked and not blocked:
                predicted["status"] = "active"

        if spec.resend_invite:
            if cur.get("is_service_user"):
                raise NetBirdInputError("%s: resend_invite does not apply to service users" % label)
            if cur.get("status") == "invited":
                request["invite"] = True
        if spec.password_change:
            if not is_self:
                raise NetBirdInputError("%s: old_password/new_password change only the token's own password; %s is another user"
                                        % (label, label))
            request["password"] = {"old_password": spec.old_password, "new_password": spec.new_password}
        return Change(spec, cur, action, request, predicted, warnings)

    def _check_role_change(self, spec, cur, label, role, cur_role, is_self, warnings):
        if is_self:
            raise NetBirdInputError("%s: you cannot change your own role (%s -> %s); NetBird refuses it, use another admin's token"
                                    % (label, cur_role, role))
        if cur.get("is_service_user") and role == "owner":
            raise NetBirdInputError("%s: %s owner is not allowed for a service user" % (label, spec.opt("role")))
        actor_role = (self.current_user() or {}).get("role")
        if role == "owner" and actor_role and actor_role != "owner":
            raise NetBirdInputError("%s: only the owner can give the owner role; the token's user is %s" % (label, actor_role))
        if cur_role == "owner" and actor_role and actor_role != "owner":
            raise NetBirdInputError("%s: only the owner can take the owner role away" % label)
        if role == "owner":
            warnings.append("%s becomes the account owner: NetBird demotes the current owner (the token's user) to admin" % label)
            if cur.get("status") == "invited":
                warnings.append("%s has not accepted the invite yet (status invited) but is made owner" % label)

    def _learn_state(self, spec, cur, label, warnings):
        """A stub user (external IdP) whose blocked state a write depends on: learn it from the audit log.

        Known: the stub with that state. Unknown: an explicit ``blocked`` is written as the task says (with a
        warning); without one the task fails here, before any write, rather than unblock.
        """
        state = self.audit.state_of(cur.get("id"))
        if state.known:
            return with_state(cur, state.blocked, state.pending)
        why = ("the server lists it as a stub that does not report the blocked state (external IdP, NetBird issue #6651) "
               "and the audit log %s" % state.reason)
        if spec.blocked is None:
            raise NetBirdInputError("%s: cannot tell whether it is blocked (%s), so this change could unblock it; set %s "
                                    "explicitly on the task" % (label, why, spec.opt("blocked")))
        warnings.append("%s: its blocked state is unknown (%s), so blocked=%s is written and reported as a change"
                        % (label, why, str(bool(spec.blocked)).lower()))
        return cur

    def _plan_absent(self, spec, cur):
        if cur is None:
            return Change(spec, None)
        label = user_label(cur)
        if cur.get("is_current"):
            raise NetBirdInputError("%s: you cannot delete your own user (NetBird refuses self deletion)" % label)
        if (cur.get("role") or "").lower() == "owner":
            raise NetBirdInputError("%s: the owner cannot be deleted; transfer ownership first" % label)
        warnings = []
        peers = None
        if not cur.get("is_service_user"):
            peers = self.peers_of(cur.get("id"))
            if peers is None:
                warnings.append("%s will be deleted together with every peer it registered" % label)
            elif peers:
                warnings.append("%s will be deleted together with its %d peer%s (NetBird deletes a user's peers with it)"
                                % (label, peers, "" if peers == 1 else "s"))
        return Change(spec, cur, "delete", {"delete": True}, None, warnings, {"peers": peers})

    # -- applying ----------------------------------------------------------------------------
    def apply(self, change, stage=None, previous=None):
        """Carry out one change; returns an Outcome (result: the raw user afterwards, secrets: a one-time password)."""
        if not change.changed:
            return self.predict(change)  # a create raced by another writer, replanned against its user: nothing to do
        if change.action == "create":
            return self._apply_create(change)
        if change.action == "delete":
            warnings = []
            try:
                api.delete_user(self.client, change.current["id"])
            except NetBirdAPIError as exc:
                if exc.status != 404:
                    raise
                warnings.append("%s was already gone when it was deleted (deleted by someone else, or by an earlier attempt "
                                "whose answer was lost)" % user_label(change.current))
            return Outcome(change, None, warnings=warnings)
        user = change.current
        if change.step("put"):
            user = self._put(change.current, change.step("put"))
        if change.step("invite"):
            api.resend_invite(self.client, change.current["id"])
        if change.step("password"):
            # not idempotent: once the change took effect, the same request is refused (wrong old password)
            try:
                api.change_password(self.client, change.current["id"], change.step("password"))
            except AmbiguousWriteError as exc:
                exc.hint = ("The password may or may not have been changed; the request was not re-sent, since a second attempt "
                            "is refused once the first took effect: try to log in with new_password before running the task again")
                raise
        return Outcome(change, user)

    def _put(self, current, body):
        try:
            user = api.update_user(self.client, current["id"], self.groups.real_body(body))
        except NetBirdAPIError as exc:
            if exc.status == 404:
                exc.hint = "%s was deleted by someone else after it was read" % user_label(current)
            raise
        if isinstance(user, dict) and not state_reported(user):
            # the answer is a stub too: the state is the one just written
            user = with_state(user, body["is_blocked"], body["is_blocked"] and state_known(current) and current.get("pending_approval"))
        return user

    def _apply_create(self, change, again=False):
        spec = change.spec
        warnings = []
        try:
            created = api.create_user(self.client, self.groups.real_body(change.step("create")))
        except AmbiguousWriteError as exc:
            # Timeout, reset, 502-504 or an unreadable answer: the server may or may not have created the user.
            created = self.reread(spec)
            if created is not None:
                warnings.append("%s: the answer to the create request was lost (%s) but the user exists now; "
                                "a one-time password, if the server made one, could not be read" % (spec.label, exc))
            elif spec.service_user:
                # NetBird refuses a second regular user with the same email (409) but not a second service user
                # with the same name: re-sending could duplicate it, the request may still be running on the server.
                exc.hint = ("%s did not exist afterwards; the create request was not re-sent, because the server may still "
                            "be carrying it out and NetBird does not refuse a duplicate service user: check the users "
                            "(netbird_user_info) and run the task again" % spec.label)
                raise
            elif again:
                exc.hint = "%s did not exist after two create requests without a usable answer; nothing more was sent" % spec.label
                raise
            else:
                outcome = self._apply_create(change, again=True)
                outcome.warnings.insert(0, "%s: the create request got no usable answer (%s) and the user did not exist "
                                           "afterwards, so it was sent once more (NetBird refuses a second user with the "
                                           "same email)" % (spec.label, exc))
                return outcome
        except NetBirdAPIError as exc:
            if exc.status == 412 and not spec.service_user:
                exc.hint = ("The server has no identity provider that can create users (no IdP manager, or local users disabled); "
                            "create the user in your IdP, or use service_user: true")
                raise
            if exc.status != 409:
                raise
            # Raced by another writer: converge on the user it created, with a new change planned against it.
            created = self.reread(spec)
            if created is None:
                raise
            replanned = self._plan_update(spec, created)
            outcome = self.apply(replanned)
            outcome.warnings[:0] = ["%s was created concurrently by another client; updated it instead" % spec.label]
            outcome.warnings[1:1] = list(replanned.warnings)
            return Outcome(replanned.evolve(action="create" if replanned.action == "none" else replanned.action),
                           outcome.result, warnings=outcome.warnings)
        password = None
        if isinstance(created, dict):
            created = dict(created)
            password = created.pop("password", None)
        secrets = {"password": password} if password else {}
        if change.step("put") is not None:
            try:
                created = self._put(created, change.step("put"))
            except NetBirdError as exc:
                partial = Outcome(change, created, secrets, warnings, done=False)
                raise ApplyError(exc, partial, "%s was created (id %s) but blocking it failed: %s"
                                 % (spec.label, (created or {}).get("id"), exc)) from exc
        return Outcome(change, created, secrets, warnings)

    # -- results -----------------------------------------------------------------------------
    def view(self, change, outcome, partial=False):
        """One result entry: the user afterwards (before, for a deletion), whether it changed, and the action.

        ``partial`` (the run failed): the entry also names the user as the task did (``email``, ``name``, ``user_id``),
        so that a failed create, which has no user, can be matched to its input."""
        shown = change.current if change.spec.state == "absent" else outcome.result
        entry = {"user": public_user(shown, self.groups), "changed": outcome.change.changed, "action": outcome.change.action}
        if outcome.secrets.get("password"):
            entry["password"] = outcome.secrets["password"]
        if partial:
            spec = change.spec
            entry.update(email=spec.email, name=spec.name, user_id=spec.user_id or (outcome.result or change.current or {}).get("id"))
        return entry

    def brief(self, change, outcome, partial=False):
        """An unchanged user the result does not list: its name for ``summary`` (10,000 full views cost a re-run
        about a tenth of its time)."""
        shown = change.current if change.spec.state == "absent" else outcome.result
        if outcome.change.changed or partial or shown is None:
            return self.view(change, outcome, partial)
        user = {"id": shown.get("id"), "email": shown.get("email"), "name": shown.get("name"),
                "is_service_user": bool(shown.get("is_service_user", False))}
        return {"user": user, "changed": False, "action": outcome.change.action}

    def done_text(self, change, outcome, stage=None):
        change = outcome.change
        if not change.changed:
            return None
        shown = change.current if change.spec.state == "absent" else outcome.result
        name = user_key(shown or change.current or {}) or change.spec.label
        what = [PAST.get(outcome.change.action, outcome.change.action)] if outcome.change.action != "none" else []
        if change.step("invite"):
            what.append("invite re-sent")
        if change.step("password"):
            what.append("password changed")
        return "%s %s" % (", ".join(what), name)

    def failure_text(self, change, outcome, stage, exc):
        return "%s: %s" % (change.spec.label, exc)

    def diff_view(self, raw, peers=None):
        if raw is None:
            return {"state": "absent"}
        view = {
            "state": "present",
            "email": raw.get("email") or "",
            "name": raw.get("name"),
            "service_user": bool(raw.get("is_service_user")),
            "role": raw.get("role"),
            "auto_groups": self.groups.to_names(raw.get("auto_groups") or []) if self.groups.readable else sorted(raw.get("auto_groups") or []),
            "blocked": bool(raw.get("is_blocked")) if state_known(raw) else None,
        }
        if raw.get("pending_approval") and state_known(raw):
            view["pending_approval"] = True
        if peers is not None:
            view["peers"] = peers
        return view

    def diff(self, change, outcome=None):
        before = self.diff_view(change.current, peers=change.info.get("peers"))
        after = self.diff_view(change.predicted if change.spec.state == "present" else None)
        label = user_key(change.current or change.predicted or {}) or change.spec.label
        return {"before": before, "after": after, "before_header": label, "after_header": label}

    def finish(self, result, entries, changes, outcomes):
        if self.result_key in result:
            result["summary"] = summarize(entry for entry in entries if not entry.get("failed"))
        self.groups.report(result, self.check_mode)
        peers_deleted = {}
        for index, change in enumerate(changes):
            outcome = outcomes.get(index)
            if change.action == "delete" and change.info.get("peers") is not None and outcome is not None and outcome.done:
                peers_deleted[user_key(change.current) or change.spec.label] = change.info["peers"]
        if peers_deleted:
            result["peers_deleted"] = peers_deleted


run_users = module_runner(UserKind.from_params, user_specs, "users")
