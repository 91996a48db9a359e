# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The onboarding role's work in Python on the controller: its input (role variables and a team file) turned into
module batches, checked before the first write, run step by step with loop semantics, and summed up.

The action plugin ``netbird_onboarding`` (which the role wraps) calls ``Onboarding``; the public filters
``onboarding_batches``, ``onboarding_errors`` and ``onboarding_result`` call the functions of the same names.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import re
from typing import Any, Callable, Container, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union

import yaml

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._tokens import TokenSpec, token_entry_argument_spec
from ansible_collections.netbird_ops.netbird.plugins.module_utils._rules import email_problem
from ansible_collections.netbird_ops.netbird.plugins.plugin_utils._in_process import PlainCheck

APPROVE = "netbird_onboarding_approve"
REJECT = "netbird_onboarding_reject"
SERVICE_USERS = "netbird_onboarding_service_users"
# the keys of a user entry that netbird_user_invite takes (the role's other keys are netbird_user's)
INVITE_KEYS = ("email", "name", "role", "auto_groups")

Entry = Dict[str, Any]
TeamFile = Dict[str, List["Member"]]
_Item = TypeVar("_Item")


def _entries(data: Mapping[str, Any], key: str) -> List[Entry]:
    """``data[key]``: a list of dicts (the role's argument spec has checked that; a direct caller gets a clear error).
    Every element is read once, here: an element of a lazy container is templated on each access."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise AnsibleFilterError("%s must be a list, got %s" % (key, type(value).__name__))
    entries = list(value)
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise AnsibleFilterError("%s[%d] must be a dict, got %s" % (key, index, type(entry).__name__))
    return entries


def _email(value: Any) -> str:
    """An email as NetBird compares them: case-insensitively, surrounding white space ignored."""
    return str(value or "").strip().lower()


def _set(entry: Mapping[str, Any]) -> Entry:
    """The entry without its keys set to null (a key set to null counts as omitted, as it does for the modules)."""
    return dict((key, value) for key, value in entry.items() if value is not None)


def _token_spec(entry: Mapping[str, Any], validator: ArgumentSpecValidator) -> Tuple[Optional[TokenSpec], Optional[str]]:
    """(TokenSpec, None), or (None, why netbird_user_token would refuse this ``tokens`` element): its argument spec, then
    TokenSpec's rules, the path the module takes before its first request."""
    result = validator.validate(_set(entry))
    if result.error_messages:
        return None, "; ".join(result.error_messages)
    try:
        return TokenSpec(result.validated_parameters), None
    except NetBirdInputError as exc:
        return None, str(exc)


def token_batch(service_users: Iterable[Mapping[str, Any]]) -> List[Any]:
    """The netbird_user_token batch: every token of a present service user, with its service user's name as
    ``user_name`` (an absent service user loses its tokens anyway)."""
    tokens = []
    for user in service_users:
        if (user.get("state") or "present") != "present":
            continue
        for token in user.get("tokens") or []:
            tokens.append(dict(token, user_name=user.get("name")) if isinstance(token, dict) else token)
    return tokens


def onboarding_errors(data: Any) -> List[str]:
    """The onboarding role's input problems that only the token and approval modules would find, late: one sentence
    each, naming the role variable and the entry."""
    if not isinstance(data, dict):
        raise AnsibleFilterError("onboarding_errors expects a dict with approve, reject and tokens, got %s" % type(data).__name__)
    approve = [("%s[%d]" % (APPROVE, index), email) for index, email in enumerate(data.get("approve") or [])]
    reject = [("%s[%d]" % (REJECT, index), email) for index, email in enumerate(data.get("reject") or [])]
    problems = approval_problems(approve, reject)
    tokens = []
    for entry in data.get("tokens") or []:
        if not isinstance(entry, dict):
            problems.append("%s: a token must be a dict, got %s" % (SERVICE_USERS, type(entry).__name__))
        else:
            tokens.append(("%s: service user '%s', token '%s'" % (SERVICE_USERS, entry.get("user_name"), entry.get("name")), entry))
    return problems + token_problems(tokens)


def approval_problems(approve: Iterable[Tuple[str, Any]], reject: Iterable[Tuple[str, Any]]) -> List[str]:
    """The email rule for each ``(where, email)`` to approve and reject, then the emails given to both."""
    problems = [problem for where, email in list(approve) + list(reject) for problem in [email_problem(where, email)] if problem]
    rejected = set(_email(email) for dummy, email in reject)
    both: List[str] = []
    for dummy, email in approve:
        email = _email(email)
        if email in rejected and email not in both:
            both.append(email)
    return problems + ["%s is in both %s and %s" % (email, APPROVE, REJECT) for email in both]


def token_problems(tokens: Iterable[Tuple[str, Entry]]) -> List[str]:
    """netbird_user_token's own rules for each ``(label, tokens element with user_name)``, and a token given twice."""
    entry_spec_ = dict((key, value) for key, value in token_entry_argument_spec().items() if not key.startswith("_"))
    validator = ArgumentSpecValidator(entry_spec_)
    problems = []
    seen = set()
    for label, entry in tokens:
        spec, problem = _token_spec(entry, validator)
        if spec is None:
            problems.append("%s: %s" % (label, problem))
        elif spec.identity() in seen:
            problems.append("%s: given twice; give each token once" % label)
        else:
            seen.add(spec.identity())
    return problems


def invite_entry(user: Mapping[str, Any], expires_in: Optional[int]) -> Entry:
    """The netbird_user_invite element of a regular user: the keys an invite takes and the link lifetime."""
    return dict([(key, user[key]) for key in INVITE_KEYS if user.get(key) is not None], expires_in=expires_in)


def service_user_entry(user: Mapping[str, Any]) -> Entry:
    """The netbird_user element of a service user: without its tokens, with service_user set."""
    entry = dict((key, value) for key, value in user.items() if key != "tokens")
    entry["service_user"] = True
    return entry


def after_invites(items: Sequence[_Item], existing: Optional[Iterable[Any]], entry_of: Callable[[_Item], Mapping[str, Any]]) -> List[_Item]:
    """Invite mode: the regular users netbird_user still handles, the absent ones and those netbird_user_invite found
    to exist already (``existing``: their emails)."""
    known = set(_email(email) for email in existing or [])
    return ([item for item in items if entry_of(item).get("state") == "absent"]
            + [item for item in items if entry_of(item).get("state") != "absent" and _email(entry_of(item).get("email")) in known])


def _invite_batch(data: Mapping[str, Any], existing: Optional[Iterable[Any]]) -> List[Entry]:
    """Invite mode: the present regular users, with the keys an invite takes and the link lifetime."""
    if not data.get("invite"):
        return []  # the users are not even read
    expires_in = data.get("invite_expires_in")
    return [invite_entry(user, expires_in) for user in _entries(data, "users") if user.get("state") != "absent"]


def _user_batch(data: Mapping[str, Any], existing: Optional[Iterable[Any]]) -> List[Entry]:
    """The regular users (invite mode: the absent ones and those netbird_user_invite found to exist), then the service
    users without their tokens."""
    users = _entries(data, "users")
    if data.get("invite"):
        users = after_invites(users, existing, lambda user: user)
    return list(users) + [service_user_entry(user) for user in _entries(data, "service_users")]


def _token_part(data: Mapping[str, Any], existing: Optional[Iterable[Any]]) -> List[Any]:
    return token_batch(_entries(data, "service_users"))


BATCHES: Dict[str, Callable[[Mapping[str, Any], Optional[Iterable[Any]]], List[Any]]] = {"users": _user_batch, "tokens": _token_part, "invites": _invite_batch}


def onboarding_batches(data: Any, part: Optional[str] = None, existing: Optional[Iterable[Any]] = None) -> Union[Dict[str, List[Any]], List[Any]]:
    """The role's batches from its variables (see the filter's documentation): all three, or only ``part``, so that a
    task reads only the variables it needs. ``existing``: in invite mode, the emails that netbird_user_invite found to
    be users already."""
    if not isinstance(data, dict):
        raise AnsibleFilterError("onboarding_batches expects a dict of the role's variables, got %s" % type(data).__name__)
    if part is None:
        return dict((name, build(data, existing)) for name, build in BATCHES.items())
    if part not in BATCHES:
        raise AnsibleFilterError("onboarding_batches: part must be one of %s, got %r" % (", ".join(BATCHES), part))
    return BATCHES[part](data, existing)


def _registered(results: Mapping[str, Any], name: str) -> Dict[str, Any]:
    """A registered task result from ``results``: {} when the task did not run (undefined, skipped or not a dict)."""
    value = results.get(name)
    return value if isinstance(value, dict) else {}


def _listed(result: Mapping[str, Any], key: str) -> List[Any]:
    value = result.get(key)
    return list(value) if isinstance(value, (list, tuple)) else []


def _acted_on(result: Mapping[str, Any]) -> List[Any]:
    """The emails netbird_user_approval approved or rejected: a batch that failed part-way lists its failed users too."""
    return [entry.get("email") for entry in _listed(result, "users") if isinstance(entry, dict) and not entry.get("failed")]


def onboarding_result(results: Any) -> Dict[str, Any]:
    """``netbird_onboarding_result`` from the registered results of the role's module tasks, in one pass each.

    ``results``: ``users`` (netbird_user), ``invites`` (netbird_user_invite), ``tokens`` (netbird_user_token),
    ``approved`` and ``rejected`` (netbird_user_approval); a task that did not run may be missing or {}. Only the
    entries that carry a one-time secret are read beyond their ``changed`` flag; nothing here is ever put in an error.
    """
    if not isinstance(results, dict):
        raise AnsibleFilterError("onboarding_result expects a dict of registered results, got %s" % type(results).__name__)
    users = _registered(results, "users")
    summary = _registered(users, "summary")
    passwords: Dict[Any, Any] = {}
    if _listed(summary, "created"):
        for entry in _listed(users, "users"):
            if isinstance(entry, dict) and "password" in entry:
                passwords[(entry.get("user") or {}).get("email")] = entry["password"]
    invite_urls: Dict[Any, Any] = {}
    for entry in _listed(_registered(results, "invites"), "invites"):
        if isinstance(entry, dict) and "invite_url" in entry:
            invite_urls[entry.get("email")] = entry["invite_url"]
    tokens: Dict[Any, Dict[Any, Any]] = {}
    for entry in _listed(_registered(results, "tokens"), "tokens"):
        if isinstance(entry, dict) and "plain_token" in entry:
            tokens.setdefault(entry.get("user_name"), {})[(entry.get("token") or {}).get("name")] = entry["plain_token"]
    return {
        "created": _listed(summary, "created"),
        "updated": _listed(summary, "updated"),
        "unchanged": _listed(summary, "unchanged"),
        "removed": _listed(summary, "deleted"),
        "offboarded": _listed(summary, "offboarded"),
        "approved": _acted_on(_registered(results, "approved")),
        "rejected": _acted_on(_registered(results, "rejected")),
        "invited": list(invite_urls),
        "invite_urls": invite_urls,
        "passwords": passwords,
        "tokens": tokens,
        "changed": any(bool(_registered(results, name).get("changed")) for name in ("invites", "users", "tokens", "approved", "rejected")),
    }


# -- the role's run: input from its variables and a team file, checked, then the module steps ------------------------

USERS = "netbird_onboarding_users"
TEAM_FILE = "netbird_onboarding_team_file"
# the role's argument spec, shipped with the collection: team file entries are checked by the same rules
ROLE_SPEC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                         "roles", "onboarding", "meta", "argument_specs.yml")
TEAM_KEYS = ("users", "service_users", "approve", "reject")
CSV_KEYS = ("email", "name", "role", "auto_groups", "auto_groups_mode", "blocked", "state", "service_user")
_SPEC_KEYS = ("type", "elements", "required", "default", "choices", "options", "aliases")
_SPECS: Dict[str, Dict[str, Dict[str, Any]]] = {}
# the fast check of an entry of each role variable (PlainCheck), built once
_CHECKS: Dict[str, PlainCheck] = {}


class TeamFileError(Exception):
    """A team file that cannot be read: one sentence naming the file and the line, row or key."""


def _clean_spec(options: Mapping[str, Mapping[str, Any]]) -> Dict[str, Dict[str, Any]]:
    return dict((name, dict((key, _clean_spec(value) if key == "options" else value) for key, value in option.items()
                            if key in _SPEC_KEYS)) for name, option in options.items())


def entry_spec(variable: str) -> Dict[str, Dict[str, Any]]:
    """The argument spec of one element of the role variable ``variable``, from meta/argument_specs.yml."""
    if variable not in _SPECS:
        with open(ROLE_SPEC, encoding="utf-8") as handle:
            options = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["argument_specs"]["main"]["options"]
        _SPECS[variable] = _clean_spec(options[variable]["options"])
    return _SPECS[variable]


_UNSUPPORTED = re.compile(r"^(?P<keys>.*)\. Supported parameters include: (?P<supported>.*?)\.?$")


def _unsupported(message: str) -> str:
    """The argument spec's ``colour. Supported parameters include: a, b.`` as a sentence about a team entry."""
    match = _UNSUPPORTED.match(message)
    if not match:
        return message
    keys = [key.strip() for key in match.group("keys").split(",")]
    plural = "s" if len(keys) > 1 else ""
    return "unsupported key%s %s; the keys are %s" % (plural, ", ".join(repr(key) for key in keys), match.group("supported"))


def check_entry(entry: Entry, variable: str,
                validators: Optional[Dict[str, ArgumentSpecValidator]] = None) -> Tuple[Optional[Entry], Optional[str]]:
    """(the entry as the modules take it, None) or (None, the argument spec's messages joined): the role's rules for
    one element of ``variable``. Keys the entry does not set stay unset (a module default then applies)."""
    spec = entry_spec(variable)
    if variable not in _CHECKS:
        _CHECKS[variable] = PlainCheck(spec)
    if _CHECKS[variable](entry):
        return entry, None
    if validators is None or variable not in validators:
        validator = ArgumentSpecValidator(spec)
        if validators is not None:
            validators[variable] = validator
    else:
        validator = validators[variable]
    result = validator.validate(entry)
    if result.error_messages:
        return None, "; ".join(_unsupported(message) for message in result.error_messages)
    checked = result.validated_parameters
    return dict((key, checked[key]) for key in entry if checked.get(key) is not None), None


class Member:
    """One entry of the team and where it was given: ``where`` (``netbird_onboarding_users[3]``, ``team.csv line 4``)
    and ``who`` (email or name) make its label in every message."""

    __slots__ = ("entry", "where", "who")

    def __init__(self, entry: Any, where: str, who: Optional[str]) -> None:
        self.entry = entry
        self.where = where
        self.who = who

    @property
    def label(self) -> str:
        return "%s (%s)" % (self.where, self.who) if self.who else self.where

    def field(self, key: str) -> str:
        """How a message names one key of the entry: ``netbird_onboarding_users[3].email``, ``team.csv line 4: email``."""
        return "%s.%s" % (self.where, key) if self.where.endswith("]") else "%s: %s" % (self.where, key)


def _bool_cell(text: str) -> Optional[bool]:
    lowered = text.lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0", ""):
        return False
    return None


def read_csv(path: str, shown: str, warn: Callable[[str], Any]) -> TeamFile:
    """The users and service users of a CSV file (one row a user; the header names the keys), as Members, row by row."""
    users: List[Member] = []
    service_users: List[Member] = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        # strict: a stray quote is an error, not data; a quoted value that runs past its line (an unclosed quote
        # would swallow the rows after it into one value) is refused below
        reader = csv.reader(handle, strict=True)
        start = 0  # the last line of the row read before
        try:
            header = next(reader, None)
            if header is None:
                raise TeamFileError("%s is empty; a CSV team file starts with a header line naming its columns (email, name, ...)" % shown)
            keys = [cell.strip().lower() for cell in header]
            if "email" not in keys:
                raise TeamFileError("%s line 1: the header has no email column (it has: %s)" % (shown, ", ".join(keys)))
            twice = sorted(set(key for key in keys if key and keys.count(key) > 1))
            if twice:
                raise TeamFileError("%s line 1: column %s given twice" % (shown, ", ".join(twice)))
            unknown = [header[index].strip() for index, key in enumerate(keys) if key not in CSV_KEYS]
            if unknown:
                warn("%s: ignored the column(s) %s; the columns a team file takes are %s"
                     % (shown, ", ".join(repr(name) for name in unknown), ", ".join(CSV_KEYS)))
            start = reader.line_num
            for row in reader:
                line, start = start + 1, reader.line_num
                if line != reader.line_num:
                    raise TeamFileError("%s line %d: a quoted value runs over %d lines (an unclosed quote?); a value "
                                        "cannot hold a line break" % (shown, line, reader.line_num - line + 1))
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) > len(keys):
                    raise TeamFileError("%s line %d: %d fields, but the header names %d columns" % (shown, line, len(row), len(keys)))
                entry: Entry = {}
                for key, cell in zip(keys, row):
                    cell = cell.strip()
                    if key not in CSV_KEYS or cell == "":
                        continue  # an empty cell sets nothing: the server keeps what it has, a new user gets the default
                    if key == "auto_groups":
                        entry[key] = [name.strip() for name in cell.split(";") if name.strip()]
                    elif key == "blocked" and _bool_cell(cell) is not None:
                        entry[key] = _bool_cell(cell)
                    else:
                        entry[key] = cell
                service = entry.pop("service_user", "")
                if _bool_cell(service) is None:
                    raise TeamFileError("%s line %d: service_user must be true or false, got %r" % (shown, line, service))
                if _bool_cell(service):
                    if "email" in entry:
                        raise TeamFileError("%s line %d: email does not apply to a service user (service_user=true); service "
                                            "users are identified by name" % (shown, line))
                    service_users.append(Member(entry, "%s line %d" % (shown, line), entry.get("name")))
                else:
                    users.append(Member(entry, "%s line %d" % (shown, line), entry.get("email")))
        except csv.Error as exc:
            # an unclosed quote at the end of the file: csv says "unexpected end of data" at the last line
            raise TeamFileError("%s line %d: %s (an unclosed or stray quote?)" % (shown, start + 1, exc)) from exc
        except UnicodeDecodeError as exc:
            raise TeamFileError("%s is not UTF-8 text: %s" % (shown, exc)) from exc
    return {"users": users, "service_users": service_users, "approve": [], "reject": []}


def read_structured(path: str, shown: str) -> TeamFile:
    """The team of a YAML or JSON file in the role's shapes: ``users``, ``service_users``, ``approve``, ``reject``."""
    try:
        with open(path, "rb") as handle:
            if path.lower().endswith(".json"):
                data = json.load(handle)
            else:
                data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except ValueError as exc:  # json.JSONDecodeError, UnicodeDecodeError
        lineno = getattr(exc, "lineno", None)
        where = " line %s" % lineno if lineno else ""
        raise TeamFileError("%s%s: %s" % (shown, where, getattr(exc, "msg", exc))) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise TeamFileError("%s%s: %s" % (shown, " line %d" % (mark.line + 1) if mark else "", problem)) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise TeamFileError("%s must hold a mapping with %s, got a %s" % (shown, ", ".join(TEAM_KEYS), type(data).__name__))
    unknown = sorted(str(key) for key in data if key not in TEAM_KEYS)
    if unknown:
        raise TeamFileError("%s: unknown key(s) %s; a team file has %s" % (shown, ", ".join(unknown), ", ".join(TEAM_KEYS)))
    team: TeamFile = {}
    for key in TEAM_KEYS:
        value = data.get(key)
        if value is None:
            value = []
        if not isinstance(value, list):
            raise TeamFileError("%s: %s must be a list, got %s" % (shown, key, type(value).__name__))
        members: List[Member] = []
        for index, item in enumerate(value):
            where = "%s %s[%d]" % (shown, key, index)
            if key in ("approve", "reject"):
                if not isinstance(item, str):
                    raise TeamFileError("%s must be an email address, got %s" % (where, type(item).__name__))
                members.append(Member(item, where, None))
            elif not isinstance(item, dict):
                raise TeamFileError("%s must be a dict, got %s" % (where, type(item).__name__))
            else:
                members.append(Member(item, where, item.get("email" if key == "users" else "name")))
        team[key] = members
    return team


def read_team_file(path: str, shown: str, warn: Callable[[str], Any]) -> TeamFile:
    """The team in ``path`` (``shown``: the path as the person gave it, for messages)."""
    lowered = path.lower()
    try:
        if lowered.endswith(".csv"):
            return read_csv(path, shown, warn)
        if lowered.endswith((".yml", ".yaml", ".json")):
            return read_structured(path, shown)
    except (IOError, OSError) as exc:
        raise TeamFileError("%s cannot be read: %s" % (shown, exc.strerror or exc)) from exc
    raise TeamFileError("%s: a team file is .csv, .yml, .yaml or .json" % shown)


def relabel(text: str, key: str, members: Sequence[Member]) -> str:
    """A module's message with its batch entries (``users[2] (bob@x.io)``, ``users[2].auto_groups``) named as the
    person wrote them: the role variable and index, or the team file and line."""
    pattern = re.compile(r"(?<![\w.\]])%s\[(\d+)\](?: \([^()]*\))?" % key)

    labels = set()

    def name(match: re.Match) -> str:
        index = int(match.group(1))
        if index >= len(members):
            return match.group(0)
        labels.add(members[index].label)
        return members[index].label
    text = pattern.sub(name, text)
    for label in labels:
        # "users[0] (b@x.io): users[0].role owner ..." names the entry once: "LABEL: role owner ..."
        text = text.replace("%s: %s." % (label, label), "%s: " % label)
    # the options the role sets from its own variables
    text = text.replace("to users or protect", "to %s or netbird_onboarding_protect" % USERS)
    return re.sub(r"(?<![\w.])(create_groups|max_offboard)\b", r"netbird_onboarding_\1", text)


class Team:
    """The role's input: its list variables and the team file's entries, each with where it was given.

    ``problems``: what the role refuses before its first request, one sentence each (the role's argument spec rules
    for team file entries, emails, the token and approval rules of the modules, entries named twice)."""

    def __init__(self, users: Iterable[Entry] = (), service_users: Iterable[Entry] = (), approve: Iterable[str] = (),
                 reject: Iterable[str] = (), team_file: Optional[TeamFile] = None) -> None:
        self.users: List[Member] = []
        self.service_users: List[Member] = []
        self.approve: List[Member] = []
        self.reject: List[Member] = []
        self.problems: List[str] = []
        validators: Dict[str, ArgumentSpecValidator] = {}
        for index, entry in enumerate(users or []):
            self.users.append(Member(entry, "%s[%d]" % (USERS, index), entry.get("email")))
        for index, entry in enumerate(service_users or []):
            self.service_users.append(Member(entry, "%s[%d]" % (SERVICE_USERS, index), entry.get("name")))
        for variable, given, members in ((APPROVE, approve, self.approve), (REJECT, reject, self.reject)):
            for index, email in enumerate(given or []):
                members.append(Member(email, "%s[%d]" % (variable, index), None))
        if team_file:
            for key, variable in (("users", USERS), ("service_users", SERVICE_USERS)):
                members = getattr(self, key)
                for member in team_file[key]:
                    checked, problem = check_entry(member.entry, variable, validators)
                    if problem:
                        self.problems.append("%s: %s" % (member.label, problem))
                    else:
                        member.entry = checked
                        members.append(member)
            self.approve.extend(team_file["approve"])
            self.reject.extend(team_file["reject"])
        self._check()

    def _check(self) -> None:
        seen: Dict[Any, Member] = {}
        for member in self.users:
            email = member.entry.get("email")
            problem = email_problem(member.field("email"), email)
            if problem:
                self.problems.append(problem)
                continue
            self._once(seen, _email(email), member)
        seen = {}
        for member in self.service_users:
            self._once(seen, member.entry.get("name"), member)
        self.problems.extend(approval_problems([(member.where, member.entry) for member in self.approve],
                                               [(member.where, member.entry) for member in self.reject]))
        tokens: List[Tuple[str, Entry]] = []
        for member, entries in self._present_tokens():
            for index, token in enumerate(entries):
                where = "%s.tokens[%d]" % (member.label, index)
                if not isinstance(token, dict):
                    self.problems.append("%s must be a dict, got %s" % (where, type(token).__name__))
                else:
                    tokens.append(("%s (%s)" % (where, token.get("name")), dict(token, user_name=member.entry.get("name"))))
        self.problems.extend(token_problems(tokens))

    def _once(self, seen: Dict[Any, Member], key: Any, member: Member) -> None:
        if key in seen:
            self.problems.append("%s is named twice: %s and %s; name each user once" % (member.who, seen[key].where, member.where))
        else:
            seen[key] = member

    def _present_tokens(self) -> Iterator[Tuple[Member, List[Any]]]:
        for member in self.service_users:
            if (member.entry.get("state") or "present") == "present" and member.entry.get("tokens"):
                yield member, member.entry["tokens"]

    def invite_batch(self, expires_in: Optional[int]) -> Tuple[List[Entry], List[Member]]:
        """Invite mode: the present regular users, with the keys an invite takes and the link lifetime."""
        members = [member for member in self.users if member.entry.get("state") != "absent"]
        return [invite_entry(member.entry, expires_in) for member in members], members

    def user_batch(self, invite: bool = False, existing: Iterable[Any] = ()) -> Tuple[List[Entry], List[Member]]:
        """The regular users (invite mode: the absent ones and those that exist already), then the service users
        without their tokens."""
        members = after_invites(self.users, existing, lambda member: member.entry) if invite else list(self.users)
        entries = [member.entry for member in members] + [service_user_entry(member.entry) for member in self.service_users]
        return entries, members + self.service_users

    def token_batch(self, skip: Container[Any] = ()) -> Tuple[List[Entry], List[Member]]:
        """Every token of a present service user whose own entry did not fail, with ``user_name`` set."""
        entries: List[Entry] = []
        members: List[Member] = []
        for member, tokens in self._present_tokens():
            name = member.entry.get("name")
            if name in skip:
                continue
            for index, token in enumerate(tokens):
                entries.append(dict(token, user_name=name))
                members.append(Member(token, "%s.tokens[%d]" % (member.label, index), token.get("name")))
        return entries, members


def message_text(item: Any) -> str:
    """The text of a module's warning or deprecation: a str (ansible-core before 2.19), a dict with ``msg`` (a
    deprecation before 2.19), or a WarningSummary / DeprecationSummary of ansible-core 2.19 (its ``event.msg``) --
    never the object's repr."""
    msg = getattr(getattr(item, "event", None), "msg", None)
    if isinstance(msg, str):
        return msg
    if isinstance(item, dict) and item.get("msg") is not None:
        return str(item["msg"])
    return str(item)


def relabelled_deprecation(item: Any, text: str) -> Any:
    """A module's deprecation with its text replaced, in the shape it came (a dict, or 2.19's DeprecationSummary,
    whose version, date and deprecator are kept), for the task result's ``deprecations``."""
    if isinstance(item, dict):
        return dict(item, msg=text)
    event = getattr(item, "event", None)
    # instances only (is_dataclass is also true of the classes themselves)
    if (event is not None and dataclasses.is_dataclass(item) and not isinstance(item, type)
            and dataclasses.is_dataclass(event) and not isinstance(event, type)):
        try:
            return dataclasses.replace(item, event=dataclasses.replace(event, msg=text))
        except (TypeError, ValueError):
            pass
    return {"msg": text}


def _diffs(result: Mapping[str, Any]) -> List[Any]:
    diff = result.get("diff")
    if isinstance(diff, list):
        return diff
    return [diff] if isinstance(diff, dict) else []


class Onboarding:
    """The role's steps with the semantics of an Ansible loop: invites, users and service users, tokens, approvals,
    rejections. Each module call goes through ``call(module, args)`` (the action plugin's ``_execute_module``).

    A step whose entries fail does not stop the steps that do not depend on them: the tokens of the other service
    users, the approvals, the rejections. A step that fails as a whole (bad input, the server unreachable) and, with
    ``fail_fast``, any failure stops the run. The run fails at the end with one line; the result is set either way.
    """

    STEPS = ("invites", "users", "tokens", "approved", "rejected")
    TITLES = {"invites": "the invites", "users": "the users and service users", "tokens": "the tokens",
              "approved": "the approvals", "rejected": "the rejections"}

    def __init__(self, team: Team, call: Callable[[str, Entry], Dict[str, Any]], invite: bool = False,
                 invite_expires_in: Optional[int] = None, create_groups: bool = False, fail_fast: bool = False,
                 user_options: Optional[Mapping[str, Any]] = None) -> None:
        self.team = team
        self.call = call
        self.invite = invite
        self.invite_expires_in = invite_expires_in
        self.create_groups = create_groups
        self.fail_fast = fail_fast
        self.user_options = dict(user_options or {})
        self.results: Dict[str, Dict[str, Any]] = {}
        self.failures: List[str] = []
        self.diffs: List[Any] = []
        self.warnings: List[str] = []
        self.deprecations: List[Any] = []
        self.stopped = False

    def _step(self, step: str, module: str, args: Entry, key: str, members: Sequence[Member]) -> List[Entry]:
        if self.fail_fast:
            args["fail_fast"] = True
        result = self.call(module, args)
        self.results[step] = result
        self.diffs.extend(_diffs(result))
        self.warnings.extend(relabel(message_text(warning), key, members) for warning in result.get("warnings") or [])
        self.deprecations.extend(relabelled_deprecation(item, relabel(message_text(item), key, members))
                                 for item in result.get("deprecations") or [])
        if not result.get("failed"):
            return []
        entries = [entry for entry in result.get(key) or [] if isinstance(entry, dict) and entry.get("failed")]
        text = str(result.get("msg") or "failed").strip().splitlines()[0] if result.get("msg") else "failed"
        # the module's own "nothing had been changed yet" is about its step only; the run's end says what was done in all
        text = text.replace("; nothing had been changed yet", "")
        self.failures.append(relabel(text, key, members))
        if not entries or self.fail_fast:
            self.stopped = True
        return entries

    def run(self) -> Dict[str, Any]:
        team = self.team
        if team.problems:
            self.failures.extend(team.problems)
            return self._result(before_any_write=True)
        existing: List[Any] = []
        if self.invite and not self.stopped:
            entries, members = team.invite_batch(self.invite_expires_in)
            if entries:
                self._step("invites", "netbird_user_invite", {"invites": entries, "create_groups": self.create_groups},
                           "invites", members)
                existing = [entry.get("email") for entry in self.results["invites"].get("invites") or []
                            if isinstance(entry, dict) and entry.get("user_exists")]
        failed_service_users: set = set()
        if not self.stopped:
            entries, members = team.user_batch(self.invite, existing)
            if entries or self.user_options.get("exclusive"):
                args = dict(self.user_options, users=entries, create_groups=self.create_groups, batch_results="changed")
                for entry in self._step("users", "netbird_user", args, "users", members):
                    if not entry.get("email") and (entry.get("name") or (entry.get("user") or {}).get("name")):
                        failed_service_users.add(entry.get("name") or entry["user"]["name"])
        if not self.stopped:
            entries, members = team.token_batch(failed_service_users)
            if entries:
                self._step("tokens", "netbird_user_token", {"tokens": entries, "batch_results": "changed"}, "tokens", members)
        for step, members in (("approved", team.approve), ("rejected", team.reject)):
            if members and not self.stopped:
                self._step(step, "netbird_user_approval", {"emails": [member.entry for member in members], "state": step},
                           "emails", members)
        return self._result()

    def _result(self, before_any_write: bool = False) -> Dict[str, Any]:
        summary = onboarding_result(self.results)
        out = {"changed": summary["changed"], "result": summary, "onboarding_failed": bool(self.failures)}
        if self.diffs:
            out["diff"] = self.diffs
        if self.warnings:
            out["warnings"] = self.warnings
        if self.deprecations:
            out["deprecations"] = self.deprecations
        if self.failures:
            text = "; ".join(self.failures)
            if before_any_write:
                text += "; nothing was changed"
            else:
                counted = ("created", "updated", "removed", "offboarded", "invited", "approved", "rejected")
                done = ["%s %d" % (key, len(summary[key])) for key in counted if summary[key]]
                tokens = sum(len(names) for names in summary["tokens"].values())
                if tokens:
                    done.append("tokens created %d" % tokens)
                text += "; done in all: %s" % (", ".join(done) if done else "nothing was changed")
                skipped = [self.TITLES[step] for step in self.STEPS if self.stopped and step not in self.results and self._wanted(step)]
                if skipped:
                    text += "; not attempted: %s" % ", ".join(skipped)
            out["msg"] = text
        return out

    def _wanted(self, step: str) -> bool:
        team = self.team
        if step == "invites":
            return self.invite and any(member.entry.get("state") != "absent" for member in team.users)
        if step == "users":
            return bool(team.users or team.service_users or self.user_options.get("exclusive"))
        if step == "tokens":
            return any(True for dummy in team._present_tokens())
        return bool(team.approve if step == "approved" else team.reject)
