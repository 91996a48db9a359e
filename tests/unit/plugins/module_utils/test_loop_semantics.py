# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loop semantics of a batch (fail_fast), as a property: random start states, batches and faults against the fake
client, compared with a small reference model of the documented rules.

The rules (docs: the ``netbird_ops.netbird.netbird.batch`` doc fragment, docs/ARCHITECTURE.md):
- default: every entry that does not depend on a failed one is attempted; the task fails at the end naming each
  failure; an entry that needs a group create_groups could not make is not attempted; a change's later step
  (block after create, delete of the old token after creating the new one) never runs after an earlier one failed;
- fail_fast: no new write starts after the first failure; with width 1 that is exactly the sequential prefix, with
  more in flight the attempted entries are a prefix of the stage's input order that includes the first failure;
- the result has one entry per input element; failed ones carry failed and msg, ones not attempted also
  not_attempted; the top-level msg is one line;
- a second run without faults converges to the desired state, and a third one changes nothing.
Faults are keyed by the entity they hit (the email a POST creates, the user a PUT or DELETE writes, the group name, the
token), so that the same faults hit the same entries at any width.
"""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fakes import FakeClient, FakeNB, default_token, raw_user

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdAPIError, OperationFailed
from ansible_collections.netbird_ops.netbird.plugins.module_utils._core import BatchRunner
from ansible_collections.netbird_ops.netbird.plugins.module_utils._tokens import TOKEN_ENTRY_KEYS, TokenKind, token_specs
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import USER_ENTRY_KEYS, run_users

GROUPS = [{"id": "g-dev", "name": "dev", "issued": "api"}, {"id": "g-ops", "name": "ops", "issued": "api"}]
NEW_GROUPS = ("new1", "new2")
OWNER = raw_user("owner1", "owner@example.com", "Owner", role="owner", current=True)
PAUSE = 0.002  # a write holds this long before it is carried out
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class FaultyClient(FakeClient):
    """The shared fake, thread-safe, failing the writes that ``faults`` name (HTTP 500, every time) and logging
    each write's start and end (to check that an exclusive change runs alone)."""

    def __init__(self, *args, faults=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.faults = set(faults)
        self.lock = threading.RLock()
        self.timeline = []     # ("start" | "end", key)

    def fault_key(self, method, path, body):
        parts = path.split("/")
        if method == "POST" and path == "/users":
            return ("create", body.get("email"))
        if method == "POST" and path == "/groups":
            return ("group", body["name"])
        if path.startswith("/users/") and len(parts) == 3:
            user = next((u for u in self.users if u["id"] == parts[2]), {})
            return ("put" if method == "PUT" else "delete", user.get("email") or user.get("name"))
        if len(parts) == 4 and parts[3] == "tokens":
            return ("tcreate", parts[2], body["name"])
        if len(parts) == 5 and parts[3] == "tokens":
            return ("tdelete", parts[2], parts[4])
        return None

    def _write(self, method, path, body, call):
        key = (method, path, repr(body))
        self.timeline.append(("start", key))  # outside the lock: writes in flight at once are seen as such
        try:
            time.sleep(PAUSE)                   # in flight: others may start meanwhile (observed, never timed)
            with self.lock:
                if self.fault_key(method, path, body) in self.faults:
                    self.calls.append((method, path, body))
                    raise NetBirdAPIError(method, "/api" + path, status=500, message="injected fault")
                return call()
        finally:
            self.timeline.append(("end", key))

    def post(self, path, body=None, idempotent=False):
        return self._write("POST", path, body, lambda: FakeClient.post(self, path, body, idempotent))

    def put(self, path, body):
        return self._write("PUT", path, body, lambda: FakeClient.put(self, path, body))

    def delete(self, path):
        return self._write("DELETE", path, None, lambda: FakeClient.delete(self, path))

    def get_list(self, path, params=None):
        with self.lock:
            return FakeClient.get_list(self, path, params)


# -- users -----------------------------------------------------------------------------------------------------

@st.composite
def user_scenarios(draw):
    existing = []
    for index in range(draw(st.integers(0, 4))):
        existing.append(raw_user("u%d" % index, "e%d@example.com" % index, "E%d" % index,
                                 role=draw(st.sampled_from(["user", "admin"])),
                                 groups=draw(st.lists(st.sampled_from(["g-dev", "g-ops"]), unique=True))))
    entries = []
    for user in existing:
        what = draw(st.sampled_from(["keep", "role", "groups", "delete"]))
        if what == "role":
            entries.append({"email": user["email"], "role": "auditor" if user["role"] != "auditor" else "user"})
        elif what == "groups":
            entries.append({"email": user["email"], "auto_groups": draw(st.lists(st.sampled_from(("dev",) + NEW_GROUPS),
                                                                                 min_size=1, unique=True))})
        elif what == "delete":
            entries.append({"email": user["email"], "state": "absent"})
    for index in range(draw(st.integers(0, 4))):
        entries.append({"email": "n%d@example.com" % index, "name": "N%d" % index,
                        "auto_groups": draw(st.lists(st.sampled_from(("dev", "ops") + NEW_GROUPS), unique=True)),
                        "blocked": draw(st.booleans())})
    if draw(st.booleans()):
        entries.append({"email": OWNER["email"], "auto_groups": ["ops"]})  # the token's own user: an exclusive change
    entries = draw(st.permutations(entries))
    possible = [("create", e["email"]) for e in entries if "name" in e]
    possible += [("put", e["email"]) for e in entries if e.get("state") != "absent"]
    possible += [("delete", e["email"]) for e in entries if e.get("state") == "absent"]
    possible += [("group", name) for name in NEW_GROUPS]
    faults = draw(st.sets(st.sampled_from(possible))) if possible else set()
    return existing, entries, faults, draw(st.sampled_from([1, 1, 3])), draw(st.booleans())


def user_params(entries, width, fail_fast):
    params = dict((key, None) for key in USER_ENTRY_KEYS)
    params.update(state="present", auto_groups_mode="replace", resend_invite=False, api_concurrency=width,
                  fail_fast=fail_fast, create_groups=True, batch_results="all")
    base = dict((key, None) for key in USER_ENTRY_KEYS)
    base.update(state="present", auto_groups_mode="replace", resend_invite=False)
    params["users"] = [dict(base, **entry) for entry in entries]
    return params


def run_batch(client, params):
    nb = FakeNB(client, params)
    try:
        return run_users(nb), None
    except OperationFailed as exc:
        return exc.extra, str(exc)


def world(client):
    """The account as {email: (role, group names, blocked)} and the group names."""
    names = dict((g["id"], g["name"]) for g in client.groups)
    users = dict((u["email"], (u["role"], tuple(sorted(names[g] for g in u["auto_groups"])), bool(u["is_blocked"])))
                 for u in client.users)
    return users, sorted(names.values())


def apply_entry(users, entry, partial=False):
    """The reference model of one entry's effect on {email: (role, groups, blocked)}; partial: only its first step."""
    email = entry["email"]
    if entry.get("state") == "absent":
        users.pop(email, None)
        return
    role, groups, blocked = users.get(email, ("user", (), False))
    if "role" in entry:
        role = entry["role"]
    if "auto_groups" in entry:
        groups = tuple(sorted(entry["auto_groups"]))
    if email not in users:
        blocked = bool(entry.get("blocked")) and not partial
    users[email] = (role, groups, blocked)


def writes_of(entry, start):
    """The fault keys of the writes an entry sends, in order (none when it changes nothing)."""
    email = entry["email"]
    if entry.get("state") == "absent":
        return [("delete", email)]
    if email not in start:
        return [("create", email)] + ([("put", email)] if entry.get("blocked") else [])
    role, groups, blocked = start[email]
    after = dict(start)
    apply_entry(after, entry)
    return [("put", email)] if after[email] != (role, groups, blocked) else []


def expected_users(existing, entries, faults, fail_fast, cut=None):
    """The reference model: (end state, group names, failed indexes, indexes not attempted).

    ``cut``: with fail_fast and more than one write in flight, where the run stopped starting writes (the changed
    entries from there on are not attempted); the model then checks everything else."""
    start, group_names = world(FaultyClient([OWNER] + existing, groups=GROUPS))
    users = dict(start)
    groups = set(group_names)
    needed = []
    for entry in entries:
        if writes_of(entry, start):
            for name in entry.get("auto_groups") or []:
                if name in NEW_GROUPS and name not in needed and name not in groups:
                    needed.append(name)
    failed, skipped, stopped = set(), set(), False
    bad_groups = set()
    for name in needed:  # planned in input order, created first, one at a time, while an entry still needs it
        users_of = [e for e in entries if name in (e.get("auto_groups") or ()) and not set(e["auto_groups"]) & bad_groups]
        if stopped or not users_of:
            continue
        if ("group", name) in faults:
            bad_groups.add(name)
            stopped = fail_fast
        else:
            groups.add(name)
    for index, entry in enumerate(entries):
        steps = writes_of(entry, start)
        if not steps:
            continue
        if stopped or set(entry.get("auto_groups") or ()) & bad_groups or (cut is not None and index >= cut):
            skipped.add(index)
            continue
        if steps[0] in faults:
            failed.add(index)
        else:
            partial = len(steps) > 1 and steps[1] in faults
            apply_entry(users, entry, partial=partial)
            if partial:
                failed.add(index)
        if index in failed and fail_fast and cut is None:
            stopped = True
    return users, sorted(groups), failed, skipped


def check_result_contract(entries, result, message, failed, skipped):
    listed = result["users"]
    assert len(listed) == len(entries)
    for index, (entry, item) in enumerate(zip(entries, listed)):
        if index in failed or index in skipped:
            assert item["failed"] is True and item["msg"] and "\n" not in item["msg"]
            assert item["email"] == entry["email"]  # matched to its input
            assert item.get("not_attempted", False) == (index in skipped), (index, item)
            if index in skipped:
                assert item["msg"].startswith("not attempted: ")
        else:
            assert "failed" not in item and "not_attempted" not in item
    if failed or skipped:
        assert message is not None and "\n" not in message
        for index in failed:
            assert "users[%d] (%s): POST /api/" % (index, entries[index]["email"]) in message or \
                "users[%d] (%s): PUT /api/" % (index, entries[index]["email"]) in message or \
                "users[%d] (%s): DELETE /api/" % (index, entries[index]["email"]) in message or \
                ("users[%d] (%s) was created" % (index, entries[index]["email"])) in message, message
        if skipped:
            rest = message.split("; not attempted: ", 1)[1]
            for index in skipped:
                assert "users[%d] (%s)" % (index, entries[index]["email"]) in rest


@SETTINGS
@given(user_scenarios())
def test_users_batch_follows_the_reference_model(scenario):
    existing, entries, faults, width, fail_fast = scenario
    client = FaultyClient([OWNER] + existing, groups=GROUPS, faults=faults)
    result, message = run_batch(client, user_params(entries, width, fail_fast))
    users, groups = world(client)
    model_users, model_groups, failed, skipped = expected_users(existing, entries, faults, fail_fast)
    listed = result["users"]
    got_failed = set(i for i, item in enumerate(listed) if item.get("failed") and not item.get("not_attempted"))
    got_skipped = set(i for i, item in enumerate(listed) if item.get("not_attempted"))
    if fail_fast and width > 1 and not (skipped and not failed):
        # more than one write in flight: entries start in input order, so the run stops at some cut after the first
        # failure (the writes in flight finish); the model with that cut must hold exactly
        cut = min(got_skipped) if got_skipped else len(entries)
        assert not failed or min(failed) < cut, message
        model_users, model_groups, failed, skipped = expected_users(existing, entries, faults, fail_fast, cut=cut)
    assert (got_failed, got_skipped) == (failed, skipped), message
    assert users == model_users, message
    assert groups == model_groups
    check_result_contract(entries, result, message, failed, skipped)
    check_exclusive_alone(client)

    # without the faults, running the same task again converges, and once more changes nothing
    client.faults = set()
    again, message = run_batch(client, user_params(entries, width, fail_fast))
    assert message is None
    desired = dict(world(FaultyClient([OWNER] + existing, groups=GROUPS))[0])
    for entry in entries:
        apply_entry(desired, entry)
    assert world(client)[0] == desired
    assert not run_batch(client, user_params(entries, width, fail_fast))[0]["changed"]


def check_exclusive_alone(client):
    """The token's own user (an exclusive change) is written while no other write is in flight."""
    in_flight = set()
    for event, key in client.timeline:
        if event == "start":
            if "/users/owner1" in key[1] or any("/users/owner1" in other[1] for other in in_flight):
                assert not in_flight, (key, in_flight)
            in_flight.add(key)
        else:
            in_flight.discard(key)


# -- tokens: two stages (every creation before every deletion) ----------------------------------------------------

NOW = datetime.datetime(2026, 11, 29, 10, 0, 0, tzinfo=datetime.timezone.utc)
SERVICES = [raw_user("s%d" % i, "", "bot%d" % i, role="admin", service=True) for i in range(3)]


@st.composite
def token_scenarios(draw):
    tokens = {}
    entries = []
    for service in SERVICES:
        uid = service["id"]
        tokens[uid] = []
        for index in range(draw(st.integers(0, 2))):
            days = draw(st.sampled_from([3, 200]))   # 3: due for rotation (rotate_before_days 10)
            tokens[uid].append(default_token("%s-t%d" % (uid, index), "t%d" % index, days, "owner1"))
        for token in tokens[uid]:
            what = draw(st.sampled_from(["keep", "rotate", "delete"]))
            if what == "rotate":
                entries.append({"user_name": service["name"], "name": token["name"], "expires_in": 30, "rotate_before_days": 10})
            elif what == "delete":
                entries.append({"user_name": service["name"], "name": token["name"], "state": "absent"})
        for index in range(draw(st.integers(0, 2))):
            entries.append({"user_name": service["name"], "name": "fresh%d" % index, "expires_in": 30})
    entries = draw(st.permutations(entries))
    possible = []
    for entry in entries:
        uid = next(s["id"] for s in SERVICES if s["name"] == entry["user_name"])
        old = next((t for t in tokens[uid] if t["name"] == entry["name"]), None)
        if entry.get("state") != "absent":
            possible.append(("tcreate", uid, entry["name"]))
        if old is not None:
            possible.append(("tdelete", uid, old["id"]))
    faults = draw(st.sets(st.sampled_from(possible))) if possible else set()
    return tokens, entries, faults, draw(st.sampled_from([1, 3])), draw(st.booleans())


def token_steps(entry, tokens):
    """[(stage, fault key)] of an entry, as the model sees it."""
    uid = next(s["id"] for s in SERVICES if s["name"] == entry["user_name"])
    old = next((t for t in tokens[uid] if t["name"] == entry["name"]), None)
    if entry.get("state") == "absent":
        return [("delete", ("tdelete", uid, old["id"]))] if old else []
    if old is None:
        return [("create", ("tcreate", uid, entry["name"]))]
    expires = datetime.datetime.strptime(old["expiration_date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    if expires - NOW <= datetime.timedelta(days=entry.get("rotate_before_days") or -1):
        return [("create", ("tcreate", uid, entry["name"])), ("delete", ("tdelete", uid, old["id"]))]
    return []


def token_world(client):
    return dict((uid, sorted((t["name"], t["id"].startswith("new")) for t in client.tokens.get(uid, []))) for uid in client.tokens)


@SETTINGS
@given(token_scenarios())
def test_token_batch_follows_the_reference_model(scenario):
    tokens, entries, faults, width, fail_fast = scenario
    client = FaultyClient([OWNER] + SERVICES, tokens=tokens, faults=faults)
    params = dict((key, None) for key in TOKEN_ENTRY_KEYS)
    base = dict((key, None) for key in TOKEN_ENTRY_KEYS)
    base["state"] = "present"
    params["tokens"] = [dict(base, **entry) for entry in entries]
    runner = BatchRunner(TokenKind(client, now=lambda: NOW), width=width, batch=True, fail_fast=fail_fast)
    try:
        result, message = runner.run(token_specs(params)), None
    except OperationFailed as exc:
        result, message = exc.extra, str(exc)

    # the model: every creation (in input order), then every deletion; a deletion of a rotation only after its creation
    steps = [token_steps(entry, tokens) for entry in entries]
    order = [(i, 0) for i, s in enumerate(steps) if s and s[0][0] == "create"]
    order += [(i, len(s) - 1) for i, s in enumerate(steps) if s and s[-1][0] == "delete"]
    failed, reached, stopped = set(), set(), False
    ran = []
    for index, step in order:
        if index in failed:
            continue            # a later step never runs after an earlier one failed
        if stopped:
            continue
        reached.add(index)
        if steps[index][step][1] in faults:
            failed.add(index)
            stopped = fail_fast
        else:
            ran.append((index, step))
    listed = result["tokens"]
    got_failed = set(i for i, item in enumerate(listed) if item.get("failed") and not item.get("not_attempted"))
    got_skipped = set(i for i, item in enumerate(listed) if item.get("not_attempted"))
    changed = set(i for i, s in enumerate(steps) if s)
    if fail_fast and width > 1:
        # open cut within each stage: check only what holds at any width
        assert got_failed <= set(i for i, s in enumerate(steps) if any(step[1] in faults for step in s))
        assert got_failed or not faults & set(step[1] for s in steps for step in s) or got_skipped
        ran = None
    else:
        assert got_failed == failed, message
        assert got_skipped == changed - failed - set(i for i, step in ran if step == len(steps[i]) - 1), message
    assert len(listed) == len(entries)
    for entry, item in zip(entries, listed):
        if item.get("failed"):
            assert item["name"] == entry["name"] and item["user_name"] == entry["user_name"] and item["msg"]
    if ran is not None:
        # end state: old tokens gone where their deletion ran, a new one where its creation ran
        expected = dict((uid, sorted((t["name"], False) for t in tokens.get(uid, []))) for uid in tokens)
        for index, step in ran:
            uid, name = steps[index][step][1][1], entries[index]["name"]
            if steps[index][step][0] == "create":
                expected[uid] = sorted(expected[uid] + [(name, True)])
            else:
                old = [pair for pair in expected[uid] if pair == (name, False)]
                expected[uid].remove(old[0])
        assert token_world(client) == expected, message
    # a rotation whose creation failed never lost its old token
    for index in failed:
        if len(steps[index]) == 2 and steps[index][0][1] in faults:
            uid, old_id = steps[index][1][1][1], steps[index][1][1][2]
            assert any(t["id"] == old_id for t in client.tokens[uid])
    # every plain token created is returned (a secret nobody has is a lost token)
    created = sum(1 for uid in client.tokens for t in client.tokens[uid] if t["id"].startswith("new"))
    assert created == sum(1 for item in listed if item.get("plain_token"))
    if failed or got_failed or got_skipped:
        assert message is not None and "\n" not in message


@pytest.mark.parametrize("fail_fast", [False, True])
def test_group_failure_skips_only_its_users_and_fail_fast_stops_everything(fail_fast):
    client = FaultyClient([OWNER], groups=GROUPS, faults={("group", "new1")})
    entries = [{"email": "a@example.com", "name": "A", "auto_groups": ["new1"]},
               {"email": "b@example.com", "name": "B", "auto_groups": ["new2"]},
               {"email": "c@example.com", "name": "C", "auto_groups": ["dev"]}]
    result, message = run_batch(client, user_params(entries, 1, fail_fast))
    assert message.startswith("creating group 'new1' (create_groups): POST /api/groups failed with HTTP 500 "
                              "Internal Server Error: injected fault; ")
    users = result["users"]
    assert users[0]["not_attempted"] and users[0]["msg"] == "not attempted: its group 'new1' could not be created"
    if fail_fast:
        assert "nothing had been changed yet" in message and result["groups_created"] == []
        assert all(u["not_attempted"] for u in users) and sorted(world(client)[0]) == ["owner@example.com"]
        assert message.endswith("not attempted: users[0] (a@example.com) (its group 'new1' could not be created), "
                                "users[1] (b@example.com), users[2] (c@example.com)")
    else:
        assert "already done: created group new2; created b@example.com; created c@example.com" in message
        assert [u.get("failed", False) for u in users] == [True, False, False] and result["groups_created"] == ["new2"]
        assert result["summary"]["created"] == ["b@example.com", "c@example.com"]
        assert users[1]["password"] and users[2]["password"]  # one-time passwords are never lost to a failure


def test_batch_results_changed_still_lists_failures():
    client = FaultyClient([OWNER, raw_user("u1", "keep@example.com", "Keep")], groups=GROUPS,
                          faults={("create", "bad@example.com")})
    params = user_params([{"email": "keep@example.com"}, {"email": "bad@example.com", "name": "Bad"},
                          {"email": "ok@example.com", "name": "Ok"}], 1, False)
    params["batch_results"] = "changed"
    result, message = run_batch(client, params)
    assert [(u["user"] or {}).get("email") or u["email"] for u in result["users"]] == ["bad@example.com", "ok@example.com"]
    assert result["users"][0]["failed"] and result["users"][0]["user"] is None and not result["users"][0]["changed"]
    assert message == ("users[1] (bad@example.com): POST /api/users failed with HTTP 500 Internal Server Error: injected fault; "
                       "already done: created ok@example.com")
    assert result["changed"] is True


def test_the_token_rejected_stops_the_batch_without_fail_fast():
    client = FaultyClient([OWNER], groups=GROUPS)
    client.errors[("POST", "/users")] = NetBirdAPIError("POST", "/api/users", status=401, message="token invalid")
    entries = [{"email": "%s@example.com" % n, "name": n} for n in "abc"]
    result, message = run_batch(client, user_params(entries, 1, False))
    assert message.startswith("users[0] (a@example.com): POST /api/users failed with HTTP 401")
    assert message.endswith("nothing had been changed yet; not attempted: users[1] (b@example.com), users[2] (c@example.com)")
    assert result["users"][1]["msg"] == "not attempted: the API token was rejected (HTTP 401)"
