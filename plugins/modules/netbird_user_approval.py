#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: netbird_user_approval
short_description: Approve or reject NetBird users who are pending approval
version_added: 0.1.0
description:
  - When an account requires user approval, users who sign in through SSO for the first time wait, blocked and
    C(pending_approval), until an admin approves or rejects them. This module does that, idempotently.
  - Approving a user who is no longer pending is no change; rejecting a user who is already gone is no change.
  - Rejecting deletes the user, and the server deletes the peers that user registered; the module warns with their number.
  - Rejecting a user who is active (not pending) fails with a clear message and deletes nothing; use
    M(netbird_ops.netbird.netbird_user) with O(netbird_ops.netbird.netbird_user#module:state=absent) to delete an active user.
author:
  - netbird_ops.netbird maintainers (@netbird-ops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - netbird_ops.netbird.netbird
  - netbird_ops.netbird.netbird.actiongroup
attributes:
  check_mode:
    support: full
    details:
      - Reports the users that would be approved or rejected, without any write request.
  diff_mode:
    support: full
  platform:
    support: full
    platforms: all
options:
  state:
    description:
      - V(approved) approves the user(s); V(rejected) rejects (deletes) them.
    type: str
    choices: [approved, rejected]
    default: approved
  user_id:
    description: ID of one user to act on.
    type: str
  email:
    description: Email address of one user to act on (case-insensitive).
    type: str
  emails:
    description:
      - Email addresses of several users to act on in one run (case-insensitive). Each is handled as with O(email).
    type: list
    elements: str
  all_pending:
    description: Act on every user who is pending approval (narrowed by O(email_domains)).
    type: bool
    default: false
  email_domains:
    description:
      - With O(all_pending=true), only users whose email address is in one of these domains (case-insensitive, exact
        domain; C(example.com) does not match C(sub.example.com)).
    type: list
    elements: str
seealso:
  - module: netbird_ops.netbird.netbird_user
  - module: netbird_ops.netbird.netbird_user_info
'''

EXAMPLES = r'''
- name: Approve one user
  netbird_ops.netbird.netbird_user_approval:
    email: new.hire@example.com

- name: Approve everyone from our domains who is waiting (for example on an AWX schedule)
  netbird_ops.netbird.netbird_user_approval:
    all_pending: true
    email_domains: [example.com, example.org]

- name: Reject a stranger (deletes the user and the peers it registered)
  netbird_ops.netbird.netbird_user_approval:
    email: stranger@gmail.com
    state: rejected
'''

RETURN = r'''
users:
  description:
    - The users acted on (approved or rejected), or that would be in check mode, as they were before the action
      for a rejection and as they are after it for an approval. Empty when nothing needed doing.
    - Each has the keys of RV(netbird_ops.netbird.netbird_user#module:user).
  returned: always
  type: list
  elements: dict
  sample: [{id: "a1b2", email: new.hire@example.com, role: user, status: active, is_blocked: false, pending_approval: false}]
'''

from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import (
    AmbiguousWriteError,
    NetBirdAPIError,
    NetBirdInputError,
    OperationFailed,
    quote_segment,
)
from ansible_collections.netbird_ops.netbird.plugins.module_utils._audit import state_reported, with_state
from ansible_collections.netbird_ops.netbird.plugins.module_utils._module import NetBirdModule
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import EMAIL_RE, UserEngine, public_user


def _known(engine, user, warnings):
    """The user with a trustworthy pending_approval: a stub (external IdP) reports none, so ask the audit log.

    None when the audit log cannot tell either (a warning says so): such a user is never treated as pending.
    """
    if state_reported(user) or user.get("is_service_user"):
        return user  # service users never wait for approval
    state = engine.audit.state_of(user.get("id"))
    if state.known:
        return with_state(user, state.blocked, state.pending)
    warnings.append("%s: cannot tell whether it is pending approval: the server lists it as a stub that does not report it "
                    "(external IdP, NetBird issue #6651) and the audit log %s; it is treated as not pending"
                    % (user.get("email") or user.get("id"), state.reason))
    return None


def _select(engine, params, warnings):
    """Users to act on, and the user the task named (single-user mode)."""
    users = engine.users
    if params["all_pending"]:
        domains = set(d.strip().lower().lstrip("@") for d in params["email_domains"] or [])
        selected = []
        for user in users:
            domain = (user.get("email") or "").rpartition("@")[2].lower()
            if domains and domain not in domains:
                continue
            user = _known(engine, user, warnings)
            if user is None or not user.get("pending_approval"):
                continue
            selected.append(user)
        return selected
    if params["user_id"]:
        return _select_one(engine, params["state"], warnings, user_id=params["user_id"])
    if params["email"]:
        return _select_one(engine, params["state"], warnings, email=params["email"])
    selected = []
    for email in params["emails"]:
        for user in _select_one(engine, params["state"], warnings, email=email):
            if user not in selected:
                selected.append(user)
    return selected


def _select_one(engine, state, warnings, user_id=None, email=None):
    users = engine.users
    """The named user when it needs the action, [] when it is already done, an error when it cannot be done."""
    if user_id:
        found = [u for u in users if u.get("id") == user_id]
        what = "user_id %s" % user_id
    else:
        wanted = email.strip().lower()
        found = [u for u in users if (u.get("email") or "").lower() == wanted and not u.get("is_service_user")]
        what = "email %s" % email
    if len(found) > 1:
        raise NetBirdInputError("%s matches %d users (%s); give user_id instead" % (what, len(found), ", ".join(u["id"] for u in found)))
    if not found:
        if state == "approved":
            raise NetBirdInputError("no user with %s exists, so it cannot be approved" % what)
        return []
    user = _known(engine, found[0], warnings)
    if user is None:
        if state == "rejected":
            raise NetBirdInputError("%s: %s, so nothing was deleted (rejecting deletes the user)" % (what, warnings.pop()))
        return []
    if not user.get("pending_approval"):
        if state == "rejected":
            raise NetBirdInputError(
                "%s (%s) is not pending approval (status %s): rejecting would delete an active user, so nothing was deleted; "
                "use netbird_ops.netbird.netbird_user with state: absent to delete it" % (what, user.get("email") or user.get("name"), user.get("status")))
        return []
    return [user]


def run(nb):
    params = nb.params
    given = [key for key in ("user_id", "email", "emails") if params[key] is not None] + (["all_pending"] if params["all_pending"] else [])
    if len(given) != 1:
        raise NetBirdInputError("give exactly one of user_id, email, emails or all_pending: true (got %s)" % (", ".join(given) or "none"))
    if params["email_domains"] is not None and not params["all_pending"]:
        raise NetBirdInputError("email_domains applies only with all_pending: true")
    if params["email"] is not None and not EMAIL_RE.match(params["email"].strip()):
        raise NetBirdInputError("email %r is not an email address" % params["email"])
    for index, email in enumerate(params["emails"] or []):
        if not isinstance(email, str) or not EMAIL_RE.match(email.strip()):
            raise NetBirdInputError("emails[%d] %r is not an email address" % (index, email))
    for domain in params["email_domains"] or []:
        if not domain or "@" in domain.strip().lstrip("@") or "." not in domain:
            raise NetBirdInputError("email_domains entry %r is not a domain name such as example.com" % domain)
    engine = UserEngine(nb.client, check_mode=nb.check_mode)
    if params["emails"] == []:
        return {"changed": False, "users": []}
    engine.load_users(service_user=None if params["user_id"] else False)
    warnings = []
    selected = _select(engine, params, warnings)
    for warning in warnings:
        nb.warn(warning)
    reject = params["state"] == "rejected"
    acted = []
    diffs = []
    done = []
    for index, user in enumerate(selected):
        label = user.get("email") or user.get("id")
        peers = engine.peers_of(user["id"]) if reject else None
        if reject:
            if peers:
                nb.warn("rejecting %s deletes the user and its %d peer%s" % (label, peers, "" if peers == 1 else "s"))
        after_user = dict(user, is_blocked=False, pending_approval=False, status="active")
        try:
            if not nb.check_mode:
                after_user = _reject(engine, user) if reject else _approve(engine, user)
        except NetBirdAPIError as exc:
            rest = [u.get("email") or u.get("id") for u in selected[index + 1:]]
            msg = "%s %s: %s" % ("rejecting" if reject else "approving", label, exc)
            if len(selected) > 1:
                msg += "; %s" % ("already done: %s" % ", ".join(done) if done else "nothing had been changed yet")
                if rest:
                    msg += "; not attempted: %s" % ", ".join(rest)
            raise OperationFailed(msg, {"users": acted, "changed": bool(done)})
        done.append("%s %s" % ("rejected" if reject else "approved", label))
        acted.append(public_user(user if reject else after_user, engine.groups))
        if nb.diff_mode:
            before = {"state": "present", "email": user.get("email"), "pending_approval": True, "blocked": bool(user.get("is_blocked"))}
            if peers is not None:
                before["peers"] = peers
            after = {"state": "absent"} if reject else {"state": "present", "email": user.get("email"), "pending_approval": False, "blocked": False}
            diffs.append({"before": before, "after": after, "before_header": label, "after_header": label})
    result = {"changed": bool(acted), "users": acted}
    if diffs:
        result["diff"] = diffs
    return result


def _approve(engine, user):
    path = "/users/%s/approve" % quote_segment(user["id"])
    try:
        return engine.client.post(path)
    except AmbiguousWriteError:
        return _reread(engine, user, "approve")
    except NetBirdAPIError as exc:
        if exc.status == 422 and "not pending" in exc.message:
            # approved by someone else since the list was read: the goal is reached
            return _reread(engine, user, "approve")
        raise


def _reject(engine, user):
    path = "/users/%s/reject" % quote_segment(user["id"])
    try:
        engine.client.delete(path)
    except NetBirdAPIError as exc:
        if exc.status != 404:
            raise
    return None


def _reread(engine, user, what):
    users = engine.client.get_list("/users", params={"service_user": "false"})
    for current in users:
        if current.get("id") == user["id"]:
            if not current.get("pending_approval"):
                return current
            # still pending: the approval did not happen, so it is safe to send it again once
            return engine.client.post("/users/%s/%s" % (quote_segment(user["id"]), what))
    raise NetBirdInputError("%s disappeared while it was being approved" % (user.get("email") or user["id"]))


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["approved", "rejected"], default="approved"),
        user_id=dict(type="str"),
        email=dict(type="str"),
        emails=dict(type="list", elements="str"),
        all_pending=dict(type="bool", default=False),
        email_domains=dict(type="list", elements="str"),
    )
    module = NetBirdModule(
        argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("user_id", "email", "emails")],
    )
    module.run(run)


if __name__ == "__main__":
    main()
