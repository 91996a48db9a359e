# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one fake NetBird client of the unit tests: users, groups, peers, tokens and the audit log in memory.

It records every call (``calls``: (method, path, body-or-params)). Users marked ``"stub": True`` are
answered as a server with an external IdP answers them (``issued: ""``, ``is_blocked: false``,
``pending_approval: false``, ``status: active``, whatever is stored), in lists and in the PUT answer,
while the fake keeps and changes their true state (``state(user_id)``) and logs ``user.block`` /
``user.unblock`` audit events as NetBird does.
"""

from __future__ import annotations

import copy
import datetime

from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import NetBirdAPIError

EPOCH = datetime.datetime(2026, 11, 29, 10, 0, 0, tzinfo=datetime.timezone.utc)


def raw_user(uid, email="", name="", role="user", groups=(), blocked=False, pending=False, service=False, current=False,
             status=None, stub=False):
    user = {
        "id": uid, "email": email, "name": name, "role": role, "auto_groups": list(groups), "is_blocked": blocked,
        "pending_approval": pending, "is_service_user": service, "is_current": current,
        "status": status or ("blocked" if blocked else "active"), "last_login": "0001-01-01T00:00:00Z", "issued": "api",
    }
    if stub:
        user["stub"] = True
    return user


def stub_view(user):
    """What an external-IdP server answers for a user it builds from the local row."""
    view = dict(user, is_blocked=False, pending_approval=False, status="active", issued="",
                last_login="0001-01-01T00:00:00Z")
    if not user.get("is_service_user"):
        view["name"] = ""
    view.pop("stub", None)
    return view


def event(code, target_id, seq, meta=None):
    """One audit event; ``seq`` orders them (nanosecond timestamps of varying length, as NetBird writes them)."""
    when = EPOCH + datetime.timedelta(seconds=seq)
    nanos = "%09d" % (seq * 7919 % 1000000000)
    return {"id": str(seq), "activity_code": code, "target_id": target_id, "meta": meta or {},
            "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.") + nanos.rstrip("0") + "Z"}


class FakeClient:
    """In-memory NetBird for the engines. ``errors`` maps (METHOD, path) to an exception raised once."""

    def __init__(self, users=None, groups=None, tokens=None, peers=None, events=None, groups_status=None,
                 events_status=None):
        self.users = copy.deepcopy(users if users is not None else [])
        self.groups = copy.deepcopy(groups or [])
        self.tokens = copy.deepcopy(tokens or {})
        self.peers = copy.deepcopy(peers or [])
        self.events = copy.deepcopy(events or [])
        self.groups_status = groups_status
        self.events_status = events_status
        self.errors = {}
        self.calls = []
        self.counter = 0

    # -- helpers for assertions ---------------------------------------------------------------
    def writes(self):
        return [c for c in self.calls if c[0] != "GET"]

    def reads(self, path):
        return [c for c in self.calls if c[0] == "GET" and c[1] == path]

    def state(self, user_id):
        return next(u for u in self.users if u["id"] == user_id)

    def _view(self, user):
        return stub_view(user) if user.get("stub") else dict((k, v) for k, v in user.items() if k != "stub")

    def _fail(self, method, path):
        error = self.errors.pop((method, path), None)
        if error is not None:
            raise error

    def _log(self, code, target_id, meta=None):
        seq = 1000 + len(self.events)
        self.events.insert(0, event(code, target_id, seq, meta))

    # -- the client interface -----------------------------------------------------------------
    def get_list(self, path, params=None):
        self.calls.append(("GET", path, params))
        self._fail("GET", path)
        if path == "/users":
            users = self.users
            if params and "service_user" in params:
                users = [u for u in users if bool(u.get("is_service_user")) == (params["service_user"] == "true")]
            return [self._view(u) for u in users]
        if path == "/groups":
            if self.groups_status:
                raise NetBirdAPIError("GET", "/api/groups", status=self.groups_status, message="permission denied")
            return copy.deepcopy(self.groups)
        if path == "/peers":
            return copy.deepcopy(self.peers)
        if path == "/events/audit":
            if self.events_status:
                raise NetBirdAPIError("GET", "/api/events/audit", status=self.events_status, message="permission denied")
            return copy.deepcopy(self.events)
        parts = path.split("/")
        if len(parts) == 4 and parts[3] == "tokens":
            return copy.deepcopy(self.tokens.get(parts[2], []))
        raise AssertionError(path)

    def get_object(self, path):
        self.calls.append(("GET", path, None))
        self._fail("GET", path)
        if path == "/users/current":
            return self._view(next(u for u in self.users if u.get("is_current")))
        raise AssertionError(path)

    def post(self, path, body=None, idempotent=False):
        self.calls.append(("POST", path, body))
        self._fail("POST", path)
        self.counter += 1
        if path == "/users":
            created = raw_user("new%d" % self.counter, body.get("email", ""), body.get("name"), body["role"],
                               body["auto_groups"], service=body["is_service_user"])
            self.users.append(created)
            answer = self._view(created)
            answer["password"] = "one-time-secret!"
            return answer
        parts = path.split("/")
        if len(parts) == 4 and parts[3] == "approve":
            user = self.state(parts[2])
            user.update(is_blocked=False, pending_approval=False, status="active")
            self._log("user.approve", user["id"])
            return self._view(user)
        raise AssertionError(path)

    def put(self, path, body):
        self.calls.append(("PUT", path, body))
        self._fail("PUT", path)
        uid = path.rsplit("/", 1)[1]
        for item in self.users:
            if item["id"] == uid:
                if bool(item.get("is_blocked")) != body["is_blocked"]:
                    self._log("user.block" if body["is_blocked"] else "user.unblock", uid)
                item.update(role=body["role"], auto_groups=body["auto_groups"], is_blocked=body["is_blocked"],
                            status="blocked" if body["is_blocked"] else "active")
                return self._view(item)
        return dict(raw_user(uid), **body)

    def delete(self, path):
        self.calls.append(("DELETE", path, None))
        self._fail("DELETE", path)
        parts = path.split("/")
        if len(parts) == 5 and parts[3] == "tokens":
            before = self.tokens.get(parts[2], [])
            after = [t for t in before if t["id"] != parts[4]]
            if len(after) == len(before):
                raise NetBirdAPIError("DELETE", "/api" + path, status=404, message="pat: %s not found" % parts[4])
            self.tokens[parts[2]] = after
            return {}
        self.users = [u for u in self.users if u["id"] != parts[2]]
        return {}

    def request(self, method, path, **kwargs):
        self.calls.append((method, path, kwargs))
        self._fail(method, path)
        return {}


class FakeNB:
    """Stands in for NetBirdModule: params, check/diff mode, and the warnings a run emitted."""

    def __init__(self, client, params, check_mode=False, diff_mode=False):
        self.client = client
        self.params = params
        self.check_mode = check_mode
        self.diff_mode = diff_mode
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)
