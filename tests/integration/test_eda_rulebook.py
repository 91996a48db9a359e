# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example rulebooks of examples/eda, run by the real ansible-rulebook against the emulator.

ansible-rulebook loads netbird_ops.netbird.netbird_events from the collection as installed by ansible-galaxy
and runs the example playbooks with ansible-runner, as a user's controller would. Each start costs a JVM
(several seconds), so there are two runs: the approval rulebook and the notification rulebook. The playbooks'
other branches run with ansible-playbook directly. Under make (NETBIRD_TESTS_REQUIRE_TOOLS=1) a missing
ansible-rulebook or Java fails these tests instead of skipping them.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests
import yaml

from nb_awx import require_tool
from nb_testlib import REPO

EXAMPLES = os.path.join(REPO, "examples", "eda")
INTERVAL = 1          # seconds between two polls of the audit log
STARTUP = 120         # the most a start may take (a JVM on a busy 2-core machine), a guard against hanging only


def require_java():
    """Java 17 or later, as ansible-rulebook needs (drools); missing under make fails instead of skipping."""
    java = os.path.join(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else shutil.which("java")
    problem = None
    if not java or not os.path.exists(java):
        problem = "Java is not installed (ansible-rulebook needs a Java 17+ runtime: java on PATH or JAVA_HOME)"
    else:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
        found = re.search(r'version "(\d+)', out.stderr + out.stdout)
        if not found or int(found.group(1)) < 17:
            problem = "ansible-rulebook needs Java 17 or later; %s says: %s" % (java, (out.stderr or out.stdout).strip()[:200])
    if problem:
        if tools_required():
            pytest.fail(problem)
        pytest.skip(problem)
    return java


def tools_required():
    """Under make (NETBIRD_TESTS_REQUIRE_TOOLS=1) and under CI (CI=true) a missing tool fails the test."""
    return os.environ.get("NETBIRD_TESTS_REQUIRE_TOOLS") == "1" or os.environ.get("CI") == "true"


def require_rulebook():
    if tools_required() and not shutil.which("ansible-rulebook", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")):
        pytest.fail("ansible-rulebook is not installed (it comes with requirements/test.txt)")
    return require_tool("ansible-rulebook")


class Rulebook:
    """One ansible-rulebook process running an example rulebook against the emulator."""

    def __init__(self, rulebook, variables, collections_path, emulator, tmp_path):
        self.emulator = emulator
        self.tmp_path = tmp_path
        vars_file = tmp_path / "vars.yml"
        vars_file.write_text(yaml.safe_dump(variables), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NETBIRD_", "NB_", "ANSIBLE_"))}
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": collections_path,
            "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "PYTHONUNBUFFERED": "1",                 # the output file is read while the rulebook runs
            "NETBIRD_API_URL": emulator.url,
            "NETBIRD_API_TOKEN": emulator.token,
            "PATH": os.path.dirname(require_rulebook()) + os.pathsep + os.environ.get("PATH", ""),
        })
        self.output_path = tmp_path / "rulebook.out"
        # kept open while the rulebook runs, closed by stop()
        self.output = open(self.output_path, "w+", encoding="utf-8")  # noqa: SIM115  # pylint: disable=consider-using-with
        emulator.reset_counters()
        self.started = time.monotonic()
        # -vv: the most ansible-rulebook prints (the events it received, the playbooks' output): the token must be in none of it
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [require_rulebook(), "-vv", "--rulebook", rulebook, "--inventory", "inventory.yml",
             "--vars", str(vars_file)],
            cwd=EXAMPLES, env=env, stdout=self.output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def polls(self):
        return self.emulator.route("GET /api/events/audit")

    def wait(self, what, condition, timeout=STARTUP):
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.proc.poll() is None, "ansible-rulebook ended (rc %s) while waiting for %s:\n%s" % (
                self.proc.returncode, what, self.text())
            assert time.monotonic() < deadline, "no %s after %d s:\n%s" % (what, timeout, self.text())
            time.sleep(0.2)

    def wait_polls(self, more):
        """Wait until the source has polled ``more`` more times (each poll after the first sees the same old events)."""
        target = self.polls() + more
        self.wait("%d more polls of the audit log" % more, lambda: self.polls() >= target)

    def text(self):
        self.output.flush()
        return self.output_path.read_text(encoding="utf-8", errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.output.close()
        return self.output_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def rulebook(collections_path, emulator, tmp_path):
    require_rulebook()
    require_java()
    started = []

    def _start(name, variables):
        run = Rulebook(name, variables, collections_path, emulator, tmp_path)
        started.append(run)
        return run

    yield _start
    for run in started:
        run.stop()


def pending(emulator):
    return {u["email"]: u["pending_approval"] for u in emulator.state()["users"]}


def test_approve_pending_rulebook_approves_allowed_domains_once(rulebook, emulator):
    emulator.seed(users=[{"email": "history@example.com", "name": "History", "pending_approval": True}])
    # the domains as one text (as a form or an environment variable gives them), in another case than the emails
    run = rulebook("approve_pending.yml", {"netbird_approve_domains": "Example.com, partner.example.org",
                                           "netbird_events_interval": INTERVAL})
    run.wait_polls(2)                        # the first poll has seen the history: what comes now is news
    ready = time.monotonic() - run.started
    seeded = time.monotonic()
    emulator.seed(users=[{"email": "ann@example.com", "name": "Ann", "pending_approval": True},
                         {"email": "eve@evil-example.com", "name": "Eve", "pending_approval": True}])
    run.wait("the approval of ann@example.com", lambda: not pending(emulator)["ann@example.com"])
    latency = time.monotonic() - seeded
    # the same two user.join events are in every later answer: no second playbook run, no second approval
    run.wait("two playbook runs", lambda: run.text().count("PLAY RECAP") >= 2)
    run.wait_polls(3)
    output = run.stop()
    print("ansible-rulebook ready after %.1f s; ann approved %.1f s after she joined (interval %d s)" % (ready, latency, INTERVAL))
    state = pending(emulator)
    assert state == {"owner@example.com": False, "history@example.com": True, "ann@example.com": False,
                     "eve@evil-example.com": True}
    routes = emulator.requests()["by_route"]
    assert routes.get("POST /api/users/{userId}/approve") == 1 and "DELETE /api/users/{userId}/reject" not in routes
    assert output.count("PLAY RECAP") == 2, output
    # another domain, however alike, stays pending (the domain is compared exactly, case-insensitively)
    assert "eve@evil-example.com waits for approval; evil-example.com is not in netbird_approve_domains" in output
    assert emulator.token not in output


class Webhook(http.server.BaseHTTPRequestHandler):
    """A chat webhook stand-in on loopback: records each POSTed JSON body."""

    received = []

    def do_POST(self):  # pylint: disable=invalid-name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format, *args):  # noqa: A002  # pylint: disable=redefined-builtin
        pass


@pytest.fixture
def webhook():
    Webhook.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/hooks/secret-key" % server.server_address[1], Webhook.received
    server.shutdown()
    server.server_close()


def test_notify_rulebook_posts_one_line_per_new_admin_or_service_token(rulebook, emulator, webhook):
    url, received = webhook
    seeded = emulator.seed(users=[{"email": "al@example.com", "name": "Al"}, {"name": "ci-bot", "service_user": True}])["users"]
    al, bot = seeded
    run = rulebook("notify_privileged.yml", {"netbird_webhook_url": url, "netbird_events_interval": INTERVAL})
    run.wait_polls(2)
    headers = {"Authorization": "Token " + emulator.token}
    api = emulator.url + "/api/users/"
    for role in ("auditor", "admin"):       # auditor: no line; admin: one line
        resp = requests.put(api + al["id"], json={"role": role, "auto_groups": [], "is_blocked": False}, headers=headers, timeout=10)
        assert resp.status_code == 200, resp.text
    plain = requests.post(api + bot["id"] + "/tokens", json={"name": "deploy", "expires_in": 7}, headers=headers, timeout=10)
    assert plain.status_code == 200, plain.text
    owner = emulator.user("owner@example.com")
    resp = requests.post(api + owner["id"] + "/tokens", json={"name": "mine", "expires_in": 7}, headers=headers, timeout=10)
    assert resp.status_code == 200                      # a regular user's token: no line
    run.wait("two webhook posts", lambda: len(received) >= 2)
    run.wait_polls(3)
    output = run.stop()
    texts = sorted(item["text"] for item in received)
    assert len(received) == 2 and all(set(item) == {"text"} and "\n" not in item["text"] for item in received), received
    assert re.match(r"^NetBird: owner@example.com created the token 'deploy' for the service user ci-bot \(\S+\)$", texts[0]), texts
    assert re.match(r"^NetBird: owner@example.com made al@example.com admin \(\S+\)$", texts[1]), texts
    for secret in (emulator.token, plain.json()["plain_token"], resp.json()["plain_token"], "secret-key"):
        assert secret not in output


# ---- the approval playbook's other branches, run directly (ansible-playbook, no rulebook) ----------------

def join_event(user):
    return {"ansible_eda": {"event": {"netbird": {
        "id": "99", "activity_code": "user.join", "initiator_id": user["id"], "target_id": user["id"],
        "initiator_email": user["email"], "meta": {"pending_approval": "true"}, "timestamp": "2026-12-05T10:00:00Z"}}}}


def test_approval_playbook_rejects_other_domains_only_when_asked(ansible, emulator):
    users = emulator.seed(users=[{"email": "Zed@Partner.Example.org", "name": "Zed", "pending_approval": True},
                                 {"email": "mal@other.example.org", "name": "Mal", "pending_approval": True}])["users"]
    playbook = os.path.join(EXAMPLES, "approve_pending_user.yml")
    domains = ["example.com", "partner.example.org"]
    run = ansible.playbook(playbook=playbook, extra_vars=dict(join_event(users[1]), netbird_approve_domains=domains,
                                                              netbird_reject_other_domains=True))
    assert run.rc == 0 and run.result("Reject a user of another domain (netbird_reject_other_domains)")["changed"], run.output
    assert run.status("Approve a user of an allowed domain") == "skipped"
    # the event was Mal's: Zed, of an allowed domain, is not touched
    state = {u["email"]: u["pending_approval"] for u in emulator.state()["users"]}
    assert state == {"owner@example.com": False, "Zed@Partner.Example.org": True}
    assert emulator.token not in run.output


def test_a_missing_rulebook_or_java_fails_under_make_and_ci(monkeypatch, tmp_path):
    """CI never passes these tests by skipping them: without ansible-rulebook or Java they fail."""
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    for env in ({"NETBIRD_TESTS_REQUIRE_TOOLS": "1", "CI": None}, {"NETBIRD_TESTS_REQUIRE_TOOLS": None, "CI": "true"}):
        for name, value in env.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        with pytest.raises(pytest.fail.Exception, match="Java is not installed"):
            require_java()
        with pytest.raises((pytest.fail.Exception, RuntimeError), match="ansible-rulebook is not installed"):
            require_rulebook()
    monkeypatch.delenv("NETBIRD_TESTS_REQUIRE_TOOLS", raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_java()
