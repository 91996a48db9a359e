# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault matrix: every module and the role against the emulator's fault injection.

Each case ends in success after retry or in one clear one-line failure (method, path, status,
server message), never a traceback, never a duplicate write (write requests are counted per
case), and a batch names what it changed before the failure. The cases of one test run in
parallel, one inventory host each (see nb_cases.py); the README's "Reliability coverage"
table lists them.
"""

from __future__ import annotations

import pytest

from nb_cases import ROLE, Case, free_port, run_cases, users_in, verify

USER = "netbird_user"
APPROVAL = "netbird_user_approval"
INFO = "netbird_user_info"

# A write the client gave up on (api_timeout 1 s) lands this late: the client's re-read comes before it even
# on a loaded machine, so whether the write is sent again is decided the same way every time.
LATE = 5
HTML = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>nginx</body></html>"
NEW = {"email": "new@{case}.test", "name": "New"}
SVC = {"name": "svc-{case}", "service_user": True}
OLD = [{"email": "old@{case}.test", "name": "Old", "role": "user"}]
PENDING = [{"email": "p1@{case}.test", "name": "P1", "pending_approval": True},
           {"email": "p2@{case}.test", "name": "P2", "pending_approval": True},
           {"email": "p3@{case}.test", "name": "P3", "pending_approval": True}]


def rule(method, path, **extra):
    return dict(extra, method=method, path=path)


def one(local=None, name=None, count=1, **attrs):
    """Check: the case's user exists exactly ``count`` times (never duplicated), with these attributes."""
    def check(case, outcome, state):
        found = users_in(state, case, local=local, name=name)
        assert len(found) == count, "%s: %d users, expected %d" % (local or name, len(found), count)
        for user in found:
            for key, value in attrs.items():
                assert user.get(key) == value, "%s: %s is %r, expected %r" % (local or name, key, user.get(key), value)
    return check


def checks(*funcs):
    def check(case, outcome, state):
        for func in funcs:
            func(case, outcome, state)
    return check


def password_returned(case, outcome, state):
    assert len(outcome.main["result"].get("password") or "") == 16, "no one-time password returned"


def run_and_verify(ansible, emulator, cases):
    run, outcomes = run_cases(ansible, emulator, cases)
    state = emulator.state()
    report = []
    for case in cases:
        problems = verify(outcomes[case.id], state)
        if problems:
            report.append("%s (%s): %s" % (case.id, case.fault_kind, "; ".join(problems)))
    assert "Traceback" not in run.output, run.output
    assert not report, "\n".join(report) + "\n\n" + run.output[-6000:]
    return outcomes


# --------------------------------------------------------------------------------------------
# netbird_user, one user
# --------------------------------------------------------------------------------------------

USER_CASES = [
    Case("u-429-ra", USER, NEW, [rule("POST", "/api/users", status=429, retry_after=1)], fault_kind="429 Retry-After: 1",
         writes={"POST /api/users": 2}, gap=("POST /api/users", 1.0), check=checks(one("new"), password_returned),
         warn="1 request(s) were retried (HTTP 429 x1"),
    Case("u-429", USER, NEW, [rule("POST", "/api/users", status=429, times=2)], fault_kind="429 no Retry-After",
         writes={"POST /api/users": 3}, check=checks(one("new"), password_returned)),
    Case("u-500", USER, NEW, [rule("POST", "/api/users", status=500)], fault_kind="500", ok=False,
         msg=["new@u-500.test: POST /api/users failed with HTTP 500 Internal Server Error: internal server error"],
         writes={"POST /api/users": 1}, check=one("new", count=0)),
    Case("u-502-get", USER, NEW, [rule("GET", "/api/users", status=502)], fault_kind="502",
         writes={"POST /api/users": 1}, reads={"GET /api/users": 2}, check=one("new")),
    Case("u-503-post", USER, NEW, [rule("POST", "/api/users", status=503)], fault_kind="503 (not acted on)",
         warn="HTTP 503", writes={"POST /api/users": 2}, check=checks(one("new"), password_returned)),
    Case("u-504-acted-svc", USER, SVC, [rule("POST", "/api/users", status=504, race=True)], fault_kind="504 after the server acted",
         warn="the answer to the create request was lost", writes={"POST /api/users": 1}, check=one(name="svc-u-504-acted-svc")),
    Case("u-503-svc", USER, SVC, [rule("POST", "/api/users", status=503)], fault_kind="503 on a service user create", ok=False,
         msg=["POST /api/users failed with HTTP 503", "was not re-sent"],
         writes={"POST /api/users": 1}, check=one(name="svc-u-503-svc", count=0)),
    Case("u-refused", USER, NEW, url="http://127.0.0.1:%d" % free_port(), fault_kind="connection refused", ok=False,
         msg=["GET /api/users failed: connection refused after 2 retries"], writes={}),
    Case("u-reset-get", USER, NEW, [rule("GET", "/api/users", partial=True)], fault_kind="reset mid-response (read)",
         writes={"POST /api/users": 1}, reads={"GET /api/users": 2}, check=one("new")),
    Case("u-reset-post", USER, NEW, [rule("POST", "/api/users", partial=True)], fault_kind="reset mid-response (create)",
         warn="the answer to the create request was lost", writes={"POST /api/users": 1}, check=one("new")),
    Case("u-timeout-get", USER, NEW, [rule("GET", "/api/users", delay=2.5)], timeout=1, fault_kind="read timeout (read)",
         writes={"POST /api/users": 1}, check=one("new")),
    Case("u-timeout-post", USER, NEW, [rule("POST", "/api/users", delay=LATE)], timeout=1, fault_kind="read timeout (create)",
         writes={"POST /api/users": 2}, check=one("new")),
    Case("u-timeout-svc", USER, SVC, [rule("POST", "/api/users", delay=LATE)], timeout=1, ok=False,
         fault_kind="read timeout (service user create)", msg=["POST /api/users failed: read timed out", "was not re-sent"],
         writes={"POST /api/users": 1}, check=one(name="svc-u-timeout-svc")),
    Case("u-html-502", USER, NEW, [rule("GET", "/api/users", status=502, body=HTML)], fault_kind="HTML proxy page (502)",
         writes={"POST /api/users": 1}, check=one("new")),
    Case("u-html-200", USER, NEW, [rule("GET", "/api/users", status=200, body=HTML)], fault_kind="HTML body with 200", ok=False,
         msg=["GET /api/users failed with HTTP 200", "non-JSON body (text/html", "Bad Gateway", "not a proxy"], writes={}),
    Case("u-empty", USER, SVC, [rule("GET", "/api/users", status=200, body="")], fault_kind="empty body", ok=False,
         msg=["GET /api/users failed with HTTP 200", "empty body"], writes={}),
    Case("u-null", USER, SVC, [rule("GET", "/api/users", status=200, body="null")], fault_kind="JSON null for a list", ok=False,
         msg=["GET /api/users failed with HTTP 200", "null"], writes={}),
    Case("u-null-groups", USER, dict(NEW, auto_groups=["dev"]), [rule("GET", "/api/groups", status=200, body="null")],
         fault_kind="JSON null for a list (groups)", ok=False, msg=["GET /api/groups failed with HTTP 200", "null"], writes={}),
    Case("u-401", USER, NEW, [rule("GET", "/api/users", status=401, message="token invalid")], fault_kind="401", ok=False,
         msg=["GET /api/users failed with HTTP 401 Unauthorized: token invalid", "check api_token"], writes={}),
    Case("u-403", USER, NEW, [rule("POST", "/api/users", status=403, message="permission denied")], fault_kind="403", ok=False,
         msg=["POST /api/users failed with HTTP 403 Forbidden: permission denied"], writes={"POST /api/users": 1},
         check=one("new", count=0)),
    Case("u-404-put", USER, {"email": "old@{case}.test", "role": "auditor"}, [rule("PUT", "/api/users/{userId}", vanish=True)],
         seed=OLD, fault_kind="404: user vanished before the write", ok=False,
         msg=["PUT /api/users/", "failed with HTTP 404 Not Found: user: ", "deleted by someone else after it was read"],
         writes={"PUT /api/users/{userId}": 1}, check=one("old", count=0)),
    Case("u-404-delete", USER, {"email": "old@{case}.test", "state": "absent"}, [rule("DELETE", "/api/users/{userId}", vanish=True)],
         seed=OLD, fault_kind="404: user vanished before the delete", warn="was already gone",
         writes={"DELETE /api/users/{userId}": 1}, check=one("old", count=0)),
    Case("u-409", USER, dict(NEW, role="auditor"), [rule("POST", "/api/users", race=True)], fault_kind="409: create raced",
         warn="created concurrently by another client", writes={"POST /api/users": 1}, check=one("new", role="auditor")),
    Case("u-reset-password", USER, {"old_password": "Old-Pass-1!", "new_password": "New-Pass-2!"},
         [rule("PUT", "/api/users/{userId}/password", partial=True)], fault_kind="reset mid-response (password change)", ok=False,
         actor={"password": "Old-Pass-1!"}, msg=["PUT /api/users/", "/password failed", "not re-sent"],
         writes={"PUT /api/users/{userId}/password": 1}),
]


@pytest.mark.parametrize("part", [0, 1])
def test_netbird_user_faults(ansible, emulator, part):
    run_and_verify(ansible, emulator, USER_CASES[part::2])


# --------------------------------------------------------------------------------------------
# netbird_user, batch: the failure names what was already done
# --------------------------------------------------------------------------------------------

BATCH3 = {"users": [{"email": "old@{case}.test", "role": "auditor"}, {"email": "b@{case}.test", "name": "B"},
                    {"email": "c@{case}.test", "name": "C"}]}
SVC3 = {"users": [{"name": "svc1-{case}", "service_user": True}, {"name": "svc2-{case}", "service_user": True},
                  {"name": "svc3-{case}", "service_user": True}]}
# fail_fast: the cases that stop at the first failure (without it every other entry is attempted: see
# test_netbird_user.py and the loop-semantics property test)
BATCH3_FF = dict(BATCH3, fail_fast=True)
SVC3_FF = dict(SVC3, fail_fast=True)


def batch_result(*actions):
    """Check: the actions of the entries that succeeded (a failed batch also lists the failed and not attempted ones)."""
    def check(case, outcome, state):
        users = [u for u in outcome.main["result"].get("users") or [] if not u.get("failed")]
        assert [u["action"] for u in users] == list(actions), "batch results %r" % [u["action"] for u in users]
    return check


def created_password_kept(case, outcome, state):
    users = outcome.main["result"].get("users") or []
    assert len(users[0].get("password") or "") == 16, "the one-time password of the user created before the failure is lost"


BATCH_CASES = [
    Case("b-500", USER, BATCH3_FF, [rule("POST", "/api/users", status=500)], seed=OLD, fault_kind="500 part-way (fail_fast)", ok=False,
         msg=["users[1] (b@b-500.test): POST /api/users failed with HTTP 500", "already done: updated old@b-500.test",
              "not attempted: users[2] (c@b-500.test)"],
         writes={"PUT /api/users/{userId}": 1, "POST /api/users": 1},
         check=checks(one("old", role="auditor"), one("b", count=0), one("c", count=0), batch_result("update"))),
    Case("b-500-created", USER, {"users": [{"email": "a@{case}.test", "name": "A"}, {"email": "b@{case}.test", "name": "B"}]},
         [rule("POST", "/api/users", delay=0), rule("POST", "/api/users", status=500)], fault_kind="500 after a create", ok=False,
         msg=["users[1] (b@b-500-created.test): POST /api/users failed with HTTP 500", "already done: created a@b-500-created.test"],
         writes={"POST /api/users": 2}, check=checks(one("a"), one("b", count=0), batch_result("create"), created_password_kept)),
    Case("b-429", USER, BATCH3, [rule("GET", "/api/users", status=429), rule("PUT", "/api/users/{userId}", status=429),
                                 rule("POST", "/api/users", status=429)], seed=OLD, fault_kind="429 on every kind of request",
         writes={"PUT /api/users/{userId}": 2, "POST /api/users": 3}, reads={"GET /api/users": 2}, check=checks(one("b"), one("c"))),
    Case("b-reset-svc", USER, SVC3, [rule("POST", "/api/users", delay=0), rule("POST", "/api/users", partial=True)],
         fault_kind="reset mid-response (batch of service users)", warn="the answer to the create request was lost",
         writes={"POST /api/users": 3},
         check=checks(one(name="svc1-b-reset-svc"), one(name="svc2-b-reset-svc"), one(name="svc3-b-reset-svc"),
                      batch_result("create", "create", "create"))),
    Case("b-503-svc", USER, SVC3_FF, [rule("POST", "/api/users", delay=0), rule("POST", "/api/users", status=503)],
         fault_kind="503 on a service user create part-way (fail_fast)", ok=False,
         msg=["users[1] (service user 'svc2-b-503-svc'): POST /api/users failed with HTTP 503", "was not re-sent",
              "already done: created svc1-b-503-svc", "not attempted: users[2] (service user 'svc3-b-503-svc')"],
         writes={"POST /api/users": 2}, check=checks(one(name="svc1-b-503-svc"), one(name="svc2-b-503-svc", count=0))),
    Case("b-404", USER, {"users": [{"email": "old@{case}.test", "role": "auditor"}, {"email": "o2@{case}.test", "role": "auditor"}]},
         [rule("PUT", "/api/users/{userId}", delay=0), rule("PUT", "/api/users/{userId}", vanish=True)],
         seed=OLD + [{"email": "o2@{case}.test", "name": "O2"}], fault_kind="404: user vanished part-way", ok=False,
         msg=["users[1] (o2@b-404.test): PUT /api/users/", "HTTP 404 Not Found", "deleted by someone else after it was read",
              "already done: updated old@b-404.test"],
         writes={"PUT /api/users/{userId}": 2}, check=checks(one("old", role="auditor"), one("o2", count=0))),
    Case("b-409", USER, {"users": [{"email": "a@{case}.test", "name": "A"}, {"email": "b@{case}.test", "name": "B", "blocked": True}]},
         [rule("POST", "/api/users", delay=0), rule("POST", "/api/users", race=True)], fault_kind="409: create raced part-way",
         warn="created concurrently", writes={"POST /api/users": 2, "PUT /api/users/{userId}": 1},
         check=checks(one("a"), one("b", is_blocked=True))),
]


def test_netbird_user_batch_faults(ansible, emulator):
    run_and_verify(ansible, emulator, BATCH_CASES)


# --------------------------------------------------------------------------------------------
# netbird_user_approval
# --------------------------------------------------------------------------------------------

APPROVE1 = {"email": "p1@{case}.test"}
APPROVE3 = {"emails": ["p1@{case}.test", "p2@{case}.test", "p3@{case}.test"]}
APPROVE3_FF = dict(APPROVE3, fail_fast=True)
REJECT1 = {"email": "p1@{case}.test", "state": "rejected"}
APPROVE_ROUTE = "POST /api/users/{userId}/approve"
REJECT_ROUTE = "DELETE /api/users/{userId}/reject"


def approved(*locals_):
    return checks(*[one(local, pending_approval=False, is_blocked=False) for local in locals_])


APPROVAL_CASES = [
    Case("a-429-ra", APPROVAL, APPROVE1, [rule("POST", "{id:p1}/approve", status=429, retry_after=1)], seed=PENDING,
         fault_kind="429 Retry-After: 1", writes={APPROVE_ROUTE: 2}, gap=(APPROVE_ROUTE, 1.0), check=approved("p1")),
    Case("a-429", APPROVAL, APPROVE3, [rule("GET", "/api/users", status=429), rule("POST", "/api/users/{userId}/approve", status=429)],
         seed=PENDING, fault_kind="429 no Retry-After", writes={APPROVE_ROUTE: 4}, reads={"GET /api/users": 2},
         check=approved("p1", "p2", "p3")),
    Case("a-500", APPROVAL, APPROVE3_FF, [rule("POST", "{id:p2}/approve", status=500)], seed=PENDING, fault_kind="500 part-way (fail_fast)",
         ok=False,
         msg=["approving p2@a-500.test: POST /api/users/", "/approve failed with HTTP 500", "already done: approved p1@a-500.test",
              "not attempted: p3@a-500.test"],
         writes={APPROVE_ROUTE: 2}, check=checks(approved("p1"), one("p2", pending_approval=True), one("p3", pending_approval=True))),
    Case("a-502", APPROVAL, APPROVE1, [rule("POST", "{id:p1}/approve", status=502, body=HTML)], seed=PENDING,
         fault_kind="502 HTML page (not acted on)", writes={APPROVE_ROUTE: 2}, check=approved("p1")),
    Case("a-504-acted", APPROVAL, APPROVE1, [rule("POST", "{id:p1}/approve", status=504, race=True)], seed=PENDING,
         fault_kind="504 after the server acted", writes={APPROVE_ROUTE: 1}, check=approved("p1")),
    Case("a-reset", APPROVAL, APPROVE1, [rule("POST", "{id:p1}/approve", partial=True)], seed=PENDING,
         fault_kind="reset mid-response", writes={APPROVE_ROUTE: 1}, check=approved("p1")),
    Case("a-timeout", APPROVAL, APPROVE1, [rule("POST", "{id:p1}/approve", delay=LATE)], seed=PENDING, timeout=1,
         fault_kind="read timeout", writes={APPROVE_ROUTE: 2}, check=approved("p1")),
    Case("a-race", APPROVAL, APPROVE1, [rule("POST", "{id:p1}/approve", race=True)], seed=PENDING,
         fault_kind="approved concurrently (422 not pending)", writes={APPROVE_ROUTE: 1}, check=approved("p1")),
    Case("a-404", APPROVAL, APPROVE1, [rule("POST", "{id:p1}/approve", vanish=True)], seed=PENDING, ok=False,
         fault_kind="404: user vanished before the write", msg=["approving p1@a-404.test: POST /api/users/", "HTTP 404 Not Found: user: "],
         writes={APPROVE_ROUTE: 1}, check=one("p1", count=0)),
    Case("a-404-reject", APPROVAL, REJECT1, [rule("DELETE", "{id:p1}/reject", vanish=True)], seed=PENDING,
         fault_kind="404: user vanished before the reject", writes={REJECT_ROUTE: 1}, check=one("p1", count=0)),
    Case("a-reset-reject", APPROVAL, REJECT1, [rule("DELETE", "{id:p1}/reject", partial=True)], seed=PENDING,
         fault_kind="reset mid-response (reject)", writes={REJECT_ROUTE: 2}, check=one("p1", count=0)),
    Case("a-403", APPROVAL, APPROVE1, [rule("POST", "{id:p1}/approve", status=403, message="permission denied")], seed=PENDING,
         ok=False, fault_kind="403", msg=["approving p1@a-403.test: POST /api/users/", "failed with HTTP 403 Forbidden: permission denied"],
         writes={APPROVE_ROUTE: 1}, check=one("p1", pending_approval=True)),
    Case("a-null", APPROVAL, {"all_pending": True, "email_domains": ["{case}.test"]}, [rule("GET", "/api/users", status=200, body="null")],
         seed=PENDING, ok=False, fault_kind="JSON null for a list", msg=["GET /api/users failed with HTTP 200", "JSON null"], writes={}),
    Case("a-html-200", APPROVAL, APPROVE1, [rule("GET", "/api/users", status=200, body=HTML)], seed=PENDING, ok=False,
         fault_kind="HTML body with 200", msg=["GET /api/users failed with HTTP 200", "non-JSON body"], writes={}),
    Case("a-refused", APPROVAL, APPROVE1, url="http://127.0.0.1:%d" % free_port(), ok=False, fault_kind="connection refused",
         msg=["GET /api/users failed: connection refused"], writes={}),
    Case("a-503", APPROVAL, APPROVE1, [rule("POST", "{id:p1}/approve", status=503)], seed=PENDING,
         fault_kind="503 (not acted on)", writes={APPROVE_ROUTE: 2}, check=approved("p1")),
    Case("a-empty", APPROVAL, APPROVE1, [rule("POST", "{id:p1}/approve", status=200, body="")], seed=PENDING,
         fault_kind="empty body", writes={APPROVE_ROUTE: 2}, check=approved("p1")),
    Case("a-401", APPROVAL, APPROVE3, [rule("POST", "{id:p2}/approve", status=401, message="token invalid")], seed=PENDING, ok=False,
         fault_kind="401", msg=["approving p2@a-401.test: POST /api/users/", "HTTP 401 Unauthorized: token invalid",
                                "; the API token was rejected", "already done: approved p1@a-401.test"],
         writes={APPROVE_ROUTE: 2}, check=checks(approved("p1"), one("p2", pending_approval=True))),
]


def test_netbird_user_approval_faults(ansible, emulator):
    run_and_verify(ansible, emulator, APPROVAL_CASES)


# --------------------------------------------------------------------------------------------
# netbird_user_info
# --------------------------------------------------------------------------------------------

def listed(count):
    def check(case, outcome, state):
        users = outcome.main["result"].get("users")
        assert isinstance(users, list) and len(users) == count, "users: %r" % users
    return check


INFO_ONE = {"email": "old@{case}.test"}
INFO_CASES = [
    Case("i-429-ra", INFO, INFO_ONE, [rule("GET", "/api/users", status=429, retry_after=1)], seed=OLD, fault_kind="429 Retry-After: 1",
         gap=("GET /api/users", 1.0), writes={}, check=listed(1)),
    Case("i-503", INFO, INFO_ONE, [rule("GET", "/api/users", status=503, times=2)], seed=OLD, fault_kind="503",
         reads={"GET /api/users": 3}, writes={}, check=listed(1)),
    Case("i-504-giveup", INFO, INFO_ONE, [rule("GET", "/api/users", status=504, times=3)], seed=OLD, ok=False,
         fault_kind="504 beyond api_retries", msg=["GET /api/users failed with HTTP 504 Gateway Timeout", "; gave up after 2 retries"],
         reads={"GET /api/users": 3}, writes={}),
    Case("i-500", INFO, INFO_ONE, [rule("GET", "/api/users", status=500)], seed=OLD, ok=False, fault_kind="500",
         msg=["GET /api/users failed with HTTP 500 Internal Server Error: internal server error"], reads={"GET /api/users": 1}, writes={}),
    Case("i-reset", INFO, INFO_ONE, [rule("GET", "/api/users", partial=True)], seed=OLD, fault_kind="reset mid-response",
         reads={"GET /api/users": 2}, writes={}, check=listed(1)),
    Case("i-timeout", INFO, INFO_ONE, [rule("GET", "/api/users", delay=2.5)], seed=OLD, timeout=1, fault_kind="read timeout",
         writes={}, check=listed(1)),
    Case("i-html-200", INFO, INFO_ONE, [rule("GET", "/api/users", status=200, body=HTML)], seed=OLD, ok=False,
         fault_kind="HTML body with 200", msg=["GET /api/users failed with HTTP 200", "non-JSON body (text/html", "not a proxy"], writes={}),
    Case("i-empty-current", INFO, {"current": True}, [rule("GET", "/api/users/current", status=200, body="")], ok=False,
         fault_kind="empty body", msg=["GET /api/users/current failed with HTTP 200", "empty body"], writes={}),
    Case("i-null-current", INFO, {"current": True}, [rule("GET", "/api/users/current", status=200, body="null")], ok=False,
         fault_kind="JSON null for an object", msg=["GET /api/users/current failed with HTTP 200", "JSON null"], writes={}),
    Case("i-null", INFO, {}, [rule("GET", "/api/users", status=200, body="null")], ok=False,
         fault_kind="JSON null for a list", msg=["GET /api/users failed with HTTP 200", "JSON null"], writes={}),
    Case("i-401", INFO, {}, [rule("GET", "/api/users", status=401, message="token invalid")], ok=False, fault_kind="401",
         msg=["GET /api/users failed with HTTP 401 Unauthorized: token invalid", "; the API token was rejected"], writes={}),
    Case("i-403-groups", INFO, {"email": "g@{case}.test"}, [rule("GET", "/api/groups", status=403, message="permission denied")],
         seed=[{"email": "g@{case}.test", "name": "G", "auto_groups": ["dev"]}], fault_kind="403 (groups unreadable)",
         warn="auto_groups_names are not returned", writes={}, check=listed(1)),
    Case("i-refused", INFO, {}, url="http://127.0.0.1:%d" % free_port(), ok=False, fault_kind="connection refused",
         msg=["GET /api/users failed: connection refused after 2 retries"]),
    Case("i-429", INFO, INFO_ONE, [rule("GET", "/api/users", status=429, times=2)], seed=OLD, fault_kind="429 no Retry-After",
         reads={"GET /api/users": 3}, writes={}, check=listed(1)),
    Case("i-502", INFO, INFO_ONE, [rule("GET", "/api/users", status=502, body=HTML)], seed=OLD, fault_kind="502 HTML page",
         reads={"GET /api/users": 2}, writes={}, check=listed(1)),
    Case("i-404-token", INFO, {"current": True}, [rule("GET", "/api/users/current", status=404, message="invalid token: pat: 0af3 not found")],
         ok=False, fault_kind="404 (token deleted)", msg=["GET /api/users/current failed with HTTP 404 Not Found", "; the API token was rejected"],
         writes={}),
]


def test_netbird_user_info_faults(ansible, emulator):
    run_and_verify(ansible, emulator, INFO_CASES)


# --------------------------------------------------------------------------------------------
# the onboarding role (its user task runs under no_log: the failure must still say what happened)
# --------------------------------------------------------------------------------------------

TEAM = {"netbird_onboarding_users": [{"email": "old@{case}.test", "role": "auditor"}, {"email": "b@{case}.test", "name": "B"},
                                     {"email": "c@{case}.test", "name": "C"}],
        "netbird_onboarding_service_users": [{"name": "svc-{case}"}]}
TEAM_APPROVE = dict(TEAM, netbird_onboarding_approve=["p1@{case}.test"])


def role_result(**expected):
    def check(case, outcome, state):
        result = outcome.role_result or {}
        for key, value in expected.items():
            assert result.get(key) == value, "netbird_onboarding_result.%s is %r, expected %r" % (key, result.get(key), value)
    return check


def role_passwords(*locals_):
    def check(case, outcome, state):
        passwords = (outcome.role_result or {}).get("passwords") or {}
        assert sorted(passwords) == sorted(case.email(x) for x in locals_), "passwords for %r" % sorted(passwords)
    return check


ROLE_CASES = [
    Case("r-429-ra", ROLE, TEAM, [rule("POST", "/api/users", status=429, retry_after=1)], seed=OLD, fault_kind="429 Retry-After: 1",
         gap=("POST /api/users", 1.0), writes={"PUT /api/users/{userId}": 1, "POST /api/users": 4},
         check=checks(one("b"), one("c"), one(name="svc-r-429-ra"), role_passwords("b", "c"))),
    Case("r-503", ROLE, TEAM, [rule("GET", "/api/users", status=503), rule("PUT", "/api/users/{userId}", status=503)], seed=OLD,
         fault_kind="503 on read and update", writes={"PUT /api/users/{userId}": 2, "POST /api/users": 3},
         check=checks(one("old", role="auditor"), one("b"), one("c"))),
    Case("r-500", ROLE, TEAM_APPROVE, [rule("POST", "/api/users", delay=0), rule("POST", "/api/users", status=500)],
         seed=OLD + PENDING, fault_kind="500 part-way", ok=False,
         msg=["netbird_onboarding_users[2] (c@r-500.test): POST /api/users failed with HTTP 500",
              "already done: updated old@r-500.test; created b@r-500.test; created svc-r-500",
              "done in all: created 2, updated 1, approved 1"],
         # loop semantics: the approval does not depend on the failed user, so it is still attempted
         writes={"PUT /api/users/{userId}": 1, "POST /api/users": 3, "POST /api/users/{userId}/approve": 1},
         check=checks(one("b"), one("c", count=0), one(name="svc-r-500"), one("p1", pending_approval=False), role_passwords("b"),
                      role_result(created=["b@r-500.test", "svc-r-500"], updated=["old@r-500.test"], approved=["p1@r-500.test"]))),
    Case("r-reset", ROLE, TEAM, [rule("POST", "/api/users", partial=True)], seed=OLD, fault_kind="reset mid-response",
         warn="the answer to the create request was lost", writes={"PUT /api/users/{userId}": 1, "POST /api/users": 3},
         check=checks(one("b"), one("c"), one(name="svc-r-reset"), role_passwords("c"))),
    Case("r-409", ROLE, TEAM, [rule("POST", "/api/users", race=True)], seed=OLD, fault_kind="409: create raced",
         writes={"PUT /api/users/{userId}": 1, "POST /api/users": 3}, check=checks(one("b"), one("c"))),
    Case("r-404-approve", ROLE, TEAM_APPROVE, [rule("POST", "{id:p1}/approve", vanish=True)], seed=OLD + PENDING, ok=False,
         fault_kind="404: user vanished before the approval",
         msg=["approving p1@r-404-approve.test: POST /api/users/", "HTTP 404 Not Found"],
         writes={"PUT /api/users/{userId}": 1, "POST /api/users": 3, "POST /api/users/{userId}/approve": 1},
         check=checks(one("b"), role_passwords("b", "c"), role_result(approved=[]))),
    Case("r-null", ROLE, TEAM, [rule("GET", "/api/users", status=200, body="null")], seed=OLD, ok=False,
         fault_kind="JSON null for a list", msg=["GET /api/users failed with HTTP 200", "JSON null"],
         writes={}, check=one("b", count=0)),
    Case("r-429", ROLE, TEAM, [rule("GET", "/api/users", status=429), rule("PUT", "/api/users/{userId}", status=429)], seed=OLD,
         fault_kind="429 no Retry-After", writes={"PUT /api/users/{userId}": 2, "POST /api/users": 3},
         check=checks(one("old", role="auditor"), one("b"), one("c"), role_passwords("b", "c"))),
    Case("r-502", ROLE, TEAM, [rule("PUT", "/api/users/{userId}", status=502, body=HTML)], seed=OLD, fault_kind="502 HTML page",
         writes={"PUT /api/users/{userId}": 2, "POST /api/users": 3}, check=checks(one("old", role="auditor"), one("b"))),
    Case("r-504-acted-svc", ROLE, TEAM, [rule("POST", "/api/users", delay=0), rule("POST", "/api/users", delay=0),
                                         rule("POST", "/api/users", status=504, race=True)], seed=OLD,
         fault_kind="504 after the server acted", warn="the answer to the create request was lost",
         writes={"PUT /api/users/{userId}": 1, "POST /api/users": 3}, check=checks(one(name="svc-r-504-acted-svc"), role_passwords("b", "c"))),
    Case("r-empty", ROLE, TEAM, [rule("POST", "/api/users", status=200, body="")], seed=OLD, fault_kind="empty body on a create",
         warn="so it was sent once more", writes={"PUT /api/users/{userId}": 1, "POST /api/users": 4},
         check=checks(one("b"), one("c"), role_passwords("b", "c"))),
    Case("r-html-200", ROLE, TEAM, [rule("GET", "/api/users", status=200, body=HTML)], seed=OLD, ok=False, fault_kind="HTML body with 200",
         msg=["GET /api/users failed with HTTP 200", "non-JSON body"], writes={}),
    Case("r-401", ROLE, TEAM, [rule("GET", "/api/users", status=401, message="token invalid")], seed=OLD, ok=False, fault_kind="401",
         msg=["GET /api/users failed with HTTP 401 Unauthorized", "; the API token was rejected"], writes={}),
    Case("r-403", ROLE, TEAM, [rule("POST", "/api/users", status=403, message="permission denied")], seed=OLD, ok=False, fault_kind="403",
         msg=["users[1] (b@r-403.test): POST /api/users failed with HTTP 403 Forbidden: permission denied",
              "already done: updated old@r-403.test"],
         writes={"PUT /api/users/{userId}": 1, "POST /api/users": 3},
         check=role_result(updated=["old@r-403.test"], created=["c@r-403.test", "svc-r-403"])),
    Case("r-refused", ROLE, TEAM, url="http://127.0.0.1:%d" % free_port(), ok=False, fault_kind="connection refused",
         msg=["GET /api/users failed: connection refused"]),
    Case("r-timeout-svc", ROLE, {"netbird_onboarding_service_users": [{"name": "svc-{case}"}]}, [rule("POST", "/api/users", delay=LATE)],
         timeout=1, ok=False, fault_kind="read timeout (service user create)",
         msg=["POST /api/users failed: read timed out", "was not re-sent"], writes={"POST /api/users": 1},
         check=one(name="svc-r-timeout-svc")),
]


@pytest.mark.parametrize("part", [0, 1])
def test_onboarding_role_faults(ansible, emulator, part):
    run_and_verify(ansible, emulator, ROLE_CASES[part::2])
