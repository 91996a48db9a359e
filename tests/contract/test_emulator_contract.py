# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract tests: the local NetBird API emulator against the OpenAPI spec and netbird-api.md.

Every API exchange made through the ``api`` fixture is validated: request bodies against the
spec's request schema, successful bodies against the response schema for that path, method and
status, and error bodies against ``ErrorResponse`` (plus the exact ``{"message", "code"}``
shape).  The only schema adjustments are the documented real-server deviations in conftest.py
(``Group.peers``/``resources`` and the token list are ``null`` when empty; ``ResourceType``).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.parse
import uuid
import zlib

import pytest
import requests

ZERO_TIME = "0001-01-01T00:00:00Z"
BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

# (method, path template) of everything the emulator serves under /api
ENDPOINTS = [
    ("GET", "/api/users"),
    ("POST", "/api/users"),
    ("GET", "/api/users/current"),
    ("PUT", "/api/users/{userId}"),
    ("DELETE", "/api/users/{userId}"),
    ("POST", "/api/users/{userId}/invite"),
    ("POST", "/api/users/{userId}/approve"),
    ("DELETE", "/api/users/{userId}/reject"),
    ("PUT", "/api/users/{userId}/password"),
    ("GET", "/api/users/{userId}/tokens"),
    ("POST", "/api/users/{userId}/tokens"),
    ("GET", "/api/users/{userId}/tokens/{tokenId}"),
    ("DELETE", "/api/users/{userId}/tokens/{tokenId}"),
    ("GET", "/api/groups"),
    ("POST", "/api/groups"),
    ("GET", "/api/groups/{groupId}"),
    ("PUT", "/api/groups/{groupId}"),
    ("DELETE", "/api/groups/{groupId}"),
    ("GET", "/api/peers"),
    ("GET", "/api/users/invites"),
    ("POST", "/api/users/invites"),
    ("DELETE", "/api/users/invites/{inviteId}"),
    ("POST", "/api/users/invites/{inviteId}/regenerate"),
    ("GET", "/api/users/invites/{token}"),
    ("POST", "/api/users/invites/{token}/accept"),
    ("GET", "/api/events/audit"),
    ("GET", "/api/instance"),
    ("POST", "/api/setup"),
]
# succeed only on an emulator in another mode (covered by their own tests below)
OTHER_MODE_ENDPOINTS = {("POST", "/api/users/{userId}/invite"), ("POST", "/api/setup")}


def b62_encode(number):
    out = ""
    while number:
        number, rem = divmod(number, 62)
        out = BASE62[rem] + out
    return out or "0"


def make_pat(secret):
    """A PAT in NetBird's format, built independently of the emulator."""
    assert len(secret) == 30
    return "nbp_" + secret + b62_encode(zlib.crc32(secret.encode())).rjust(6, "0")


def pat_is_well_formed(token):
    if len(token) != 40 or not token.startswith("nbp_") or not all(c in BASE62 for c in token[4:]):
        return False
    number = 0
    for char in token[34:]:
        number = number * 62 + BASE62.index(char)
    return number == zlib.crc32(token[4:34].encode())


def q(value):
    """URL-encode an id for use as a path segment."""
    return urllib.parse.quote(value, safe="")


def create_body(email="new@example.org", name="New User", role="user", groups=None, service=False):
    body = {"role": role, "auto_groups": groups or [], "is_service_user": service}
    if email is not None:
        body["email"] = email
    if name is not None:
        body["name"] = name
    return body


def owner(api):
    return api.json("GET", "/api/users/current")


def find(users, user_id):
    return next(u for u in users if u["id"] == user_id)


def err(resp):
    return resp.json()["message"]


# ============================================================================================
# the spec contract itself
# ============================================================================================

def test_spec_declares_every_emulated_endpoint(spec_contract):
    for method, template in ENDPOINTS:
        assert template in spec_contract.paths, template
        assert method.lower() in spec_contract.paths[template], (method, template)
    assert "get" not in spec_contract.paths["/api/users/{userId}"], "the spec routes no GET for a single user"


def test_every_endpoint_success_matches_spec(api, spec_contract):
    seeded = api.seed(groups=[{"name": "dev"}], users=[
        {"email": "pending1@example.org", "name": "P1", "pending_approval": True, "peers": 1},
        {"email": "pending2@example.org", "name": "P2", "pending_approval": True},
        {"email": "member@example.org", "name": "Member", "auto_groups": ["dev"], "peers": 2},
    ])
    pending1, pending2, member = seeded["users"]
    dev = seeded["groups"][0]["id"]
    me = owner(api)
    api.json("GET", "/api/users")
    api.json("GET", "/api/users?service_user=false")
    created = api.json("POST", "/api/users", create_body(groups=[dev]))
    svc = api.json("POST", "/api/users", create_body(email=None, name="robot", service=True))
    api.json("PUT", "/api/users/" + q(created["id"]), {"role": "admin", "auto_groups": [dev], "is_blocked": True})
    api.json("POST", "/api/users/%s/approve" % q(pending1["id"]))
    api.json("DELETE", "/api/users/%s/reject" % q(pending2["id"]))
    api.json("PUT", "/api/users/%s/password" % q(me["id"]),
             {"old_password": "Emulator-Owner-Pass1!", "new_password": "Another-Pass2?"})
    assert api.json("GET", "/api/users/%s/tokens" % q(svc["id"])) is None
    generated = api.json("POST", "/api/users/%s/tokens" % q(svc["id"]), {"name": "ci", "expires_in": 7})
    token_id = generated["personal_access_token"]["id"]
    api.json("GET", "/api/users/%s/tokens" % q(svc["id"]))
    api.json("GET", "/api/users/%s/tokens/%s" % (q(svc["id"]), token_id))
    api.json("DELETE", "/api/users/%s/tokens/%s" % (q(svc["id"]), token_id))
    api.json("GET", "/api/groups")
    api.json("GET", "/api/groups?name=dev")
    group = api.json("POST", "/api/groups", {"name": "ops", "peers": [], "resources": [{"id": "res1", "type": "host"}]})
    api.json("GET", "/api/groups/" + group["id"])
    api.json("PUT", "/api/groups/" + group["id"], {"name": "ops2", "peers": []})
    api.json("DELETE", "/api/groups/" + group["id"])
    peers = api.json("GET", "/api/peers")
    assert {p["user_id"] for p in peers} == {member["id"], pending1["id"]}
    api.json("DELETE", "/api/users/" + q(member["id"]))
    api.json("DELETE", "/api/users/" + q(created["id"]))
    invite = api.json("POST", "/api/users/invites", {"email": "inv@example.org", "name": "Inv", "role": "user", "auto_groups": [dev]})
    api.json("GET", "/api/users/invites")
    again = api.json("POST", "/api/users/invites/%s/regenerate" % invite["id"], {"expires_in": 7200})
    api.json("GET", "/api/users/invites/" + again["invite_token"], token="")
    api.json("POST", "/api/users/invites/%s/accept" % again["invite_token"], {"password": "Accept-Pass1!"}, token="")
    other = api.json("POST", "/api/users/invites", {"email": "gone@example.org", "name": "Gone", "role": "user", "auto_groups": []})
    api.json("DELETE", "/api/users/invites/" + other["id"])
    api.json("GET", "/api/events/audit")
    api.json("GET", "/api/instance", token="")
    validated = {(m, t) for m, t, s in spec_contract.validated if 200 <= s < 300}
    missing = [e for e in ENDPOINTS if e not in validated and e not in OTHER_MODE_ENDPOINTS]
    assert not missing, missing


def test_error_bodies_match_error_response(api, spec_contract):
    api.get("/api/users", token="", expect=401)
    api.post("/api/users", create_body(role="owner"), expect=422)
    api.put("/api/users/nobody", {"role": "user", "auto_groups": [], "is_blocked": False}, expect=404)
    api.get("/api/groups?name=missing", expect=404)
    api.post("/api/groups", {"name": "All"}, expect=409)
    assert {s for m, t, s in spec_contract.validated} >= {401, 404, 409, 422}


# ============================================================================================
# command line
# ============================================================================================

def test_cli_prints_exactly_one_json_line_and_exits_0_on_sigterm(start_emulator):
    emu = start_emulator()
    info = json.loads(emu.first_line)
    assert set(info) == {"url", "token"}
    assert info["url"].startswith("http://127.0.0.1:")
    assert pat_is_well_formed(info["token"]), info["token"]
    resp = requests.get(info["url"] + "/api/users/current", headers={"Authorization": "Token " + info["token"]}, timeout=10)
    assert resp.status_code == 200 and resp.json()["role"] == "owner"
    code, rest = emu.stop(signal.SIGTERM)
    assert code == 0
    assert rest == b"", rest


def test_sigint_exits_0(start_emulator):
    emu = start_emulator()
    code, rest = emu.stop(signal.SIGINT)
    assert code == 0 and rest == b""


def test_cli_rejects_malformed_token(start_emulator):
    emu = start_emulator("--token", "nbp_short", check=False)
    assert emu.url is None
    assert emu.proc.returncode == 2
    assert "--token" in emu.stderr()


def test_owner_token_fixed_and_owner_email(start_emulator):
    token = make_pat("x" * 30)
    emu = start_emulator("--token", token, "--owner-email", "boss@corp.example")
    assert emu.token == token
    resp = requests.get(emu.url + "/api/users/current", headers={"Authorization": "Token " + token}, timeout=10)
    assert resp.json()["email"] == "boss@corp.example"


def test_keep_alive_with_content_length(nb_emulator):
    nb_emulator.control("POST", "reset")
    host, port = urllib.parse.urlsplit(nb_emulator.url).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        for path in ("/api/users", "/api/groups", "/api/users/nobody-here", "/api/nope"):
            conn.request("GET", path, headers={"Authorization": "Token " + nb_emulator.token})
            resp = conn.getresponse()
            body = resp.read()
            assert resp.version == 11
            assert int(resp.getheader("Content-Length")) == len(body)
            assert resp.getheader("Connection") != "close"
            if path in ("/api/users", "/api/groups"):
                assert resp.getheader("X-Request-Id")
                json.loads(body)
            else:
                # not routed: the router's own plain-text 404 (no X-Request-Id), on the same connection
                assert resp.status == 404 and body == b"404 page not found\n" and not resp.getheader("X-Request-Id")
    finally:
        conn.close()


# ============================================================================================
# authentication
# ============================================================================================

def test_missing_or_unknown_scheme_is_401(api):
    resp = api.get("/api/users", token="", expect=401)
    assert err(resp) == "no valid authentication provided"
    resp = api.get("/api/users", token=api.token, scheme="Basic", expect=401)
    assert err(resp) == "no valid authentication provided"


def test_scheme_is_case_insensitive_and_bearer_pat_works(api):
    for scheme in ("token", "TOKEN", "Bearer", "bearer"):
        api.get("/api/users/current", scheme=scheme, expect=200)


@pytest.mark.parametrize("mangle", [
    lambda t: "nbp_tooshort",
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),     # bad checksum
    lambda t: "xyz_" + t[4:],                              # bad prefix
    lambda t: t + "0",                                     # too long
])
def test_malformed_pat_is_401_token_invalid(api, mangle):
    assert err(api.get("/api/users", token=mangle(api.token), expect=401)) == "token invalid"


def test_unknown_wellformed_pat_is_401(api):
    # v0.77.1 answers a well-formed PAT it does not know like a malformed one (recorded transcript)
    token = make_pat("UnknownButWellFormedToken12345")
    resp = api.get("/api/users", token=token, expect=401)
    assert err(resp) == "token invalid"
    assert hashlib.sha256(token.encode()).hexdigest() not in resp.text


def test_bearer_jwt_only_when_seeded(api):
    api.get("/api/users", token="eyJhbGciOiJSUzI1NiJ9.e30.sig", scheme="Bearer", expect=401)
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJqd3QifQ.c2ln"
    user = api.seed(users=[{"email": "jwt@example.org", "name": "Jwt", "role": "admin", "jwt": jwt}])["users"][0]
    me = api.json("GET", "/api/users/current", token=jwt, scheme="Bearer")
    assert me["id"] == user["id"] and me["is_current"] is True


def test_expired_pat_is_401(api):
    user = api.seed(users=[{"email": "old@example.org", "name": "Old", "role": "admin",
                            "tokens": [{"name": "old", "expired": True}]}])["users"][0]
    assert err(api.get("/api/users", token=user["tokens"][0]["plain_token"], expect=401)) == "token invalid"


def test_blocked_and_pending_users_are_403(api):
    blocked, tok_b = api.user_with_token("admin", blocked=True)
    pending, tok_p = api.user_with_token("admin", pending_approval=True)
    assert blocked["status"] == "blocked" and pending["is_blocked"] and pending["pending_approval"]
    assert err(api.get("/api/users", token=tok_b, expect=403)) == "failed to validate user permissions: user is blocked"
    assert err(api.get("/api/users/current", token=tok_p, expect=403)) == "failed to validate user permissions: user is pending approval"


def test_every_routed_response_has_request_id_and_json_errors(api):
    for resp in (api.get("/api/users"), api.get("/api/groups?name=nope", expect=404), api.get("/api/users", token="", expect=401)):
        assert resp.headers["X-Request-Id"]
        assert resp.headers["Content-Type"].startswith("application/json")
    # an unknown path is the router's plain-text 404, without X-Request-Id (gorilla/mux default)
    resp = api.get("/api/nothing", expect=404, validate=False)
    assert resp.text == "404 page not found\n" and resp.headers["Content-Type"].startswith("text/plain")
    assert "X-Request-Id" not in resp.headers


# ============================================================================================
# routing and parsing
# ============================================================================================

def test_get_single_user_wrong_methods_and_unknown_paths_are_plain_404(api):
    me = owner(api)
    for method, path in (("GET", "/api/users/" + q(me["id"])), ("PATCH", "/api/users"), ("GET", "/api/unknown/thing"),
                         ("DELETE", "/api/groups"), ("GET", "/elsewhere")):
        resp = api.call(method, path, expect=404, validate=False)
        assert resp.text == "404 page not found\n" and resp.headers["Content-Type"].startswith("text/plain"), (method, path)
        assert "X-Request-Id" not in resp.headers


def test_put_with_null_body_closes_the_connection(api):
    me = owner(api)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.put(api.emu.url + "/api/users/" + q(me["id"]), data=b"null", timeout=10,
                     headers={"Authorization": "Token " + api.token, "Content-Type": "application/json"})
    assert owner(api)["role"] == "owner"


def test_options_allowed_without_auth(api):
    resp = api.call("OPTIONS", "/api/users", token="", expect=200)
    assert "GET" in resp.headers["Allow"] and "POST" in resp.headers["Allow"]


def test_unparseable_json_is_400(api):
    resp = api.post("/api/users", raw="{not json", expect=400)
    assert err(resp) == "couldn't parse JSON request"
    resp = api.put("/api/users/" + q(owner(api)["id"]), raw='{"role": 5, "auto_groups": []}', expect=400)
    assert err(resp) == "couldn't parse JSON request"


def test_percent_encoded_path_segments_are_decoded(api):
    me = owner(api)
    encoded = "".join("%%%02X" % b for b in me["id"].encode())
    api.get("/api/users/%s/tokens" % encoded, expect=200)


# ============================================================================================
# users: list / current
# ============================================================================================

def test_list_users_and_service_user_filter(api):
    api.seed(users=[{"email": "r@example.org", "name": "R"}, {"name": "bot", "service_user": True}])
    everyone = api.json("GET", "/api/users")
    assert len(everyone) == 3
    assert [u["name"] for u in api.json("GET", "/api/users?service_user=true")] == ["bot"]
    assert all(not u["is_service_user"] for u in api.json("GET", "/api/users?service_user=false"))
    assert err(api.get("/api/users?service_user=maybe", expect=422)) == "invalid service_user query parameter"
    me = find(everyone, owner(api)["id"])
    assert me["is_current"] is True and me["idp_id"] == "local" and me["issued"] == "api"
    bot = next(u for u in everyone if u["is_service_user"])
    assert bot["email"] == "" and str(uuid.UUID(bot["id"])) == bot["id"]
    assert bot["status"] == "active" and bot["last_login"] == ZERO_TIME and "idp_id" not in bot


@pytest.mark.parametrize("role,visible", [("user", 1), ("auditor", 3), ("network_admin", 3), ("admin", 3)])
def test_list_users_by_role(api, role, visible):
    api.seed(users=[{"email": "x@example.org", "name": "X"}])
    user, token = api.user_with_token(role)
    listed = api.json("GET", "/api/users", token=token)
    assert len(listed) == visible
    assert find(listed, user["id"])["is_current"] is True


def test_billing_admin_gets_403_everywhere(api):
    user, token = api.user_with_token("billing_admin")
    for path in ("/api/users", "/api/groups", "/api/peers", "/api/users/%s/tokens" % q(user["id"])):
        resp = api.get(path, token=token, expect=403)
        assert "billing_admin" in err(resp)
    api.post("/api/users", create_body(), token=token, expect=403)


def test_current_user_permissions(api):
    me = owner(api)
    assert me["role"] == "owner" and me["is_current"] and me["permissions"]["modules"]["users"]["create"] is True
    user, token = api.user_with_token("user")
    data = api.json("GET", "/api/users/current", token=token)
    assert data["id"] == user["id"] and data["permissions"]["is_restricted"] is True
    assert data["permissions"]["modules"]["users"] == {"read": False, "create": False, "update": False, "delete": False}
    auditor, token = api.user_with_token("auditor")
    assert api.json("GET", "/api/users/current", token=token)["permissions"]["modules"]["groups"]["read"] is True


def test_service_user_token_gets_403_on_current(api):
    svc, token = api.user_with_token("admin", service=True)
    api.get("/api/users/current", token=token, expect=403)
    assert len(api.json("GET", "/api/users", token=token)) == 2


# ============================================================================================
# users: create
# ============================================================================================

def test_create_embedded_user_returns_one_time_password(api):
    created = api.json("POST", "/api/users", create_body(email="Alice@Example.org", name="Alice", role="Admin"))
    assert created["status"] == "active" and created["role"] == "admin" and "idp_id" not in created
    assert len(created["password"]) == 16
    assert created["last_login"] == ZERO_TIME and created["is_current"] is False and created["pending_approval"] is False
    listed = find(api.json("GET", "/api/users"), created["id"])
    assert "password" not in listed and listed["idp_id"] == "local"
    resp = api.post("/api/users", create_body(email="alice@EXAMPLE.org", name="Alice 2"), expect=409)
    assert err(resp) == "can't invite a user with an existing netbird account"


@pytest.mark.parametrize("body,message", [
    (create_body(name=""), "name can't be empty"),
    (create_body(email=""), "email can't be empty"),
    (create_body(name=None), "name can't be empty"),
    (create_body(role="owner"), "can't invite a user with owner role"),
    (create_body(role="superuser"), "unknown user role superuser"),
    (create_body(email=None, name="svc", role="owner", service=True), "can't create a service user with owner role"),
])
def test_create_validation_is_422(api, body, message):
    assert err(api.post("/api/users", body, expect=422)) == message


def test_create_stores_auto_groups_unchecked(api):
    created = api.json("POST", "/api/users", create_body(groups=["does-not-exist"]))
    assert created["auto_groups"] == ["does-not-exist"]
    svc = api.json("POST", "/api/users", create_body(email=None, name="", service=True, groups=["nope"]))
    assert svc["auto_groups"] == ["nope"] and svc["email"] == "" and "password" not in svc


@pytest.mark.parametrize("role", ["user", "auditor", "network_admin"])
def test_create_needs_admin(api, role):
    user, token = api.user_with_token(role)
    assert err(api.post("/api/users", create_body(), token=token, expect=403)) == "permission denied"


# ============================================================================================
# users: update
# ============================================================================================

def test_put_replaces_role_groups_and_blocked(api):
    seeded = api.seed(groups=[{"name": "a"}, {"name": "b"}],
                      users=[{"email": "t@example.org", "name": "T", "role": "user", "auto_groups": ["a"], "blocked": True}])
    ga, gb = (g["id"] for g in seeded["groups"])
    target = seeded["users"][0]
    path = "/api/users/" + q(target["id"])
    updated = api.json("PUT", path, {"role": "auditor", "auto_groups": [gb], "is_blocked": True})
    assert (updated["role"], updated["auto_groups"], updated["is_blocked"], updated["status"]) == ("auditor", [gb], True, "blocked")
    assert updated["email"] == "t@example.org" and updated["name"] == "T"
    # a missing is_blocked means false: the user is unblocked
    updated = api.json("PUT", path, {"role": "auditor", "auto_groups": [ga, gb]}, check_request=False)
    assert updated["is_blocked"] is False and updated["status"] == "active"
    # name/email in the body are ignored
    updated = api.json("PUT", path, {"role": "user", "auto_groups": [], "is_blocked": False, "name": "X", "email": "x@y"})
    assert updated["name"] == "T" and updated["email"] == "t@example.org" and updated["auto_groups"] == []


def test_put_check_order_and_messages(api):
    target = api.seed(users=[{"email": "t@example.org", "name": "T"}])["users"][0]
    path = "/api/users/" + q(target["id"])
    assert err(api.put("/api/users/nobody", {"role": "user"}, expect=404, check_request=False)) == "user: nobody not found"
    assert err(api.put(path, {"role": "user", "is_blocked": False}, expect=400, check_request=False)) == "auto_groups field can't be absent"
    assert err(api.put(path, {"role": "user", "auto_groups": None, "is_blocked": False}, expect=400, check_request=False)) == \
        "auto_groups field can't be absent"
    assert err(api.put(path, {"role": "root", "auto_groups": [], "is_blocked": False}, expect=422)) == "invalid user role"
    assert err(api.put(path, {"auto_groups": [], "is_blocked": False}, expect=422, check_request=False)) == "invalid user role"


def test_put_unknown_group_is_422_only_on_put(api):
    target = api.json("POST", "/api/users", create_body(groups=["ghost"]))
    assert target["auto_groups"] == ["ghost"]
    resp = api.put("/api/users/" + q(target["id"]), {"role": "user", "auto_groups": ["ghost"], "is_blocked": False}, expect=422)
    uid = target["id"].lower()
    assert err(resp) == "failed to process update for user %s: provided group id ghost in the user %s update doesn't exist" % (uid, uid)
    all_group = api.json("GET", "/api/groups?name=All")[0]["id"]
    resp = api.put("/api/users/" + q(target["id"]), {"role": "user", "auto_groups": [all_group], "is_blocked": False}, expect=422)
    assert err(resp).endswith("can't add all group to the user")


def test_put_self_rules(api):
    me = owner(api)
    path = "/api/users/" + q(me["id"])
    assert err(api.put(path, {"role": "owner", "auto_groups": [], "is_blocked": True}, expect=403)).endswith(
        "admins can't block or unblock themselves")
    assert err(api.put(path, {"role": "admin", "auto_groups": [], "is_blocked": False}, expect=403)).endswith(
        "admins can't change their role")
    admin, token = api.user_with_token("admin")
    apath = "/api/users/" + q(admin["id"])
    assert err(api.put(apath, {"role": "user", "auto_groups": [], "is_blocked": False}, token=token, expect=403)).endswith(
        "admins can't change their role")
    assert api.json("PUT", apath, {"role": "admin", "auto_groups": [], "is_blocked": False}, token=token)["is_current"] is True


def test_put_owner_rules_for_admins(api):
    me = owner(api)
    admin, token = api.user_with_token("admin")
    path = "/api/users/" + q(me["id"])
    assert err(api.put(path, {"role": "admin", "auto_groups": [], "is_blocked": False}, token=token, expect=403)).endswith(
        "only owners can remove owner role from their user")
    assert err(api.put(path, {"role": "owner", "auto_groups": [], "is_blocked": True}, token=token, expect=403)).endswith(
        "unable to block owner user")
    other = api.seed(users=[{"email": "o@example.org", "name": "O"}])["users"][0]
    assert err(api.put("/api/users/" + q(other["id"]), {"role": "owner", "auto_groups": [], "is_blocked": False},
                       token=token, expect=403)).endswith("only owners can add owner role to other users")


def test_owner_transfer_demotes_initiator(api):
    me = owner(api)
    other = api.seed(users=[{"email": "heir@example.org", "name": "Heir", "role": "admin"}])["users"][0]
    updated = api.json("PUT", "/api/users/" + q(other["id"]), {"role": "owner", "auto_groups": [], "is_blocked": False})
    assert updated["role"] == "owner"
    assert owner(api)["role"] == "admin"
    assert find(api.json("GET", "/api/users"), me["id"])["role"] == "admin"


def test_service_user_cannot_become_owner(api):
    svc = api.json("POST", "/api/users", create_body(email=None, name="svc", service=True))
    resp = api.put("/api/users/" + q(svc["id"]), {"role": "owner", "auto_groups": [], "is_blocked": False}, expect=403)
    assert err(resp).endswith("can't update a service user with owner role")


@pytest.mark.parametrize("role", ["user", "auditor", "network_admin"])
def test_put_needs_admin(api, role):
    target = api.seed(users=[{"email": "t@example.org", "name": "T"}])["users"][0]
    user, token = api.user_with_token(role)
    api.put("/api/users/" + q(target["id"]), {"role": "user", "auto_groups": [], "is_blocked": True}, token=token, expect=403)


def test_put_never_changes_pending_approval(api):
    pending = api.seed(users=[{"email": "p@example.org", "name": "P", "pending_approval": True}])["users"][0]
    updated = api.json("PUT", "/api/users/" + q(pending["id"]), {"role": "user", "auto_groups": [], "is_blocked": False})
    assert updated["pending_approval"] is True and updated["is_blocked"] is False


def test_blocking_expires_the_users_peers(api):
    user = api.seed(users=[{"email": "b@example.org", "name": "B", "peers": 2}])["users"][0]
    api.json("PUT", "/api/users/" + q(user["id"]), {"role": "user", "auto_groups": [], "is_blocked": True})
    assert all(p["login_expired"] for p in api.json("GET", "/api/peers") if p["user_id"] == user["id"])


# ============================================================================================
# users: delete / approve / reject / invite / password
# ============================================================================================

def test_delete_user_removes_peers_and_tokens(api):
    user = api.seed(users=[{"email": "d@example.org", "name": "D", "peers": 3, "tokens": [{"name": "t"}]}])["users"][0]
    token = user["tokens"][0]["plain_token"]
    assert len(api.json("GET", "/api/peers")) == 3
    assert api.json("DELETE", "/api/users/" + q(user["id"])) == {}
    assert api.json("GET", "/api/peers") == []
    assert api.emu.control("GET", "state")["tokens"].get(user["id"]) is None
    api.get("/api/users", token=token, expect=401)
    assert err(api.delete("/api/users/" + q(user["id"]), expect=404)) == "user: %s not found" % user["id"].lower()


def test_delete_rules(api):
    me = owner(api)
    assert err(api.delete("/api/users/" + q(me["id"]), expect=422)) == "self deletion is not allowed"
    admin, token = api.user_with_token("admin")
    assert err(api.delete("/api/users/" + q(me["id"]), token=token, expect=403)) == "can't delete a user with the owner role"
    user, utoken = api.user_with_token("user")
    api.delete("/api/users/" + q(admin["id"]), token=utoken, expect=403)


def test_approve_user(api):
    pending = api.seed(users=[{"email": "p@example.org", "name": "P", "pending_approval": True}])["users"][0]
    assert pending["status"] == "blocked" and pending["is_blocked"] is True
    approved = api.json("POST", "/api/users/%s/approve" % q(pending["id"]))
    assert (approved["pending_approval"], approved["is_blocked"], approved["status"]) == (False, False, "active")
    resp = api.post("/api/users/%s/approve" % q(pending["id"]), expect=422)
    assert err(resp) == "user %s is not pending approval" % pending["id"].lower()
    api.post("/api/users/nobody/approve", expect=404)
    user, token = api.user_with_token("user")
    api.post("/api/users/%s/approve" % q(pending["id"]), token=token, expect=403)


def test_reject_user_deletes_with_peers(api):
    pending, active = api.seed(users=[{"email": "p@example.org", "name": "P", "pending_approval": True, "peers": 2},
                                      {"email": "a@example.org", "name": "A"}])["users"]
    api.delete("/api/users/%s/reject" % q(active["id"]), expect=422)
    assert api.json("DELETE", "/api/users/%s/reject" % q(pending["id"])) == {}
    assert all(u["id"] != pending["id"] for u in api.json("GET", "/api/users"))
    assert api.json("GET", "/api/peers") == []
    api.delete("/api/users/%s/reject" % q(pending["id"]), expect=404)


def test_invite_with_embedded_idp_is_404(api):
    user = api.seed(users=[{"email": "i@example.org", "name": "I"}])["users"][0]
    resp = api.post("/api/users/%s/invite" % q(user["id"]), expect=404)
    assert err(resp) == "user account %s doesn't exist" % user["id"].lower()


def test_change_password(api):
    me = owner(api)
    path = "/api/users/%s/password" % q(me["id"])
    api.json("PUT", path, {"old_password": "Emulator-Owner-Pass1!", "new_password": "Changed-Pass9#"})
    assert err(api.put(path, {"old_password": "Emulator-Owner-Pass1!", "new_password": "Other-Pass8#"}, expect=422)).startswith(
        "failed to update password:")
    assert err(api.put(path, {"old_password": "Changed-Pass9#", "new_password": "Changed-Pass9#"}, expect=422)).startswith(
        "failed to update password:")
    assert err(api.put(path, {"old_password": "Changed-Pass9#"}, expect=422, check_request=False)) == "new password is required"
    assert err(api.put(path, {"new_password": "x"}, expect=422, check_request=False)) == "old password is required"
    other = api.seed(users=[{"email": "o@example.org", "name": "O", "password": "Seeded-Pass1!"}])["users"][0]
    assert other["password"] == "Seeded-Pass1!"
    resp = api.put("/api/users/%s/password" % q(other["id"]), {"old_password": "Seeded-Pass1!", "new_password": "N-Pass2!"}, expect=422)
    assert err(resp) == "failed to update password: users can only change their own password"


def test_seeded_user_changes_own_password(api):
    user, token = api.user_with_token("user", password="Mine-Pass1!")
    api.json("PUT", "/api/users/%s/password" % q(user["id"]), {"old_password": "Mine-Pass1!", "new_password": "Mine-Pass2!"}, token=token)


# ============================================================================================
# tokens
# ============================================================================================

def test_token_lifecycle_and_null_list(api):
    svc = api.json("POST", "/api/users", create_body(email=None, name="svc", role="admin", service=True))
    base = "/api/users/%s/tokens" % q(svc["id"])
    resp = api.get(base, expect=200)
    assert resp.text.strip() == "null"
    generated = api.json("POST", base, {"name": "deploy", "expires_in": 30})
    plain, meta = generated["plain_token"], generated["personal_access_token"]
    assert pat_is_well_formed(plain)
    assert meta["created_by"] == owner(api)["id"] and "last_used" not in meta
    # the new PAT authenticates as the service user at once
    listed = api.json("GET", "/api/users", token=plain)
    assert not any(u["is_current"] for u in listed if u["id"] != svc["id"])
    assert find(listed, svc["id"])["is_current"] is True
    assert "last_used" in api.json("GET", "%s/%s" % (base, meta["id"]))
    assert [t["id"] for t in api.json("GET", base)] == [meta["id"]]
    assert api.json("DELETE", "%s/%s" % (base, meta["id"])) == {}
    api.get("/api/users", token=plain, expect=401)
    assert err(api.get("%s/%s" % (base, meta["id"]), expect=404)) == "pat: %s not found" % meta["id"]
    api.delete("%s/%s" % (base, meta["id"]), expect=404)


@pytest.mark.parametrize("body,message", [
    ({"name": "", "expires_in": 30}, "token name can't be empty"),
    ({"expires_in": 30}, "token name can't be empty"),
    ({"name": "t", "expires_in": 0}, "expiration has to be between 1 and 365"),
    ({"name": "t", "expires_in": 366}, "expiration has to be between 1 and 365"),
    ({"name": "t"}, "expiration has to be between 1 and 365"),
])
def test_token_create_validation(api, body, message):
    me = owner(api)
    assert err(api.post("/api/users/%s/tokens" % q(me["id"]), body, expect=422, check_request=False)) == message


def test_token_target_rules(api):
    admin, admin_token = api.user_with_token("admin")
    regular = api.seed(users=[{"email": "r@example.org", "name": "R"}])["users"][0]
    svc = api.json("POST", "/api/users", create_body(email=None, name="svc", service=True))
    body = {"name": "t", "expires_in": 1}
    api.json("POST", "/api/users/%s/tokens" % q(svc["id"]), body, token=admin_token)
    resp = api.post("/api/users/%s/tokens" % q(regular["id"]), body, token=admin_token, expect=403)
    assert err(resp) == "admin role required to perform this action"
    api.get("/api/users/%s/tokens" % q(regular["id"]), token=admin_token, expect=403)
    # the user role may not manage even its own tokens
    user, user_token = api.user_with_token("user")
    api.get("/api/users/%s/tokens" % q(user["id"]), token=user_token, expect=403)
    api.post("/api/users/%s/tokens" % q(user["id"]), body, token=user_token, expect=403)
    # network_admin manages its own
    netadm, net_token = api.user_with_token("network_admin")
    api.json("POST", "/api/users/%s/tokens" % q(netadm["id"]), body, token=net_token)
    api.post("/api/users/%s/tokens" % q(svc["id"]), body, token=net_token, expect=403)
    api.get("/api/users/nobody/tokens", expect=404)


# ============================================================================================
# groups and peers
# ============================================================================================

def test_groups_list_and_name_filter(api):
    groups = api.json("GET", "/api/groups")
    assert [g["name"] for g in groups] == ["All"]
    assert groups[0]["peers"] is None and groups[0]["resources"] is None and groups[0]["peers_count"] == 0
    api.seed(groups=[{"name": "dev"}])
    found = api.json("GET", "/api/groups?name=dev")
    assert len(found) == 1 and found[0]["name"] == "dev"
    assert err(api.get("/api/groups?name=Missing", expect=404)) == "group: missing not found"
    api.get("/api/groups?name=DEV", expect=404)


def test_group_crud(api):
    user = api.seed(users=[{"email": "p@example.org", "name": "P", "peers": 1}])["users"][0]
    peer = api.json("GET", "/api/peers")[0]
    assert peer["user_id"] == user["id"]
    group = api.json("POST", "/api/groups", {"name": "ops", "peers": [peer["id"]]})
    assert group["peers"] == [{"id": peer["id"], "name": peer["name"]}] and group["peers_count"] == 1 and group["issued"] == "api"
    assert err(api.post("/api/groups", {"name": "ops"}, expect=409)) == "group with name ops already exists"
    assert err(api.post("/api/groups", {"name": ""}, expect=422)) == "group name shouldn't be empty"
    assert api.json("GET", "/api/groups/" + group["id"])["name"] == "ops"
    renamed = api.json("PUT", "/api/groups/" + group["id"], {"name": "ops-2"})
    assert renamed["name"] == "ops-2" and renamed["peers"] is None
    assert api.json("GET", "/api/groups?name=ops-2")[0]["id"] == group["id"]
    api.get("/api/groups?name=ops", expect=404)
    assert api.json("DELETE", "/api/groups/" + group["id"]) == {}
    api.get("/api/groups/" + group["id"], expect=404)


def test_all_group_cannot_change(api):
    all_id = api.json("GET", "/api/groups?name=All")[0]["id"]
    assert err(api.put("/api/groups/" + all_id, {"name": "Everyone"}, expect=422)) == "updating group all is not allowed"
    assert err(api.delete("/api/groups/" + all_id, expect=400)) == "deleting group ALL is not allowed"
    assert err(api.delete("/api/groups/nope", expect=400)) == "group: nope not found"


def test_group_in_use_cannot_be_deleted(api):
    seeded = api.seed(groups=[{"name": "used"}], users=[{"email": "u@example.org", "name": "U", "auto_groups": ["used"]}])
    api.delete("/api/groups/" + seeded["groups"][0]["id"], expect=400)


def test_group_permissions(api):
    user, token = api.user_with_token("user")
    api.get("/api/groups", token=token, expect=403)
    svc, svc_token = api.user_with_token("user", service=True)
    api.json("GET", "/api/groups", token=svc_token)
    api.post("/api/groups", {"name": "x"}, token=svc_token, expect=403)
    netadm, net_token = api.user_with_token("network_admin")
    api.json("POST", "/api/groups", {"name": "net"}, token=net_token)
    auditor, aud_token = api.user_with_token("auditor")
    api.post("/api/groups", {"name": "aud"}, token=aud_token, expect=403)


def test_peers_list(api):
    seeded = api.seed(groups=[{"name": "dev"}], users=[{"email": "p@example.org", "name": "Pat", "auto_groups": ["dev"], "peers": 2}])
    peers = api.json("GET", "/api/peers")
    assert len(peers) == 2 and {p["user_id"] for p in peers} == {seeded["users"][0]["id"]}
    assert {g["name"] for g in peers[0]["groups"]} == {"All", "dev"}
    assert api.json("GET", "/api/peers?name=" + peers[1]["name"])[0]["id"] == peers[1]["id"]
    user, token = api.user_with_token("user", peers=1)
    assert api.json("GET", "/api/peers", token=token) == []


# ============================================================================================
# control API: seed, faults, counters, reset, state, log
# ============================================================================================

def test_seed_shapes(api, spec_contract):
    seeded = api.seed(groups=[{"name": "g1"}], users=[
        {"email": "s@example.org", "name": "S", "role": "network_admin", "auto_groups": ["g1", "g2"],
         "tokens": [{"name": "ci", "expires_in": 30}, {"name": "cd", "expires_in": 60}]},
        {"name": "svc", "service_user": True, "role": "admin", "tokens": [{"name": "ci"}]},
    ])
    assert [g["name"] for g in seeded["groups"]] == ["g1", "g2"]
    for group in seeded["groups"]:
        spec_contract.check({"$ref": "#/components/schemas/Group"}, group, "seeded group")
    user, svc = seeded["users"]
    for entry in (user, svc):
        spec_contract.check({"$ref": "#/components/schemas/User"}, {k: v for k, v in entry.items() if k != "tokens"}, "seeded user")
        for tok in entry["tokens"]:
            spec_contract.check({"$ref": "#/components/schemas/PersonalAccessTokenGenerated"}, tok, "seeded token")
            assert pat_is_well_formed(tok["plain_token"])
    assert user["auto_groups"] == [g["id"] for g in seeded["groups"]]
    assert len(user["password"]) == 16 and "password" not in svc
    assert api.json("GET", "/api/users/current", token=user["tokens"][1]["plain_token"])["id"] == user["id"]


def test_fault_status_retry_after_and_countdown(api):
    api.emu.control("POST", "faults", [{"method": "GET", "path": "/api/users", "times": 2, "status": 429, "retry_after": 1}])
    for dummy in range(2):
        resp = api.get("/api/users", expect=429)
        assert resp.headers["Retry-After"] == "1" and resp.json() == {"message": "too many requests", "code": 429}
    api.get("/api/users", expect=200)


def test_fault_template_path_body_and_method(api):
    me = owner(api)
    api.emu.control("POST", "faults", [
        {"method": "PUT", "path": "/api/users/{userId}", "status": 502, "body": "<html><body>Bad Gateway</body></html>"},
        {"method": "GET", "path": "/api/groups?name=x", "status": 503},
    ])
    api.get("/api/users", expect=200)
    resp = api.put("/api/users/" + q(me["id"]), {"role": "owner", "auto_groups": [], "is_blocked": False}, expect=502, validate=False)
    assert resp.headers["Content-Type"].startswith("text/html") and resp.text.startswith("<html>")
    assert resp.headers["X-Request-Id"]
    assert api.get("/api/groups", expect=503).json()["code"] == 503
    api.get("/api/groups", expect=200)


def test_fault_drop_and_delay(api):
    api.emu.control("POST", "faults", [{"path": "/api/users", "drop": True}, {"path": "/api/groups", "delay": 0.4}])
    with pytest.raises(requests.ConnectionError):
        api.get("/api/users")
    start = time.monotonic()
    api.get("/api/groups", expect=200)
    assert time.monotonic() - start >= 0.35
    api.get("/api/users", expect=200)


def test_client_hang_ups_keep_stderr_quiet(api):
    api.emu.control("POST", "faults", [{"path": "/api/groups", "delay": 0.3}])
    with pytest.raises(requests.Timeout):
        requests.get(api.emu.url + "/api/groups", headers={"Authorization": "Token " + api.token}, timeout=0.1)
    time.sleep(0.4)
    api.get("/api/groups", expect=200)
    assert api.emu.stderr() == ""


def test_fault_clear(api):
    api.emu.control("POST", "faults", [{"path": "/api/users", "status": 500, "times": 5}])
    assert len(api.emu.control("GET", "faults")["faults"]) == 1
    api.emu.control("DELETE", "faults")
    api.get("/api/users", expect=200)
    api.emu.control("POST", "faults", {"path": "/api/users"}, expect=400)


def test_fault_scoped_to_one_user_and_log_names_the_requester(api):
    other, other_token = api.user_with_token(role="admin")
    api.emu.control("POST", "faults", [{"path": "/api/users", "status": 503, "user_id": other["id"]}])
    api.get("/api/users", expect=200)                       # the owner's request does not match
    api.get("/api/users", token=other_token, expect=503)    # the other user's does
    api.get("/api/users", token=other_token, expect=200)
    api.get("/api/users", token="", expect=401)
    log = api.emu.control("GET", "log")[-4:]
    me = owner(api)
    assert [(e["user_id"], e["status"]) for e in log] == [(me["id"], 200), (other["id"], 503), (other["id"], 200), (None, 401)]
    api.emu.control("POST", "faults", {"path": "*", "user_id": ""}, expect=400)


def test_fault_message_replaces_the_default_text(api):
    api.emu.control("POST", "faults", [{"path": "/api/users", "status": 401, "message": "token invalid"}])
    assert api.get("/api/users", expect=401).json() == {"message": "token invalid", "code": 401}
    api.emu.control("POST", "faults", {"path": "*", "body": "x", "message": "y"}, expect=400)


def test_fault_empty_body(api):
    api.emu.control("POST", "faults", [{"path": "/api/users", "status": 200, "body": ""}])
    resp = api.get("/api/users", expect=200, validate=False)
    assert resp.content == b"" and resp.headers["Content-Length"] == "0"


def test_fault_race_sends_the_same_request_first(api):
    api.emu.control("POST", "faults", [{"method": "POST", "path": "/api/users", "race": True}])
    resp = api.post("/api/users", create_body(email="raced@example.org"), expect=409)
    assert err(resp) == "can't invite a user with an existing netbird account"
    assert [u["email"] for u in api.json("GET", "/api/users")].count("raced@example.org") == 1
    pending = api.seed(users=[{"email": "pend@example.org", "name": "P", "pending_approval": True}])["users"][0]
    api.emu.control("POST", "faults", [{"path": "/api/users/{userId}/approve", "race": True}])
    assert err(api.post("/api/users/%s/approve" % q(pending["id"]), expect=422)).endswith("is not pending approval")
    assert find(api.json("GET", "/api/users"), pending["id"])["pending_approval"] is False
    assert api.emu.control("GET", "requests")["by_route"]["POST /api/users"] == 1


def test_fault_vanish_deletes_the_path_user_first(api):
    user = api.seed(users=[{"email": "gone@example.org", "name": "G", "peers": 1}])["users"][0]
    api.emu.control("POST", "faults", [{"method": "PUT", "path": "/api/users/{userId}", "vanish": True}])
    resp = api.put("/api/users/" + q(user["id"]), {"role": "user", "auto_groups": [], "is_blocked": False}, expect=404)
    assert err(resp) == "user: %s not found" % user["id"].lower()
    assert all(u["id"] != user["id"] for u in api.json("GET", "/api/users"))


def test_fault_partial_serves_then_cuts_the_answer(api):
    api.emu.control("POST", "faults", [{"method": "POST", "path": "/api/users", "partial": True},
                                       {"method": "GET", "path": "/api/users", "partial": True}])
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.post(api.emu.url + "/api/users", json=create_body(email="cut@example.org"),
                      headers={"Authorization": "Token " + api.token}, timeout=10)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(api.emu.url + "/api/users", headers={"Authorization": "Token " + api.token}, timeout=10)
    # the create was carried out; only its answer was lost
    assert [u["email"] for u in api.json("GET", "/api/users")].count("cut@example.org") == 1
    log = api.emu.control("GET", "log")
    assert [(e["method"], e["status"], e.get("partial")) for e in log[-3:-1]] == [("POST", 200, True), ("GET", 200, True)]
    for bad in ({"path": "*", "partial": True, "drop": True}, {"path": "*", "partial": True, "status": 500}):
        api.emu.control("POST", "faults", bad, expect=400)
    assert api.emu.stderr() == ""


def test_fault_body_contains_matches_only_that_body(api):
    api.emu.control("POST", "faults", [{"method": "POST", "path": "/api/users", "body_contains": "bad@example.org",
                                        "status": 500, "times": 2}])
    api.post("/api/users", create_body(email="good@example.org"), expect=200)      # another body: not faulted
    api.get("/api/users", expect=200)                                               # no body at all: not faulted
    for dummy in range(2):
        resp = api.post("/api/users", create_body(email="bad@example.org"), expect=500)
        assert resp.json() == {"message": "internal server error", "code": 500}
    api.post("/api/users", create_body(email="bad@example.org"), expect=200)       # times used up
    assert api.emu.control("GET", "faults")["faults"] == []
    # rules are tried in order; a rule whose text is not in the body does not use up its times
    api.emu.control("POST", "faults", [{"path": "*", "body_contains": "nobody", "status": 503},
                                       {"path": "/api/groups", "body_contains": '"ops"', "status": 409}])
    api.post("/api/groups", {"name": "dev"}, expect=200)
    api.post("/api/groups", {"name": "ops"}, expect=409)
    assert [r["body_contains"] for r in api.emu.control("GET", "faults")["faults"]] == ["nobody"]
    for bad in ({"path": "*", "status": 500, "body_contains": ""}, {"path": "*", "status": 500, "body_contains": 3}):
        api.emu.control("POST", "faults", bad, expect=400)


def test_idp_only_user_makes_every_create_of_that_email_500(api):
    """The server state of a create killed between Dex's write and NetBird's: Dex holds the email, the store not."""
    seeded = api.seed(users=[{"email": "Orphan@Example.org", "name": "Orphan", "idp_only": True}])["users"]
    assert seeded == [{"email": "Orphan@Example.org", "name": "Orphan", "idp_only": True}]
    assert all(u["email"].lower() != "orphan@example.org" for u in api.json("GET", "/api/users"))
    assert api.emu.control("GET", "state")["idp_only"] == [{"email": "Orphan@Example.org", "name": "Orphan"}]
    for email in ("orphan@example.org", "ORPHAN@example.org"):             # Dex keys emails in lower case
        resp = api.post("/api/users", create_body(email=email, name="Orphan"), expect=500)
        assert resp.json() == {"message": "internal server error", "code": 500}
        assert resp.headers["Content-Type"] == "application/json; charset=UTF-8" and resp.headers["X-Request-Id"]
    assert "got a handler error: user with email orphan@example.org already exists" in api.emu.stderr()
    assert all(u["email"].lower() != "orphan@example.org" for u in api.json("GET", "/api/users"))
    # other emails and service users are not affected; an invite link is made, but accepting it fails the same way
    api.post("/api/users", create_body(email="fine@example.org"), expect=200)
    api.post("/api/users", create_body(name="orphan@example.org", service=True), expect=200)
    invite = api.json("POST", "/api/users/invites", {"email": "orphan@example.org", "name": "Orphan", "role": "user",
                                                      "auto_groups": []})
    resp = api.post("/api/users/invites/%s/accept" % invite["invite_token"], {"password": "Orphan-Passw0rd!"},
                    token="", expect=500)
    assert resp.json() == {"message": "internal server error", "code": 500}
    assert "user with email orphan@example.org already exists" in api.emu.stderr()
    # the admin's repair (the IdP forgets the user) makes the next create work
    assert api.emu.control("DELETE", "idp-only/orphan%40example.org") == {"idp_only": []}
    api.emu.control("DELETE", "idp-only/orphan%40example.org", expect=404)
    api.json("DELETE", "/api/users/invites/" + invite["id"])
    assert api.json("POST", "/api/users", create_body(email="orphan@example.org", name="Orphan"))["email"] == "orphan@example.org"
    # seeding rules: embedded IdP only (test_external_idp), a regular user, one email once
    api.emu.control("POST", "seed", {"users": [{"email": "fine@example.org", "idp_only": True}]}, expect=409)
    api.emu.control("POST", "seed", {"users": [{"name": "svc", "service_user": True, "idp_only": True}]}, expect=400)
    # reset drops it (it was seeded through the control API, not --seed)
    api.seed(users=[{"email": "again@example.org", "idp_only": True}])
    api.emu.control("POST", "reset")
    api.post("/api/users", create_body(email="again@example.org"), expect=200)


def test_idp_only_survives_a_restart_with_the_state_file(start_emulator, tmp_path):
    state = str(tmp_path / "state.json")
    emu = start_emulator("--state-file", state)
    emu.control("POST", "seed", {"users": [{"email": "kept@example.org", "name": "Kept", "idp_only": True}]})
    emu.stop()
    emu = start_emulator("--state-file", state)
    resp = requests.post(emu.url + "/api/users", json=create_body(email="kept@example.org"),
                         headers={"Authorization": "Token " + emu.token}, timeout=10)
    assert resp.status_code == 500 and resp.json() == {"message": "internal server error", "code": 500}


def test_request_counters(api):
    me = owner(api)
    api.emu.control("POST", "requests/reset")
    api.emu.control("POST", "faults", [{"path": "/api/users/{userId}", "method": "PUT", "status": 500}])
    api.get("/api/users")
    api.get("/api/users?service_user=true")
    api.put("/api/users/" + q(me["id"]), {"role": "owner", "auto_groups": [], "is_blocked": False}, expect=500)
    api.put("/api/users/" + q(me["id"]), {"role": "owner", "auto_groups": [], "is_blocked": False}, expect=200)
    api.get("/api/users", token="", expect=401)
    api.delete("/api/users/nobody", expect=404)
    api.emu.control("GET", "state")
    counts = api.emu.control("GET", "requests")
    assert counts == {"total": 6, "writes": 3, "by_route": {
        "GET /api/users": 3, "PUT /api/users/{userId}": 2, "DELETE /api/users/{userId}": 1}}
    assert api.emu.control("POST", "requests/reset")["total"] == 0
    assert api.emu.control("GET", "requests") == {"total": 0, "writes": 0, "by_route": {}}


def test_reset_restores_startup_state(api):
    api.seed(users=[{"email": "gone@example.org", "name": "Gone"}], groups=[{"name": "gone"}])
    api.emu.control("POST", "faults", [{"path": "/api/groups", "status": 500}])
    api.get("/api/users")
    result = api.emu.control("POST", "reset")
    assert result["token"] == api.token
    assert api.emu.control("GET", "requests")["total"] == 0
    assert [u["email"] for u in api.json("GET", "/api/users")] == ["owner@example.com"]
    assert [g["name"] for g in api.json("GET", "/api/groups")] == ["All"]


def test_state_and_log_extensions(api):
    user = api.seed(users=[{"email": "l@example.org", "name": "L", "peers": 2, "tokens": [{"name": "t"}]}])["users"][0]
    api.emu.control("DELETE", "log")
    body = create_body(email="logged@example.org")
    api.json("POST", "/api/users", body)
    state = api.emu.control("GET", "state")
    assert find(state["users"], user["id"])["peers"] == 2
    assert [t["name"] for t in state["tokens"][user["id"]]] == ["t"]
    assert "plain_token" not in json.dumps(state) and user["tokens"][0]["plain_token"] not in json.dumps(state)
    log = api.emu.control("GET", "log")
    assert log[-1]["method"] == "POST" and log[-1]["path"] == "/api/users" and log[-1]["status"] == 200
    assert json.loads(log[-1]["body"]) == body


def test_simulated_login_extension(api):
    user = api.seed(users=[{"email": "li@example.org", "name": "Li"}])["users"][0]
    assert user["last_login"] == ZERO_TIME
    assert api.emu.control("POST", "users/%s/login" % q(user["id"]))["last_login"] != ZERO_TIME


# ============================================================================================
# other start-up modes
# ============================================================================================

def test_external_idp(start_emulator, client_for):
    emu = start_emulator("--idp", "external")
    ext = client_for(emu)
    me = ext.json("GET", "/api/users/current")
    assert "|" in me["id"] and "idp_id" not in me
    emu.control("POST", "seed", {"users": [{"email": "dex@example.org", "idp_only": True}]}, expect=400)
    created = ext.json("POST", "/api/users", create_body(email="ext@example.org"))
    assert created["status"] == "invited" and "password" not in created and "|" in created["id"]
    assert err(ext.post("/api/users", create_body(email="EXT@example.org"), expect=409)) == \
        "can't invite a user with an existing netbird account"
    path = "/api/users/" + q(created["id"])
    assert ext.json("POST", path + "/invite") == {}
    updated = ext.json("PUT", path, {"role": "admin", "auto_groups": [], "is_blocked": False})
    assert updated["role"] == "admin" and updated["status"] == "invited"
    emu.control("POST", "users/%s/login" % q(created["id"]))
    assert err(ext.post(path + "/invite", expect=412)) == "can't invite a user with an activated netbird account"
    ext.post("/api/users/%s/invite" % q(me["id"]), expect=412)
    ext.put("/api/users/%s/password" % q(me["id"]), {"old_password": "a", "new_password": "b"}, expect=412)
    seeded = emu.control("POST", "seed", {"users": [{"email": "inv@example.org", "name": "Inv", "status": "invited"}]})
    assert seeded["users"][0]["status"] == "invited" and "password" not in seeded["users"][0]
    assert ext.json("DELETE", path) == {}


def test_no_idp(start_emulator, client_for):
    emu = start_emulator("--idp", "none")
    none = client_for(emu)
    resp = none.post("/api/users", create_body(), expect=412)
    assert err(resp) == "idp manager must be enabled to send user invites"
    svc = none.json("POST", "/api/users", create_body(email=None, name="bot", service=True))
    assert svc["is_service_user"] is True
    none.post("/api/users/%s/invite" % q(svc["id"]), expect=412)
    me = none.json("GET", "/api/users/current")
    none.put("/api/users/%s/password" % q(me["id"]), {"old_password": "a", "new_password": "b"}, expect=412)


def test_rate_limiter_429_without_retry_after(start_emulator):
    emu = start_emulator("--rate-limit", "1:3")
    headers = {"Authorization": "Token " + emu.token}
    statuses = [requests.get(emu.url + "/api/users", headers=headers, timeout=10) for dummy in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert statuses[-1].json() == {"message": "too many requests", "code": 429}
    assert "Retry-After" not in statuses[-1].headers
    # per token: another token still has its burst; terraform's User-Agent is exempt
    other = emu.control("POST", "seed", {"users": [{"email": "o@example.org", "name": "O", "role": "admin",
                                                   "tokens": [{"name": "t"}]}]})["users"][0]["tokens"][0]["plain_token"]
    assert requests.get(emu.url + "/api/users", headers={"Authorization": "Token " + other}, timeout=10).status_code == 200
    tf_headers = dict(headers, **{"User-Agent": "Terraform/1.9 terraform-provider-netbird"})
    assert requests.get(emu.url + "/api/users", headers=tf_headers, timeout=10).status_code == 200
    assert emu.control("GET", "requests")["by_route"]["GET /api/users"] == 6


def test_secret_marker_starts_every_secret(start_emulator):
    emu = start_emulator("--secret-marker", "Zq9SECRET")
    assert emu.token.startswith("nbp_Zq9SECRET") and pat_is_well_formed(emu.token)
    headers = {"Authorization": "Token " + emu.token}
    created = requests.post(emu.url + "/api/users", json=create_body(email="m@example.org"), headers=headers, timeout=10).json()
    assert created["password"].startswith("Zq9SECRET") and len(created["password"]) == 17
    seeded = emu.control("POST", "seed", {"users": [{"name": "bot", "service_user": True, "tokens": [{"name": "t"}]}]})
    plain = seeded["users"][0]["tokens"][0]["plain_token"]
    assert plain.startswith("nbp_Zq9SECRET") and pat_is_well_formed(plain)
    assert start_emulator("--secret-marker", "not-base62", check=False).stop()[0] == 2


def test_state_file_persists_across_restart(start_emulator, tmp_path):
    state = tmp_path / "state.json"
    first = start_emulator("--state-file", state)
    assert state.is_file()
    headers = {"Authorization": "Token " + first.token}
    created = requests.post(first.url + "/api/users", json=create_body(email="keep@example.org"), headers=headers, timeout=10).json()
    first.control("POST", "seed", {"groups": [{"name": "kept"}], "users": [{"name": "bot", "service_user": True,
                                                                           "tokens": [{"name": "t"}]}]})
    # reads do not rewrite the file; only changes do
    before = state.stat().st_mtime_ns
    time.sleep(0.02)
    for dummy in range(3):
        requests.get(first.url + "/api/users", headers=headers, timeout=10)
    assert state.stat().st_mtime_ns == before
    assert json.loads(state.read_text())["users"], "the state file is complete JSON"
    assert first.stop()[0] == 0
    assert not [p for p in os.listdir(tmp_path) if p != "state.json"], "temporary files left behind"
    second = start_emulator("--state-file", state)
    assert second.token == first.token
    headers = {"Authorization": "Token " + second.token}
    users = requests.get(second.url + "/api/users", headers=headers, timeout=10).json()
    assert {u["email"] for u in users} == {"owner@example.com", "keep@example.org", ""}
    assert find(users, created["id"])["status"] == "active"
    groups = requests.get(second.url + "/api/groups?name=kept", headers=headers, timeout=10)
    assert groups.status_code == 200
    # reset goes back to what was loaded at start-up
    requests.delete(second.url + "/api/users/" + q(created["id"]), headers=headers, timeout=10)
    second.control("POST", "reset")
    users = requests.get(second.url + "/api/users", headers=headers, timeout=10).json()
    assert any(u["id"] == created["id"] for u in users)


def test_seed_file_at_startup_and_reset(start_emulator, tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"groups": [{"name": "base"}], "users": [{"email": "base@example.org", "name": "Base", "peers": 1}]}))
    emu = start_emulator("--seed", seed)
    headers = {"Authorization": "Token " + emu.token}
    emu.control("POST", "seed", {"users": [{"email": "extra@example.org", "name": "Extra"}]})
    emu.control("POST", "reset")
    users = requests.get(emu.url + "/api/users", headers=headers, timeout=10).json()
    assert sorted(u["email"] for u in users) == ["base@example.org", "owner@example.com"]
    assert len(requests.get(emu.url + "/api/peers", headers=headers, timeout=10).json()) == 1


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl CLI is not installed")
def test_tls(start_emulator, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    emu = start_emulator("--tls-cert", cert, "--tls-key", key)
    assert emu.url.startswith("https://127.0.0.1:")
    emu.verify = str(cert)
    resp = requests.get(emu.url + "/api/users/current", headers={"Authorization": "Token " + emu.token}, verify=str(cert), timeout=10)
    assert resp.status_code == 200 and resp.headers["X-Request-Id"]
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(emu.url + "/api/users", timeout=10)
    assert emu.control("GET", "requests")["total"] == 1
    assert emu.stderr() == ""


def test_concurrent_writes_are_consistent(api):
    import concurrent.futures  # pylint: disable=import-outside-toplevel

    def create(i):
        return api.emu.session.post(api.emu.url + "/api/users", json=create_body(email="c%03d@example.org" % i, name="C"),
                                    headers={"Authorization": "Token " + api.token}, timeout=30).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(create, list(range(120)) + list(range(40))))
    assert statuses.count(200) == 120 and statuses.count(409) == 40
    users = api.json("GET", "/api/users")
    assert len(users) == 121 and len({u["id"] for u in users}) == 121


def test_thousand_users(api):
    """A large account: seeding, updates and creates work and the list holds everyone (speed is benchmarks/' job)."""
    users = [{"email": "bulk%04d@example.org" % i, "name": "Bulk %d" % i} for i in range(1000)]
    seeded = api.seed(groups=[{"name": "bulk"}], users=users)
    group = seeded["groups"][0]["id"]
    for user in seeded["users"][:150]:
        api.call("PUT", "/api/users/" + q(user["id"]), {"role": "user", "auto_groups": [group], "is_blocked": False},
                 expect=200, validate=False, check_request=False)
    for i in range(150):
        api.call("POST", "/api/users", create_body(email="more%04d@example.org" % i), expect=200, validate=False, check_request=False)
    listed = api.json("GET", "/api/users")
    assert len(listed) == 1151
    assert sum(1 for user in listed if user["auto_groups"] == [group]) == 150


# ============================================================================================
# invite links (embedded IdP), audit log, instance setup
# ============================================================================================

def test_invite_links_as_recorded(api):
    dev = api.seed(groups=[{"name": "dev"}])["groups"][0]["id"]
    assert api.json("GET", "/api/users/invites") == []
    before = time.time()
    created = api.json("POST", "/api/users/invites", {"email": "frank@example.org", "name": "Frank", "role": "user",
                                                      "auto_groups": [dev]})
    assert created["invite_token"].startswith("nbi_") and len(created["invite_token"]) == 40
    assert created["expired"] is False and created["auto_groups"] == [dev]
    expires = datetime_of(created["expires_at"]) - before
    assert 72 * 3600 - 60 < expires < 72 * 3600 + 60, "default expiry is 72 h"
    assert err(api.post("/api/users/invites", {"email": "frank@example.org", "name": "F", "role": "user", "auto_groups": []},
                        expect=409)) == \
        "invite already exists for this email"
    me = owner(api)
    assert err(api.post("/api/users/invites", {"email": me["email"], "name": "O", "role": "user", "auto_groups": []},
                        expect=409)) == \
        "user with this email already exists"
    assert err(api.post("/api/users/invites", {"email": "o@example.org", "name": "O", "role": "owner", "auto_groups": []},
                        expect=422)) == \
        "can't invite a user with owner role"
    assert err(api.post("/api/users/invites", {"email": "s@example.org", "name": "S", "role": "user", "auto_groups": [],
                                               "expires_in": 60}, expect=422)) == "invite expiration must be at least 1 hour"
    # the real server accepts unknown group ids and malformed emails
    odd = api.json("POST", "/api/users/invites", {"email": "not-an-email", "name": "X", "role": "user", "auto_groups": ["ghost"]})
    hour = api.json("POST", "/api/users/invites", {"email": "gina@example.org", "name": "Gina", "role": "admin", "auto_groups": [],
                                                   "expires_in": 3600})
    assert 3600 - 60 < datetime_of(hour["expires_at"]) - before < 3600 + 60
    listed = api.json("GET", "/api/users/invites")
    assert {i["email"] for i in listed} == {"frank@example.org", "not-an-email", "gina@example.org"}
    assert all("invite_token" not in i for i in listed)
    assert "invite_token" not in json.dumps(api.emu.control("GET", "state")["invites"])
    # regenerate: a new token, the old one is dead
    fresh = api.json("POST", "/api/users/invites/%s/regenerate" % created["id"], {})
    assert set(fresh) == {"invite_token", "invite_expires_at"} and fresh["invite_token"] != created["invite_token"]
    assert err(api.get("/api/users/invites/" + created["invite_token"], token="", expect=404)) == "user invite not found"
    info = api.json("GET", "/api/users/invites/" + fresh["invite_token"], token="")
    assert info == {"email": "frank@example.org", "name": "Frank", "expires_at": fresh["invite_expires_at"], "valid": True,
                    "invited_by": me["name"]}
    bad = "nbi_" + "A" * 36
    assert err(api.get("/api/users/invites/" + bad, token="", expect=422)) == "invalid invite token: checksum does not match"
    accept = "/api/users/invites/%s/accept" % fresh["invite_token"]
    assert err(api.post(accept, {"password": "weak"}, token="", expect=422, check_request=False)) == \
        "invalid password: password must be at least 8 characters long"
    assert api.json("POST", accept, {"password": "Frank-Passw0rd!"}, token="") == {"success": True}
    assert err(api.post(accept, {"password": "Frank-Passw0rd!"}, token="", expect=404)) == "user invite not found"
    user = next(u for u in api.json("GET", "/api/users") if u["email"] == "frank@example.org")
    assert (user["role"], user["auto_groups"], user["status"], user["idp_id"]) == ("user", [dev], "active", "local")
    assert "frank@example.org" not in {i["email"] for i in api.json("GET", "/api/users/invites")}
    assert api.json("DELETE", "/api/users/invites/" + odd["id"]) == {}
    assert err(api.delete("/api/users/invites/" + odd["id"], expect=404)) == "user invite not found"
    assert err(api.post("/api/users/invites/%s/regenerate" % odd["id"], {}, expect=404)) == "user invite not found"
    viewer, token = api.user_with_token("user")
    api.post("/api/users/invites", {"email": "v@example.org", "name": "V", "role": "user", "auto_groups": []}, token=token, expect=403)


def datetime_of(stamp):
    import datetime  # pylint: disable=import-outside-toplevel
    found = stamp.replace("Z", "")
    head, dummy, frac = found.partition(".")
    return datetime.datetime.fromisoformat(head + "." + (frac[:6] or "0").ljust(6, "0") + "+00:00").timestamp()


@pytest.mark.parametrize("idp", ["external", "none"])
def test_invite_links_need_the_embedded_idp(start_emulator, client_for, idp):
    emu = start_emulator("--idp", idp)
    other = client_for(emu)
    for method, path, body in (("GET", "/api/users/invites", None),
                               ("POST", "/api/users/invites", {"email": "a@example.org", "name": "A", "role": "user",
                                                               "auto_groups": []}),
                               ("DELETE", "/api/users/invites/x", None), ("POST", "/api/users/invites/x/regenerate", {})):
        resp = other.call(method, path, body=body, expect=412)
        assert err(resp) == "invite links are only available with embedded identity provider"


def test_audit_log_records_user_changes_newest_first(api):
    seeded = api.seed(groups=[{"name": "dev"}], users=[{"email": "a@example.org", "name": "A"},
                                                       {"email": "b@example.org", "name": "B", "blocked": True}])
    alice, bob = seeded["users"]
    dev = seeded["groups"][0]["id"]
    api.json("PUT", "/api/users/" + q(alice["id"]), {"role": "admin", "auto_groups": [dev], "is_blocked": True})
    api.json("PUT", "/api/users/" + q(bob["id"]), {"role": "user", "auto_groups": [], "is_blocked": False})
    events = api.json("GET", "/api/events/audit")
    keys = {"id", "activity", "activity_code", "initiator_id", "initiator_email", "initiator_name", "meta", "target_id", "timestamp"}
    assert all(set(e) == keys for e in events)
    assert [float(datetime_of(e["timestamp"])) for e in events] == sorted((datetime_of(e["timestamp"]) for e in events), reverse=True)
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$", e["timestamp"]) for e in events)
    by_target = {}
    for event in reversed(events):
        by_target.setdefault(event["target_id"], []).append(event["activity_code"])
    assert by_target[alice["id"]] == ["user.create", "user.block", "user.role.update", "user.group.add"] or \
        sorted(by_target[alice["id"]]) == sorted(["user.create", "user.block", "user.role.update", "user.group.add"])
    assert by_target[bob["id"]] == ["user.create", "user.block", "user.unblock"]
    assert events[0]["target_id"] == bob["id"] and events[0]["activity_code"] == "user.unblock"
    assert events[0]["initiator_id"] == owner(api)["id"] and events[0]["meta"]["email"] == "b@example.org"
    # a truncated log: no history at all, and seeds that record none
    api.emu.control("POST", "audit/clear")
    assert api.json("GET", "/api/events/audit") == []
    api.emu.control("POST", "seed", {"audit": False, "users": [{"email": "c@example.org", "name": "C", "blocked": True}]})
    assert api.json("GET", "/api/events/audit") == []
    user, token = api.user_with_token("user")
    api.get("/api/events/audit", token=token, expect=403)


def test_setup_of_an_uninitialized_emulator(start_emulator, client_for):
    emu = start_emulator("--uninitialized")
    assert emu.token is None and json.loads(emu.first_line) == {"url": emu.url, "token": None}
    fresh = client_for(emu, token="")
    assert fresh.json("GET", "/api/instance", token="") == {"setup_required": True}
    fresh.get("/api/users", token="", expect=401)
    body = {"email": "boss@example.org", "password": "Boss-Passw0rd!", "name": "Boss", "create_pat": True, "pat_expire_in": 7}
    for change, status, message in (({"password": "short"}, 422, "password must be at least 8 characters"),
                                    ({"password": "A1!" + "a" * 70}, 422, "password must be at most 72 characters"),
                                    ({"email": "nope"}, 422, "invalid email format"),
                                    ({"name": ""}, 422, "name is required"),
                                    ({"pat_expire_in": 0}, 422, "pat_expire_in must be between 1 and 365"),
                                    ({"pat_expire_in": 366}, 422, "pat_expire_in must be between 1 and 365")):
        assert err(fresh.post("/api/setup", dict(body, **change), token="", expect=status, check_request=False)) == message
    assert err(fresh.post("/api/setup", raw="{nope", token="", expect=400, check_request=False)) == "invalid request body"
    done = fresh.json("POST", "/api/setup", body, token="")
    assert set(done) == {"email", "user_id", "personal_access_token"} and pat_is_well_formed(done["personal_access_token"])
    assert fresh.json("GET", "/api/instance", token="") == {"setup_required": False}
    assert err(fresh.post("/api/setup", body, token="", expect=412)) == "setup already completed"
    pat = done["personal_access_token"]
    me = fresh.json("GET", "/api/users/current", token=pat)
    assert (me["id"], me["role"], me["name"]) == (done["user_id"], "owner", "Boss")
    tokens = fresh.json("GET", "/api/users/%s/tokens" % q(me["id"]), token=pat)
    assert [t["name"] for t in tokens] == ["setup-token"]
    assert [g["name"] for g in fresh.json("GET", "/api/groups", token=pat)] == ["All"]


def test_setup_without_setup_pat_ignores_create_pat(start_emulator, client_for):
    emu = start_emulator("--uninitialized", "--no-setup-pat")
    fresh = client_for(emu, token="")
    body = {"email": "boss@example.org", "password": "Boss-Passw0rd!", "name": "Boss", "create_pat": True, "pat_expire_in": 0}
    done = fresh.json("POST", "/api/setup", body, token="", check_request=False)
    assert set(done) == {"email", "user_id"}
    assert fresh.json("GET", "/api/instance", token="") == {"setup_required": False}


def test_external_idp_lists_stubs_but_enforces_the_stored_state(start_emulator, client_for):
    emu = start_emulator("--idp", "external")
    ext = client_for(emu)
    seeded = emu.control("POST", "seed", {"groups": [{"name": "ops"}], "users": [
        {"name": "svc", "service_user": True, "blocked": True, "auto_groups": ["ops"], "tokens": [{"name": "t"}]},
        {"email": "gone@example.org", "name": "Gone", "blocked": True, "idp_missing": True, "last_login": "2026-01-02T03:04:05Z"},
        {"email": "known@example.org", "name": "Known", "idp_name": "known", "blocked": True},
    ]})["users"]
    svc, gone, known = seeded
    listed = {u["id"]: u for u in ext.json("GET", "/api/users")}
    for stub in (listed[svc["id"]], listed[gone["id"]]):
        assert (stub["is_blocked"], stub["pending_approval"], stub["status"], stub["issued"], stub["last_login"]) == \
            (False, False, "active", "", ZERO_TIME)
    assert listed[svc["id"]]["name"] == "svc" and listed[gone["id"]]["name"] == "" and listed[gone["id"]]["email"] == "gone@example.org"
    assert listed[known["id"]]["is_blocked"] is True and listed[known["id"]]["name"] == "known"
    # the stub's token is still refused: the user really is blocked
    ext.get("/api/users", token=svc["tokens"][0]["plain_token"], expect=403)
    answer = ext.json("PUT", "/api/users/" + q(svc["id"]), {"role": "user", "auto_groups": [], "is_blocked": True})
    assert answer["is_blocked"] is False and answer["status"] == "active"
    state = {u["id"]: u for u in emu.control("GET", "state")["users"]}
    assert state[svc["id"]]["is_blocked"] is True and state[gone["id"]]["is_blocked"] is True
    assert state[gone["id"]]["idp_missing"] is True and state[gone["id"]]["last_login"] == "2026-01-02T03:04:05Z"
    # a merged write with the stub's is_blocked=false really unblocks
    ext.json("PUT", "/api/users/" + q(gone["id"]), {"role": "auditor", "auto_groups": [], "is_blocked": False})
    assert {u["id"]: u for u in emu.control("GET", "state")["users"]}[gone["id"]]["is_blocked"] is False
    codes = [(e["activity_code"], e["target_id"]) for e in ext.json("GET", "/api/events/audit")]
    assert codes[0][1] == gone["id"] and ("user.unblock", gone["id"]) in codes[:2]
    # the control API can make a known user unknown to the IdP
    emu.control("POST", "users/%s/set" % q(known["id"]), {"idp_missing": True})
    assert {u["id"]: u for u in ext.json("GET", "/api/users")}[known["id"]]["is_blocked"] is False


def test_list_order_random_by_default_and_insertion_on_request(start_emulator, client_for):
    users = [{"email": "u%02d@example.org" % i, "name": "U%d" % i} for i in range(30)]
    random_emu = start_emulator()
    random_emu.control("POST", "seed", {"users": users})
    rnd = client_for(random_emu)
    orders = {tuple(u["id"] for u in rnd.json("GET", "/api/users")) for dummy in range(5)}
    assert len(orders) > 1, "five lists of 31 users came back in the same order"
    fixed_emu = start_emulator("--order", "insertion")
    fixed_emu.control("POST", "seed", {"users": users})
    fixed = client_for(fixed_emu)
    emails = [u["email"] for u in fixed.json("GET", "/api/users")]
    assert emails == ["owner@example.com"] + [u["email"] for u in users]


def test_latency_and_requests_in_flight(start_emulator):
    import concurrent.futures  # pylint: disable=import-outside-toplevel
    emu = start_emulator("--latency", "300")
    headers = {"Authorization": "Token " + emu.token}
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda i: requests.get(emu.url + "/api/users", headers=headers, timeout=30).status_code, range(4)))
    assert statuses == [200] * 4
    assert time.monotonic() - started >= 0.3, "every answer waits --latency first"
    assert emu.control("GET", "requests")["total"] == 4
    # the four waited at the same time, not one after another
    assert emu.control("GET", "health")["max_in_flight"] >= 2


def test_seed_and_set_user_fields(api):
    seeded = api.seed(users=[{"email": "s@example.org", "name": "S", "last_login": "2026-03-04T05:06:07Z", "peers": 1,
                              "tokens": [{"name": "t", "expiration_date": "2027-01-01T00:00:00Z", "last_used": "2026-05-01T00:00:00Z"}]}])
    user = seeded["users"][0]
    assert user["last_login"] == "2026-03-04T05:06:07Z"
    meta = user["tokens"][0]["personal_access_token"]
    assert meta["expiration_date"] == "2027-01-01T00:00:00Z" and meta["last_used"] == "2026-05-01T00:00:00Z"
    peers = api.json("GET", "/api/peers")
    assert [p["user_id"] for p in peers] == [user["id"]]
    changed = api.emu.control("POST", "users/%s/set" % q(user["id"]), {"pending_approval": True})
    assert changed["pending_approval"] is True and changed["is_blocked"] is True
    api.emu.control("POST", "users/%s/set" % q(user["id"]), {"bogus": 1}, expect=400)
