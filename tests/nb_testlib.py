# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared test helpers: a handle on a NetBird API emulator process and tool paths."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
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
    """A running emulator process and its control API."""

    def __init__(self, proc, url, token):
        self.proc = proc
        self.url = url
        self.token = token
        self.ssl_context = None  # for an HTTPS emulator whose CA the system does not trust

    @classmethod
    def start(cls, *args):
        proc = subprocess.Popen([sys.executable, EMULATOR, "--port", "0"] + list(args),  # pylint: disable=consider-using-with
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = proc.stdout.readline()
        if not line:
            proc.kill()
            raise RuntimeError("emulator did not start: %s" % proc.stderr.read())
        info = json.loads(line)
        return cls(proc, info["url"], info["token"])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()

    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/__emulator__/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30, context=self.ssl_context) as resp:  # nosec - loopback only
            text = resp.read().decode()
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
