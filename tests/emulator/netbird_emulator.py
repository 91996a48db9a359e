# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Local NetBird management API emulator (users, tokens, groups, peers).

Standalone and stdlib-only.  It behaves like the NetBird v0.77.1 management API
for the endpoints the netbird_ops.netbird collection uses, with the real status
codes, error bodies and rules (see docs/netbird-api.md of the project).

Start it from the repository root::

    python3 tests/emulator/netbird_emulator.py [--port 0] [--idp embedded|external|none] ...

It prints one JSON line ``{"url": ..., "token": ...}`` on stdout and serves until
SIGTERM or SIGINT.  See tests/emulator/README.md for the control API.
"""
from __future__ import annotations

import argparse
import base64
import collections
import copy
import datetime
import hashlib
import http.server
import json
import os
import random
import re
import secrets
import signal
import ssl
import string
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid
import zlib

ZERO_TIME = "0001-01-01T00:00:00Z"
ROLES = ("owner", "admin", "user", "billing_admin", "auditor", "network_admin")
IDP_MODES = ("embedded", "external", "none")
BASE62 = string.digits + string.ascii_lowercase + string.ascii_uppercase
PAT_PREFIX = "nbp_"
PAT_SECRET_LEN = 30
PAT_CHECKSUM_LEN = 6
PAT_LEN = len(PAT_PREFIX) + PAT_SECRET_LEN + PAT_CHECKSUM_LEN
DEFAULT_OWNER_EMAIL = "owner@example.com"
DEFAULT_OWNER_NAME = "Emulator Owner"
DEFAULT_OWNER_PASSWORD = "Emulator-Owner-Pass1!"
LOG_SIZE = 5000
AUDIT_LIMIT = 10000        # GET /api/events/audit answers at most this many (newest first)
MAX_BODY = 10 * 1024 * 1024
STATE_VERSION = 1
DNS_DOMAIN = "netbird.selfhosted"
INVITE_PREFIX = "nbi_"
INVITE_DEFAULT_EXPIRES = 72 * 3600
INVITE_MIN_EXPIRES = 3600
NOT_FOUND_TEXT = b"404 page not found\n"
NO_REQUEST_ID = "X-Emulator-No-Request-Id"   # internal marker header: answer without X-Request-Id
ACTIVITIES = {
    "account.create": "Account created",
    "user.join": "User joined",
    "user.create": "User created",
    "service.user.create": "Service user created",
    "user.delete": "User deleted",
    "service.user.delete": "Service user deleted",
    "user.block": "User blocked",
    "user.unblock": "User unblocked",
    "user.role.update": "User role updated",
    "user.group.add": "Group added to user",
    "user.group.delete": "Group removed from user",
    "user.approve": "User approved",
    "user.reject": "User rejected",
    "user.invite": "User invited",
    "user.password.change": "User password changed",
    "group.add": "Group created",
    "group.update": "Group updated",
    "group.delete": "Group deleted",
    "personal.access.token.create": "Personal access token created",
    "personal.access.token.delete": "Personal access token deleted",
    "user.invite.link.create": "User invite link created",
    "user.invite.link.accept": "User invite link accepted",
    "user.invite.link.regenerate": "User invite link regenerated",
    "user.invite.link.delete": "User invite link deleted",
}

# the permission modules GET /api/users/current lists on v0.77.1 (recorded transcript)
AGENT_MODULES = ("agent_network", "agent_network.budgets", "agent_network.guardrails", "agent_network.logs",
                 "agent_network.policies", "agent_network.providers", "agent_network.settings", "agent_network.usage")
MODULES = ("accounts",) + AGENT_MODULES + ("dns", "events", "groups", "identity_providers", "nameservers", "networks",
                                           "pats", "peers", "policies", "remote_jobs", "routes", "services", "settings",
                                           "setup_keys", "users")
OPERATIONS = ("read", "create", "update", "delete")


def _role_permissions():
    full = dict((op, True) for op in OPERATIONS)
    read_only = {"read": True, "create": False, "update": False, "delete": False}
    nothing = dict((op, False) for op in OPERATIONS)
    owner = dict((m, dict(full)) for m in MODULES)
    admin = dict((m, dict(full)) for m in MODULES)
    admin["accounts"] = {"read": True, "create": False, "update": True, "delete": False}
    auditor = dict((m, dict(read_only)) for m in MODULES)
    network_admin = dict((m, dict(nothing)) for m in MODULES)
    for module in ("users", "peers", "events", "settings", "setup_keys", "accounts"):
        network_admin[module] = dict(read_only)
    for module in ("pats", "groups", "networks", "policies", "routes", "dns", "nameservers", "services") + AGENT_MODULES:
        network_admin[module] = dict(full)
    user = dict((m, dict(nothing)) for m in MODULES)
    # billing_admin is deliberately absent: it is not in the open-source RolesMap
    return {"owner": owner, "admin": admin, "auditor": auditor, "network_admin": network_admin, "user": user}


ROLE_PERMISSIONS = _role_permissions()

DEFAULT_ERROR_MESSAGES = {
    400: "bad request", 401: "unauthorized", 403: "permission denied", 404: "not found",
    405: "method not allowed", 409: "conflict", 412: "precondition failed", 422: "unprocessable entity",
    429: "too many requests", 500: "internal server error", 502: "bad gateway", 503: "service unavailable",
    504: "gateway timeout",
}


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------

class ApiError(Exception):
    """An API error answered as {"message": ..., "code": ...}.

    NetBird's util.WriteError lower-cases the message of status errors; messages a handler
    writes directly with WriteErrorResponse keep their case (lower=False).
    """

    def __init__(self, status, message, lower=True):
        super().__init__(message)
        self.status = status
        self.message = message.lower() if lower else message


class Drop(Exception):
    """Raised by the fault injector: close the connection without answering."""


class Partial(Exception):
    """Raised by the fault injector: send the status line, the headers and half the body, then close."""

    def __init__(self, result):
        super().__init__("partial answer")
        self.result = result


def iso_at(when):
    """RFC 3339 with nanoseconds, as Go's time.Time marshals (trailing zeros trimmed)."""
    nanos = ("%09d" % (when.microsecond * 1000 + (time.time_ns() % 1000))).rstrip("0")
    return when.strftime("%Y-%m-%dT%H:%M:%S") + ("." + nanos if nanos else "") + "Z"


def now_iso():
    return iso_at(datetime.datetime.now(datetime.timezone.utc))


def iso_in_days(days):
    return iso_at(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days))


def iso_in_seconds(seconds):
    return iso_at(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds))


def parse_iso(value):
    try:
        text = value.replace("Z", "+00:00")
        found = re.match(r"^(.*T\d\d:\d\d:\d\d)\.(\d+)(.*)$", text)
        if found:   # Python takes at most 6 fractional digits
            text = found.group(1) + "." + found.group(2)[:6].ljust(6, "0") + found.group(3)
        return datetime.datetime.fromisoformat(text)
    except (ValueError, AttributeError):
        return None


def base62_encode(number):
    if number == 0:
        return BASE62[0]
    out = []
    while number > 0:
        number, rem = divmod(number, 62)
        out.append(BASE62[rem])
    return "".join(reversed(out))


def base62_decode(text):
    number = 0
    for char in text:
        idx = BASE62.find(char)
        if idx < 0:
            raise ValueError("not base62")
        number = number * 62 + idx
    return number


# --secret-marker: a base62 word that starts every secret the emulator makes (one-time passwords, PATs),
# so that tests can find any secret in logs without knowing it.
SECRET_MARKER = ""


def generate_pat():
    """A PAT like NetBird's: nbp_ + 30 base62 chars + 6-char base62 crc32 checksum."""
    secret = SECRET_MARKER + "".join(secrets.choice(BASE62) for dummy in range(PAT_SECRET_LEN - len(SECRET_MARKER)))
    checksum = base62_encode(zlib.crc32(secret.encode("ascii")) & 0xFFFFFFFF).rjust(PAT_CHECKSUM_LEN, "0")
    return PAT_PREFIX + secret + checksum


def pat_well_formed(token):
    if len(token) != PAT_LEN or not token.startswith(PAT_PREFIX):
        return False
    secret = token[len(PAT_PREFIX):len(PAT_PREFIX) + PAT_SECRET_LEN]
    checksum = token[len(PAT_PREFIX) + PAT_SECRET_LEN:]
    try:
        return base62_decode(checksum) == zlib.crc32(secret.encode("ascii")) & 0xFFFFFFFF
    except (ValueError, UnicodeEncodeError):
        return False


def generate_invite_token():
    """An invite token like NetBird's: nbi_ + 30 base62 chars + 6-char base62 crc32 checksum."""
    secret = SECRET_MARKER + "".join(secrets.choice(BASE62) for dummy in range(PAT_SECRET_LEN - len(SECRET_MARKER)))
    checksum = base62_encode(zlib.crc32(secret.encode("ascii")) & 0xFFFFFFFF).rjust(PAT_CHECKSUM_LEN, "0")
    return INVITE_PREFIX + secret + checksum


def invite_token_error(token):
    """types.ValidateInviteToken: None when well-formed, else the reason."""
    if len(token) != PAT_LEN:
        return "invalid token length"
    if not token.startswith(INVITE_PREFIX):
        return "invalid token prefix"
    secret = token[len(INVITE_PREFIX):len(INVITE_PREFIX) + PAT_SECRET_LEN]
    try:
        checksum = base62_decode(token[len(INVITE_PREFIX) + PAT_SECRET_LEN:])
    except ValueError:
        return "checksum decoding failed: not base62"
    if checksum != zlib.crc32(secret.encode("utf-8")) & 0xFFFFFFFF:
        return "checksum does not match"
    return None


def password_error(password):
    """ValidatePassword of the embedded IdP (invite accept)."""
    if len(password) < 8:
        return "password must be at least 8 characters long"
    missing = []
    if not any(c.isdigit() for c in password):
        missing.append("one digit")
    if not any(c.isupper() for c in password):
        missing.append("one uppercase letter")
    if not any(not c.isalpha() and not c.isdigit() for c in password):
        missing.append("one special character")
    if missing:
        return "password must contain at least " + ", ".join(missing)
    return None


def email_valid(email):
    """A loose net/mail.ParseAddress: one @ with text on both sides, no spaces."""
    return bool(re.match(r"^[^@\s<>]+@[^@\s<>]+$", email or ""))


def hash_token(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_XID_LOCK = threading.Lock()
_XID_COUNTER = [secrets.randbelow(1 << 24)]
_XID_MACHINE = secrets.token_bytes(5)


def new_xid():
    """A 20-char xid-like id (base32hex, lower case) as NetBird uses for groups, peers, PATs."""
    with _XID_LOCK:
        _XID_COUNTER[0] = (_XID_COUNTER[0] + 1) & 0xFFFFFF
        counter = _XID_COUNTER[0]
    raw = int(time.time()).to_bytes(4, "big") + _XID_MACHINE + counter.to_bytes(3, "big")
    return base64.b32hexencode(raw).decode("ascii")[:20].lower()


def new_dex_user_id(connector="local"):
    """Dex-encoded user id: unpadded base64 of protobuf {1: uuid, 2: connector}."""
    user_uuid = str(uuid.uuid4()).encode("ascii")
    conn = connector.encode("ascii")
    raw = b"\x0a" + bytes([len(user_uuid)]) + user_uuid + b"\x12" + bytes([len(conn)]) + conn
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def dex_connector(user_id):
    """The connector id of a Dex-encoded user id (dex.DecodeDexUserID), or None."""
    try:
        raw = base64.urlsafe_b64decode(user_id + "=" * (-len(user_id) % 4))
    except (ValueError, TypeError):
        return None
    pos, fields = 0, {}
    while pos < len(raw):
        tag = raw[pos]
        if tag not in (0x0a, 0x12) or pos + 1 >= len(raw):
            return None
        length = raw[pos + 1]
        value = raw[pos + 2:pos + 2 + length]
        if len(value) != length:
            return None
        fields[tag] = value
        pos += 2 + length
    try:
        connector = fields.get(0x12, b"").decode("ascii")
    except UnicodeDecodeError:
        return None
    return connector if fields.get(0x0a) and connector else None


def new_external_user_id():
    return "oidc|" + secrets.token_hex(12)


def new_password():
    """16-char one-time password with a digit, an upper-case letter and a special char."""
    specials = "!@#$%^&*-_"
    alphabet = string.ascii_letters + string.digits + specials
    while True:
        pw = SECRET_MARKER + "".join(secrets.choice(alphabet) for dummy in range(max(8, 16 - len(SECRET_MARKER))))
        if any(c.isdigit() for c in pw) and any(c.isupper() for c in pw) and any(c in specials for c in pw):
            return pw


def parse_bool(value):
    """Go's strconv.ParseBool."""
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(value)


def normalize_role(value):
    """types.StrRoleToUserRole: case-insensitive; None for unknown."""
    if not isinstance(value, str):
        return None
    role = value.lower()
    return role if role in ROLES else None


def slug(text):
    out = re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")
    return out or "peer"


# --------------------------------------------------------------------------------------------
# request body decoding (Go's json.Decoder into a struct: wrong type -> 400, null -> zero value)
# --------------------------------------------------------------------------------------------

def decode_json_object(body):
    """Decode a request body like Go's json.NewDecoder(r.Body).Decode(&struct)."""
    if not body or not body.strip():
        raise ApiError(400, "couldn't parse JSON request", lower=False)
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "couldn't parse JSON request", lower=False) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ApiError(400, "couldn't parse JSON request", lower=False)
    return data


def field(data, name, kind):
    """Return a field value with Go decoding semantics; None when absent or null."""
    value = data.get(name)
    if value is None:
        return None
    ok = True
    if kind == "str":
        ok = isinstance(value, str)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "strlist":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    elif kind == "list":
        ok = isinstance(value, list)
    if not ok:
        raise ApiError(400, "couldn't parse JSON request", lower=False)
    return value


# --------------------------------------------------------------------------------------------
# account state
# --------------------------------------------------------------------------------------------

class Store:
    """All account data with O(1) lookups.  Callers hold Emulator.lock."""

    def __init__(self, idp):
        self.idp = idp
        self.users = {}            # id -> record
        self.email_index = {}      # lower-case email -> id
        self.groups = {}           # id -> record
        self.group_names = {}      # name -> [ids]
        self.peers = {}            # id -> record
        self.user_peers = {}       # user id -> [peer ids]
        self.peer_names = set()
        self.tokens = {}           # token id -> record (owner in record["user_id"])
        self.token_hashes = {}     # sha256 hex of plain token -> token id
        self.user_tokens = {}      # user id -> [token ids]
        self.passwords = {}        # user id -> password (embedded IdP users)
        self.jwts = {}             # bearer JWT -> user id
        self.invites = {}          # invite id -> record (hashed_token, never the plain one)
        self.idp_only = {}         # lower-case email -> {"email", "name"}: users the embedded IdP (Dex) holds, the store not
        self.events = []           # audit events, oldest first
        self.next_event = 1
        self.audit = True          # record audit events
        self.account_id = new_xid()
        self.owner_id = None
        self.owner_token = None
        self.all_group_id = None
        self.next_ip = 1
        self.dirty = False

    # ---- serialization -------------------------------------------------------------------
    def to_dict(self):
        return {
            "version": STATE_VERSION,
            "idp": self.idp,
            "owner_id": self.owner_id,
            "owner_token": self.owner_token,
            "all_group_id": self.all_group_id,
            "next_ip": self.next_ip,
            "users": list(self.users.values()),
            "groups": list(self.groups.values()),
            "peers": list(self.peers.values()),
            "tokens": list(self.tokens.values()),
            "passwords": self.passwords,
            "jwts": self.jwts,
            "invites": list(self.invites.values()),
            "idp_only": list(self.idp_only.values()),
            "events": self.events,
            "next_event": self.next_event,
            "audit": self.audit,
            "account_id": self.account_id,
        }

    @classmethod
    def from_dict(cls, data, idp=None):
        store = cls(idp or data.get("idp") or "embedded")
        store.owner_id = data.get("owner_id")
        store.owner_token = data.get("owner_token")
        store.all_group_id = data.get("all_group_id")
        store.next_ip = int(data.get("next_ip") or 1)
        for entry in data.get("idp_only") or []:
            store.idp_only[entry["email"].lower()] = dict(entry)
        for group in data.get("groups") or []:
            store._index_group(copy.deepcopy(group))
        for user in data.get("users") or []:
            store._index_user(copy.deepcopy(user))
        for peer in data.get("peers") or []:
            peer = copy.deepcopy(peer)
            store.peers[peer["id"]] = peer
            store.peer_names.add(peer["name"])
            store.user_peers.setdefault(peer["user_id"], []).append(peer["id"])
        for token in data.get("tokens") or []:
            token = copy.deepcopy(token)
            store.tokens[token["id"]] = token
            store.token_hashes[token["hashed_token"]] = token["id"]
            store.user_tokens.setdefault(token["user_id"], []).append(token["id"])
        store.passwords = dict(data.get("passwords") or {})
        store.jwts = dict(data.get("jwts") or {})
        for invite in data.get("invites") or []:
            store.invites[invite["id"]] = copy.deepcopy(invite)
        store.events = copy.deepcopy(data.get("events") or [])
        store.next_event = int(data.get("next_event") or len(store.events) + 1)
        store.audit = data.get("audit", True) is not False
        store.account_id = data.get("account_id") or store.account_id
        if store.all_group_id not in store.groups:
            store.all_group_id = None
            for gid, group in store.groups.items():
                if group["name"] == "All":
                    store.all_group_id = gid
                    break
        return store

    # ---- indexes -------------------------------------------------------------------------
    def _index_user(self, user):
        self.users[user["id"]] = user
        if user.get("email"):
            self.email_index[user["email"].lower()] = user["id"]

    def _index_group(self, group):
        self.groups[group["id"]] = group
        self.group_names.setdefault(group["name"], []).append(group["id"])

    def _unindex_group_name(self, group):
        ids = self.group_names.get(group["name"], [])
        if group["id"] in ids:
            ids.remove(group["id"])
        if not ids:
            self.group_names.pop(group["name"], None)

    # ---- users ---------------------------------------------------------------------------
    def user_by_email(self, email):
        uid = self.email_index.get((email or "").lower())
        return self.users.get(uid) if uid else None

    def add_user(self, email, name, role, auto_groups, service_user=False, blocked=False, pending=False,
                 invite_pending=False, user_id=None, last_login=ZERO_TIME, issued="api", idp_missing=False, idp_name=None):
        if user_id is None:
            if service_user:
                user_id = str(uuid.uuid4())
            elif self.idp == "embedded":
                user_id = new_dex_user_id()
            else:
                user_id = new_external_user_id()
        user = {
            "id": user_id,
            "email": "" if service_user else (email or ""),
            "name": name or "",
            "role": role,
            "auto_groups": list(auto_groups or []),
            "blocked": bool(blocked or pending),
            "pending_approval": bool(pending),
            "service_user": bool(service_user),
            "invite_pending": bool(invite_pending),
            "last_login": last_login or ZERO_TIME,
            "issued": issued or "api",
            "idp_id": None if service_user else dex_connector(user_id),
            "idp_missing": bool(idp_missing),
            "idp_name": idp_name,
            "created_at": now_iso(),
        }
        self._index_user(user)
        self.dirty = True
        return user

    def delete_user(self, user_id):
        user = self.users.pop(user_id)
        if user.get("email") and self.email_index.get(user["email"].lower()) == user_id:
            del self.email_index[user["email"].lower()]
        for peer_id in list(self.user_peers.get(user_id, [])):
            self.delete_peer(peer_id)
        self.user_peers.pop(user_id, None)
        for token_id in list(self.user_tokens.get(user_id, [])):
            self.delete_token(token_id)
        self.user_tokens.pop(user_id, None)
        self.passwords.pop(user_id, None)
        for jwt in [k for k, v in self.jwts.items() if v == user_id]:
            del self.jwts[jwt]
        self.dirty = True
        return user

    def user_status(self, user):
        if user["blocked"]:
            return "blocked"
        if user.get("invite_pending"):
            return "invited"
        return "active"

    def is_stub(self, user):
        """External IdP: the user list answers service users and users the IdP does not return as stubs."""
        return self.idp == "external" and (user["service_user"] or user.get("idp_missing"))

    def user_json(self, user, current_id=None, view="list"):
        """A user as the API answers it.

        view: "list" (GET /api/users, PUT, approve: the IdP-merged list entry), "create" (POST answer: no idp_id),
        "current" (GET /api/users/current), "true" (the stored state, for /__emulator__/state).
        """
        if view in ("list", "current") and self.is_stub(user):
            out = {
                "id": user["id"], "email": user["email"],
                "name": user["name"] if user["service_user"] else "",
                "role": user["role"], "status": "active", "last_login": ZERO_TIME,
                "auto_groups": list(user.get("auto_groups") or []), "is_current": user["id"] == current_id,
                "is_service_user": user["service_user"], "is_blocked": False, "pending_approval": False, "issued": "",
            }
            if user.get("idp_id") and view == "list":
                out["idp_id"] = user["idp_id"]
            return out
        name = user["name"]
        if self.idp == "external" and view in ("list", "current") and not user["service_user"] and user.get("idp_name"):
            name = user["idp_name"]
        out = {
            "id": user["id"],
            "email": user["email"],
            "name": name,
            "role": user["role"],
            "status": self.user_status(user),
            "last_login": user.get("last_login") or ZERO_TIME,
            "auto_groups": list(user.get("auto_groups") or []),
            "is_current": user["id"] == current_id,
            "is_service_user": user["service_user"],
            "is_blocked": user["blocked"],
            "pending_approval": user["pending_approval"],
            "issued": user.get("issued") or "api",
        }
        if user.get("idp_id") and (view in ("list", "true") or (view == "current" and self.idp == "embedded")):
            out["idp_id"] = user["idp_id"]
        return out

    # ---- audit events ----------------------------------------------------------------------
    def add_event(self, code, initiator_id, target_id, meta=None):
        if not self.audit:
            return None
        initiator = self.users.get(initiator_id) or {}
        event = {
            "id": str(self.next_event),
            "activity": ACTIVITIES.get(code, code),
            "activity_code": code,
            "initiator_id": initiator_id or "",
            "initiator_email": initiator.get("email", ""),
            "initiator_name": (initiator.get("idp_name") or initiator.get("name") or "") if initiator else "",
            "target_id": target_id or "",
            "meta": dict(meta or {}),
            "timestamp": now_iso(),
        }
        self.next_event += 1
        self.events.append(event)
        self.dirty = True
        return event

    def user_meta(self, user, **extra):
        """The meta NetBird stores for user events: email and the IdP's user name ("" when the IdP has none)."""
        username = user["name"] if user["service_user"] else (user.get("idp_name") or user["name"])
        if user.get("idp_missing") and not user["service_user"]:
            username = ""
        meta = {"email": user["email"], "username": username}
        meta.update(extra)
        return meta

    # ---- groups --------------------------------------------------------------------------
    def add_group(self, name, peers=None, resources=None, issued="api", group_id=None):
        group = {"id": group_id or new_xid(), "name": name, "issued": issued or "api",
                 "peers": list(peers or []), "resources": list(resources or [])}
        self._index_group(group)
        self.dirty = True
        return group

    def rename_group(self, group, name):
        self._unindex_group_name(group)
        group["name"] = name
        self.group_names.setdefault(name, []).append(group["id"])

    def delete_group(self, group_id):
        group = self.groups.pop(group_id)
        self._unindex_group_name(group)
        self.dirty = True

    def group_json(self, group):
        peers = None
        for pid in group["peers"]:
            peer = self.peers.get(pid)
            if peer is None:
                continue
            if peers is None:
                peers = []
            peers.append({"id": peer["id"], "name": peer["name"]})
        resources = [dict(r) for r in group.get("resources") or []] or None
        return {
            "id": group["id"],
            "name": group["name"],
            "peers_count": len(peers or []),
            "resources_count": len(resources or []),
            "issued": group.get("issued") or "api",
            "peers": peers,
            "resources": resources,
        }

    def group_minimum(self, group):
        # what group_json says, without building its peer list (a peer list of N peers in big groups: O(N) each)
        return {"id": group["id"], "name": group["name"],
                "peers_count": sum(1 for pid in group["peers"] if pid in self.peers),
                "resources_count": len(group.get("resources") or []), "issued": group.get("issued") or "api"}

    # ---- peers ---------------------------------------------------------------------------
    def add_peer(self, user):
        ipn = self.next_ip
        self.next_ip += 1
        index = len(self.user_peers.get(user["id"], [])) + 1
        base = slug(user["name"] or user["email"].split("@")[0])
        name = "%s-%d" % (base, index)
        while name in self.peer_names:
            name = "%s-%s" % (base, secrets.token_hex(3))
        self.peer_names.add(name)
        stamp = now_iso()
        peer = {
            "id": new_xid(),
            "name": name,
            "hostname": name,
            "ip": "100.64.%d.%d" % ((ipn // 254) % 256, ipn % 254 + 1),
            "connection_ip": "203.0.113.%d" % (ipn % 254 + 1),
            "user_id": user["id"],
            "created_at": stamp,
            "last_seen": stamp,
            "last_login": stamp,
            "login_expired": False,
            "os": "Linux 6.1.0",
            "kernel_version": "6.1.0",
            "version": "0.77.1",
            "dns_label": "%s.%s" % (name, DNS_DOMAIN),
        }
        self.peers[peer["id"]] = peer
        self.user_peers.setdefault(user["id"], []).append(peer["id"])
        group_ids = [self.all_group_id] + [g for g in user["auto_groups"] if g in self.groups and g != self.all_group_id]
        for gid in group_ids:
            if gid in self.groups:
                self.groups[gid]["peers"].append(peer["id"])
        self.dirty = True
        return peer

    def delete_peer(self, peer_id):
        peer = self.peers.pop(peer_id, None)
        if peer is None:
            return
        self.peer_names.discard(peer["name"])
        for group in self.groups.values():
            if peer_id in group["peers"]:
                group["peers"] = [p for p in group["peers"] if p != peer_id]
        ids = self.user_peers.get(peer["user_id"])
        if ids and peer_id in ids:
            ids.remove(peer_id)
        self.dirty = True

    def peer_json(self, peer):
        groups = [self.group_minimum(g) for g in self.groups.values() if peer["id"] in g["peers"]]
        return {
            "id": peer["id"],
            "name": peer["name"],
            "created_at": peer["created_at"],
            "ip": peer["ip"],
            "connection_ip": peer["connection_ip"],
            "connected": False,
            "last_seen": peer["last_seen"],
            "os": peer["os"],
            "kernel_version": peer["kernel_version"],
            "geoname_id": 2950159,
            "version": peer["version"],
            "groups": groups,
            "ssh_enabled": False,
            "user_id": peer["user_id"],
            "hostname": peer["hostname"],
            "ui_version": "",
            "dns_label": peer["dns_label"],
            "login_expiration_enabled": True,
            "login_expired": peer["login_expired"],
            "last_login": peer["last_login"],
            "inactivity_expiration_enabled": False,
            "approval_required": False,
            "country_code": "DE",
            "city_name": "Berlin",
            "serial_number": "",
            "extra_dns_labels": [],
            "ephemeral": False,
            "accessible_peers_count": max(len(self.peers) - 1, 0),
        }

    # ---- tokens --------------------------------------------------------------------------
    def add_token(self, user_id, name, expires_in, created_by, plain=None, expired=False, expiration_date=None,
                  last_used=None):
        plain = plain or generate_pat()
        stamp = now_iso()
        token = {
            "id": new_xid(),
            "user_id": user_id,
            "name": name,
            "hashed_token": hash_token(plain),
            "expiration_date": expiration_date or (iso_in_days(-1) if expired else iso_in_days(expires_in)),
            "created_by": created_by,
            "created_at": stamp,
            "last_used": last_used,
        }
        self.tokens[token["id"]] = token
        self.token_hashes[token["hashed_token"]] = token["id"]
        self.user_tokens.setdefault(user_id, []).append(token["id"])
        self.dirty = True
        return plain, token

    def delete_token(self, token_id):
        token = self.tokens.pop(token_id, None)
        if token is None:
            return
        self.token_hashes.pop(token["hashed_token"], None)
        ids = self.user_tokens.get(token["user_id"])
        if ids and token_id in ids:
            ids.remove(token_id)
        self.dirty = True

    @staticmethod
    def token_json(token):
        out = {
            "id": token["id"],
            "name": token["name"],
            "expiration_date": token["expiration_date"],
            "created_by": token["created_by"],
            "created_at": token["created_at"],
        }
        if token.get("last_used"):
            out["last_used"] = token["last_used"]
        return out


# --------------------------------------------------------------------------------------------
# routing
# --------------------------------------------------------------------------------------------

ROUTES = [
    # (method, template, handler name)
    ("GET", "/api/users", "list_users"),
    ("POST", "/api/users", "create_user"),
    ("GET", "/api/users/current", "current_user"),
    ("PUT", "/api/users/{userId}", "update_user"),
    ("DELETE", "/api/users/{userId}", "delete_user"),
    ("POST", "/api/users/{userId}/invite", "invite_user"),
    ("POST", "/api/users/{userId}/approve", "approve_user"),
    ("DELETE", "/api/users/{userId}/reject", "reject_user"),
    ("PUT", "/api/users/{userId}/password", "change_password"),
    ("GET", "/api/users/{userId}/tokens", "list_tokens"),
    ("POST", "/api/users/{userId}/tokens", "create_token"),
    ("GET", "/api/users/{userId}/tokens/{tokenId}", "get_token"),
    ("DELETE", "/api/users/{userId}/tokens/{tokenId}", "delete_token"),
    ("GET", "/api/groups", "list_groups"),
    ("POST", "/api/groups", "create_group"),
    ("GET", "/api/groups/{groupId}", "get_group"),
    ("PUT", "/api/groups/{groupId}", "update_group"),
    ("DELETE", "/api/groups/{groupId}", "delete_group"),
    ("GET", "/api/peers", "list_peers"),
    ("GET", "/api/users/invites", "list_invites"),
    ("POST", "/api/users/invites", "create_invite"),
    ("DELETE", "/api/users/invites/{inviteId}", "delete_invite"),
    ("POST", "/api/users/invites/{inviteId}/regenerate", "regenerate_invite"),
    ("GET", "/api/users/invites/{token}", "invite_info"),
    ("POST", "/api/users/invites/{token}/accept", "accept_invite"),
    ("GET", "/api/events/audit", "list_events"),
    ("GET", "/api/instance", "instance"),
    ("POST", "/api/setup", "setup"),
]

# handlers served without authentication (NetBird's public routes)
PUBLIC_HANDLERS = ("invite_info", "accept_invite", "instance", "setup")


def _compile_template(template):
    parts = []
    for segment in template.strip("/").split("/"):
        parts.append("([^/]+)" if segment.startswith("{") else re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "$")


class Router:
    """Matches raw (percent-encoded) paths against the spec's path templates."""

    def __init__(self, routes):
        self.templates = []   # [(template, regex, {method: handler})], literal templates first
        seen = {}
        for method, template, handler in routes:
            if template not in seen:
                seen[template] = (template, _compile_template(template), {})
                self.templates.append(seen[template])
            seen[template][2][method] = handler
        self.templates.sort(key=lambda t: t[0].count("{"))

    def match(self, method, raw_path):
        """Return (template, handler or None, params, allowed methods), or None when no path matches.

        A literal template wins over a parameterised one unless only the latter serves the
        method (PUT /api/users/current is PUT /api/users/{userId} with userId "current").
        """
        candidates = []
        for template, regex, methods in self.templates:
            found = regex.match(raw_path)
            if found:
                candidates.append((template, found, methods))
        if not candidates:
            return None
        chosen = candidates[0]
        for candidate in candidates:
            if method in candidate[2]:
                chosen = candidate
                break
        template, found, methods = chosen
        names = re.findall(r"{(\w+)}", template)
        params = dict((n, urllib.parse.unquote(v)) for n, v in zip(names, found.groups()))
        return template, methods.get(method), params, sorted(methods)


# --------------------------------------------------------------------------------------------
# rate limiter and faults
# --------------------------------------------------------------------------------------------

class RateLimiter:
    """Token bucket per key: BURST capacity, refilled at RPM per minute (NetBird's PAT limiter)."""

    def __init__(self, rpm, burst):
        self.rate = rpm / 60.0
        self.burst = float(burst)
        self.buckets = {}
        self.lock = threading.Lock()

    def allow(self, key):
        with self.lock:
            now = time.monotonic()
            tokens, last = self.buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self.buckets[key] = (tokens, now)
                return False
            self.buckets[key] = (tokens - 1.0, now)
            return True

    def reset(self):
        with self.lock:
            self.buckets.clear()


def validate_fault(rule):
    if not isinstance(rule, dict):
        raise ApiError(400, "a fault rule must be an object", lower=False)
    path = rule.get("path")
    if not isinstance(path, str) or not path:
        raise ApiError(400, "a fault rule needs a path", lower=False)
    out = {"method": str(rule.get("method") or "*").upper(), "path": path.split("?", 1)[0]}
    times = rule.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or times < 1:
        raise ApiError(400, "times must be a positive integer", lower=False)
    out["times"] = times
    status = rule.get("status")
    if status is not None and (not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599):
        raise ApiError(400, "status must be an HTTP status code", lower=False)
    delay = rule.get("delay")
    if delay is not None and (not isinstance(delay, (int, float)) or isinstance(delay, bool) or delay < 0):
        raise ApiError(400, "delay must be a number of seconds", lower=False)
    body = rule.get("body")
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
    drop = bool(rule.get("drop", False))
    race = bool(rule.get("race", False))
    vanish = bool(rule.get("vanish", False))
    partial = bool(rule.get("partial", False))
    if status is None and delay is None and body is None and not (drop or race or vanish or partial):
        raise ApiError(400, "a fault rule needs status, delay, drop, body, race, vanish or partial", lower=False)
    if partial and (drop or status is not None or body is not None):
        raise ApiError(400, "partial cuts off the real answer: it does not combine with drop, status or body", lower=False)
    if body is not None and status is None:
        status = 500
    message = rule.get("message")
    if message is not None and (not isinstance(message, str) or status is None or body is not None):
        raise ApiError(400, "message is the text of a status fault's JSON error body", lower=False)
    user_id = rule.get("user_id")
    if user_id is not None and (not isinstance(user_id, str) or not user_id):
        raise ApiError(400, "user_id must be a user id", lower=False)
    body_contains = rule.get("body_contains")
    if body_contains is not None and (not isinstance(body_contains, str) or not body_contains):
        raise ApiError(400, "body_contains must be a non-empty text", lower=False)
    out.update({"status": status, "delay": delay, "drop": drop, "body": body, "race": race, "vanish": vanish,
                "partial": partial, "message": message, "user_id": user_id, "body_contains": body_contains})
    if rule.get("retry_after") is not None:
        out["retry_after"] = str(rule["retry_after"])
    return out


# --------------------------------------------------------------------------------------------
# the emulator
# --------------------------------------------------------------------------------------------

class Emulator:
    """Routing, auth, rules and the control API; independent of the HTTP server."""

    def __init__(self, idp="embedded", owner_email=DEFAULT_OWNER_EMAIL, owner_name=DEFAULT_OWNER_NAME,
                 owner_password=DEFAULT_OWNER_PASSWORD, token=None, seed=None, state_file=None, rate_limit=None,
                 latency=0.0, order="random", uninitialized=False, setup_pat=True, owner_id=None):
        self.idp = idp
        self.latency = float(latency or 0) / 1000.0
        self.order = order
        self.uninitialized = uninitialized
        self.setup_pat = setup_pat
        self.owner_id_option = owner_id
        self.owner_email = owner_email
        self.owner_name = owner_name
        self.owner_password = owner_password
        self.state_file = state_file
        self.lock = threading.RLock()
        self.router = Router(ROUTES)
        self.limiter = RateLimiter(*rate_limit) if rate_limit else None
        self.faults = []
        self.faults_lock = threading.Lock()
        self.stats_lock = threading.Lock()
        self.total = 0
        self.writes = 0
        self.in_flight = 0
        self.max_in_flight = 0     # most API requests served at the same time (GET /__emulator__/health)
        self.by_route = collections.OrderedDict()
        self.log = collections.deque(maxlen=LOG_SIZE)

        store = None
        if state_file and os.path.exists(state_file):
            with open(state_file, "r", encoding="utf-8") as handle:
                store = Store.from_dict(json.load(handle), idp=idp)
            if token and hash_token(token) not in store.token_hashes and store.owner_id in store.users:
                store.add_token(store.owner_id, "emulator owner", 365, store.owner_id, plain=token)
                store.owner_token = token
        if store is None:
            store = self._fresh_store(token)
            if seed:
                self._seed(store, seed)
        self.store = store
        self.store.dirty = False
        self.startup = json.loads(json.dumps(store.to_dict()))
        if state_file:
            self.save_state(force=True)

    # ---- state ---------------------------------------------------------------------------
    def _fresh_store(self, token):
        store = Store(self.idp)
        if self.uninitialized:
            return store   # no account and no owner until POST /api/setup
        self._create_account(store, self.owner_email, self.owner_name, self.owner_password, user_id=self.owner_id_option,
                             last_login=now_iso())
        plain, record = store.add_token(store.owner_id, "emulator owner", 365, store.owner_id, plain=token)
        store.add_event("personal.access.token.create", store.owner_id, store.owner_id,
                        store.user_meta(store.users[store.owner_id], is_service_user="false", name=record["name"], user_name=""))
        store.owner_token = plain
        return store

    def _create_account(self, store, email, name, password, user_id=None, last_login=ZERO_TIME):
        """The account with its All group and the owner (what the first login or POST /api/setup makes)."""
        store.all_group_id = store.add_group("All").get("id")
        owner = store.add_user(email, name, "owner", [], last_login=last_login, user_id=user_id)
        store.owner_id = owner["id"]
        if self.idp == "embedded":
            store.passwords[owner["id"]] = password
        store.add_event("account.create", owner["id"], store.account_id, {})
        return owner

    def _shuffled(self, items):
        """List order as the real server gives it: random (Go map iteration) unless --order insertion."""
        items = list(items)
        if self.order == "random":
            random.shuffle(items)
        return items

    def save_state(self, force=False):
        """Atomically write the state file (only after changes)."""
        if not self.state_file or not (force or self.store.dirty):
            return
        data = json.dumps(self.store.to_dict(), separators=(",", ":"))
        directory = os.path.dirname(os.path.abspath(self.state_file))
        fd, tmp = tempfile.mkstemp(prefix=".netbird-emulator-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
            os.replace(tmp, self.state_file)
        except OSError:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        self.store.dirty = False

    @property
    def owner_token(self):
        return self.store.owner_token

    # ---- seed ----------------------------------------------------------------------------
    def _seed(self, store, data):
        if not isinstance(data, dict):
            raise ApiError(400, "seed must be an object", lower=False)
        if store.owner_id is None:
            raise ApiError(412, "seed: the emulator is uninitialized (no account yet): POST /api/setup first", lower=False)
        result = {"groups": [], "users": []}
        seeded_groups = []
        audit_before = store.audit
        store.audit = audit_before and data.get("audit", True) is not False
        try:
            self._seed_entries(store, data, result, seeded_groups)
        finally:
            store.audit = audit_before
        return result

    def _seed_entries(self, store, data, result, seeded_groups):
        for entry in data.get("groups") or []:
            if isinstance(entry, str):
                entry = {"name": entry}
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
                raise ApiError(400, "seed: every group needs a name", lower=False)
            ids = store.group_names.get(entry["name"])
            if ids:
                group = store.groups[ids[0]]
            else:
                group = store.add_group(entry["name"], issued=entry.get("issued") or "api", group_id=entry.get("id"))
                store.add_event("group.add", store.owner_id, group["id"], {"name": group["name"]})
            seeded_groups.append(group["id"])
        for entry in data.get("users") or []:
            result["users"].append(self._seed_user(store, entry, seeded_groups))
        for gid in seeded_groups:
            result["groups"].append(store.group_json(store.groups[gid]))

    def _seed_user(self, store, entry, seeded_groups):
        if not isinstance(entry, dict):
            raise ApiError(400, "seed: every user must be an object", lower=False)
        if entry.get("idp_only"):
            return self._seed_idp_only(store, entry)
        service = bool(entry.get("service_user", entry.get("is_service_user", False)))
        role = normalize_role(entry.get("role") or "user")
        if role is None:
            raise ApiError(400, "seed: unknown role %s" % entry.get("role"), lower=False)
        email = entry.get("email") or ""
        name = entry.get("name") or (email.split("@")[0] if email else "")
        if not service:
            if not email:
                raise ApiError(400, "seed: a regular user needs an email", lower=False)
            if store.user_by_email(email):
                raise ApiError(409, "seed: a user with email %s already exists" % email, lower=False)
        if entry.get("id") and entry["id"] in store.users:
            raise ApiError(409, "seed: user id %s already exists" % entry["id"], lower=False)
        auto_groups = []
        for ref in entry.get("auto_groups") or []:
            if ref in store.groups:
                gid = ref
            elif store.group_names.get(ref):
                gid = store.group_names[ref][0]
            else:
                gid = store.add_group(ref)["id"]
                store.add_event("group.add", store.owner_id, gid, {"name": ref})
                seeded_groups.append(gid)
            auto_groups.append(gid)
        invite_pending = (not service and self.idp == "external" and entry.get("status") == "invited")
        user = store.add_user(
            email, name, role, auto_groups, service_user=service, blocked=bool(entry.get("blocked", entry.get("is_blocked"))),
            pending=bool(entry.get("pending_approval")), invite_pending=invite_pending, user_id=entry.get("id"),
            last_login=entry.get("last_login") or ZERO_TIME, issued=entry.get("issued") or "api",
            idp_missing=bool(entry.get("idp_missing")), idp_name=entry.get("idp_name"))
        if service:
            store.add_event("service.user.create", store.owner_id, user["id"], store.user_meta(user, name=user["name"]))
        elif user["pending_approval"]:
            # only a first SSO login into an account that requires approval makes a pending user (addNewUserToDomainAccount)
            # the API renders every meta value with fmt.Sprintf("%v"): {"pending_approval": "true"}
            store.add_event("user.join", user["id"], user["id"], {"pending_approval": "true"})
        else:
            store.add_event("user.create", store.owner_id, user["id"], store.user_meta(user))
        if user["blocked"] and not user["pending_approval"]:
            store.add_event("user.block", store.owner_id, user["id"], store.user_meta(user))
        out = store.user_json(user, view="true")
        if self.idp == "embedded" and not service:
            password = entry.get("password") or new_password()
            store.passwords[user["id"]] = password
            out["password"] = password
        for dummy in range(int(entry.get("peers") or 0)):
            store.add_peer(user)
        if entry.get("jwt"):
            store.jwts[str(entry["jwt"])] = user["id"]
        if entry.get("tokens"):
            out["tokens"] = []
            for tok in entry["tokens"]:
                if not isinstance(tok, dict) or not tok.get("name"):
                    raise ApiError(400, "seed: every token needs a name", lower=False)
                expires_in = tok.get("expires_in") or 30
                if not isinstance(expires_in, int) or isinstance(expires_in, bool):
                    raise ApiError(400, "seed: expires_in must be an integer", lower=False)
                plain, token = store.add_token(user["id"], tok["name"], expires_in, user["id"],
                                               plain=tok.get("plain_token"), expired=bool(tok.get("expired")),
                                               expiration_date=tok.get("expiration_date"), last_used=tok.get("last_used"))
                out["tokens"].append({"plain_token": plain, "personal_access_token": store.token_json(token)})
        return out

    def _seed_idp_only(self, store, entry):
        """A user the embedded IdP holds and NetBird's store does not: no NetBird user, no event."""
        email = entry.get("email")
        if self.idp != "embedded":
            raise ApiError(400, "seed: idp_only users exist only with --idp embedded", lower=False)
        if not isinstance(email, str) or not email or entry.get("service_user") or entry.get("is_service_user"):
            raise ApiError(400, "seed: an idp_only user is a regular user with an email", lower=False)
        if store.user_by_email(email) or email.lower() in store.idp_only:
            raise ApiError(409, "seed: a user with email %s already exists" % email, lower=False)
        record = {"email": email, "name": entry.get("name") or email.split("@")[0]}
        store.idp_only[email.lower()] = record
        store.dirty = True
        return dict(record, idp_only=True)

    # ---- counters / log --------------------------------------------------------------------
    def _count(self, method, route):
        key = "%s %s" % (method, route)
        with self.stats_lock:
            self.total += 1
            if method in ("POST", "PUT", "DELETE", "PATCH"):
                self.writes += 1
            self.by_route[key] = self.by_route.get(key, 0) + 1

    def _reset_counters(self):
        with self.stats_lock:
            self.total = 0
            self.writes = 0
            self.by_route = collections.OrderedDict()
            self.max_in_flight = self.in_flight
            self.log.clear()

    # ---- faults --------------------------------------------------------------------------
    def _take_fault(self, method, raw_path, path, template, user_id=None, body=b""):
        text = None
        with self.faults_lock:
            for rule in self.faults:
                if rule["method"] not in ("*", method):
                    continue
                if rule["path"] not in ("*", raw_path, path, template):
                    continue
                if rule.get("user_id") is not None and rule["user_id"] != user_id:
                    continue
                if rule.get("body_contains") is not None:
                    if text is None:
                        text = body.decode("utf-8", "replace") if body else ""
                    if rule["body_contains"] not in text:
                        continue
                rule["times"] -= 1
                if rule["times"] <= 0:
                    self.faults.remove(rule)
                return dict(rule)
        return None

    # ---- entry point -----------------------------------------------------------------------
    def handle(self, method, target, headers, body):
        """Serve one request.  Returns (status, extra headers, body bytes); raises Drop."""
        parsed = urllib.parse.urlsplit(target)
        raw_path = parsed.path or "/"
        if raw_path.startswith("/__emulator__"):
            return self._control(method, raw_path, parsed.query, body)
        if not raw_path.startswith("/api"):
            return self._not_routed()
        with self.stats_lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._handle_api(method, parsed, raw_path, headers, body)
        finally:
            with self.stats_lock:
                self.in_flight -= 1

    def _handle_api(self, method, parsed, raw_path, headers, body):
        if self.latency:
            time.sleep(self.latency)
        path = urllib.parse.unquote(raw_path)
        match = self.router.match(method, raw_path)
        template = match[0] if match else None
        route = template or path
        self._count(method, route)
        requester = self._requester(headers)
        entry = {"time": now_iso(), "method": method, "path": path, "route": route, "query": parsed.query,
                 "status": None, "body": body[:65536].decode("utf-8", "replace") if body else "", "user_id": requester}
        try:
            result = self._api(method, raw_path, path, parsed.query, headers, body, match, requester)
        except Drop:
            entry["status"] = 0
            with self.stats_lock:
                self.log.append(entry)
            raise
        except Partial as cut:
            entry["status"] = cut.result[0]
            entry["partial"] = True
            with self.stats_lock:
                self.log.append(entry)
            raise
        entry["status"] = result[0]
        with self.stats_lock:
            self.log.append(entry)
        return result

    def _requester(self, headers):
        """Id of the user the request authenticates as (PAT or seeded JWT), or None; no side effects."""
        parts = (headers.get("Authorization") or "").split(" ")
        if len(parts) != 2 or not parts[1]:
            return None
        store = self.store
        if parts[1].startswith(PAT_PREFIX):
            token_id = store.token_hashes.get(hash_token(parts[1]))
            record = store.tokens.get(token_id) if token_id else None
            return record["user_id"] if record else None
        return store.jwts.get(parts[1])

    def _api(self, method, raw_path, path, query, headers, body, match, requester=None):
        fault = self._take_fault(method, raw_path, path, match[0] if match else None, requester, body)
        if fault:
            if fault.get("delay"):
                time.sleep(fault["delay"])
            if fault["drop"]:
                raise Drop()
            if fault["vanish"] and match is not None and "userId" in match[2]:
                # another client deletes the user named in the path just before this request is served
                with self.lock:
                    if match[2]["userId"] in self.store.users:
                        self.store.delete_user(match[2]["userId"])
                        self.save_state()
            if fault["race"]:
                # another client sends the same request just before this one; its answer is not ours
                self._serve_api(method, query, headers, body, match)
            if fault["partial"]:
                raise Partial(self._serve_api(method, query, headers, body, match))
            if fault["status"] is not None:
                extra = {}
                if fault.get("retry_after") is not None:
                    extra["Retry-After"] = fault["retry_after"]
                if fault["body"] is not None:
                    text = fault["body"]
                    stripped = text.lstrip()
                    if stripped.startswith("<"):
                        ctype = "text/html; charset=utf-8"
                    elif stripped.startswith(("{", "[")):
                        ctype = "application/json; charset=UTF-8"
                    else:
                        ctype = "text/plain; charset=utf-8"
                    extra["Content-Type"] = ctype
                    return fault["status"], extra, text.encode("utf-8")
                message = fault.get("message") or DEFAULT_ERROR_MESSAGES.get(fault["status"], "emulated fault")
                status, hdrs, data = self._json(fault["status"], {"message": message, "code": fault["status"]})
                hdrs.update(extra)
                return status, hdrs, data
        return self._serve_api(method, query, headers, body, match)

    @staticmethod
    def _not_routed():
        """gorilla/mux's default for an unknown path or a method no route serves: 404 text/plain, no X-Request-Id."""
        return 404, {"Content-Type": "text/plain; charset=utf-8", NO_REQUEST_ID: "1"}, NOT_FOUND_TEXT

    def _serve_api(self, method, query, headers, body, match):
        if match is None:
            return self._not_routed()
        template, handler, params, allowed = match
        if method == "OPTIONS":
            return 200, {"Allow": ", ".join(allowed + ["OPTIONS"]),
                         "Access-Control-Allow-Methods": ", ".join(allowed + ["OPTIONS"]),
                         "Access-Control-Allow-Headers": "*"}, b""
        if handler is None:
            return self._not_routed()
        try:
            with self.lock:
                if handler in PUBLIC_HANDLERS:
                    user = None
                else:
                    user = self._authenticate(headers)
                status, obj = getattr(self, "h_" + handler)(user, params, urllib.parse.parse_qs(query, keep_blank_values=True), body)
                self.save_state()
        except ApiError as err:
            with self.lock:
                self.save_state()
            return self._error(err)
        return self._json(status, obj)

    @staticmethod
    def _json(status, obj):
        data = (json.dumps(obj) + "\n").encode("utf-8")
        return status, {"Content-Type": "application/json; charset=UTF-8"}, data

    def _error(self, err):
        return self._json(err.status, {"message": err.message, "code": err.status})

    # ---- authentication ------------------------------------------------------------------------
    def _authenticate(self, headers):
        value = headers.get("Authorization") or ""
        parts = value.split(" ")
        if len(parts) != 2 or parts[0].lower() not in ("token", "bearer") or not parts[1]:
            raise ApiError(401, "no valid authentication provided", lower=False)
        scheme, token = parts[0].lower(), parts[1]
        store = self.store
        if scheme == "bearer" and not token.startswith(PAT_PREFIX):
            user_id = store.jwts.get(token)
            if user_id is None or user_id not in store.users:
                raise ApiError(401, "token invalid", lower=False)
            return self._check_user(store.users[user_id])
        if self.limiter and "terraform" not in (headers.get("User-Agent") or "").lower() and not self.limiter.allow(token):
            raise ApiError(429, "too many requests", lower=False)
        if not pat_well_formed(token):
            raise ApiError(401, "token invalid", lower=False)
        hashed = hash_token(token)
        token_id = store.token_hashes.get(hashed)
        if token_id is None:
            raise ApiError(401, "token invalid", lower=False)
        record = store.tokens[token_id]
        expires = parse_iso(record["expiration_date"])
        if expires is None or expires < datetime.datetime.now(datetime.timezone.utc):
            raise ApiError(401, "token invalid", lower=False)
        user = store.users.get(record["user_id"])
        if user is None:
            raise ApiError(401, "token invalid", lower=False)
        record["last_used"] = now_iso()
        return self._check_user(user)

    @staticmethod
    def _check_user(user):
        if user["pending_approval"]:
            raise ApiError(403, "failed to validate user permissions: user is pending approval")
        if user["blocked"]:
            raise ApiError(403, "failed to validate user permissions: user is blocked")
        return user

    # ---- permissions -----------------------------------------------------------------------------
    @staticmethod
    def _allowed(user, module, operation):
        """permissions.ValidateUserPermissions: (allowed) or ApiError for an unknown role."""
        if operation == "read" and user["service_user"]:
            return True
        perms = ROLE_PERMISSIONS.get(user["role"])
        if perms is None:
            raise ApiError(403, "failed to validate user permissions: user role: %s not found" % user["role"])
        return bool(perms.get(module, {}).get(operation))

    def _require(self, user, module, operation):
        if not self._allowed(user, module, operation):
            raise ApiError(403, "permission denied")

    def _target(self, user_id):
        user = self.store.users.get(user_id)
        if user is None:
            raise ApiError(404, "user: %s not found" % user_id)
        return user

    @staticmethod
    def _has_admin_power(user):
        return user["role"] in ("owner", "admin")

    # ---- users -----------------------------------------------------------------------------
    def h_list_users(self, user, params, query, body):
        allowed = self._allowed(user, "users", "read")
        users = self.store.users.values() if allowed else [user]
        flt = query.get("service_user", [""])[-1]
        want = None
        if flt != "":
            try:
                want = parse_bool(flt)
            except ValueError as exc:
                raise ApiError(422, "invalid service_user query parameter") from exc
        out = [self.store.user_json(u, user["id"]) for u in users if want is None or u["service_user"] == want]
        return 200, self._shuffled(out)

    def h_current_user(self, user, params, query, body):
        if user["service_user"]:
            raise ApiError(403, "permission denied")
        data = self.store.user_json(user, user["id"], view="current")
        perms = ROLE_PERMISSIONS.get(user["role"], {})
        data["permissions"] = {
            "is_restricted": user["role"] == "user",
            "modules": dict((m, dict(ops)) for m, ops in perms.items()),
        }
        return 200, data

    def h_create_user(self, user, params, query, body):
        store = self.store
        data = decode_json_object(body)
        role_in = field(data, "role", "str") or ""
        email = field(data, "email", "str") or ""
        name = field(data, "name", "str") or ""
        auto_groups = field(data, "auto_groups", "strlist") or []
        service = bool(field(data, "is_service_user", "bool"))
        role = normalize_role(role_in)
        if role is None:
            raise ApiError(422, "unknown user role %s" % role_in)
        if service:
            self._require(user, "users", "create")
            if role == "owner":
                raise ApiError(422, "can't create a service user with owner role")
            new = store.add_user("", name, role, auto_groups, service_user=True)
            store.add_event("service.user.create", user["id"], new["id"], store.user_meta(new, name=name))
            return 200, store.user_json(new, user["id"], view="create")
        if self.idp == "none":
            raise ApiError(412, "IdP manager must be enabled to send user invites")
        if name == "":
            raise ApiError(422, "name can't be empty")
        if email == "":
            raise ApiError(422, "email can't be empty")
        if role == "owner":
            raise ApiError(422, "can't invite a user with owner role")
        self._require(user, "users", "create")
        if store.user_by_email(email):
            raise ApiError(409, "can't invite a user with an existing NetBird account")
        if self.idp == "embedded":
            self._check_idp_only(email)
            new = store.add_user(email, name, role, auto_groups)
            password = new_password()
            store.passwords[new["id"]] = password
            store.add_event("user.create", user["id"], new["id"], store.user_meta(new))
            out = store.user_json(new, user["id"], view="create")
            out["password"] = password
            return 200, out
        new = store.add_user(email, name, role, auto_groups, invite_pending=True)
        store.add_event("user.invite", user["id"], new["id"], store.user_meta(new))
        return 200, store.user_json(new, user["id"], view="create")

    def h_update_user(self, user, params, query, body):
        store = self.store
        target = self._target(params["userId"])
        if body and body.strip() == b"null":
            # v0.77.1 dereferences the nil request and panics: the connection closes without an answer
            raise Drop()
        data = decode_json_object(body)
        auto_groups = field(data, "auto_groups", "strlist")
        role_in = field(data, "role", "str") or ""
        blocked = bool(field(data, "is_blocked", "bool"))
        if auto_groups is None:
            raise ApiError(400, "auto_groups field can't be absent", lower=False)
        role = normalize_role(role_in)
        if role is None:
            raise ApiError(422, "invalid user role")
        self._require(user, "users", "create")
        prefix = "failed to process update for user %s: " % target["id"]
        if not self._has_admin_power(user):
            raise ApiError(403, prefix + "only admins and owners can update users")
        if user["id"] == target["id"] and target["blocked"] != blocked:
            raise ApiError(403, prefix + "admins can't block or unblock themselves")
        if user["id"] == target["id"] and role != user["role"]:
            raise ApiError(403, prefix + "admins can't change their role")
        if user["role"] == "admin" and target["role"] == "owner" and role != "owner":
            raise ApiError(403, prefix + "only owners can remove owner role from their user")
        if user["role"] == "admin" and target["role"] == "owner" and blocked and not target["blocked"]:
            raise ApiError(403, prefix + "unable to block owner user")
        if user["role"] == "admin" and role == "owner" and target["role"] != "owner":
            raise ApiError(403, prefix + "only owners can add owner role to other users")
        if target["service_user"] and role == "owner":
            raise ApiError(403, prefix + "can't update a service user with owner role")
        for gid in auto_groups:
            if gid not in store.groups:
                raise ApiError(422, prefix + "provided group id %s in the user %s update doesn't exist" % (gid, target["id"]))
            if gid == store.all_group_id:
                raise ApiError(422, prefix + "can't add all group to the user")
        if not target["blocked"] and blocked:
            for pid in store.user_peers.get(target["id"], []):
                store.peers[pid]["login_expired"] = True
        if user["role"] == "owner" and user["id"] != target["id"] and role == "owner":
            user["role"] = "admin"
        old_groups, old_blocked, old_role = list(target["auto_groups"]), target["blocked"], target["role"]
        target["role"] = role
        target["blocked"] = blocked
        target["auto_groups"] = list(auto_groups)
        store.dirty = True
        # one event per change, in v0.77.1's order: role, blocked state, groups added, groups removed
        if old_role != role:
            store.add_event("user.role.update", user["id"], target["id"], store.user_meta(target, role=role))
        if old_blocked != blocked:
            store.add_event("user.block" if blocked else "user.unblock", user["id"], target["id"], store.user_meta(target))
        service = "true" if target["service_user"] else "false"
        for code, gids in (("user.group.add", [g for g in auto_groups if g not in old_groups]),
                           ("user.group.delete", [g for g in old_groups if g not in auto_groups])):
            for gid in gids:
                group = store.groups.get(gid)
                store.add_event(code, user["id"], target["id"], store.user_meta(
                    target, group=group["name"] if group else "", group_id=gid, is_service_user=service,
                    user_name=target["name"] if target["service_user"] else ""))
        return 200, store.user_json(target, user["id"])

    def _delete_user_checked(self, user, target_id, code=None):
        if user["id"] == target_id:
            raise ApiError(422, "self deletion is not allowed")
        self._require(user, "users", "delete")
        target = self._target(target_id)
        if target["role"] == "owner":
            raise ApiError(403, "can't delete a user with the owner role")
        if target.get("issued") == "integration" and not user["service_user"]:
            raise ApiError(403, "only integration service user can delete this user")
        self.store.delete_user(target_id)
        if code:
            # a reject logs user.reject and then the deletion it is carried out by
            self.store.add_event(code, user["id"], target_id, self.store.user_meta(target))
        if target["service_user"]:
            self.store.add_event("service.user.delete", user["id"], target_id,
                                 {"created_at": target.get("created_at") or "", "name": target["name"]})
        else:
            meta = self.store.user_meta(target)
            meta.update(created_at=target.get("created_at") or "", issued=target.get("issued") or "api")
            self.store.add_event("user.delete", user["id"], target_id, meta)

    def h_delete_user(self, user, params, query, body):
        self._delete_user_checked(user, params["userId"])
        return 200, {}

    def h_invite_user(self, user, params, query, body):
        if self.idp == "none":
            raise ApiError(412, "IdP manager must be enabled to send user invites")
        self._require(user, "users", "create")
        target = self.store.users.get(params["userId"])
        if target is None or target["service_user"] or self.idp == "embedded":
            # the embedded IdP looks the user up among IdP accounts that still have an invite: never found
            raise ApiError(404, "user account %s doesn't exist" % params["userId"])
        if not target.get("invite_pending"):
            raise ApiError(412, "can't invite a user with an activated NetBird account")
        return 200, {}

    def h_approve_user(self, user, params, query, body):
        self._require(user, "users", "update")
        target = self._target(params["userId"])
        if not target["pending_approval"]:
            raise ApiError(422, "user %s is not pending approval" % target["id"])
        target["blocked"] = False
        target["pending_approval"] = False
        self.store.dirty = True
        self.store.add_event("user.approve", user["id"], target["id"], self.store.user_meta(target))
        return 200, self.store.user_json(target, user["id"])

    def h_reject_user(self, user, params, query, body):
        self._require(user, "users", "delete")
        target = self._target(params["userId"])
        if not target["pending_approval"]:
            raise ApiError(422, "user %s is not pending approval" % target["id"])
        self._delete_user_checked(user, target["id"], code="user.reject")
        return 200, {}

    def h_change_password(self, user, params, query, body):
        data = decode_json_object(body)
        old = field(data, "old_password", "str") or ""
        new = field(data, "new_password", "str") or ""
        if self.idp != "embedded":
            raise ApiError(412, "password change is only available with embedded identity provider")
        if old == "":
            raise ApiError(422, "old password is required")
        if new == "":
            raise ApiError(422, "new password is required")
        prefix = "failed to update password: "
        if params["userId"] != user["id"]:
            raise ApiError(422, prefix + "users can only change their own password")
        current = self.store.passwords.get(user["id"])
        if current is None:
            raise ApiError(422, prefix + "user has no local password")
        if old != current:
            raise ApiError(422, prefix + "current password is incorrect")
        if new == old:
            raise ApiError(422, prefix + "new password must be different from current password")
        self.store.passwords[user["id"]] = new
        self.store.add_event("user.password.change", user["id"], user["id"], self.store.user_meta(user))
        self.store.dirty = True
        return 200, {}

    # ---- tokens ----------------------------------------------------------------------------
    def _token_target(self, user, target_id, operation):
        self._require(user, "pats", operation)
        target = self._target(target_id)
        if user["id"] != target["id"] and not (self._has_admin_power(user) and target["service_user"]):
            raise ApiError(403, "admin role required to perform this action", lower=False)
        return target

    def _token_of(self, target, token_id):
        token = self.store.tokens.get(token_id)
        if token is None or token["user_id"] != target["id"]:
            raise ApiError(404, "PAT: %s not found" % token_id)
        return token

    def h_list_tokens(self, user, params, query, body):
        target = self._token_target(user, params["userId"], "read")
        ids = self.store.user_tokens.get(target["id"]) or []
        out = [self.store.token_json(self.store.tokens[t]) for t in ids]
        return 200, self._shuffled(out) or None

    def h_create_token(self, user, params, query, body):
        data = decode_json_object(body)
        name = field(data, "name", "str") or ""
        expires_in = field(data, "expires_in", "int") or 0
        if name == "":
            raise ApiError(422, "token name can't be empty")
        if expires_in < 1 or expires_in > 365:
            raise ApiError(422, "expiration has to be between 1 and 365")
        target = self._token_target(user, params["userId"], "create")
        plain, token = self.store.add_token(target["id"], name, expires_in, user["id"])
        self._token_event("personal.access.token.create", user, target, token)
        return 200, {"plain_token": plain, "personal_access_token": self.store.token_json(token)}

    def h_get_token(self, user, params, query, body):
        target = self._token_target(user, params["userId"], "read")
        return 200, self.store.token_json(self._token_of(target, params["tokenId"]))

    def h_delete_token(self, user, params, query, body):
        target = self._token_target(user, params["userId"], "delete")
        token = self._token_of(target, params["tokenId"])
        self.store.delete_token(token["id"])
        self._token_event("personal.access.token.delete", user, target, token)
        return 200, {}

    def _token_event(self, code, user, target, token):
        self.store.add_event(code, user["id"], target["id"], self.store.user_meta(
            target, is_service_user="true" if target["service_user"] else "false", name=token["name"],
            user_name=target["name"] if target["service_user"] else ""))

    # ---- groups ----------------------------------------------------------------------------
    def _group(self, group_id):
        group = self.store.groups.get(group_id)
        if group is None:
            raise ApiError(404, "group: %s not found" % group_id)
        return group

    def _group_request(self, data):
        name = field(data, "name", "str") or ""
        peers = field(data, "peers", "strlist") or []
        resources = field(data, "resources", "list") or []
        if name == "":
            raise ApiError(422, "group name shouldn't be empty")
        for pid in peers:
            if pid not in self.store.peers:
                raise ApiError(422, "peer with id %s not found" % pid)
        clean = []
        for res in resources:
            if not isinstance(res, dict) or not isinstance(res.get("id"), str) or not isinstance(res.get("type"), str):
                raise ApiError(400, "couldn't parse JSON request", lower=False)
            clean.append({"id": res["id"], "type": res["type"]})
        return name, list(dict.fromkeys(peers)), clean

    def _name_taken(self, name, except_id=None):
        return any(gid != except_id and self.store.groups[gid].get("issued", "api") == "api"
                   for gid in self.store.group_names.get(name, []))

    def h_list_groups(self, user, params, query, body):
        self._require(user, "groups", "read")
        store = self.store
        if "name" in query:
            name = query["name"][-1]
            ids = store.group_names.get(name)
            if not ids:
                raise ApiError(404, "group: %s not found" % name)
            best = max((store.groups[g] for g in ids), key=lambda g: len(g["peers"]))
            return 200, [store.group_json(best)]
        return 200, [store.group_json(g) for g in store.groups.values()]

    def h_create_group(self, user, params, query, body):
        data = decode_json_object(body)
        name, peers, resources = self._group_request(data)
        self._require(user, "groups", "create")
        if self._name_taken(name):
            raise ApiError(409, "group with name %s already exists" % name)
        group = self.store.add_group(name, peers, resources)
        self.store.add_event("group.add", user["id"], group["id"], {"name": name})
        return 200, self.store.group_json(group)

    def h_get_group(self, user, params, query, body):
        self._require(user, "groups", "read")
        return 200, self.store.group_json(self._group(params["groupId"]))

    def h_update_group(self, user, params, query, body):
        self._require(user, "groups", "read")
        group = self._group(params["groupId"])
        if group["id"] == self.store.all_group_id:
            raise ApiError(422, "updating group ALL is not allowed")
        data = decode_json_object(body)
        name, peers, resources = self._group_request(data)
        self._require(user, "groups", "update")
        if name != group["name"] and self._name_taken(name, group["id"]):
            raise ApiError(409, "group with name %s already exists" % name)
        if name != group["name"]:
            self.store.rename_group(group, name)
        group["peers"] = peers
        group["resources"] = resources
        self.store.dirty = True
        return 200, self.store.group_json(group)

    def h_delete_group(self, user, params, query, body):
        self._require(user, "groups", "delete")
        group = self.store.groups.get(params["groupId"])
        # v0.77.1 answers every refusal here with 400 (recorded transcript)
        if group is None:
            raise ApiError(400, "group: %s not found" % params["groupId"], lower=False)
        if group["id"] == self.store.all_group_id:
            raise ApiError(400, "deleting group ALL is not allowed", lower=False)
        for other in self.store.users.values():
            if group["id"] in other["auto_groups"]:
                raise ApiError(400, "group has been linked to user: %s" % other["id"], lower=False)
        self.store.delete_group(group["id"])
        self.store.add_event("group.delete", user["id"], group["id"], {"name": group["name"]})
        return 200, {}

    # ---- peers -----------------------------------------------------------------------------
    def h_list_peers(self, user, params, query, body):
        store = self.store
        if self._allowed(user, "peers", "read"):
            peers = list(store.peers.values())
        else:
            # a regular user's view is blocked by default (settings.regular_users_view_blocked)
            peers = []
        name = query.get("name", [None])[-1]
        addr = query.get("ip", [None])[-1]
        out = [store.peer_json(p) for p in peers if (name is None or p["name"] == name) and (addr is None or p["ip"] == addr)]
        return 200, self._shuffled(out)

    # ---- invite links (embedded IdP) ---------------------------------------------------------
    def _require_embedded_invites(self):
        if self.idp != "embedded":
            raise ApiError(412, "invite links are only available with embedded identity provider")

    @staticmethod
    def _invite_expired(invite):
        expires = parse_iso(invite["expires_at"])
        return expires is None or expires < datetime.datetime.now(datetime.timezone.utc)

    def _invite_json(self, invite, token=None):
        out = {
            "id": invite["id"], "email": invite["email"], "name": invite["name"], "role": invite["role"],
            "auto_groups": list(invite["auto_groups"]), "expires_at": invite["expires_at"],
            "created_at": invite["created_at"], "expired": self._invite_expired(invite),
        }
        if token is not None:
            out["invite_token"] = token
        return out

    def _invite(self, invite_id):
        invite = self.store.invites.get(invite_id)
        if invite is None:
            raise ApiError(404, "user invite not found")
        return invite

    @staticmethod
    def _invite_expires_in(data):
        expires_in = field(data, "expires_in", "int") or 0
        if expires_in <= 0:
            expires_in = INVITE_DEFAULT_EXPIRES
        if expires_in < INVITE_MIN_EXPIRES:
            raise ApiError(422, "invite expiration must be at least 1 hour")
        return expires_in

    def h_list_invites(self, user, params, query, body):
        self._require_embedded_invites()
        self._require(user, "users", "read")
        return 200, [self._invite_json(i) for i in self.store.invites.values()]

    def h_create_invite(self, user, params, query, body):
        store = self.store
        self._require_embedded_invites()
        data = decode_json_object(body)
        email = field(data, "email", "str") or ""
        name = field(data, "name", "str") or ""
        role_in = field(data, "role", "str") or ""
        auto_groups = field(data, "auto_groups", "strlist") or []
        if name == "":
            raise ApiError(422, "name can't be empty")
        if email == "":
            raise ApiError(422, "email can't be empty")
        role = normalize_role(role_in)
        if role == "owner":
            raise ApiError(422, "can't invite a user with owner role")
        self._require(user, "users", "create")
        if store.user_by_email(email):
            raise ApiError(409, "user with this email already exists")
        if any(i["email"] == email for i in store.invites.values()):
            raise ApiError(409, "invite already exists for this email")
        expires_in = self._invite_expires_in(data)
        token = generate_invite_token()
        stamp = now_iso()
        invite = {"id": new_xid(), "email": email, "name": name, "role": role_in if role is None else role,
                  "auto_groups": list(auto_groups), "hashed_token": hash_token(token),
                  "expires_at": iso_in_seconds(expires_in), "created_at": stamp, "created_by": user["id"]}
        store.invites[invite["id"]] = invite
        store.dirty = True
        store.add_event("user.invite.link.create", user["id"], invite["id"], {"email": email})
        return 200, self._invite_json(invite, token)

    def h_delete_invite(self, user, params, query, body):
        self._require_embedded_invites()
        self._require(user, "users", "delete")
        invite = self._invite(params["inviteId"])
        del self.store.invites[invite["id"]]
        self.store.dirty = True
        self.store.add_event("user.invite.link.delete", user["id"], invite["id"], {"email": invite["email"]})
        return 200, {}

    def h_regenerate_invite(self, user, params, query, body):
        self._require_embedded_invites()
        data = decode_json_object(body) if body and body.strip() else {}
        self._require(user, "users", "update")
        invite = self._invite(params["inviteId"])
        expires_in = self._invite_expires_in(data)
        token = generate_invite_token()
        invite["hashed_token"] = hash_token(token)
        invite["expires_at"] = iso_in_seconds(expires_in)
        invite["created_by"] = user["id"]
        self.store.dirty = True
        self.store.add_event("user.invite.link.regenerate", user["id"], invite["id"], {"email": invite["email"]})
        return 200, {"invite_token": token, "invite_expires_at": invite["expires_at"]}

    def _invite_by_token(self, token):
        reason = invite_token_error(token)
        if reason:
            raise ApiError(422, "invalid invite token: %s" % reason)
        hashed = hash_token(token)
        for invite in self.store.invites.values():
            if invite["hashed_token"] == hashed:
                return invite
        raise ApiError(404, "user invite not found")

    def h_invite_info(self, user, params, query, body):
        invite = self._invite_by_token(params["token"])
        inviter = self.store.users.get(invite.get("created_by")) or {}
        return 200, {"email": invite["email"], "name": invite["name"], "expires_at": invite["expires_at"],
                     "valid": not self._invite_expired(invite), "invited_by": inviter.get("name", "")}

    def h_accept_invite(self, user, params, query, body):
        store = self.store
        self._require_embedded_invites()
        data = decode_json_object(body)
        password = field(data, "password", "str") or ""
        if password == "":
            raise ApiError(422, "password is required")
        reason = password_error(password)
        if reason:
            raise ApiError(422, "invalid password: %s" % reason)
        invite = self._invite_by_token(params["token"])
        if self._invite_expired(invite):
            raise ApiError(422, "invite has expired")
        self._check_idp_only(invite["email"], "failed to create user in IdP: ")
        new = store.add_user(invite["email"], invite["name"], normalize_role(invite["role"]) or "user", invite["auto_groups"])
        store.passwords[new["id"]] = password
        del store.invites[invite["id"]]
        store.add_event("user.invite.link.accept", new["id"], new["id"], store.user_meta(new))
        return 200, {"success": True}

    def _check_idp_only(self, email, wrap=""):
        """Dex already holds this email but NetBird's store does not (e.g. the server was killed between
        the two writes of a create): Dex refuses with a plain error, which WriteError answers as a bare 500."""
        if email.lower() in self.store.idp_only:
            sys.stderr.write("ERRO got a handler error: %suser with email %s already exists\n" % (wrap, email))
            sys.stderr.flush()
            raise ApiError(500, "internal server error")

    # ---- audit events ----------------------------------------------------------------------
    def h_list_events(self, user, params, query, body):
        self._require(user, "events", "read")
        # management/server/event.go: the newest 10,000 events of the account, newest first, no paging
        return 200, [copy.deepcopy(e) for e in reversed(self.store.events[-AUDIT_LIMIT:])]

    # ---- instance setup ----------------------------------------------------------------------
    def h_instance(self, user, params, query, body):
        return 200, {"setup_required": self.store.owner_id is None}

    def h_setup(self, user, params, query, body):
        store = self.store
        try:
            data = json.loads(body.decode("utf-8")) if body and body.strip() else None
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            raise ApiError(400, "invalid request body", lower=False)
        try:
            email = field(data, "email", "str") or ""
            password = field(data, "password", "str") or ""
            name = field(data, "name", "str") or ""
            create_pat = bool(field(data, "create_pat", "bool"))
            expire_in = field(data, "pat_expire_in", "int")
        except ApiError as exc:
            raise ApiError(400, "invalid request body", lower=False) from exc
        create_pat = create_pat and self.setup_pat
        if create_pat:
            expire_in = 1 if expire_in is None else expire_in
            if expire_in < 1 or expire_in > 365:
                raise ApiError(422, "pat_expire_in must be between 1 and 365")
        if self.idp != "embedded":
            raise ApiError(500, "embedded IDP is not enabled", lower=False)
        if email == "":
            raise ApiError(422, "email is required")
        if not email_valid(email):
            raise ApiError(422, "invalid email format")
        if name == "":
            raise ApiError(422, "name is required")
        if password == "":
            raise ApiError(422, "password is required")
        if len(password) < 8:
            raise ApiError(422, "password must be at least 8 characters")
        if len(password) > 72:
            raise ApiError(422, "password must be at most 72 characters")
        if store.owner_id is not None:
            raise ApiError(412, "setup already completed")
        owner = self._create_account(store, email, name, password)
        out = {"user_id": owner["id"], "email": email}
        if create_pat:
            plain, record = store.add_token(owner["id"], "setup-token", expire_in, owner["id"])
            store.owner_token = plain
            self._token_event("personal.access.token.create", owner, owner, record)
            out["personal_access_token"] = plain
        return 200, out

    # ---- control API -----------------------------------------------------------------------
    def _control(self, method, raw_path, query, body):
        path = raw_path.rstrip("/") or "/"
        try:
            data = json.loads(body.decode("utf-8")) if body and body.strip() else None
        except (ValueError, UnicodeDecodeError):
            return self._error(ApiError(400, "couldn't parse JSON request", lower=False))
        try:
            result = self._control_dispatch(method, path, query, data)
        except ApiError as err:
            return self._error(err)
        return self._json(200, result)

    def _control_dispatch(self, method, path, query, data):
        if path == "/__emulator__/seed" and method == "POST":
            with self.lock:
                try:
                    return self._seed(self.store, data or {})
                finally:
                    self.save_state()
        if path == "/__emulator__/faults":
            if method == "POST":
                rules = data if isinstance(data, list) else [data]
                parsed = [validate_fault(r) for r in rules]
                with self.faults_lock:
                    self.faults.extend(parsed)
                    return {"faults": [dict(r) for r in self.faults]}
            if method == "DELETE":
                with self.faults_lock:
                    self.faults = []
                return {"faults": []}
            if method == "GET":
                with self.faults_lock:
                    return {"faults": [dict(r) for r in self.faults]}
        if path == "/__emulator__/requests" and method == "GET":
            with self.stats_lock:
                return {"total": self.total, "writes": self.writes, "by_route": dict(self.by_route)}
        if path == "/__emulator__/requests/reset" and method == "POST":
            self._reset_counters()
            return {"total": 0, "writes": 0, "by_route": {}}
        if path == "/__emulator__/reset" and method == "POST":
            with self.lock:
                self.store = Store.from_dict(self.startup, idp=self.idp)
                self.save_state(force=True)
            with self.faults_lock:
                self.faults = []
            if self.limiter:
                self.limiter.reset()
            self._reset_counters()
            return {"reset": True, "token": self.owner_token}
        if path == "/__emulator__/state" and method == "GET":
            return self._state_view()
        if path == "/__emulator__/log":
            if method == "GET":
                with self.stats_lock:
                    return list(self.log)
            if method == "DELETE":
                with self.stats_lock:
                    self.log.clear()
                return []
        if path == "/__emulator__/health" and method == "GET":
            with self.stats_lock:
                return {"ok": True, "idp": self.idp, "in_flight": self.in_flight, "max_in_flight": self.max_in_flight}
        found = re.match(r"^/__emulator__/users/([^/]+)/login$", path)
        if found and method == "POST":
            return self._simulate_login(urllib.parse.unquote(found.group(1)))
        found = re.match(r"^/__emulator__/users/([^/]+)/set$", path)
        if found and method == "POST":
            return self._set_user(urllib.parse.unquote(found.group(1)), data or {})
        found = re.match(r"^/__emulator__/idp-only/([^/]+)$", path)
        if found and method == "DELETE":
            return self._forget_idp_only(urllib.parse.unquote(found.group(1)))
        if path == "/__emulator__/audit/clear" and method == "POST":
            with self.lock:
                self.store.events = []
                self.store.dirty = True
                self.save_state()
            return {"events": 0}
        raise ApiError(404, "no such control endpoint: %s %s" % (method, path), lower=False)

    def _state_view(self):
        with self.lock:
            store = self.store
            users = []
            for user in store.users.values():
                item = store.user_json(user, view="true")
                item["peers"] = len(store.user_peers.get(user["id"], []))
                item["idp_missing"] = bool(user.get("idp_missing"))
                if user.get("idp_name"):
                    item["idp_name"] = user["idp_name"]
                users.append(item)
            tokens = {}
            for uid, ids in store.user_tokens.items():
                if ids:
                    tokens[uid] = [store.token_json(store.tokens[t]) for t in ids]
            invites = [self._invite_json(i) for i in store.invites.values()]
            return {"idp": self.idp, "owner_id": store.owner_id, "users": users,
                    "groups": [store.group_json(g) for g in store.groups.values()],
                    "peers": [store.peer_json(p) for p in store.peers.values()], "tokens": tokens,
                    "invites": invites, "idp_only": [dict(e) for e in store.idp_only.values()],
                    "events": len(store.events), "setup_required": store.owner_id is None}

    def _forget_idp_only(self, email):
        """What a server admin's repair does: the IdP forgets the orphaned user (Dex's password row)."""
        with self.lock:
            record = self.store.idp_only.pop(email.lower(), None)
            if record is None:
                raise ApiError(404, "no idp_only user with email %s" % email, lower=False)
            self.store.dirty = True
            self.save_state()
            return {"idp_only": [dict(e) for e in self.store.idp_only.values()]}

    SETTABLE = {"blocked": bool, "pending_approval": bool, "idp_missing": bool, "last_login": str, "idp_name": str,
                "name": str, "invite_pending": bool}

    def _set_user(self, user_id, data):
        """Change stored fields no REST call can set (a first SSO login makes a user pending, an IdP forgets one)."""
        if not isinstance(data, dict) or any(k not in self.SETTABLE for k in data):
            raise ApiError(400, "set: fields are %s" % ", ".join(sorted(self.SETTABLE)), lower=False)
        with self.lock:
            user = self.store.users.get(user_id)
            if user is None:
                raise ApiError(404, "user: %s not found" % user_id)
            for key, kind in self.SETTABLE.items():
                if key in data:
                    user[key] = kind(data[key]) if data[key] is not None else None
            if user["pending_approval"]:
                user["blocked"] = True
            self.store.dirty = True
            self.save_state()
            return self.store.user_json(user, view="true")

    def _simulate_login(self, user_id):
        with self.lock:
            user = self.store.users.get(user_id)
            if user is None:
                raise ApiError(404, "user: %s not found" % user_id)
            user["last_login"] = now_iso()
            user["invite_pending"] = False
            self.store.dirty = True
            self.save_state()
            return self.store.user_json(user)


# --------------------------------------------------------------------------------------------
# HTTP layer
# --------------------------------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "netbird-emulator/1.0"
    # one buffered write per response (flushed by handle_one_request) and TCP_NODELAY:
    # no Nagle/delayed-ACK stalls on keep-alive connections
    wbufsize = -1
    disable_nagle_algorithm = True

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):  # noqa: A002  # pylint: disable=redefined-builtin
        if getattr(self.server, "verbose", False):
            sys.stderr.write("%s - %s\n" % (self.address_string(), format % args))

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            size_total = 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                size_total += size
                if size_total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        length = int(length)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length)

    def _serve(self):
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(400, {"Content-Type": "application/json; charset=UTF-8"},
                       b'{"message":"couldn\'t read request body","code":400}\n')
            return
        emulator = self.server.emulator
        try:
            status, headers, data = emulator.handle(self.command, self.path, self.headers, body)
        except Drop:
            self.close_connection = True
            return
        except Partial as cut:
            # a reset mid-response: the full Content-Length is announced, half the body is sent
            self.close_connection = True
            status, headers, data = cut.result
            self._send(status, headers, data, cut_at=len(data) // 2)
            return
        except Exception:  # noqa: BLE001  # pylint: disable=broad-exception-caught
            traceback.print_exc(file=sys.stderr)
            status, headers, data = 500, {"Content-Type": "application/json; charset=UTF-8"}, \
                b'{"message":"internal server error","code":500}\n'
        self._send(status, headers, data)

    def _send(self, status, headers, data, cut_at=None):
        self.send_response(status)
        plain = NO_REQUEST_ID in headers
        for key, value in headers.items():
            if key != NO_REQUEST_ID:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        if not plain:
            self.send_header("X-Request-Id", new_xid())
            self.send_header("Access-Control-Allow-Origin", "*")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data if cut_at is None else data[:cut_at])

    do_GET = _serve
    do_POST = _serve
    do_PUT = _serve
    do_DELETE = _serve
    do_PATCH = _serve
    do_OPTIONS = _serve
    do_HEAD = _serve


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, emulator, verbose=False):
        super().__init__(address, Handler)
        self.emulator = emulator
        self.verbose = verbose

    def handle_error(self, request, client_address):
        """Clients that hang up (timeouts, dropped faults, TLS probes) are normal here: stay quiet.

        Callers often pipe stderr without reading it, so nothing chatty may go there.
        """
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, ssl.SSLError)) and not self.verbose:
            return
        sys.stderr.write("netbird-emulator: error serving %s: %r\n" % (client_address[0], exc))
        if self.verbose:
            traceback.print_exc(file=sys.stderr)


def parse_rate_limit(value):
    found = re.match(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+)\s*$", value or "")
    if not found or float(found.group(1)) <= 0 or int(found.group(2)) < 1:
        raise argparse.ArgumentTypeError("expected RPM:BURST, e.g. 6:500")
    return float(found.group(1)), int(found.group(2))


def build_parser():
    parser = argparse.ArgumentParser(description="Local NetBird management API emulator (stdlib only).")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = a free port)")
    parser.add_argument("--idp", choices=IDP_MODES, default="embedded", help="IdP mode to emulate")
    parser.add_argument("--state-file", help="load state from PATH if present, save it after every change")
    parser.add_argument("--seed", help="JSON file with the same shape as POST /__emulator__/seed")
    parser.add_argument("--rate-limit", type=parse_rate_limit, help="per-token limiter RPM:BURST (off by default)")
    parser.add_argument("--tls-cert", help="PEM certificate: serve HTTPS")
    parser.add_argument("--tls-key", help="PEM private key for --tls-cert")
    parser.add_argument("--token", help="fixed owner PAT (nbp_..., 40 chars with a valid checksum)")
    parser.add_argument("--owner-email", default=DEFAULT_OWNER_EMAIL, help="owner's email")
    parser.add_argument("--owner-name", default=DEFAULT_OWNER_NAME, help="owner's name")
    parser.add_argument("--owner-password", default=DEFAULT_OWNER_PASSWORD, help="owner's password (embedded IdP)")
    parser.add_argument("--secret-marker", default="", help="base62 word (at most 16 chars) that starts every one-time password and PAT made")
    parser.add_argument("--owner-id", help="fix the owner's user id (e.g. a Dex-encoded id on --idp external)")
    parser.add_argument("--uninitialized", action="store_true",
                        help="no account and no owner yet: POST /api/setup works once; prints \"token\": null")
    parser.add_argument("--setup-pat", dest="setup_pat", action="store_true", default=True,
                        help="POST /api/setup creates the PAT asked for (NB_SETUP_PAT_ENABLED=true; the default)")
    parser.add_argument("--no-setup-pat", dest="setup_pat", action="store_false",
                        help="POST /api/setup ignores create_pat (a server without NB_SETUP_PAT_ENABLED)")
    parser.add_argument("--latency", type=float, default=0.0, metavar="MS", help="every API answer waits MS milliseconds first")
    parser.add_argument("--order", choices=("random", "insertion"), default="random",
                        help="order of users, tokens and peers in lists (default random, as the real server)")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.token and not pat_well_formed(args.token):
        sys.stderr.write("--token must be a well-formed NetBird PAT (nbp_ + 30 base62 + 6-char checksum)\n")
        return 2
    if args.secret_marker and (len(args.secret_marker) > 16 or any(c not in BASE62 for c in args.secret_marker)):
        sys.stderr.write("--secret-marker must be at most 16 letters and digits\n")
        return 2
    global SECRET_MARKER  # pylint: disable=global-statement
    SECRET_MARKER = args.secret_marker
    if args.latency < 0:
        sys.stderr.write("--latency must be a number of milliseconds >= 0\n")
        return 2
    if bool(args.tls_cert) != bool(args.tls_key):
        sys.stderr.write("--tls-cert and --tls-key go together\n")
        return 2
    seed = None
    if args.seed:
        with open(args.seed, "r", encoding="utf-8") as handle:
            seed = json.load(handle)
    try:
        emulator = Emulator(idp=args.idp, owner_email=args.owner_email, owner_name=args.owner_name,
                            owner_password=args.owner_password, token=args.token, seed=seed,
                            state_file=args.state_file, rate_limit=args.rate_limit, latency=args.latency,
                            order=args.order, uninitialized=args.uninitialized, setup_pat=args.setup_pat,
                            owner_id=args.owner_id)
    except ApiError as err:
        sys.stderr.write("cannot start: %s\n" % err.message)
        return 2
    server = Server(("127.0.0.1", args.port), emulator, verbose=args.verbose)
    scheme = "http"
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        scheme = "https"

    def _stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    port = server.server_address[1]
    sys.stdout.write(json.dumps({"url": "%s://127.0.0.1:%d" % (scheme, port), "token": emulator.owner_token}) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
