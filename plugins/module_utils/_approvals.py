# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The approvals kind: approve or reject users pending approval, on the core's BatchRunner.

Users are found through the users kind (one list call, one index); a stub user of an external IdP is
never taken for pending (or not pending) on the stub's word. Private to netbird_ops.netbird; not a public API.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.netbird_ops.netbird.plugins.module_utils import _resources as api
from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import AmbiguousWriteError, NetBirdAPIError, NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._audit import state_reported, with_state
from ansible_collections.netbird_ops.netbird.plugins.module_utils._core import Change, Kind, Outcome, Spec
from ansible_collections.netbird_ops.netbird.plugins.module_utils._task import module_runner
from ansible_collections.netbird_ops.netbird.plugins.module_utils._rules import email_problem
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import UserKind, public_user


def approval_argument_spec():
    return dict(
        state=dict(type="str", choices=["approved", "rejected"], default="approved"),
        user_id=dict(type="str"),
        email=dict(type="str"),
        emails=dict(type="list", elements="str"),
        all_pending=dict(type="bool", default=False),
        email_domains=dict(type="list", elements="str"),
        fail_fast=dict(type="bool", default=False),
    )


APPROVAL_RULES = dict(mutually_exclusive=[("user_id", "email", "emails")])


class ApprovalSpec(Spec):
    """Which users the task acts on; the rules the argument spec cannot express (all_pending is a bool, so
    ``required_one_of`` and ``required_by`` would count its default false as given)."""

    keys = ("state", "user_id", "email", "emails", "all_pending", "email_domains")
    state: str
    user_id: Optional[str]
    email: Optional[str]
    emails: Optional[List[str]]
    all_pending: bool
    email_domains: Optional[List[str]]

    def validate(self):
        given = [key for key in ("user_id", "email", "emails") if getattr(self, key) is not None] + (["all_pending"] if self.all_pending else [])
        if len(given) != 1:
            raise NetBirdInputError("give exactly one of user_id, email, emails or all_pending: true (got %s)" % (", ".join(given) or "none"))
        if self.email_domains is not None and not self.all_pending:
            raise NetBirdInputError("email_domains applies only with all_pending: true")
        problems = [email_problem("email", self.email)] if self.email is not None else []
        problems += [email_problem("emails[%d]" % index, email) for index, email in enumerate(self.emails or [])]
        for problem in problems:
            if problem:
                raise NetBirdInputError(problem)
        for domain in self.email_domains or []:
            if not domain or "@" in domain.strip().lstrip("@") or "." not in domain:
                raise NetBirdInputError("email_domains entry %r is not a domain name such as example.com" % domain)

    @property
    def reject(self):
        return self.state == "rejected"

    @property
    def label(self):
        return self.email or self.user_id or "pending users"

    def identity(self):
        return "approval"


def approval_specs(params):
    return [ApprovalSpec(params)]


class ApprovalKind(Kind):
    """One change per user to approve (POST .../approve) or reject (DELETE .../reject)."""

    result_key = "users"
    list_result = True

    def __init__(self, client, check_mode=False, users=None):
        super().__init__(client, check_mode)
        self.users = users or UserKind(client, check_mode=check_mode)

    # -- reading -----------------------------------------------------------------------------
    def prepare(self, specs):
        spec = specs[0]
        self.users.load_users(service_user=None if spec.user_id else False)

    def known(self, user, warnings):
        """The user with a trustworthy pending_approval: a stub (external IdP) reports none, so ask the audit log.

        None when the audit log cannot tell either (a warning says so): such a user is never treated as pending.
        """
        if state_reported(user) or user.get("is_service_user"):
            return user  # service users never wait for approval
        state = self.users.audit.state_of(user.get("id"))
        if state.known:
            return with_state(user, state.blocked, state.pending)
        warnings.append("%s: cannot tell whether it is pending approval: the server lists it as a stub that does not report it "
                        "(external IdP, NetBird issue #6651) and the audit log %s; it is treated as not pending"
                        % (user.get("email") or user.get("id"), state.reason))
        return None

    def find(self, spec, warnings=None, user_id=None, email=None):
        """The named user when it needs the action, [] when it is already done, an error when it cannot be done."""
        what = "user_id %s" % user_id if user_id else "email %s" % email
        index = self.users.index
        if user_id:
            found = [index.by_id[user_id]] if user_id in index.by_id else []
        else:
            found = index.by_email.get(email.strip().lower(), [])
        if len(found) > 1:
            raise NetBirdInputError("%s matches %d users (%s); give user_id instead" % (what, len(found), ", ".join(u["id"] for u in found)))
        if not found:
            if not spec.reject:
                raise NetBirdInputError("no user with %s exists, so it cannot be approved" % what)
            return []
        user = self.known(found[0], warnings)
        if user is None:
            if spec.reject:
                raise NetBirdInputError("%s: %s, so nothing was deleted (rejecting deletes the user)" % (what, warnings.pop()))
            return []
        if not user.get("pending_approval"):
            if spec.reject:
                who = user.get("email") or user.get("name")
                # named once: "email a@x.io", or "user_id u1 (a@x.io)"
                named = "%s (%s)" % (what, who) if who and (user_id or str(who).lower() != str(email or "").strip().lower()) else what
                raise NetBirdInputError(
                    "%s is not pending approval (status %s): rejecting would delete an active user, so nothing was deleted; "
                    "use netbird_ops.netbird.netbird_user with state: absent to delete it"
                    % (named, user.get("status")))
            return []
        return [user]

    def select(self, spec, warnings):
        if spec.all_pending:
            domains = set(d.strip().lower().lstrip("@") for d in spec.email_domains or [])
            selected = []
            for user in self.users.users:
                domain = (user.get("email") or "").rpartition("@")[2].lower()
                if domains and domain not in domains:
                    continue
                user = self.known(user, warnings)
                if user is not None and user.get("pending_approval"):
                    selected.append(user)
            return selected
        if spec.user_id or spec.email:
            return self.find(spec, warnings, user_id=spec.user_id, email=spec.email)
        selected = []
        for email in spec.emails:
            for user in self.find(spec, warnings, email=email):
                if user not in selected:
                    selected.append(user)
        return selected

    # -- planning ----------------------------------------------------------------------------
    def plan_all(self, specs):
        spec = specs[0]
        if spec.emails == []:
            return []
        self.prepare(specs)
        selected = self.select(spec, self.warnings)
        return [self.plan(spec, user) for user in selected]

    def plan(self, spec, user=None):
        label = user.get("email") or user.get("id")
        warnings = []
        peers = None
        if spec.reject:
            peers = self.users.peers_of(user["id"])
            if peers:
                warnings.append("rejecting %s deletes the user and its %d peer%s" % (label, peers, "" if peers == 1 else "s"))
            return Change(spec, user, "reject", {"reject": True}, None, warnings, {"label": label, "peers": peers})
        predicted = dict(user, is_blocked=False, pending_approval=False, status="active")
        return Change(spec, user, "approve", {"approve": True}, predicted, warnings, {"label": label})

    # -- applying ----------------------------------------------------------------------------
    def apply(self, change, stage=None, previous=None):
        user = change.current
        if change.action == "reject":
            try:
                api.reject_user(self.client, user["id"])
            except NetBirdAPIError as exc:
                if exc.status != 404:
                    raise
            return Outcome(change, None)
        try:
            approved = api.approve_user(self.client, user["id"])
        except AmbiguousWriteError:
            approved = self._reread(user)
        except NetBirdAPIError as exc:
            if exc.status != 422 or "not pending" not in exc.message:
                raise
            # approved by someone else since the list was read: the goal is reached
            approved = self._reread(user)
        return Outcome(change, approved)

    def _reread(self, user):
        for current in api.list_users(self.client, service_user=False):
            if current.get("id") == user["id"]:
                if not current.get("pending_approval"):
                    return current
                # still pending: the approval did not happen, so it is safe to send it again once
                return api.approve_user(self.client, user["id"])
        raise NetBirdInputError("%s disappeared while it was being approved" % (user.get("email") or user["id"]))

    # -- results -----------------------------------------------------------------------------
    def view(self, change, outcome, partial=False):
        return public_user(change.current if change.action == "reject" else outcome.result, self.users.groups)

    def failure_text(self, change, outcome, stage, exc):
        return "%s %s: %s" % ("rejecting" if change.action == "reject" else "approving", change.label, exc)

    def diff(self, change, outcome=None):
        user = change.current
        before: Dict[str, Any] = {"state": "present", "email": user.get("email"), "pending_approval": True,
                                  "blocked": bool(user.get("is_blocked"))}
        if change.info.get("peers") is not None:
            before["peers"] = change.info["peers"]
        after: Dict[str, Any]
        if change.action == "reject":
            after = {"state": "absent"}
        else:
            after = {"state": "present", "email": user.get("email"), "pending_approval": False, "blocked": False}
        return {"before": before, "after": after, "before_header": change.label, "after_header": change.label}

    def finish(self, result, entries, changes, outcomes):
        # an entry is a user acted on (or that would be, in check mode): its dict has no "changed" of its own
        result["changed"] = any(not entry.get("failed") for entry in entries)


run_approvals = module_runner(ApprovalKind.from_params, approval_specs)
