# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared test helpers: a handle on a NetBird API emulator process and tool paths."""

from __future__ import annotations

import datetime
import glob
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMULATOR = os.path.join(REPO, "tests", "emulator", "netbird_emulator.py")


def bin_path(name):
    """A tool from the running Python's environment (the venv), else from PATH."""
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.exists(candidate):
        return candidate
    found = shutil.which(name)
    if not found:
        raise RuntimeError("%s is not installed" % name)
    return found


def install_collection(workdir):
    """Build the collection with ansible-galaxy and install the tarball under ``workdir``; return the collections path.

    Used by the demo (scripts/demo.py) and the benchmark (benchmarks/scale.py), so that both run what a user installs.
    """
    out = os.path.join(workdir, "dist")
    target = os.path.join(workdir, "collections")
    os.makedirs(out, exist_ok=True)
    subprocess.run([bin_path("ansible-galaxy"), "collection", "build", REPO, "--output-path", out, "--force"],
                   check=True, stdout=subprocess.DEVNULL)
    tarball = glob.glob(os.path.join(out, "netbird_ops-netbird-*.tar.gz"))[0]
    subprocess.run([bin_path("ansible-galaxy"), "collection", "install", tarball, "-p", target, "--force"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return target


class Emulator:
    """The one launcher of the NetBird API emulator: a subprocess, its JSON line and its control API.

    ``Emulator(*options)`` (or ``Emulator.start(*options)``) runs ``tests/emulator/netbird_emulator.py --port 0
    <options>``, waits for the JSON line it prints and keeps ``url``, ``token`` (None with ``--uninitialized``)
    and ``first_line``.  With ``check=False`` a process that exits instead of starting is not an error
    (``url`` is then None; see ``stderr()``).  Used by the tests, scripts/demo.py and benchmarks/scale.py.
    """

    START_TIMEOUT = 15

    def __init__(self, *args, check=True):
        self.args = [sys.executable, EMULATOR, "--port", "0"] + [str(a) for a in args]
        self.stderr_file = tempfile.TemporaryFile()  # noqa: SIM115 # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE,  # pylint: disable=consider-using-with
                                     stderr=self.stderr_file, cwd=REPO)
        self.first_line = self._read_line()
        self.info = {}
        if self.first_line:
            self.info = json.loads(self.first_line)
        else:
            self.proc.kill()
            self.proc.wait()
            if check:
                raise RuntimeError("emulator did not start: %s" % self.stderr())
        self.url = self.info.get("url")
        self.token = self.info.get("token")
        self.ssl_context = None  # for an HTTPS emulator whose CA the system does not trust

    @classmethod
    def start(cls, *args, check=True):
        return cls(*args, check=check)

    def _read_line(self):
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            if not selector.select(self.START_TIMEOUT):
                return b""
        finally:
            selector.close()
        return self.proc.stdout.readline()

    def stderr(self):
        """What the emulator wrote on stderr so far."""
        self.stderr_file.seek(0)
        return self.stderr_file.read().decode("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stop the process; return (exit code, what it printed on stdout after the first line)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rest = b""
        if not self.proc.stdout.closed:
            rest = self.proc.stdout.read()
            self.proc.stdout.close()
        if not self.stderr_file.closed:
            self.stderr_file.close()
        return self.proc.returncode, rest

    def control(self, method, path, body=None, expect=200):
        """Call the control API (``/__emulator__/<path>``); the status must be ``expect``; return the JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/__emulator__/" + path.lstrip("/"), data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30, context=self.ssl_context) as resp:  # nosec - loopback only
                status, text = resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode()
        if expect is not None and status != expect:
            raise AssertionError("%s /__emulator__/%s answered %s, expected %s: %s" % (method, path, status, expect, text))
        return json.loads(text) if text.strip() else None

    def seed(self, groups=None, users=None):
        return self.control("POST", "seed", {"groups": groups or [], "users": users or []})

    def faults(self, rules):
        return self.control("POST", "faults", rules)

    def clear_faults(self):
        return self.control("DELETE", "faults")

    def requests(self):
        return self.control("GET", "requests")

    def reset_counters(self):
        return self.control("POST", "requests/reset")

    def reset(self):
        return self.control("POST", "reset")

    def state(self):
        return self.control("GET", "state")

    def log(self):
        return self.control("GET", "log")

    def set_user(self, user_id, **fields):
        """Change stored user fields no REST call can set (blocked, pending_approval, idp_missing, last_login, ...)."""
        return self.control("POST", "users/%s/set" % urllib.parse.quote(user_id, safe=""), fields)

    def clear_audit(self):
        return self.control("POST", "audit/clear")

    def users(self):
        return self.state()["users"]

    def user(self, email=None, name=None):
        for user in self.users():
            if email is not None and (user.get("email") or "").lower() == email.lower():
                return user
            if name is not None and user.get("is_service_user") and user.get("name") == name:
                return user
        return None

    def group_id(self, name):
        for group in self.state()["groups"]:
            if group["name"] == name:
                return group["id"]
        raise KeyError(name)

    def writes(self):
        return self.requests()["writes"]

    def route(self, route):
        return self.requests()["by_route"].get(route, 0)


def days_ago(days):
    """A NetBird timestamp (nanoseconds, UTC) ``days`` days and one hour ago: seeds last logins whose age is exact."""
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days, hours=1)
    return when.strftime("%Y-%m-%dT%H:%M:%S.123456789Z")
