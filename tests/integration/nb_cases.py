# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run many independent test cases in one ansible-playbook run: one inventory host per case.

Each case gets its own admin user (``actor@<case>.test``) with its own PAT; fault rules are
scoped to that user (emulator rule ``user_id``) and requests are attributed to it through the
emulator's request log, so cases run in parallel forks against one emulator without touching
each other's faults, counters or users (every user of a case has an email at ``<case>.test``).
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import time
from datetime import datetime
from urllib.parse import quote

import yaml
from ansible import __version__ as ansible_version

from nb_testlib import REPO

WRITE_METHODS = ("POST", "PUT", "DELETE")

# Every option of each module, templated from the case's ``args`` (omitted when the case does not set it).
MODULES_DIR = os.path.join(REPO, "plugins", "modules")


def _module(name):
    return importlib.import_module("ansible_collections.netbird_ops.netbird.plugins.modules." + name)


def _module_options(module):
    """A module's own options (the connection options aside), read from its argument spec."""
    spec, _rules = module.argument_spec()
    return tuple(spec)


# The modules with an argument spec: netbird_onboarding's file only documents the action the onboarding role wraps
# (its cases run the role, ROLE).
MODULE_OPTIONS = dict((module.__name__.rpartition(".")[2], _module_options(module))
                      for module in (_module(name[:-3]) for name in sorted(os.listdir(MODULES_DIR))
                                     if name.startswith("netbird_") and name.endswith(".py"))
                      if hasattr(module, "argument_spec"))
ROLE = "role"
NO_LOG_HIDES_WARNINGS = tuple(int(part) for part in ansible_version.split(".")[:2]) < (2, 19)


class Case:
    """One case: a module (or the role), its input, the fault rules and what must come out."""

    def __init__(self, case_id, module, args=None, faults=(), seed=(), ok=True, msg=(), warn=(), writes=None,
                 reads=None, retries=2, timeout=10, url=None, check=None, gap=None, fault_kind=None, actor=None):
        self.id = case_id
        self.module = module
        self.args = _fill(args or {}, case_id)
        self.faults = _fill(list(faults), case_id)
        self.seed = _fill(list(seed), case_id)
        self.ok = ok
        self.msg = [msg] if isinstance(msg, str) else list(msg)
        self.warn = [warn] if isinstance(warn, str) else list(warn)
        self.writes = writes          # exact {route: n} of write requests (faulted ones included); None = unchecked
        self.reads = reads or {}      # {route: n} for the read routes given
        self.retries = retries
        self.timeout = timeout
        self.url = url
        self.check = check            # callable(case, outcome) -> None, raises AssertionError
        self.gap = gap                # (route, seconds): the retry after the first answer waited at least that long
        self.fault_kind = fault_kind
        self.actor = actor or {}      # extra seed fields of the case's admin user (e.g. its password)
        self.actor_id = None
        self.token = None

    @property
    def domain(self):
        return "%s.test" % self.id

    def email(self, local):
        return "%s@%s" % (local, self.domain)


def _fill(value, case_id):
    """Replace ``{case}`` in every string of ``value`` by the case id (emails ``x@{case}.test``, names ``svc-{case}``)."""
    if isinstance(value, str):
        return value.replace("{case}", case_id)
    if isinstance(value, list):
        return [_fill(v, case_id) for v in value]
    if isinstance(value, dict):
        return dict((k, _fill(v, case_id)) for k, v in value.items())
    return value


class Outcome:
    """What one case produced: its task results, its requests in the emulator log, the run's output."""

    def __init__(self, case, results, log, output):
        self.case = case
        self.results = results
        self.log = log
        self.output = output

    def task(self, name):
        found = [r for r in self.results if r["task"] == name and r["status"] != "skipped"]
        return found[-1] if found else None

    @property
    def main(self):
        """The result that decides the case: the module task, or for the role the failing / last role task."""
        if self.case.module == ROLE:
            failed = [r for r in self.results if r["status"] == "failed"]
            if failed:
                return failed[-1]
            role_tasks = [r for r in self.results if r["action"].startswith("netbird_ops.") and r["status"] != "skipped"]
            return role_tasks[-1] if role_tasks else None
        return self.task("case")

    def routes(self, methods=None):
        counts = {}
        for entry in self.log:
            if methods and entry["method"] not in methods:
                continue
            key = "%s %s" % (entry["method"], entry["route"])
            counts[key] = counts.get(key, 0) + 1
        return counts

    def warnings(self):
        out = []
        for res in self.results:
            out.extend(res["result"].get("warnings") or [])
        return out


def free_port():
    """A local TCP port nothing listens on (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _task_for(module):
    fqcn = "netbird_ops.netbird." + module
    args = dict((opt, "{{ case.args.%s | default(omit) }}" % opt) for opt in MODULE_OPTIONS[module])
    return {"name": "case", fqcn: args, "when": "case.module == '%s'" % module}


def playbook():
    tasks = [_task_for(module) for module in MODULE_OPTIONS]
    tasks.append({
        "name": "role",
        "when": "case.module == 'role'",
        "block": [{"name": "onboarding", "ansible.builtin.include_role": {"name": "netbird_ops.netbird.onboarding"}}],
        # the role's result for the checks; a controller-side debug costs nothing, a copy task would run two modules
        # per host. It prints the emulator's fake one-time passwords: test_secrets.py is where printing is checked.
        "always": [{"name": "role result", "ansible.builtin.debug": {"var": "netbird_onboarding_result"}}],
    })
    return [{
        "name": "cases", "hosts": "cases", "gather_facts": False,
        "environment": {
            "NETBIRD_API_URL": "{{ case.url }}",
            "NETBIRD_API_TOKEN": "{{ case.token }}",
            "NETBIRD_API_RETRIES": "{{ case.retries }}",
            "NETBIRD_API_TIMEOUT": "{{ case.timeout }}",
            # the cases assert which writes a failure left "not attempted", an order only a sequential batch has;
            # a batch with writes in flight is tested in test_api_concurrency.py and the unit tests
            "NETBIRD_API_CONCURRENCY": "1",
        },
        "tasks": tasks,
    }]


def run_cases(ansible, emulator, cases, forks=12, verbosity=0):
    """Seed the actors and users, install the faults, run every case as one host; return {case id: Outcome}."""
    ids = [case.id for case in cases]
    assert len(set(ids)) == len(ids), "duplicate case ids"
    users = []
    for case in cases:
        users.append({"email": case.email("actor"), "name": "Actor %s" % case.id, "role": "admin",
                      "tokens": [{"name": "case", "expires_in": 1}], **case.actor})
        users.extend(case.seed)
    seeded = emulator.seed(users=users)["users"]
    by_email = dict((u["email"], u) for u in seeded if u.get("email"))
    rules = []
    for case in cases:
        actor = by_email[case.email("actor")]
        case.actor_id = actor["id"]
        case.token = actor["tokens"][0]["plain_token"]
        for rule in case.faults:
            path = rule["path"]
            if path.startswith("{id:"):
                # "{id:bob}/approve": the literal path of the seeded user bob@<case>.test
                local, rest = path[4:].split("}", 1)
                path = "/api/users/" + quote(by_email[case.email(local)]["id"], safe="") + rest
            rules.append(dict(rule, path=path, user_id=case.actor_id))
    if rules:
        emulator.faults(rules)
    emulator.reset_counters()

    tmp = str(ansible.tmp_path)
    hosts = {}
    for case in cases:
        hosts[case.id] = {
            "ansible_connection": "local",
            "case": {"module": case.module, "args": case.args,
                     "url": case.url or emulator.url, "token": case.token, "retries": case.retries, "timeout": case.timeout},
        }
        if case.module == ROLE:
            hosts[case.id].update(case.args)
    inventory = os.path.join(tmp, "cases-inventory.yml")
    with open(inventory, "w", encoding="utf-8") as handle:
        yaml.safe_dump({"all": {"children": {"cases": {"hosts": hosts}}}}, handle, sort_keys=False)
    book = os.path.join(tmp, "cases-playbook.yml")
    with open(book, "w", encoding="utf-8") as handle:
        yaml.safe_dump(playbook(), handle, sort_keys=False)
    run = ansible.playbook(playbook=book, args=["-i", inventory, "-f", str(forks)], verbosity=verbosity)
    log = settled_log(emulator)
    outcomes = {}
    for case in cases:
        results = [r for r in run.results if r["host"] == case.id]
        mine = [e for e in log if e.get("user_id") == case.actor_id]
        outcome = Outcome(case, results, mine, run.output)
        shown = [r["result"].get("netbird_onboarding_result") for r in results if r["task"] == "role result"]
        outcome.role_result = shown[-1] if shown and isinstance(shown[-1], dict) else None
        outcomes[case.id] = outcome
    return run, outcomes


def settled_log(emulator, timeout=15):
    """The request log once every request has been answered (a client that timed out leaves its request running)."""
    deadline = time.monotonic() + timeout
    while True:
        log = emulator.log()
        if emulator.requests()["total"] <= len(log) or time.monotonic() > deadline:
            return log
        time.sleep(0.2)


def _parse_time(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def verify(outcome, emulator_state):
    """Check one case against its expectations; returns a list of problems (empty = passed)."""
    case = outcome.case
    problems = []
    main = outcome.main
    if main is None:
        return ["no result for the case's task"]
    res = main["result"]
    failed = main["status"] == "failed"
    text = json.dumps(res)
    # ansible-core 2.19 adds "exception": "(traceback unavailable)" to every failure; a real traceback has more
    if "Traceback (most recent call last)" in text or "MODULE FAILURE" in text or "module_stderr" in res:
        problems.append("traceback / module failure: %s" % res.get("msg"))
    if case.ok and failed:
        problems.append("expected success, failed: %s" % res.get("msg"))
    if not case.ok and not failed:
        problems.append("expected a failure, got %s" % main["status"])
    msg = res.get("msg") or ""
    if failed and "\n" in msg.strip():
        problems.append("failure message is not one line: %r" % msg)
    for part in case.msg:
        if part not in msg:
            problems.append("message lacks %r: %r" % (part, msg))
    warnings = outcome.warnings()
    # ansible-core < 2.19 drops the warnings of a no_log task (the role's user and token steps) from what
    # callbacks see; the behaviour is checked all the same, only the warning text is not visible there.
    for part in case.warn if not (case.module == ROLE and NO_LOG_HIDES_WARNINGS) else ():
        if not any(part in w for w in warnings):
            problems.append("no warning with %r: %r" % (part, warnings))
    if case.writes is not None:
        writes = outcome.routes(WRITE_METHODS)
        if writes != case.writes:
            problems.append("write requests %r, expected %r" % (writes, case.writes))
    reads = outcome.routes(("GET",))
    for route, count in case.reads.items():
        if reads.get(route, 0) != count:
            problems.append("%s: %d requests, expected %d" % (route, reads.get(route, 0), count))
    if case.gap:
        route, seconds = case.gap
        times = [_parse_time(e["time"]) for e in outcome.log if "%s %s" % (e["method"], e["route"]) == route]
        if len(times) < 2:
            problems.append("%s was not retried" % route)
        elif (times[1] - times[0]).total_seconds() < seconds:
            problems.append("%s retried after %.2f s, expected >= %s s (Retry-After)" % (route, (times[1] - times[0]).total_seconds(), seconds))
    if case.check:
        try:
            case.check(case, outcome, emulator_state)
        except AssertionError as exc:
            problems.append("check: %s" % exc)
    return problems


def users_in(state, case, local=None, name=None):
    """Users of a case in the emulator state, by email local part or service user name."""
    out = []
    for user in state["users"]:
        if local is not None and (user.get("email") or "").lower() == case.email(local).lower():
            out.append(user)
        if name is not None and user.get("is_service_user") and user.get("name") == name:
            out.append(user)
    return out
