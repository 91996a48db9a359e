# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The setup kind: first-time setup of a fresh self-hosted server (``GET /api/instance``, ``POST /api/setup``).

Both calls are public (no token). The owner's PAT, when the server makes one, is returned once.
Private to netbird_ops.netbird; not a public API.
"""

from __future__ import annotations

from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import AmbiguousWriteError, NetBirdAPIError, NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._core import Change, Kind, Outcome, Spec, build_specs
from ansible_collections.netbird_ops.netbird.plugins.module_utils._task import module_runner
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import EMAIL_RE

PASSWORD_MIN, PASSWORD_MAX = 8, 72
PAT_WARNING = ("the server finished the setup but returned no personal access token although create_pat is true: start the "
               "management server with NB_SETUP_PAT_ENABLED=true to get one (until then only the owner's browser login works)")


def setup_argument_spec():
    return dict(
        # required only when the server still needs setup (checked after GET /api/instance, before any write), so
        # that a task without them reports setup_required
        email=dict(type="str"),
        name=dict(type="str"),
        password=dict(type="str", no_log=True),
        create_pat=dict(type="bool", default=True),
        pat_expire_in=dict(type="int", default=1),
    )


class SetupSpec(Spec):
    keys = tuple(setup_argument_spec())
    cleaned = ("email", "name")
    label = "the setup"

    def validate(self):
        if self.email is not None and not EMAIL_RE.match(self.email):
            self.fail("email %r is not an email address" % self.email)
        length = len(self.password or "")
        if self.password is not None and not PASSWORD_MIN <= length <= PASSWORD_MAX:
            # the length only: the password itself never appears in a message
            self.fail("password must be %d to %d characters long (NetBird's rule), got %d" % (PASSWORD_MIN, PASSWORD_MAX, length))
        if self.create_pat and not 1 <= (self.pat_expire_in or 0) <= 365:
            self.fail("pat_expire_in must be between 1 and 365 days, got %s" % self.pat_expire_in)

    def identity(self):
        return "setup"


def setup_specs(params):
    return build_specs(params, None, SetupSpec, None)


class SetupKind(Kind):
    """One change at most: the setup, when the server still needs it."""

    single_keys = ("setup_required", "user_id", "email", "personal_access_token")

    def __init__(self, client, check_mode=False):
        super().__init__(client, check_mode)
        self.required = None

    def prepare(self, specs):
        instance = self.client.get_object("/instance")
        self.required = bool(instance.get("setup_required"))

    def plan(self, spec):
        if not self.required:
            return Change(spec)
        missing = [key for key in ("email", "name", "password") if not getattr(spec, key)]
        if missing:
            raise NetBirdInputError("the server needs its first-time setup, so %s %s required to create the owner"
                                    % (" and ".join(missing), "is" if len(missing) == 1 else "are"))
        body = {"email": spec.email, "password": spec.password, "name": spec.name, "create_pat": bool(spec.create_pat)}
        if spec.create_pat:
            body["pat_expire_in"] = spec.pat_expire_in
        return Change(spec, None, "create", {"setup": body}, {"email": spec.email, "user_id": None})

    def apply(self, change, stage=None, previous=None):
        try:
            answer = self.client.post("/setup", change.step("setup"))
        except AmbiguousWriteError as exc:
            exc.hint = ("The server may or may not have completed the setup; the request was not re-sent: check "
                        "GET /api/instance (setup_required) and log in as the owner, or run the task again")
            raise
        except NetBirdAPIError as exc:
            if exc.status == 412:
                exc.hint = "Another client completed the setup after this task read setup_required"
            raise
        answer = dict(answer or {})
        token = answer.pop("personal_access_token", None)
        warnings = [PAT_WARNING] if change.spec.create_pat and not token else []
        return Outcome(change, answer, {"personal_access_token": token} if token else {}, warnings)

    def view(self, change, outcome, partial=False):
        entry = {"changed": change.changed, "setup_required": bool(self.required) and not (change.changed and not self.check_mode)}
        if change.changed:
            result = outcome.result or {}
            entry["user_id"] = result.get("user_id")
            entry["email"] = result.get("email") or change.spec.email
        entry.update(outcome.secrets)
        return entry

    def done_text(self, change, outcome, stage=None):
        return "set up the server with the owner %s" % change.spec.email

    def diff(self, change, outcome=None):
        before = {"setup_required": True}
        after = {"setup_required": False, "owner": {"email": change.spec.email, "name": change.spec.name},
                 "personal_access_token": "created" if change.spec.create_pat else "not requested"}
        return {"before": before, "after": after, "before_header": "instance", "after_header": "instance"}


run_setup = module_runner(SetupKind.from_params, setup_specs)
