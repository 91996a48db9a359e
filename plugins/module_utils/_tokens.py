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
import re

from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import (
    AmbiguousWriteError,
    NetBirdAPIError,
    NetBirdError,
    NetBirdInputError,
    OperationFailed,
    quote_segment,
)
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import UserEngine, user_label

# NetBird's limits (PATMinExpireDays / PATMaxExpireDays).
EXPIRES_MIN = 1
EXPIRES_MAX = 365

# Roles whose permission sets include writes on the ``pats`` module; auditors may only read.
PAT_WRITE_ROLES = ("owner", "admin", "network_admin")
PAT_READ_ROLES = PAT_WRITE_ROLES + ("auditor",)
# Roles that may manage the tokens of service users besides their own.
ADMIN_ROLES = ("owner", "admin")

# Options of one token entry (single mode, and every element of ``tokens``).
TOKEN_ENTRY_KEYS = ("state", "user_id", "user_name", "name", "token_id", "expires_in", "rotate_before_days")

_ISO_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$")


def token_entry_argument_spec():
    """Argument spec of one token; in batch mode it is the ``tokens`` element spec."""
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        user_id=dict(type="str"),
        user_name=dict(type="str"),
        name=dict(type="str"),
        token_id=dict(type="str"),
        expires_in=dict(type="int"),
        rotate_before_days=dict(type="int"),
    )


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def parse_time(value):
    """An aware datetime from NetBird's RFC 3339 timestamps (nanoseconds allowed), or None."""
    match = _ISO_RE.match((value or "").strip())
    if not match:
        return None
    year, month, day, hour, minute, second, frac, zone = match.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    tz = datetime.timezone.utc
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = datetime.timezone(sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        return datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz)
    except ValueError:
        return None


def format_time(when):
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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


class TokenSpec:
    """One desired token, validated statically (before any request)."""

    def __init__(self, entry, where=None):
        self.where = where
        get = entry.get
        self.state = get("state") or "present"
        self.user_id = _clean(get("user_id"))
        self.user_name = _clean(get("user_name"))
        self.name = _clean(get("name"))
        self.token_id = _clean(get("token_id"))
        self.expires_in = get("expires_in")
        self.rotate_before_days = get("rotate_before_days")
        self.validate()

    def opt(self, name):
        return "%s.%s" % (self.where, name) if self.where else name

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

    def fail(self, text):
        raise NetBirdInputError(text)

    def validate(self):
        o = self.opt
        if self.state not in ("present", "absent"):
            self.fail("%s must be present or absent, got %r" % (o("state"), self.state))
        if self.user_id and self.user_name:
            self.fail("%s and %s are mutually exclusive: give one to choose the token's user (neither: the token's own user)"
                      % (o("user_id"), o("user_name")))
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
            if self.rotate_before_days is not None and self.rotate_before_days >= self.expires_in:
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


def _clean(value):
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def build_token_specs(params):
    """TokenSpecs from the module parameters: one in single mode, one per element in batch mode."""
    if params.get("tokens") is not None:
        specs = [TokenSpec(entry or {}, where="tokens[%d]" % index) for index, entry in enumerate(params["tokens"])]
    else:
        specs = [TokenSpec(dict((key, params.get(key)) for key in TOKEN_ENTRY_KEYS))]
    seen = {}
    for spec in specs:
        key = spec.identity()
        if key in seen:
            raise NetBirdInputError("%s and %s name the same token; give each token once" % (seen[key], spec.where))
        seen[key] = spec.where
    return specs


class TokenPlan:
    """What the engine will do for one TokenSpec; built before any write."""

    def __init__(self, spec, target):
        self.spec = spec
        self.target = target        # raw user (a stand-in in check mode when it does not exist yet)
        self.existing = None        # raw token the spec matched, or None
        self.action = "none"        # none | create | rotate | delete
        self.predicted = None       # raw token as it will be afterwards (present) or None
        self.created = None         # raw token created in this run
        self.plain_token = None     # its secret, set only after a real create
        self.deleted = False
        self.warnings = []

    @property
    def changed(self):
        return self.action != "none"

    @property
    def label(self):
        return self.spec.label_for(self.target)

    @property
    def user_id(self):
        return (self.target or {}).get("id")

    @property
    def user_name(self):
        return (self.target or {}).get("name")


class TokenEngine:
    """Plans and applies PAT changes: one user list per run, one token list per target user."""

    def __init__(self, client, check_mode=False, users=None, now=None):
        self.client = client
        self.check_mode = check_mode
        self.users = users or UserEngine(client, check_mode=check_mode)
        self._now = now or (lambda: utcnow())  # pylint: disable=unnecessary-lambda
        self._tokens = {}
        self._indexed = None
        self._by_id = None
        self._by_service_name = None
        self._regular_names = None

    # -- reading -----------------------------------------------------------------------------
    def actor(self):
        return self.users.current_user()

    def tokens_of(self, user_id, refresh=False):
        if user_id is None:
            return []
        if refresh or user_id not in self._tokens:
            self._tokens[user_id] = self.client.get_list("/users/%s/tokens" % quote_segment(user_id))
        return self._tokens[user_id]

    def _index(self):
        users = self.users.users
        if self._by_id is None or self._indexed is not users:
            self._indexed = users
            self._by_id = {}
            self._by_service_name = {}
            self._regular_names = set()
            for user in users:
                self._by_id.setdefault(user.get("id"), user)
                if user.get("is_service_user"):
                    self._by_service_name.setdefault(user.get("name"), []).append(user)
                else:
                    self._regular_names.add(user.get("name"))

    def resolve_target(self, spec, warnings):
        kind, value = spec.target_key()
        self._index()
        if kind == "current":
            actor = self.actor()
            if actor is None:
                raise NetBirdInputError("%s: the token's own user is not in the user list, so its tokens cannot be "
                                        "managed without %s or %s" % (spec.label, spec.opt("user_id"), spec.opt("user_name")))
            return actor
        if kind == "id":
            if value in self._by_id:
                return self._by_id[value]
            actor = self.actor()
            if actor is not None and actor.get("role") == "user" and not actor.get("is_service_user"):
                # a plain user's list holds only itself: say why, not "no such user"
                raise NetBirdInputError("%s: %s" % (spec.label, access_problem(actor, {"id": value, "email": value}, True)))
            raise NetBirdInputError("%s: no user with %s %r exists" % (spec.label, spec.opt("user_id"), value))
        matches = self._by_service_name.get(value, [])
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
        others = value in self._regular_names
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

    # -- planning ----------------------------------------------------------------------------
    def plan(self, spec):
        plan = TokenPlan(spec, None)
        target = self.resolve_target(spec, plan.warnings)
        plan.target = target
        if target is None:
            return plan
        actor = self.actor()
        label = spec.label_for(target)
        problem = access_problem(actor, target, write=False)
        if problem:
            raise NetBirdInputError("%s: %s" % (label, problem))
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
        plan.existing = found[0] if found else None
        if spec.state == "absent":
            if plan.existing is not None:
                plan.action = "delete"
        elif plan.existing is None:
            plan.action = "create"
        else:
            self._plan_expiry(plan)
        if plan.action == "none":
            plan.predicted = plan.existing if spec.state == "present" else None
            return plan
        problem = access_problem(actor, target, write=True)
        if problem:
            raise NetBirdInputError("%s: %s" % (label, problem))
        if plan.action in ("create", "rotate"):
            now = self._now()
            plan.predicted = {
                "id": None, "name": spec.name,
                "expiration_date": format_time(now + datetime.timedelta(days=spec.expires_in)),
                "created_by": (actor or {}).get("id"), "created_at": format_time(now), "last_used": None,
            }
        return plan

    def _plan_expiry(self, plan):
        spec, token = plan.spec, plan.existing
        expires = parse_time(token.get("expiration_date"))
        now = self._now()
        if expires is None:
            if spec.rotate_before_days is not None:
                plan.warnings.append("%s: expiration_date %r cannot be read, so the token is not rotated"
                                     % (plan.label, token.get("expiration_date")))
            return
        if spec.rotate_before_days is not None and expires - now <= datetime.timedelta(days=spec.rotate_before_days):
            plan.action = "rotate"
            return
        if expires <= now:
            plan.warnings.append("%s expired on %s and no longer works; set %s to replace it, or delete it"
                                 % (plan.label, token.get("expiration_date"), spec.opt("rotate_before_days")))

    def plan_all(self, specs):
        if specs:
            self.users.load_users()
        plans = [self.plan(spec) for spec in specs]
        touched = {}
        wanted = {}
        for plan in plans:
            uid = plan.user_id or plan.user_name
            if plan.existing is not None:
                key = (uid, plan.existing.get("id"))
                if key in touched:
                    raise NetBirdInputError("%s and %s refer to the same token (id %s)" % (touched[key], plan.spec.where, key[1]))
                touched[key] = plan.spec.where
            if plan.spec.state == "present" and plan.target is not None:
                key = (uid, plan.spec.name)
                if key in wanted:
                    raise NetBirdInputError("%s and %s name the same token of %s" % (wanted[key], plan.spec.where, user_label(plan.target)))
                wanted[key] = plan.spec.where
        return plans

    # -- applying ----------------------------------------------------------------------------
    def create(self, plan):
        """POST the new token. On a lost answer (timeout, reset, 502-504, unreadable 2xx) the token may or may not
        exist, and if it does nobody has its secret: re-read, delete such orphans, post once more, then delete an
        orphan that the server finished only after the re-read. NetBird does not refuse duplicate token names, so
        this is the way to end with exactly one token whose secret is known."""
        spec = plan.spec
        path = "/users/%s/tokens" % quote_segment(plan.user_id)
        body = {"name": spec.name, "expires_in": spec.expires_in}
        try:
            generated = self.client.post(path, body)
        except AmbiguousWriteError as exc:
            known = set(t.get("id") for t in self.tokens_of(plan.user_id))
            removed = self._remove_orphans(plan, known)
            try:
                generated = self.client.post(path, body)
            except AmbiguousWriteError as again:
                again.hint = ("Two create requests for %s got no usable answer; nothing more was sent. A token named %r whose "
                              "secret nobody has may exist now: delete it (state: absent with its token_id) and run the task "
                              "again" % (plan.label, spec.name))
                raise
            self._check_generated(path, generated)
            known.add(generated["personal_access_token"].get("id"))
            removed += self._remove_orphans(plan, known)
            plan.warnings.append("%s: the answer to the create request was lost (%s); the token was requested again%s"
                                 % (plan.label, exc, " and %d token(s) of that name whose secret was lost were deleted" % removed
                                    if removed else ""))
        self._check_generated(path, generated)
        plan.created = generated["personal_access_token"]
        plan.plain_token = generated["plain_token"]
        return plan.created

    @staticmethod
    def _check_generated(path, generated):
        if (not isinstance(generated, dict) or not generated.get("plain_token")
                or not isinstance(generated.get("personal_access_token"), dict)):
            raise NetBirdAPIError("POST", "/api" + path, status=200,
                                  message="the answer has no plain_token and personal_access_token")

    def _remove_orphans(self, plan, known):
        """Delete tokens of the plan's name that this module's user made in this run and whose secret is lost."""
        actor_id = (self.actor() or {}).get("id")
        fresh = self.tokens_of(plan.user_id, refresh=True)
        orphans = [t for t in fresh if t.get("name") == plan.spec.name and t.get("id") not in known
                   and (actor_id is None or t.get("created_by") == actor_id)]
        for orphan in orphans:
            self._delete(plan.user_id, orphan.get("id"))
        return len(orphans)

    def delete(self, plan):
        token = plan.existing
        if not self._delete(plan.user_id, token.get("id")):
            plan.warnings.append("%s: token %s was already deleted by someone else" % (plan.label, token.get("id")))
        plan.deleted = True

    def _delete(self, user_id, token_id):
        try:
            self.client.delete("/users/%s/tokens/%s" % (quote_segment(user_id), quote_segment(token_id)))
        except NetBirdAPIError as exc:
            if exc.status != 404:
                raise
            return False
        return True

    # -- results -----------------------------------------------------------------------------
    def diff(self, plan):
        def view(token):
            if token is None:
                return {"state": "absent"}
            return {"state": "present", "name": token.get("name"), "id": token.get("id"),
                    "expiration_date": token.get("expiration_date")}
        after = None
        if plan.spec.state == "present":
            after = plan.created if plan.created is not None else plan.predicted
        label = "%s: token %s" % (user_label(plan.target) if plan.target else plan.spec.owner_label,
                                  (plan.existing or {}).get("name") or plan.spec.name or plan.spec.token_id)
        return {"before": view(plan.existing), "after": view(after), "before_header": label, "after_header": label}

    @staticmethod
    def entry(plan, partial=False):
        """One result entry. ``plain_token`` only when a token was really created in this run.

        ``partial``: a write failed; entries then show what is really there, not the plan.
        """
        changed = plan.changed
        if plan.spec.state == "absent":
            token = plan.existing
        elif plan.created is not None:
            token = plan.created
        elif partial:
            token = plan.existing
        else:
            token = plan.predicted
        if partial:
            changed = plan.created is not None or plan.deleted
        result = {"user_id": plan.user_id, "user_name": plan.user_name, "token": public_token(token),
                  "changed": changed, "action": plan.action}
        if plan.action == "rotate":
            result["replaced_token"] = public_token(plan.existing)
        if plan.plain_token is not None:
            result["plain_token"] = plan.plain_token
        return result


PAST = {"create": "created", "rotate": "rotated", "delete": "deleted"}


def run_token_specs(nb):
    """Entry point of netbird_user_token: validate everything, plan everything, create, then delete."""
    params = nb.params
    batch = params.get("tokens") is not None
    specs = build_token_specs(params)
    engine = TokenEngine(nb.client, check_mode=nb.check_mode)
    plans = engine.plan_all(specs)
    for plan in plans:
        for warning in plan.warnings:
            nb.warn(warning)
        plan.warnings = []

    done = []

    def fail(plan, exc, stage):
        for item in plans:
            for warning in item.warnings:
                nb.warn(warning)
            item.warnings = []
        text = "%s: %s failed: %s" % (plan.label, stage, exc)
        if plan.action == "rotate" and plan.plain_token is not None:
            text += "; the new token %s was created (its plain_token is in the result) but the old one %s is still there" % (
                plan.created.get("id"), plan.existing.get("id"))
        text += "; %s" % ("already done: " + "; ".join(done) if done else "nothing had been changed yet")
        rest = [p.label for p in plans if p.changed and p is not plan and not _finished(p)]
        if rest:
            text += "; not done: %s" % ", ".join(rest)
        raise OperationFailed(text, _result(plans, batch, nb.diff_mode, engine, partial=True))

    if not nb.check_mode:
        for plan in plans:
            if plan.action in ("create", "rotate"):
                try:
                    engine.create(plan)
                except NetBirdError as exc:
                    fail(plan, exc, "creating the token")
                if plan.action == "create":
                    done.append("created %s" % plan.label)
        for plan in plans:
            if plan.action in ("delete", "rotate"):
                try:
                    engine.delete(plan)
                except NetBirdError as exc:
                    fail(plan, exc, "deleting token %s" % plan.existing.get("id"))
                done.append("%s %s" % (PAST[plan.action], plan.label))
        for plan in plans:
            for warning in plan.warnings:
                nb.warn(warning)
    return _result(plans, batch, nb.diff_mode, engine)


def _finished(plan):
    if plan.action == "create":
        return plan.created is not None
    if plan.action == "delete":
        return plan.deleted
    if plan.action == "rotate":
        return plan.deleted
    return True


def _result(plans, batch, diff_mode, engine, partial=False):
    entries = []
    for plan in plans:
        entries.append(engine.entry(plan, partial=partial))
    diffs = [engine.diff(plan) for plan in plans if plan.changed] if diff_mode and not partial else []
    result = {"changed": any(e["changed"] for e in entries)}
    if batch:
        result["tokens"] = entries
        if diffs:
            result["diff"] = diffs
    else:
        entry = entries[0]
        for key in ("user_id", "user_name", "token", "action", "replaced_token", "plain_token"):
            if key in entry:
                result[key] = entry[key]
        if diffs:
            result["diff"] = diffs[0]
    return result


def add_token_lists(client, users, raw_users, warn):
    """``include_tokens`` of netbird_user_info: put ``tokens`` (metadata) on each user whose tokens may be read.

    ``users`` are the public user dicts to extend, ``raw_users`` the list they came from (to find the
    token's own user). One token list request per user whose tokens NetBird lets the token's user read;
    the others get no ``tokens`` key, and one warning says why.
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
                tokens = client.get_list("/users/%s/tokens" % quote_segment(user.get("id")))
            except NetBirdAPIError as exc:
                if exc.status not in (403, 404):
                    raise
                problem = str(exc)
            else:
                user["tokens"] = [public_token(t) for t in sort_tokens(tokens)]
                continue
        skipped.append(user_label(target))
        reason = reason or problem
    if skipped:
        shown = ", ".join(skipped[:5]) + (" and %d more" % (len(skipped) - 5) if len(skipped) > 5 else "")
        warn("tokens are not returned for %d user%s (%s): %s"
             % (len(skipped), "" if len(skipped) == 1 else "s", shown, reason))
