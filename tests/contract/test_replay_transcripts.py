# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replay what a real NetBird v0.77.1 server answered against the emulator (../shared/real-server).

Each transcript is sent to a fresh emulator in order.  Every id a real answer returned (users, groups,
tokens, invites) is mapped to the id the emulator returned at the same step and substituted into later
paths and bodies.  Per exchange the replay compares: the status (or a closed connection), JSON vs
text/plain, the error message with ids masked, the key set of every object (nested ones and list items
too), the values of the fields in VALUE_FIELDS and the number of auto_groups; lists are compared as
multisets (the real server's order is random).  One-time secrets are recorded as their shape
(``<secret nbp_ len=40 ...>``): the emulator's secret must have the same prefix and length.

There is no allow-list: every mismatch is reported with the exchange and the reason, and the match
count is printed.  Under CI (``CI=true``) a missing transcript is a failure, not a skip.
"""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from pathlib import Path

import pytest
import requests

from nb_testlib import Emulator as EmulatorProcess

REPO = Path(__file__).resolve().parents[2]
VALUE_FIELDS = ("role", "status", "is_blocked", "pending_approval", "is_service_user", "issued", "name", "email", "expired")
SECRET = re.compile(r"^<secret (\S*) len=(\d+)[^>]*>$")
SECRET_IN_TEXT = re.compile(r"<secret [^>]*>")
OWNER = ("Owner", "owner@example.com", "Owner-Passw0rd!")
UNKNOWN_PAT = "nbp_" + "A" * 30 + "000000"
MALFORMED_PAT = "nbp_malformed"
# the two invite-accept requests of the transcript sent these passwords (README of real-server/)
ACCEPT_PASSWORDS = {4: "weak", 13: "Ivy-Passw0rd!"}


def transcript(name):
    base = Path(os.environ.get("NETBIRD_REAL_SERVER_DIR") or (REPO.parent / "shared" / "real-server"))
    path = base / name
    if not path.is_file():
        message = "recorded transcript %s is missing (set NETBIRD_REAL_SERVER_DIR)" % path
        if os.environ.get("CI") == "true":
            pytest.fail(message + ": under CI the replay must run")
        pytest.skip(message)
    with open(path, "r", encoding="utf-8") as handle:
        return json.load(handle)


def dex_id():
    """A Dex-encoded user id (what the embedded IdP assigns), built independently of the emulator."""
    raw = str(uuid.uuid4()).encode()
    data = b"\x0a" + bytes([len(raw)]) + raw + b"\x12\x05local"
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class Replay:
    """Sends recorded requests to one emulator and compares the answers."""

    def __init__(self, emu, token):
        self.emu = emu
        self.token = token
        self.ids = {}          # real id -> emulator id
        self.secrets = {}      # recorded secret shape -> the emulator's secret
        self.results = []      # (index, step, [problems])
        self.session = requests.Session()

    # ---- requests -------------------------------------------------------------------------
    def subst(self, value):
        if isinstance(value, str):
            for real in sorted(self.ids, key=len, reverse=True):
                value = value.replace(real, self.ids[real])
            return SECRET_IN_TEXT.sub(lambda m: self.secret_for(m.group(0)), value)
        if isinstance(value, list):
            return [self.subst(v) for v in value]
        if isinstance(value, dict):
            return {k: self.subst(v) for k, v in value.items()}
        return value

    def secret_for(self, shape):
        if shape in self.secrets:
            return self.secrets[shape]
        found = SECRET.match(shape)
        if found and found.group(1) == "nbi_":
            return "nbi_" + "A" * 36          # an invite token the server never issued: its checksum does not match
        if found and found.group(1) == "":
            return ACCEPT_PASSWORDS.get(int(found.group(2)), "x" * int(found.group(2)))
        raise AssertionError("no secret known for %s" % shape)

    def send(self, request, auth="owner"):
        path = self.subst(request.get("actual_path") or request["path"])
        headers = {}
        if auth == "owner":
            headers["Authorization"] = "Token " + self.token
        elif auth:
            headers["Authorization"] = auth
        body = request.get("body")
        kwargs = {}
        if isinstance(body, str):
            kwargs["data"] = body.encode()
            headers["Content-Type"] = "application/json"
        elif body is not None:
            kwargs["json"] = self.subst(body)
        try:
            return self.session.request(request["method"], self.emu.url + path, headers=headers, timeout=30, **kwargs)
        except requests.exceptions.ConnectionError:
            self.session.close()
            self.session = requests.Session()
            return None

    # ---- comparison -----------------------------------------------------------------------
    def mask(self, message, emulator):
        ids = self.ids.values() if emulator else self.ids.keys()
        for value in sorted(ids, key=len, reverse=True):
            message = message.replace(value, "<id>").replace(value.lower(), "<id>")
        return message

    def compare_response(self, real, resp):
        problems = []
        if real.get("status") is None:
            if resp is not None:
                problems.append("the real server closed the connection; the emulator answered %s" % resp.status_code)
            return problems, None
        if resp is None:
            return ["the emulator closed the connection; the real server answered %s" % real["status"]], None
        if resp.status_code != real["status"]:
            problems.append("status %s, real %s (%s)" % (resp.status_code, real["status"], resp.text[:200]))
        ctype = resp.headers.get("Content-Type", "")
        if real.get("request_id_header") is not None and bool(resp.headers.get("X-Request-Id")) != real["request_id_header"]:
            problems.append("X-Request-Id header present=%s, real %s" % (bool(resp.headers.get("X-Request-Id")), real["request_id_header"]))
        if real.get("retry_after") is not None and resp.headers.get("Retry-After") is None:
            problems.append("no Retry-After header")
        if real.get("text") is not None:
            if not ctype.startswith("text/plain"):
                problems.append("content type %s, real text/plain" % ctype)
            if resp.text != real["text"]:
                problems.append("text %r, real %r" % (resp.text[:100], real["text"]))
            return problems, None
        if not ctype.startswith("application/json"):
            return problems + ["content type %s, real JSON" % ctype], None
        data = resp.json()
        real_json = real.get("json")
        if isinstance(real_json, dict) and set(real_json) == {"message", "code"} and real["status"] >= 400:
            if not isinstance(data, dict) or set(data) != {"message", "code"}:
                return problems + ["error body %r" % (data,)], data
            if self.mask(data["message"], True) != self.mask(real_json["message"], False):
                problems.append("message %r, real %r" % (data["message"], real_json["message"]))
            return problems, data
        problems.extend(self.compare(real_json, data, "body", top=True))
        return problems, data

    def compare(self, real, emu, where, top=False):
        if isinstance(real, str) and SECRET.match(real):
            found = SECRET.match(real)
            if not isinstance(emu, str) or not emu.startswith(found.group(1)) or len(emu) != int(found.group(2)):
                return ["%s: secret %s, the emulator's has another shape (%s chars)" % (where, real, len(emu) if isinstance(emu, str) else emu)]
            self.secrets[real] = emu
            return []
        if isinstance(real, list):
            if not isinstance(emu, list):
                return ["%s: list expected, got %r" % (where, type(emu).__name__)]
            return self.compare_multiset(real, emu, where, top)
        if isinstance(real, dict):
            if not isinstance(emu, dict):
                return ["%s: object expected, got %r" % (where, emu)]
            problems = []
            if set(real) != set(emu):
                problems.append("%s: keys differ: missing %s, extra %s" % (
                    where, sorted(set(real) - set(emu)), sorted(set(emu) - set(real))))
            if top:
                for key in VALUE_FIELDS:
                    if key in real and key in emu and real[key] != emu[key] and not SECRET.match(str(real[key])):
                        problems.append("%s.%s = %r, real %r" % (where, key, emu[key], real[key]))
                if isinstance(real.get("auto_groups"), list) and len(real["auto_groups"]) != len(emu.get("auto_groups") or []):
                    problems.append("%s: %d auto_groups, real %d" % (where, len(emu.get("auto_groups") or []), len(real["auto_groups"])))
                if isinstance(real.get("id"), str) and real["id"] in self.ids and emu.get("id") != self.ids[real["id"]]:
                    problems.append("%s: id %r, expected the emulator's %r" % (where, emu.get("id"), self.ids[real["id"]]))
            for key in sorted(set(real) & set(emu)):
                if isinstance(real[key], (dict, list)) or (isinstance(real[key], str) and SECRET.match(real[key])):
                    problems.extend(self.compare(real[key], emu[key], "%s.%s" % (where, key)))
            return problems
        return []

    def compare_multiset(self, real, emu, where, top):
        if len(real) != len(emu):
            return ["%s: %d items, real %d" % (where, len(emu), len(real))]
        if not all(isinstance(item, dict) for item in real):
            return [] if sorted(map(json.dumps, real)) == sorted(map(json.dumps, emu)) or not top else \
                ["%s: items differ" % where]
        unused = list(range(len(emu)))
        problems = []
        pairs = []
        # items whose id is already mapped pair with that id; the others with the first item that matches
        for pos, item in sorted(enumerate(real), key=lambda p: p[1].get("id") not in self.ids):
            choice = None
            for cand in unused:
                if item.get("id") in self.ids and emu[cand].get("id") != self.ids[item["id"]]:
                    continue
                if not self.compare(item, emu[cand], "%s[%d]" % (where, pos), top=True):
                    choice = cand
                    break
            if choice is None:
                best = [c for c in unused if item.get("id") not in self.ids or emu[c].get("id") == self.ids[item["id"]]]
                detail = self.compare(item, emu[best[0]], "%s[%d]" % (where, pos), top=True) if best else ["no counterpart"]
                problems.append("%s[%d] (%s) has no match: %s" % (where, pos, item.get("name") or item.get("email") or item.get("id"),
                                                                  "; ".join(detail)))
                continue
            unused.remove(choice)
            pairs.append((item, emu[choice]))
        for item, other in pairs:
            self.learn(item, other)
        return problems

    def learn(self, real, emu):
        """Map the ids a real answer returned to the emulator's."""
        if isinstance(real, dict) and isinstance(emu, dict):
            for key in ("id", "user_id"):
                if isinstance(real.get(key), str) and isinstance(emu.get(key), str) and real[key] not in self.ids:
                    self.ids[real[key]] = emu[key]
            if isinstance(real.get("personal_access_token"), dict):
                self.learn(real["personal_access_token"], emu.get("personal_access_token"))

    def run(self, index, exchange, auth="owner"):
        resp = self.send(exchange["request"], auth)
        problems, data = self.compare_response(exchange["response"], resp)
        if not problems and not isinstance(exchange["response"].get("json"), list):
            self.learn(exchange["response"].get("json"), data)
        self.results.append((index, exchange["step"], problems))
        return data

    def report(self, name, expected):
        matched = sum(1 for r in self.results if not r[2])
        lines = ["%s: %d/%d exchanges match" % (name, matched, len(self.results))]
        for index, step, problems in self.results:
            for problem in problems:
                lines.append("  #%d %s: %s" % (index, step, problem))
        text = "\n".join(lines)
        print(text)
        assert len(self.results) == expected, "%s: %d exchanges replayed, the transcript has %d" % (name, len(self.results), expected)
        assert matched == expected, text

    def close(self):
        self.session.close()


@pytest.fixture
def replay_emulator():
    started = []

    def _start(*args):
        emu = EmulatorProcess(*args)
        started.append(emu)
        return emu

    yield _start
    for emu in started:
        emu.stop()


def embedded_auth(step, replay, service_token):
    if "service user's PAT" in step:
        return "Token " + service_token
    return {
        "no Authorization header": None,
        "malformed PAT": "Token " + MALFORMED_PAT,
        "well-formed unknown PAT": "Token " + UNKNOWN_PAT,
        "PAT sent as Bearer": "Bearer " + replay.token,
        "garbage Bearer JWT": "Bearer garbage.not.a-jwt",
    }.get(step, "owner")


def test_replay_embedded_idp_transcript(replay_emulator):
    data = transcript("netbird-v0.77.1-embedded-idp.json")
    name, email, password = OWNER
    emu = replay_emulator("--owner-name", name, "--owner-email", email, "--owner-password", password)
    replay = Replay(emu, emu.token)
    service_token = None
    try:
        for index, exchange in enumerate(data["exchanges"]):
            step = exchange["step"]
            auth = embedded_auth(step, replay, service_token)
            if "/api/users/invites/{token}" in exchange["request"]["path"]:
                auth = None       # public routes
            answer = replay.run(index, exchange, auth)
            if step == "token: create for service user" and isinstance(answer, dict):
                service_token = answer["plain_token"]
            if "(to be pending)" in step and isinstance(answer, dict) and "id" in answer:
                # only a first SSO login makes a user pending: the README's replay sets it in the store
                emu.control("POST", "users/%s/set" % requests.utils.quote(answer["id"], safe=""),
                            {"blocked": True, "pending_approval": True})
    finally:
        replay.close()
    replay.report("embedded IdP transcript", len(data["exchanges"]))


def test_replay_setup_transcript(replay_emulator):
    data = transcript("netbird-v0.77.1-setup.json")
    emu = replay_emulator("--uninitialized")
    assert emu.token is None and json.loads(emu.first_line)["token"] is None
    replay = Replay(emu, None)
    try:
        for index, exchange in enumerate(data["exchanges"]):
            step = exchange["step"]
            if "WITHOUT NB_SETUP_PAT_ENABLED" in step:
                # recorded on a second fresh server started without NB_SETUP_PAT_ENABLED
                other = replay_emulator("--uninitialized", "--no-setup-pat")
                second = Replay(other, None)
                second.run(index, exchange, auth=None)
                replay.results.extend(second.results)
                second.close()
                continue
            auth = None
            if replay.token:
                auth = "owner"
            if exchange["request"]["path"] in ("/api/instance", "/api/setup"):
                auth = None
            answer = replay.run(index, exchange, auth)
            if step == "setup" and isinstance(answer, dict):
                replay.token = answer.get("personal_access_token")
    finally:
        replay.close()
    replay.report("setup transcript", len(data["exchanges"]))


def test_replay_external_idp_transcript(replay_emulator):
    """The account as the README describes it, then the ten recorded exchanges, answers and stored state."""
    data = transcript("netbird-v0.77.1-external-idp.json")
    exchanges = data["exchanges"]
    first = exchanges[0]["response"]["json"]
    owner_real = next(u for u in first if u["role"] == "owner")
    emu = replay_emulator("--idp", "external", "--owner-id", dex_id(), "--owner-name", "owner",
                          "--owner-email", owner_real["email"])
    seeded = emu.control("POST", "seed", {
        "groups": [{"name": "dev"}, {"name": "ops"}],
        "users": [
            {"id": dex_id(), "email": "alice@example.com", "name": "Alice", "idp_name": "alice", "auto_groups": ["dev"]},
            {"id": dex_id(), "email": "bob@example.com", "name": "Bob", "idp_name": "bob", "auto_groups": ["dev"], "blocked": True},
            {"id": dex_id(), "email": "carl@example.com", "name": "Carl", "auto_groups": ["dev"], "blocked": True,
             "idp_missing": True},
            {"name": "svc-blocked", "service_user": True, "auto_groups": ["ops"], "blocked": True},
            {"name": "svc-active", "service_user": True, "auto_groups": ["ops"]},
        ]})
    replay = Replay(emu, emu.token)
    # ids: groups by name (from the recorded audit log), users by email or service user name
    groups = {g["name"]: g["id"] for g in seeded["groups"]}
    for event in exchanges[8]["response"]["json"]:
        if event["activity_code"] == "group.add":
            replay.ids[event["target_id"]] = groups[event["meta"]["name"]]
    emu_users = {(u["email"] or u["name"]): u for u in emu.control("GET", "state")["users"]}
    for user in first:
        replay.ids[user["id"]] = emu_users[user["email"] or user["name"]]["id"]
    # before the transcript: a groups-only change merged with the listed is_blocked=false unblocked svc-blocked
    svc = emu_users["svc-blocked"]
    resp = requests.put(emu.url + "/api/users/" + svc["id"], headers={"Authorization": "Token " + emu.token}, timeout=30,
                        json={"role": "user", "auto_groups": [groups["dev"], groups["ops"]], "is_blocked": False})
    assert resp.status_code == 200, resp.text
    try:
        for index, exchange in enumerate(exchanges):
            replay.run(index, exchange)
            state = {(u["email"] or u["name"]): {"blocked": u["is_blocked"], "pending_approval": u["pending_approval"]}
                     for u in emu.control("GET", "state")["users"]}
            for key, stored in exchange["stored_after"].items():
                if state.get(key) != stored:
                    replay.results[-1][2].append("stored_after %s: %s, real %s" % (key, state.get(key), stored))
    finally:
        replay.close()
    replay.report("external IdP transcript", len(exchanges))


# ---- the audit log: which events each action logs -------------------------------------------------
# meta values compared as recorded (created_at is a time and group_id an id: compared by key / through the id map)
AUDIT_META_VALUES = ("email", "username", "role", "name", "group", "is_service_user", "user_name", "issued", "pending_approval")


class AuditReplay:
    """Replays the actions of netbird-v0.77.1-audit-events.json and compares the events each one logs.

    The transcript records each action's method, path and status and the events that appeared after it,
    not the request bodies: each body is rebuilt from the step and its recorded events (a PUT sends the
    user's state after the recorded changes, as the recording's client did)."""

    def __init__(self, emu, owner_real_id):
        self.emu = emu
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Token " + emu.token
        me = self.call("GET", "/api/users/current")[1]
        self.ids = {owner_real_id: me["id"]}    # real id -> emulator id (users, groups, invites)
        self.groups = {}                        # group name -> emulator id
        self.state = {}                         # emulator user id -> {"role", "auto_groups", "is_blocked"}
        self.last_token = None
        self.invite_tokens = {}                 # emulator invite id -> invite token
        self.last_event = max((int(e["id"]) for e in self.call("GET", "/api/events/audit")[1]), default=0)
        self.results = []

    def call(self, method, path, body=None, auth=True):
        headers = {} if auth else {"Authorization": ""}
        resp = self.session.request(method, self.emu.url + path, json=body, headers=headers, timeout=30)
        try:
            data = resp.json()
        except ValueError:
            data = None
        return resp.status_code, data

    def user_target(self, step):
        """The emulator id of the user a step's path names (the id after /api/users/)."""
        real = step["path"].split("/")[3]
        return self.ids[real]

    def put_body(self, uid, events):
        state = self.state[uid]
        for event in events:
            code, meta = event["activity_code"], event["meta"]
            if code == "user.role.update":
                state["role"] = meta["role"]
            elif code in ("user.block", "user.unblock"):
                state["is_blocked"] = code == "user.block"
            elif code == "user.group.add":
                state["auto_groups"].append(self.groups[meta["group"]])
            elif code == "user.group.delete":
                state["auto_groups"].remove(self.groups[meta["group"]])
        return dict(state, auto_groups=list(state["auto_groups"]))

    def act(self, step):
        """Send the step's request; return (status, answer)."""
        name, events = step["step"], step["events"]
        meta = events[0]["meta"] if events else {}
        if name.startswith("create group"):
            status, data = self.call("POST", "/api/groups", {"name": meta["name"]})
            self.groups[meta["name"]] = data["id"]
            return status, data
        if name.startswith("create regular user") or "(to be pending)" in name:
            groups = [self.groups["dev"]] if name.startswith("create regular user") else []
            body = {"email": meta["email"], "name": meta["username"], "role": "user", "auto_groups": groups, "is_service_user": False}
            status, data = self.call("POST", "/api/users", body)
            self.state[data["id"]] = {"role": "user", "auto_groups": list(groups), "is_blocked": False}
            if "(to be pending)" in name:
                # as the recording did in the server's store: no REST call makes a user pending
                self.emu.control("POST", "users/%s/set" % requests.utils.quote(data["id"], safe=""),
                                 {"blocked": True, "pending_approval": True})
            return status, data
        if name == "create service user":
            body = {"name": meta["name"], "role": "user", "auto_groups": [], "is_service_user": True}
            status, data = self.call("POST", "/api/users", body)
            self.state[data["id"]] = {"role": "user", "auto_groups": [], "is_blocked": False}
            return status, data
        if step["method"] == "PUT":
            uid = self.user_target(step)
            return self.call("PUT", "/api/users/" + uid, self.put_body(uid, events))
        if name == "create token":
            status, data = self.call("POST", "/api/users/%s/tokens" % self.user_target(step), {"name": meta["name"], "expires_in": 30})
            self.last_token = data["personal_access_token"]["id"]
            return status, data
        if name == "delete token":
            return self.call("DELETE", "/api/users/%s/tokens/%s" % (self.user_target(step), self.last_token))
        if name.startswith("create invite"):
            body = {"email": meta["email"], "name": meta["email"].split("@")[0].title(), "role": "user", "auto_groups": []}
            status, data = self.call("POST", "/api/users/invites", body)
            self.invite_tokens[data["id"]] = data["invite_token"]
            return status, data
        if name == "regenerate invite":
            invite = self.ids[step["path"].split("/")[4]]
            status, data = self.call("POST", "/api/users/invites/%s/regenerate" % invite)
            self.invite_tokens[invite] = data["invite_token"]
            return status, data
        if name == "delete invite":
            return self.call("DELETE", "/api/users/invites/" + self.ids[step["path"].split("/")[4]])
        if name.startswith("accept invite"):
            token = list(self.invite_tokens.values())[-1]
            return self.call("POST", "/api/users/invites/%s/accept" % token, {"password": "Jo-Passw0rd!"}, auth=False)
        if name.startswith("resend invite"):
            return self.call("POST", "/api/users/%s/invite" % self.user_target(step))
        if name.startswith("approve"):
            return self.call("POST", "/api/users/%s/approve" % self.user_target(step))
        if name.startswith("reject"):
            return self.call("DELETE", "/api/users/%s/reject" % self.user_target(step))
        if step["method"] == "DELETE" and step["path"].startswith("/api/users/"):
            return self.call("DELETE", "/api/users/" + self.user_target(step))
        if name.startswith("delete group"):
            return self.call("DELETE", "/api/groups/" + self.ids[step["path"].split("/")[3]])
        raise AssertionError("no request known for step %r" % name)

    def same_id(self, real, emu, where, problems):
        if real in self.ids:
            if self.ids[real] != emu:
                problems.append("%s %s, expected %s" % (where, emu, self.ids[real]))
        else:
            self.ids[real] = emu

    def compare(self, recorded, logged):
        problems = []
        if [e["activity_code"] for e in logged] != [e["activity_code"] for e in recorded]:
            return ["events %s, real %s" % ([e["activity_code"] for e in logged], [e["activity_code"] for e in recorded])]
        for real, emu in zip(recorded, logged):
            where = real["activity_code"]
            if set(emu) != set(real):
                problems.append("%s: keys %s, real %s" % (where, sorted(emu), sorted(real)))
            if emu["activity"] != real["activity"]:
                problems.append("%s: activity %r, real %r" % (where, emu["activity"], real["activity"]))
            self.same_id(real["initiator_id"], emu["initiator_id"], where + " initiator", problems)
            self.same_id(real["target_id"], emu["target_id"], where + " target", problems)
            for key in ("initiator_email", "initiator_name"):
                if emu.get(key) != real[key]:
                    problems.append("%s: %s %r, real %r" % (where, key, emu.get(key), real[key]))
            if set(emu["meta"]) != set(real["meta"]):
                problems.append("%s: meta keys %s, real %s" % (where, sorted(emu["meta"]), sorted(real["meta"])))
            for key in AUDIT_META_VALUES:
                if key in real["meta"] and emu["meta"].get(key) != real["meta"][key]:
                    problems.append("%s: meta %s %r, real %r" % (where, key, emu["meta"].get(key), real["meta"][key]))
            if "group_id" in real["meta"]:
                self.same_id(real["meta"]["group_id"], emu["meta"].get("group_id"), where + " meta group_id", problems)
        return problems

    def run(self, index, step):
        status, data = self.act(step)
        problems = [] if status == step["status"] else ["status %s, real %s (%s)" % (status, step["status"], data)]
        events = self.call("GET", "/api/events/audit")[1]
        new = sorted((e for e in events if int(e["id"]) > self.last_event), key=lambda e: int(e["id"]))
        if new:
            self.last_event = int(new[-1]["id"])
        problems.extend(self.compare(step["events"], new))
        self.results.append((index, step["step"], problems))

    def report(self, expected):
        matched = sum(1 for r in self.results if not r[2])
        lines = ["audit events transcript: %d/%d actions log the same events" % (matched, len(self.results))]
        lines.extend("  #%d %s: %s" % (index, step, problem) for index, step, problems in self.results for problem in problems)
        text = "\n".join(lines)
        print(text)
        assert len(self.results) == expected, text
        assert matched == expected, text


def test_replay_audit_events_transcript(replay_emulator):
    """The events each of the 26 recorded actions logs: codes in order, initiator and target, meta keys and values."""
    data = transcript("netbird-v0.77.1-audit-events.json")
    emu = replay_emulator("--owner-name", OWNER[0], "--owner-email", OWNER[1], "--owner-password", OWNER[2])
    replay = AuditReplay(emu, data["owner_id"])
    try:
        for index, step in enumerate(data["steps"]):
            replay.run(index, step)
    finally:
        replay.session.close()
    replay.report(len(data["steps"]))
