# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract of the collection's own requests: every request the client and engine send, on every
write path, must be an operation of NetBird's OpenAPI spec with a body and query that match it."""

from __future__ import annotations

import json

from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import NetBirdClient
from ansible_collections.netbird_ops.netbird.plugins.module_utils._approvals import ApprovalKind
from ansible_collections.netbird_ops.netbird.plugins.module_utils._core import BatchRunner, Change
from ansible_collections.netbird_ops.netbird.plugins.module_utils._invites import InviteKind, InviteSpec
from ansible_collections.netbird_ops.netbird.plugins.module_utils._setup import SetupKind, SetupSpec
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import UserKind, UserSpec
from nb_testlib import Emulator


def spec(**kwargs):
    entry = {"state": "present", "auto_groups_mode": "replace", "resend_invite": False}
    entry.update(kwargs)
    return UserSpec(entry)


def apply_all(client, specs):
    engine = UserKind(client)
    engine.load_users()
    for item in specs:
        engine.apply(engine.plan(item))
    return engine


def requests_seen(emulator, spec_contract):
    """Every request in the emulator's log checked against the spec; returns the operations seen."""
    log = emulator.control("GET", "log")
    entries = log if isinstance(log, list) else log.get("requests") or log.get("entries") or []
    assert entries, log
    seen = set()
    for entry in entries:
        template, operation = spec_contract.operation(entry["method"], entry["path"])
        seen.add("%s %s" % (entry["method"], template))
        declared = set(p.get("name") for p in operation.get("parameters") or [] if p.get("in") == "query")
        query = entry.get("query") or {}
        names = set(query) if isinstance(query, dict) else set(part.split("=")[0] for part in str(query).split("&") if part)
        assert names <= declared, "%s %s sends undeclared query parameters %s" % (entry["method"], template, names - declared)
        body = entry.get("body")
        if body:
            spec_contract.validate_request(entry["method"], entry["path"], json.loads(body) if isinstance(body, str) else body)
        assert entry["status"] < 400, entry
    return seen


def test_every_request_of_every_write_path_matches_the_spec(nb_emulator, spec_contract):
    nb_emulator.control("POST", "reset")
    nb_emulator.control("POST", "seed", {
        "groups": [{"name": "dev"}, {"name": "ops"}],
        "users": [{"email": "gone@example.org", "name": "Gone", "peers": 1},
                  {"email": "pend1@example.org", "name": "P1", "pending_approval": True},
                  {"email": "pend2@example.org", "name": "P2", "pending_approval": True}],
    })
    nb_emulator.control("DELETE", "log")
    client = NetBirdClient(nb_emulator.url, nb_emulator.token, retries=0)
    engine = apply_all(client, [
        spec(email="new@example.org", name="New", auto_groups=["dev"], blocked=True),
        spec(name="bot", service_user=True, role="network_admin", auto_groups=["ops"]),
        spec(email="gone@example.org", state="absent"),
        spec(old_password="Emulator-Owner-Pass1!", new_password="Emulator-Owner-Pass2!"),
    ])
    apply_all(client, [spec(email="new@example.org", role="auditor", auto_groups=["ops"], auto_groups_mode="add", blocked=False)])
    pending = {u["email"]: u for u in engine.client.get_list("/users", params={"service_user": "false"})}
    approvals = ApprovalKind(client, users=engine)
    approvals.apply(Change(None, pending["pend1@example.org"], "approve", {"approve": True}))
    approvals.apply(Change(None, pending["pend2@example.org"], "reject", {"reject": True}))

    seen = requests_seen(nb_emulator, spec_contract)
    assert {"POST /api/users", "PUT /api/users/{userId}", "DELETE /api/users/{userId}", "PUT /api/users/{userId}/password",
            "POST /api/users/{userId}/approve", "DELETE /api/users/{userId}/reject", "GET /api/users", "GET /api/groups",
            "GET /api/peers"} <= seen


def invite(**kwargs):
    entry = {"state": "present", "regenerate": "expired"}
    entry.update(kwargs)
    return InviteSpec(entry)


def test_invite_and_setup_requests_match_the_spec(nb_emulator, spec_contract):
    nb_emulator.control("POST", "reset")
    nb_emulator.control("POST", "seed", {"groups": [{"name": "dev"}]})
    nb_emulator.control("DELETE", "log")
    client = NetBirdClient(nb_emulator.url, nb_emulator.token, retries=0)
    specs = [invite(email="a@example.org", name="A", auto_groups=["dev", "made"], expires_in=7200),
             invite(email="b@example.org", name="B", role="admin")]
    kind = InviteKind(client)
    kind.groups.create_groups = True
    BatchRunner(kind, batch=True).run(specs)
    BatchRunner(InviteKind(client), batch=True).run([invite(email="a@example.org", name="A", regenerate="always",
                                                                   expires_in=3600, auto_groups=["dev", "made"]),
                                                            invite(email="b@example.org", name="B", role="user"),
                                                            invite(email="c@example.org", state="absent")])
    BatchRunner(InviteKind(client), batch=True).run([invite(email="a@example.org", state="absent")])
    seen = requests_seen(nb_emulator, spec_contract)
    assert {"GET /api/users/invites", "POST /api/users/invites", "DELETE /api/users/invites/{inviteId}",
            "POST /api/users/invites/{inviteId}/regenerate", "POST /api/groups"} <= seen

    fresh = Emulator("--uninitialized")
    try:
        setup = NetBirdClient(fresh.url, None, retries=0)
        answer = BatchRunner(SetupKind(setup)).run([SetupSpec({"email": "o@example.org", "name": "O",
                                                                      "password": "Owner-Passw0rd!", "create_pat": True,
                                                                      "pat_expire_in": 2})])
        assert answer["personal_access_token"].startswith("nbp_")
        assert requests_seen(fresh, spec_contract) == {"GET /api/instance", "POST /api/setup"}
    finally:
        fresh.stop()
