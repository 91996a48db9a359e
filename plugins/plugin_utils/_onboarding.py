# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The onboarding role's input turned into module batches, in one pass of Python on the controller.

The role used to build its batches with Jinja filter chains (dict2items, product, combine, ...). Since ansible-core
2.19 every element through every filter costs tens of microseconds of templating and tagging, and a block variable is
evaluated again wherever it is used: about 10 s of a 10,000 user re-run went there. The filters
``onboarding_batches`` and ``onboarding_errors`` call the functions below.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._tokens import TokenSpec, token_entry_argument_spec
from ansible_collections.netbird_ops.netbird.plugins.module_utils._rules import email_problem

APPROVE = "netbird_onboarding_approve"
REJECT = "netbird_onboarding_reject"
SERVICE_USERS = "netbird_onboarding_service_users"
# the keys of a user entry that netbird_user_invite takes (the role's other keys are netbird_user's)
INVITE_KEYS = ("email", "name", "role", "auto_groups")


def _entries(data, key):
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


def _email(value):
    """An email as NetBird compares them: case-insensitively, surrounding white space ignored."""
    return str(value or "").strip().lower()


def _set(entry):
    """The entry without its keys set to null (a key set to null counts as omitted, as it does for the modules)."""
    return dict((key, value) for key, value in entry.items() if value is not None)


def _token_spec(entry, validator):
    """(TokenSpec, None), or (None, why netbird_user_token would refuse this ``tokens`` element): its argument spec, then
    TokenSpec's rules, the path the module takes before its first request."""
    result = validator.validate(_set(entry))
    if result.error_messages:
        return None, "; ".join(result.error_messages)
    try:
        return TokenSpec(result.validated_parameters), None
    except NetBirdInputError as exc:
        return None, str(exc)


def token_batch(service_users):
    """The netbird_user_token batch: every token of a present service user, with its service user's name as
    ``user_name`` (an absent service user loses its tokens anyway)."""
    tokens = []
    for user in service_users:
        if (user.get("state") or "present") != "present":
            continue
        for token in user.get("tokens") or []:
            tokens.append(dict(token, user_name=user.get("name")) if isinstance(token, dict) else token)
    return tokens


def onboarding_errors(data):
    """The onboarding role's input problems that only the token and approval modules would find, late: one sentence
    each, naming the role variable and the entry."""
    if not isinstance(data, dict):
        raise AnsibleFilterError("onboarding_errors expects a dict with approve, reject and tokens, got %s" % type(data).__name__)
    approve = data.get("approve") or []
    reject = data.get("reject") or []
    problems = []
    for option, emails in ((APPROVE, approve), (REJECT, reject)):
        for index, email in enumerate(emails):
            problem = email_problem("%s[%d]" % (option, index), email)
            if problem:
                problems.append(problem)
    rejected = set(_email(email) for email in reject)
    both = []
    for email in approve:
        email = _email(email)
        if email in rejected and email not in both:
            both.append(email)
    problems.extend("%s is in both %s and %s" % (email, APPROVE, REJECT) for email in both)

    entry_spec = dict((key, value) for key, value in token_entry_argument_spec().items() if not key.startswith("_"))
    validator = ArgumentSpecValidator(entry_spec)
    seen = set()
    for entry in data.get("tokens") or []:
        if not isinstance(entry, dict):
            problems.append("%s: a token must be a dict, got %s" % (SERVICE_USERS, type(entry).__name__))
            continue
        label = "%s: service user '%s', token '%s'" % (SERVICE_USERS, entry.get("user_name"), entry.get("name"))
        spec, problem = _token_spec(entry, validator)
        if problem:
            problems.append("%s: %s" % (label, problem))
        elif spec.identity() in seen:
            problems.append("%s: given twice; give each token once" % label)
        else:
            seen.add(spec.identity())
    return problems


def _invite_batch(data, existing):
    """Invite mode: the present regular users, with the keys an invite takes and the link lifetime."""
    if not data.get("invite"):
        return []  # the users are not even read
    expires_in = data.get("invite_expires_in")
    return [dict([(key, user[key]) for key in INVITE_KEYS if user.get(key) is not None], expires_in=expires_in)
            for user in _entries(data, "users") if user.get("state") != "absent"]


def _user_batch(data, existing):
    """The regular users (invite mode: the absent ones and those netbird_user_invite found to exist), then the service
    users without their tokens."""
    users = _entries(data, "users")
    if data.get("invite"):
        known = set(_email(email) for email in existing or [])
        users = ([user for user in users if user.get("state") == "absent"]
                 + [user for user in users if user.get("state") != "absent" and _email(user.get("email")) in known])
    batch = list(users)
    for user in _entries(data, "service_users"):
        entry = dict((key, value) for key, value in user.items() if key != "tokens")
        entry["service_user"] = True
        batch.append(entry)
    return batch


def _token_part(data, existing):
    return token_batch(_entries(data, "service_users"))


BATCHES = {"users": _user_batch, "tokens": _token_part, "invites": _invite_batch}


def onboarding_batches(data, part=None, existing=None):
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


def _registered(results, name):
    """A registered task result from ``results``: {} when the task did not run (undefined, skipped or not a dict)."""
    value = results.get(name)
    return value if isinstance(value, dict) else {}


def _listed(result, key):
    value = result.get(key)
    return list(value) if isinstance(value, (list, tuple)) else []


def onboarding_result(results):
    """``netbird_onboarding_result`` from the registered results of the role's module tasks, in one pass each.

    ``results``: ``users`` (netbird_user), ``invites`` (netbird_user_invite), ``tokens`` (netbird_user_token),
    ``approved`` and ``rejected`` (netbird_user_approval); a task that did not run may be missing or {}. Only the
    entries that carry a one-time secret are read beyond their ``changed`` flag; nothing here is ever put in an error.
    """
    if not isinstance(results, dict):
        raise AnsibleFilterError("onboarding_result expects a dict of registered results, got %s" % type(results).__name__)
    users = _registered(results, "users")
    summary = users.get("summary") if isinstance(users.get("summary"), dict) else {}
    passwords = {}
    if _listed(summary, "created"):
        for entry in _listed(users, "users"):
            if isinstance(entry, dict) and "password" in entry:
                passwords[(entry.get("user") or {}).get("email")] = entry["password"]
    invite_urls = {}
    for entry in _listed(_registered(results, "invites"), "invites"):
        if isinstance(entry, dict) and "invite_url" in entry:
            invite_urls[entry.get("email")] = entry["invite_url"]
    tokens = {}
    for entry in _listed(_registered(results, "tokens"), "tokens"):
        if isinstance(entry, dict) and "plain_token" in entry:
            tokens.setdefault(entry.get("user_name"), {})[(entry.get("token") or {}).get("name")] = entry["plain_token"]
    return {
        "created": _listed(summary, "created"),
        "updated": _listed(summary, "updated"),
        "unchanged": _listed(summary, "unchanged"),
        "removed": _listed(summary, "deleted"),
        "offboarded": _listed(summary, "offboarded"),
        "approved": [entry.get("email") for entry in _listed(_registered(results, "approved"), "users") if isinstance(entry, dict)],
        "rejected": [entry.get("email") for entry in _listed(_registered(results, "rejected"), "users") if isinstance(entry, dict)],
        "invited": list(invite_urls),
        "invite_urls": invite_urls,
        "passwords": passwords,
        "tokens": tokens,
        "changed": any(bool(_registered(results, name).get("changed")) for name in ("invites", "users", "tokens", "approved", "rejected")),
    }
