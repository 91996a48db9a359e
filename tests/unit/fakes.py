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

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdAPIError

EPOCH = datetime.datetime(2026, 11, 29, 10, 0, 0, tzinfo=datetime.timezone.utc)


class Unreadable(list):
    """A list that fails when read: proves the code under test did not look through it."""

    def __iter__(self):
        raise AssertionError("read")


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


def default_token(tid, name, days, created_by):
    when = EPOCH + datetime.timedelta(days=days)
    return {"id": tid, "name": name, "expiration_date": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "created_by": created_by,
            "created_at": EPOCH.strftime("%Y-%m-%dT%H:%M:%SZ")}


class FakeClient:
    """In-memory NetBird for the engines.

    ``errors`` maps (METHOD, path) to an exception raised once; ``post_error`` / ``delete_error`` fail the next
    POST / DELETE once (a POST of a token still creates it, or, with ``delay_lost_create``, lands only at the next
    POST: an answer lost while the server kept working). ``copies=False`` answers the stored lists themselves
    (to count how often the engine scans them). ``token_factory(id, name, days, created_by)`` shapes new tokens.
    """

    def __init__(self, users=None, groups=None, tokens=None, peers=None, events=None, groups_status=None,
                 events_status=None, copies=True, token_factory=default_token, invites=None, invites_status=None,
                 instance=None):
        keep = copy.deepcopy if copies else (lambda value: value)
        self.copies = copies
        self.users = keep(users if users is not None else [])
        self.groups = keep(groups if groups is not None else [])
        self.tokens = keep(tokens or {})
        self.peers = keep(peers or [])
        self.events = keep(events or [])
        self.groups_status = groups_status
        self.events_status = events_status
        self.token_factory = token_factory
        self.invites = keep(invites or [])       # invite links of the embedded IdP (no tokens stored)
        self.invites_status = invites_status     # 412: a server without the embedded IdP
        self.instance = instance                 # {"setup_required": bool} for GET /instance
        self.errors = {}
        self.post_error = None
        self.delete_error = None
        self.delay_lost_create = False
        self.late = None
        self.calls = []
        self.counter = 0

    def _out(self, value):
        return copy.deepcopy(value) if self.copies else value

    # -- helpers for assertions ---------------------------------------------------------------
    def writes(self):
        return [c for c in self.calls if c[0] != "GET"]

    def reads(self, path):
        return [c for c in self.calls if c[0] == "GET" and c[1] == path]

    def state(self, user_id):
        return next(u for u in self.users if u["id"] == user_id)

    def _view(self, user):
        return stub_view(user) if user.get("stub") else dict((k, v) for k, v in user.items() if k != "stub")

    def _take(self, name):
        """The injected error ``name`` (raised once)."""
        error = getattr(self, name)
        setattr(self, name, None)
        return error

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
            if not self.copies:
                return users  # as stored (no stub views): scans by the engine can be counted
            return [self._view(u) for u in users]
        if path == "/groups":
            if self.groups_status:
                raise NetBirdAPIError("GET", "/api/groups", status=self.groups_status, message="permission denied")
            return self._out(self.groups)
        if path == "/peers":
            return self._out(self.peers)
        if path == "/users/invites":
            if self.invites_status:
                raise NetBirdAPIError("GET", "/api/users/invites", status=self.invites_status,
                                      message="invite links are only available with embedded identity provider")
            return self._out(self.invites)
        if path == "/events/audit":
            if self.events_status:
                raise NetBirdAPIError("GET", "/api/events/audit", status=self.events_status, message="permission denied")
            return self._out(self.events)
        parts = path.split("/")
        if len(parts) == 4 and parts[3] == "tokens":
            return self._out(self.tokens.get(parts[2], []))
        raise AssertionError(path)

    def get_object(self, path):
        self.calls.append(("GET", path, None))
        self._fail("GET", path)
        if path == "/users/current":
            return self._view(next(u for u in self.users if u.get("is_current")))
        if path == "/instance":
            return dict(self.instance or {"setup_required": False})
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
        if path == "/groups":
            group = {"id": "g%019d" % self.counter, "name": body["name"], "issued": "api"}
            self.groups.append(group)
            return copy.deepcopy(group)
        if path == "/users/invites":
            invite = {"id": "inv%d" % self.counter, "email": body["email"], "name": body["name"], "role": body["role"],
                      "auto_groups": list(body.get("auto_groups") or []), "expired": False,
                      "expires_at": "2026-12-02T10:00:00Z", "created_at": "2026-11-29T10:00:00Z"}
            self.invites.append(invite)
            return dict(invite, invite_token="nbi_secret%d" % self.counter)
        if path == "/setup":
            self.instance = {"setup_required": False}
            answer = {"user_id": "owner%d" % self.counter, "email": body["email"]}
            if body.get("create_pat"):
                answer["personal_access_token"] = "nbp_setup%d" % self.counter
            return answer
        parts = path.split("/")
        if len(parts) == 5 and parts[4] == "regenerate":
            invite = next(i for i in self.invites if i["id"] == parts[3])
            invite.update(expired=False, expires_at="2026-12-03T10:00:00Z")
            return {"invite_token": "nbi_regen%d" % self.counter, "invite_expires_at": invite["expires_at"]}
        if len(parts) == 4 and parts[3] == "tokens":
            return self._post_token(parts[2], body)
        if len(parts) == 4 and parts[3] == "approve":
            user = self.state(parts[2])
            user.update(is_blocked=False, pending_approval=False, status="active")
            self._log("user.approve", user["id"])
            return self._view(user)
        raise AssertionError(path)

    def _post_token(self, uid, body):
        if self.late is not None:
            # a create whose answer was lost lands only now
            self.tokens.setdefault(uid, []).append(self.late)
            self.late = None
        actor = next((u["id"] for u in self.users if u.get("is_current")), None)
        raw = self.token_factory("new%d" % self.counter, body["name"], body["expires_in"], actor)
        if self.post_error is not None:
            error = self._take("post_error")
            if self.delay_lost_create:
                self.late = raw
            else:
                self.tokens.setdefault(uid, []).append(raw)
            raise error  # pylint: disable=raising-bad-type
        self.tokens.setdefault(uid, []).append(raw)
        return {"plain_token": "nbp_secret%d" % self.counter, "personal_access_token": copy.deepcopy(raw)}

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
        if self.delete_error is not None:
            error = self._take("delete_error")
            raise error  # pylint: disable=raising-bad-type
        parts = path.split("/")
        if len(parts) == 4 and parts[2] == "invites":
            before = len(self.invites)
            self.invites = [i for i in self.invites if i["id"] != parts[3]]
            if len(self.invites) == before:
                raise NetBirdAPIError("DELETE", "/api" + path, status=404, message="user invite not found")
            return {}
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
