# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Runs netbird_user tasks (one user or a batch) on top of the user engine.

Private to netbird_ops.netbird; not a public API."""

from __future__ import annotations

from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import NetBirdError, NetBirdInputError, OperationFailed
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import (
    USER_ENTRY_KEYS,
    PartialCreateError,
    UserEngine,
    UserSpec,
    public_user,
    user_key,
)

PAST = {"create": "created", "update": "updated", "delete": "deleted", "none": "unchanged"}


class BatchFailure(OperationFailed):
    """A write failed part-way; the message says what was already done."""

    def __init__(self, message, results, batch):
        if batch:
            extra = {"users": results, "summary": summarize(results)}
        elif results:
            extra = dict(results[-1])
        else:
            extra = {}
        extra["changed"] = any(r.get("changed") for r in results)
        super().__init__(message, extra)


def summarize(results):
    """Batch results by outcome: created, updated, deleted, unchanged; each a list of emails (names for service users).

    Built here, in one pass, so that callers such as the onboarding role need no per-user templating.
    """
    summary = dict((past, []) for past in PAST.values())
    for entry in results:
        if entry.get("user"):
            summary[PAST.get(entry.get("action"), "unchanged")].append(user_key(entry["user"]))
    return summary


def build_specs(params):
    """UserSpecs from the module parameters: one in single mode, one per element in batch mode."""
    if params.get("users") is not None:
        specs = [UserSpec(entry or {}, where="users[%d]" % index) for index, entry in enumerate(params["users"])]
    else:
        specs = [UserSpec(dict((key, params.get(key)) for key in USER_ENTRY_KEYS))]
    seen = {}
    for spec in specs:
        key = spec.identity()
        if key in seen:
            raise NetBirdInputError("%s and %s name the same user (%s %s); give each user once"
                                    % (seen[key], spec.where, key[0], key[1]))
        seen[key] = spec.where
    return specs


def list_filter(specs):
    """``service_user=`` filter for the one list call, when every spec is of one kind."""
    kinds = set()
    for spec in specs:
        if spec.user_id or (spec.password_change and not (spec.email or spec.name)):
            return None
        kinds.add(bool(spec.service_user))
    return kinds.pop() if len(kinds) == 1 else None


def _describe(done):
    if not done:
        return "nothing had been changed yet"
    return "already done: " + "; ".join(done)


def run_user_specs(nb):
    """Entry point of netbird_user: validate everything, plan everything, then write."""
    params = nb.params
    batch = params.get("users") is not None
    specs = build_specs(params)
    engine = UserEngine(nb.client, check_mode=nb.check_mode)
    if specs:
        engine.load_users(service_user=list_filter(specs))
    plans = [engine.plan(spec) for spec in specs]
    if any(plan.changed for plan in plans) and not engine.groups.loaded:
        # one groups call so that diffs and results show group names
        engine.groups.load()

    results = []
    done = []
    diffs = []
    peers_deleted = {}
    for index, plan in enumerate(plans):
        for warning in plan.warnings:
            nb.warn(warning)
        plan.warnings = []
        before_action = plan.action
        try:
            user, password = engine.apply(plan)
        except PartialCreateError as exc:
            entry = {"user": public_user(exc.created, engine.groups), "changed": True, "action": "create"}
            if exc.password:
                entry["password"] = exc.password
            results.append(entry)
            raise BatchFailure(_failure_message(plan, exc, done, plans[index + 1:], batch), results, batch)
        except NetBirdError as exc:
            raise BatchFailure(_failure_message(plan, exc, done, plans[index + 1:], batch), results, batch)
        for warning in plan.warnings:
            nb.warn(warning)
        action = plan.action if plan.action != "none" or before_action == "none" else before_action
        changed = plan.changed
        shown = plan.current if plan.spec.state == "absent" else user
        entry = {"user": public_user(shown, engine.groups), "changed": changed, "action": action}
        if password:
            entry["password"] = password
        results.append(entry)
        if changed:
            name = user_key(shown or plan.current or {}) or plan.spec.label
            what = [PAST.get(action, action)] if action != "none" else []
            if plan.invite:
                what.append("invite re-sent")
            if plan.password:
                what.append("password changed")
            done.append("%s %s" % (", ".join(what), name))
            if nb.diff_mode:
                diffs.append(engine.diff(plan))
            if plan.action == "delete" and plan.peers is not None:
                peers_deleted[name] = plan.peers

    result = {"changed": any(r["changed"] for r in results)}
    if batch:
        result["users"] = results
        result["summary"] = summarize(results)
        if diffs:
            result["diff"] = diffs
    else:
        entry = results[0]
        result["user"] = entry["user"]
        if "password" in entry:
            result["password"] = entry["password"]
        if diffs:
            result["diff"] = diffs[0]
    if peers_deleted:
        result["peers_deleted"] = peers_deleted
    return result


def _failure_message(plan, exc, done, rest, batch):
    who = plan.spec.label
    text = "%s: %s" % (who, exc)
    if batch:
        text += "; %s" % _describe(done)
        if rest:
            text += "; not attempted: %s" % ", ".join(p.spec.label for p in rest)
    return text
