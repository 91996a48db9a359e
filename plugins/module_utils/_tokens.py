# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Personal access tokens (PATs): lookup, the server's access rules, planning, rotation.

One user list per run (to find the token's own user and the target users), one token list per
target user, every decision made before the first write. Rotation creates the new token before
it deletes the old one, so automation that uses the token never loses access; in a batch, all
creations run before all deletions for the same reason. The plain token is only ever put into
the ``plain_token`` key of a result. Private to netbird_ops.netbird; not a public API.
"""

from __future__ import annotations

import datetime
from typing import Any, Dict, List, Optional

from ansible_collections.netbird_ops.netbird.plugins.module_utils import _resources as api
from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import AmbiguousWriteError, NetBirdAPIError, NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._common import format_time, parse_time, utcnow
from ansible_collections.netbird_ops.netbird.plugins.module_utils._core import PAST, Change, Kind, Outcome, Spec
from ansible_collections.netbird_ops.netbird.plugins.module_utils._task import build_specs, entry_keys, module_runner
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import UserKind, user_label

# NetBird's limits (PATMinExpireDays / PATMaxExpireDays).
EXPIRES_MIN = 1
EXPIRES_MAX = 365

# Roles whose permission sets include writes on the ``pats`` module; auditors may only read.
PAT_WRITE_ROLES = ("owner", "admin", "network_admin")
PAT_READ_ROLES = PAT_WRITE_ROLES + ("auditor",)
# Roles that may manage the tokens of service users besides their own.
ADMIN_ROLES = ("owner", "admin")


def token_entry_argument_spec():
    """Argument spec of one token; in batch mode it is the ``tokens`` element spec (``_rules``: its own checks)."""
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        user_id=dict(type="str"),
        user_name=dict(type="str"),
        name=dict(type="str"),
        token_id=dict(type="str"),
        expires_in=dict(type="int"),
        rotate_before_days=dict(type="int"),
        _rules=dict(mutually_exclusive=[("user_id", "user_name")]),
    )


# Options of one token entry (single mode, and every element of ``tokens``), from the spec.
TOKEN_ENTRY_KEYS = entry_keys(dict((k, v) for k, v in token_entry_argument_spec().items() if not k.startswith("_")))


def public_token(raw):
    """The token metadata this collection returns; never a secret."""
    if raw is None:
        return None
    return {
        "id": raw.get("id"),
        "name": raw.get("name"),
        "expiration_date": raw.get("expiration_date"),
        "created_by": raw.get("created_by"),
        "created_at": raw.get("created_at"),
        "last_used": raw.get("last_used"),
    }


def sort_tokens(tokens):
    return sorted(tokens, key=lambda t: (t.get("name") or "", t.get("created_at") or "", t.get("id") or ""))


def access_problem(actor, target, write):
    """Why NetBird would refuse ``actor`` reading (or writing) ``target``'s tokens, or None.

    Rules (netbird-api.md 4.3, 4.7): the ``pats`` permission (owner, admin, network_admin write;
    auditor reads; service users read everything; ``user`` and ``billing_admin`` nothing), and the
    target rule: the actor is the target, or an owner/admin and the target a service user.
    """
    if actor is None or target is None:
        return None  # cannot tell: the server decides
    role = (actor.get("role") or "").lower()
    who = "the token's user (%s, role %s)" % (user_label(actor), role or "unknown")
    if role == "billing_admin":
        return ("%s has no permissions in NetBird: every API call it makes is refused, personal access tokens included"
                % who)
    if role == "user" and not (actor.get("is_service_user") and not write):
        return ("%s may not manage personal access tokens, not even its own: NetBird allows it to the roles owner, admin "
                "and network_admin (auditor may read them)" % who)
    if write and role not in PAT_WRITE_ROLES:
        return ("%s may only read personal access tokens, not create or delete them: NetBird allows that to the roles "
                "owner, admin and network_admin" % who)
    if not write and role not in PAT_READ_ROLES and not actor.get("is_service_user"):
        return "%s may not read personal access tokens" % who
    same = target.get("id") is not None and target.get("id") == actor.get("id")
    if same:
        return None
    if role in ADMIN_ROLES:
        if target.get("is_service_user"):
            return None
        return ("%s may manage the personal access tokens of its own user and of service users only; %s is a regular "
                "user, so only that user can manage its tokens (NetBird answers 403 'admin role required to perform "
                "this action')" % (who, user_label(target)))
    return ("%s may manage only its own personal access tokens, not those of %s: managing other users' tokens needs the "
            "role owner or admin, and then only for service users" % (who, user_label(target)))


class TokenSpec(Spec):
    """One desired token, validated statically (before any request)."""

    keys = TOKEN_ENTRY_KEYS
    cleaned = ("user_id", "user_name", "name", "token_id")
    state: str
    user_id: Optional[str]
    user_name: Optional[str]
    name: Optional[str]
    token_id: Optional[str]
    expires_in: Optional[int]
    rotate_before_days: Optional[int]

    @property
    def owner_label(self):
        if self.user_id:
            return "user %s" % self.user_id
        if self.user_name:
            return "service user %r" % self.user_name
        return "the token's own user"

    @property
    def label(self):
        return self.label_for(None)

    def label_for(self, target):
        """How messages name this token; with the resolved user when there is one."""
        what = "token %r" % self.name if self.name else "token %s" % self.token_id
        owner = user_label(target) if target and target.get("id") else self.owner_label
        text = "%s of %s" % (what, owner)
        return "%s (%s)" % (self.where, text) if self.where else text

    def validate(self):
        """The rules between options that the argument spec cannot express (choices and exclusions it checked)."""
        o = self.opt
        self.state = self.state or "present"
        for key, low, high in (("expires_in", EXPIRES_MIN, EXPIRES_MAX), ("rotate_before_days", 0, EXPIRES_MAX - 1)):
            value = getattr(self, key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail("%s must be a whole number of days, got %r" % (o(key), value))
            if not low <= value <= high:
                if key == "expires_in":
                    self.fail("%s must be between %d and %d days (NetBird's limits), got %d" % (o(key), low, high, value))
                self.fail("%s must be between %d and %d days, got %d" % (o(key), low, high, value))
        if self.state == "present":
            if self.token_id:
                self.fail("%s applies only to %s=absent; a token is identified by %s and cannot be created with a chosen ID"
                          % (o("token_id"), o("state"), o("name")))
            if not self.name:
                self.fail("%s is required: tokens are identified by name" % o("name"))
            if self.expires_in is None:
                self.fail("%s is required with %s=present: the token's lifetime in days (%d-%d)"
                          % (o("expires_in"), o("state"), EXPIRES_MIN, EXPIRES_MAX))
            if self.rotate_before_days is not None and self.rotate_before_days >= (self.expires_in or 0):
                self.fail("%s (%d) must be smaller than %s (%d), or every run would replace the token it just created"
                          % (o("rotate_before_days"), self.rotate_before_days, o("expires_in"), self.expires_in))
        elif not (self.name or self.token_id):
            self.fail("%s or %s is required to delete a token" % (o("name"), o("token_id")))

    def target_key(self):
        if self.user_id:
            return ("id", self.user_id)
        if self.user_name:
            return ("service", self.user_name)
        return ("current", None)

    def identity(self):
        """A key that identifies the entry, to find duplicates in a batch before any request."""
        return self.target_key() + (("id", self.token_id) if self.token_id else ("name", self.name),)


def token_specs(params):
    """TokenSpecs from the module parameters: one in single mode, one per element of ``tokens``."""
    return build_specs(params, "tokens", TokenSpec, lambda first, spec, key: (
        "%s and %s name the same token; give each token once" % (first, spec.where)))


def _target_of(change):
    return change.info.get("target")


class TokenKind(Kind):
    """Personal access tokens: one user list per run, one token list per target user; creations before deletions."""

    result_key = "tokens"
    single_keys = ("user_id", "user_name", "token", "action", "replaced_token", "plain_token")

    def __init__(self, client, check_mode=False, users=None, now=None):
        super().__init__(client, check_mode)
        self.users = users or UserKind(client, check_mode=check_mode)
        self._now = now or (lambda: utcnow())  # pylint: disable=unnecessary-lambda
        self._tokens = {}

    # -- reading -----------------------------------------------------------------------------
    def actor(self):
        return self.users.current_user()

    def prepare(self, specs):
        if specs:
            self.users.load_users()

    def tokens_of(self, user_id, refresh=False):
        if user_id is None:
            return []
        if refresh or user_id not in self._tokens:
            self._tokens[user_id] = api.list_tokens(self.client, user_id)
        return self._tokens[user_id]

    def resolve_target(self, spec, warnings):
        kind, value = spec.target_key()
        index = self.users.index
        if kind == "current":
            actor = self.actor()
            if actor is None:
                raise NetBirdInputError("%s: the token's own user is not in the user list, so its tokens cannot be "
                                        "managed without %s or %s" % (spec.label, spec.opt("user_id"), spec.opt("user_name")))
            return actor
        if kind == "id":
            if value in index.by_id:
                return index.by_id[value]
            actor = self.actor()
            if actor is not None and actor.get("role") == "user" and not actor.get("is_service_user"):
                # a plain user's list holds only itself: say why, not "no such user"
                raise NetBirdInputError("%s: %s" % (spec.label, access_problem(actor, {"id": value, "email": value}, True)))
            raise NetBirdInputError("%s: no user with %s %r exists" % (spec.label, spec.opt("user_id"), value))
        matches = index.by_service_name.get(value, [])
        if len(matches) > 1:
            raise NetBirdInputError("%s: %s %r matches %d service users (%s); give %s instead"
                                    % (spec.label, spec.opt("user_name"), value, len(matches),
                                       ", ".join(sorted(u.get("id") for u in matches)), spec.opt("user_id")))
        if matches:
            return matches[0]
        actor = self.actor()
        problem = access_problem(actor, {"id": None, "name": value, "is_service_user": True}, spec.state == "present")
        if problem:
            raise NetBirdInputError("%s: %s" % (spec.label, problem))
        others = value in index.regular_names
        hint = ""
        if others:
            hint = " (%s identifies service users only; the regular user named %r can manage only its own tokens)" % (
                spec.opt("user_name"), value)
        if self.check_mode and spec.state == "present" and not others:
            warnings.append("%s: service user %r does not exist (yet); check mode predicts its tokens as if an earlier "
                            "task creates it" % (spec.label, value))
            return {"id": None, "name": value, "email": "", "is_service_user": True, "role": None, "predicted": True}
        if spec.state == "absent" and not others:
            return None  # the service user is gone, and its tokens with it
        raise NetBirdInputError("%s: no service user named %r exists%s" % (spec.label, value, hint))

    def find(self, spec, target=None, label=None):
        """The token a spec names among its user's tokens, or None. Raises on ambiguity."""
        tokens = self.tokens_of(target.get("id"))
        if spec.token_id:
            found = [t for t in tokens if t.get("id") == spec.token_id]
            if found and spec.name and found[0].get("name") != spec.name:
                raise NetBirdInputError("%s: token %s is named %r, not %r" % (label, spec.token_id, found[0].get("name"), spec.name))
        else:
            found = [t for t in tokens if t.get("name") == spec.name]
        if len(found) > 1:
            ids = ", ".join(sorted(t.get("id") or "" for t in found))
            raise NetBirdInputError(
                "%s: %d tokens of %s are named %r (ids %s); tokens are matched by name, so names must be unique: delete the "
                "extra ones by %s" % (label, len(found), user_label(target), spec.name, ids, spec.opt("token_id")))
        return found[0] if found else None

    # -- planning ----------------------------------------------------------------------------
    def plan(self, spec):
        warnings: List[str] = []
        target = self.resolve_target(spec, warnings)
        info = {"target": target, "label": spec.label_for(target)}
        if target is None:
            return Change(spec, None, warnings=warnings, info=info)
        actor = self.actor()
        label = info["label"]
        problem = access_problem(actor, target, write=False)
        if problem:
            raise NetBirdInputError("%s: %s" % (label, problem))
        existing = self.find(spec, target, label)
        action = "none"
        if spec.state == "absent":
            if existing is not None:
                action = "delete"
        elif existing is None:
            action = "create"
        else:
            action = self._plan_expiry(spec, existing, label, warnings)
        if action == "none":
            return Change(spec, existing, predicted=existing if spec.state == "present" else None, warnings=warnings, info=info)
        problem = access_problem(actor, target, write=True)
        if problem:
            raise NetBirdInputError("%s: %s" % (label, problem))
        request = {}
        predicted = None
        if action in ("create", "rotate"):
            request["create"] = {"name": spec.name, "expires_in": spec.expires_in}
            now = self._now()
            predicted = {
                "id": None, "name": spec.name,
                "expiration_date": format_time(now + datetime.timedelta(days=spec.expires_in)),
                "created_by": (actor or {}).get("id"), "created_at": format_time(now), "last_used": None,
            }
        if action in ("delete", "rotate"):
            request["delete"] = existing.get("id")
        return Change(spec, existing, action, request, predicted, warnings, info)

    def _plan_expiry(self, spec, token, label, warnings):
        expires = parse_time(token.get("expiration_date"))
        now = self._now()
        if expires is None:
            if spec.rotate_before_days is not None:
                warnings.append("%s: expiration_date %r cannot be read, so the token is not rotated"
                                % (label, token.get("expiration_date")))
            return "none"
        if spec.rotate_before_days is not None and expires - now <= datetime.timedelta(days=spec.rotate_before_days):
            return "rotate"
        if expires <= now:
            warnings.append("%s expired on %s and no longer works; set %s to replace it, or delete it"
                            % (label, token.get("expiration_date"), spec.opt("rotate_before_days")))
        return "none"

    def plan_all(self, specs):
        changes = super().plan_all(specs)
        touched: Dict[Any, Any] = {}
        wanted: Dict[Any, Any] = {}
        for change in changes:
            target = _target_of(change) or {}
            uid = target.get("id") or target.get("name")
            if change.current is not None:
                key = (uid, change.current.get("id"))
                if key in touched:
                    raise NetBirdInputError("%s and %s refer to the same token (id %s)" % (touched[key], change.spec.where, key[1]))
                touched[key] = change.spec.where
            if change.spec.state == "present" and _target_of(change) is not None:
                key = (uid, change.spec.name)
                if key in wanted:
                    raise NetBirdInputError("%s and %s name the same token of %s"
                                            % (wanted[key], change.spec.where, user_label(_target_of(change))))
                wanted[key] = change.spec.where
        return changes

    def phases(self, changes):
        """Every creation before every deletion: automation that uses a rotated token never loses access."""
        return [("create", [i for i, c in enumerate(changes) if c.step("create")]),
                ("delete", [i for i, c in enumerate(changes) if c.step("delete")])]

    # -- applying ----------------------------------------------------------------------------
    def apply(self, change, stage=None, previous=None):
        if stage == "create":
            return self._create(change)
        outcome = previous or Outcome(change)
        if not self._delete(_target_of(change).get("id"), change.step("delete")):
            outcome.warnings.append("%s: token %s was already deleted by someone else" % (change.label, change.step("delete")))
        outcome.extra["deleted"] = True
        outcome.done = True
        return outcome

    def _create(self, change):
        """POST the new token. On a lost answer (timeout, reset, 502-504, unreadable 2xx) the token may or may not
        exist, and if it does nobody has its secret: re-read, delete such orphans, post once more, then delete an
        orphan that the server finished only after the re-read. NetBird does not refuse duplicate token names, so
        this is the way to end with exactly one token whose secret is known."""
        spec = change.spec
        user_id = _target_of(change).get("id")
        path = api.tokens_path(user_id)
        body = change.step("create")
        warnings = []
        try:
            generated = api.create_token(self.client, user_id, body)
        except AmbiguousWriteError as exc:
            known = set(t.get("id") for t in self.tokens_of(user_id))
            removed = self._remove_orphans(change, known)
            try:
                generated = api.create_token(self.client, user_id, body)
            except AmbiguousWriteError as again:
                again.hint = ("Two create requests for %s got no usable answer; nothing more was sent, and a token named %r whose "
                              "secret nobody has may exist now: delete it (state: absent with its token_id) and run the task "
                              "again" % (change.label, spec.name))
                raise
            self._check_generated(path, generated)
            known.add(generated["personal_access_token"].get("id"))
            removed += self._remove_orphans(change, known)
            warnings.append("%s: the answer to the create request was lost (%s); the token was requested again%s"
                            % (change.label, exc, " and %d token(s) of that name whose secret was lost were deleted" % removed
                               if removed else ""))
        self._check_generated(path, generated)
        created = generated["personal_access_token"]
        return Outcome(change, created, {"plain_token": generated["plain_token"]}, warnings,
                       done=change.action == "create", extra={"created": created})

    @staticmethod
    def _check_generated(path, generated):
        if (not isinstance(generated, dict) or not generated.get("plain_token")
                or not isinstance(generated.get("personal_access_token"), dict)):
            raise NetBirdAPIError("POST", "/api" + path, status=200,
                                  message="the answer has no plain_token and personal_access_token")

    def _remove_orphans(self, change, known):
        """Delete tokens of the change's name that this module's user made in this run and whose secret is lost."""
        actor_id = (self.actor() or {}).get("id")
        user_id = _target_of(change).get("id")
        fresh = self.tokens_of(user_id, refresh=True)
        orphans = [t for t in fresh if t.get("name") == change.spec.name and t.get("id") not in known
                   and (actor_id is None or t.get("created_by") == actor_id)]
        for orphan in orphans:
            self._delete(user_id, orphan.get("id"))
        return len(orphans)

    def _delete(self, user_id, token_id):
        try:
            api.delete_token(self.client, user_id, token_id)
        except NetBirdAPIError as exc:
            if exc.status != 404:
                raise
            return False
        return True

    # -- results -----------------------------------------------------------------------------
    def done_text(self, change, outcome, stage=None):
        if stage == "create" and change.action != "create":
            return None  # a rotation is done once the old token is deleted
        return "%s %s" % (PAST[change.action], change.label)

    def failure_text(self, change, outcome, stage, exc):
        what = "creating the token" if stage == "create" else "deleting token %s" % change.step("delete")
        text = "%s: %s failed: %s" % (change.label, what, exc)
        created = (outcome.extra.get("created") if outcome else None)
        if change.action == "rotate" and created is not None:
            text += "; the new token %s was created (its plain_token is in the result) but the old one %s is still there" % (
                created.get("id"), change.step("delete"))
        return text

    def diff(self, change, outcome=None):
        def view(token):
            if token is None:
                return {"state": "absent"}
            return {"state": "present", "name": token.get("name"), "id": token.get("id"),
                    "expiration_date": token.get("expiration_date")}
        created = outcome.extra.get("created") if outcome else None
        after = None
        if change.spec.state == "present":
            after = created if created is not None else change.predicted
        target = _target_of(change)
        label = "%s: token %s" % (user_label(target) if target else change.spec.owner_label,
                                  (change.current or {}).get("name") or change.spec.name or change.spec.token_id)
        return {"before": view(change.current), "after": view(after), "before_header": label, "after_header": label}

    def view(self, change, outcome, partial=False):
        """One result entry. ``plain_token`` only when a token was really created in this run.

        ``partial``: a write failed; entries then show what is really there, not the plan.
        """
        created = outcome.extra.get("created") if outcome else None
        deleted = bool(outcome.extra.get("deleted")) if outcome else False
        changed = change.changed
        if change.spec.state == "absent":
            token = change.current
        elif created is not None:
            token = created
        elif partial:
            token = change.current
        else:
            token = change.predicted
        if partial:
            changed = created is not None or deleted
        target = _target_of(change) or {}
        result = {"user_id": target.get("id"), "user_name": target.get("name"), "token": public_token(token),
                  "changed": changed, "action": change.action}
        if partial:
            # the token as the task named it, so that a failed create (no token) can be matched to its input
            result.update(name=change.spec.name, token_id=change.spec.token_id)
            result["user_id"] = result["user_id"] or change.spec.user_id
            result["user_name"] = result["user_name"] or change.spec.user_name
        if change.action == "rotate":
            result["replaced_token"] = public_token(change.current)
        if outcome is not None and outcome.secrets.get("plain_token") is not None:
            result["plain_token"] = outcome.secrets["plain_token"]
        return result


run_tokens = module_runner(TokenKind.from_params, token_specs, "tokens")


def add_token_lists(client, users, raw_users, warn):
    """``include_tokens`` of netbird_user_info: put ``tokens`` (metadata) on each user whose tokens may be read.

    ``users`` are the public user dicts to extend, ``raw_users`` the list they came from (to find the
    token's own user). One token list request per user whose tokens NetBird lets the token's user read;
    the others get no ``tokens`` key, and one warning says why (``warn`` None: no warning).
    """
    actor = None
    for raw in raw_users:
        if raw.get("is_current"):
            actor = raw
            break
    skipped = []
    reason = None
    for user in users:
        target = {"id": user.get("id"), "email": user.get("email"), "name": user.get("name"),
                  "is_service_user": user.get("is_service_user")}
        problem = access_problem(actor, target, write=False)
        if problem is None:
            try:
                tokens = api.list_tokens(client, user.get("id"))
            except NetBirdAPIError as exc:
                if exc.status not in (403, 404):
                    raise
                problem = str(exc)
            else:
                user["tokens"] = [public_token(t) for t in sort_tokens(tokens)]
                continue
        skipped.append(user_label(target))
        reason = reason or problem
    if skipped and warn is not None:
        shown = ", ".join(skipped[:5]) + (" and %d more" % (len(skipped) - 5) if len(skipped) > 5 else "")
        warn("tokens are not returned for %d user%s (%s): %s"
             % (len(skipped), "" if len(skipped) == 1 else "s", shown, reason))
