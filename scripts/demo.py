# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's main job: onboard the example team with the onboarding role.

Builds and installs the collection into build/demo, then runs examples/onboard.yml twice (the second run
must change nothing). Against the local NetBird API emulator (started and stopped here), or against a real
server when NETBIRD_API_URL and NETBIRD_API_TOKEN are both set.

``--bootstrap`` (make demo-bootstrap): day 0 instead, examples/bootstrap.yml twice against the emulator
started ``--uninitialized`` (the second run with the token the first one stored, as the playbook says).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)


def tool(name):
    path = os.path.join(BIN, name)
    return path if os.path.exists(path) else (shutil.which(name) or name)


def testlib():
    """tests/nb_testlib.py (the collection build and the one emulator launcher), imported by path."""
    spec = importlib.util.spec_from_file_location("nb_testlib", os.path.join(REPO, "tests", "nb_testlib.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def install_collection(workdir):
    """Build and install the collection with ansible-galaxy (shared with the benchmark: tests/nb_testlib.py)."""
    shutil.rmtree(workdir, ignore_errors=True)
    return testlib().install_collection(workdir)


def start_emulator():
    return testlib().Emulator.start("--seed", os.path.join(REPO, "examples", "emulator-seed.json"))


def run_playbook(env, label, cmd=None, args=None):
    print("\n===== %s =====" % label, flush=True)
    if cmd is None:
        cmd = [tool("ansible-playbook"), os.path.join(REPO, "examples", "onboard.yml"),
               "-e", "@" + os.path.join(REPO, "examples", "team.yml")]
    return subprocess.run(cmd + list(args if args is not None else sys.argv[1:]), env=env, check=False).returncode


def bootstrap(env, args):
    """examples/bootstrap.yml twice against a fresh (--uninitialized) emulator."""
    workdir = os.path.join(REPO, "build", "demo")
    token_file = os.path.join(workdir, "netbird-ansible.token")
    owner_vars = os.path.join(workdir, "owner.json")
    with open(owner_vars, "w", encoding="utf-8") as handle:
        # a demo password for the emulator only; a real one comes from Ansible Vault
        handle.write('{"netbird_owner_password": "Demo-Owner-Passw0rd!", "netbird_token_file": "%s"}' % token_file)
    os.chmod(owner_vars, 0o600)
    emu = testlib().Emulator.start("--uninitialized")
    env["NETBIRD_API_URL"] = emu.url
    env.pop("NETBIRD_API_TOKEN", None)
    env.pop("NB_PAT", None)
    print("Started the local NetBird API emulator at %s, uninitialized (no account, no owner)" % emu.url)
    cmd = [tool("ansible-playbook"), os.path.join(REPO, "examples", "bootstrap.yml"), "-e", "@" + owner_vars]
    try:
        rc = run_playbook(env, "First run: set up the server, service user 'ansible' and its token", cmd, args)
        if rc == 0:
            with open(token_file, encoding="utf-8") as handle:
                env["NETBIRD_API_TOKEN"] = handle.read().strip()
            print("(the demo stores the token as NETBIRD_API_TOKEN, as the playbook asked)")
            rc = run_playbook(env, "Second run: set up already, same service user and token (expect changed=0)", cmd, args)
    finally:
        emu.stop()
        print("Stopped the emulator.")
    return rc


def main():
    real = bool(os.environ.get("NETBIRD_API_URL") and os.environ.get("NETBIRD_API_TOKEN"))
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = install_collection(os.path.join(REPO, "build", "demo"))
    env.setdefault("ANSIBLE_PYTHON_INTERPRETER", sys.executable)
    env.setdefault("ANSIBLE_LOCALHOST_WARNING", "0")
    env.setdefault("ANSIBLE_INVENTORY_UNPARSED_WARNING", "0")
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    if "--bootstrap" in sys.argv[1:]:
        return bootstrap(env, [a for a in sys.argv[1:] if a != "--bootstrap"])
    emu = None
    if real:
        print("Running against %s (NETBIRD_API_URL)" % env["NETBIRD_API_URL"])
    else:
        emu = start_emulator()
        env["NETBIRD_API_URL"], env["NETBIRD_API_TOKEN"] = emu.url, emu.token
        print("Started the local NetBird API emulator at %s (seeded from examples/emulator-seed.json)" % emu.url)
    try:
        rc = run_playbook(env, "First run: onboard the team")
        if rc == 0:
            rc = run_playbook(env, "Second run: same input, nothing to change (expect changed=0)")
    finally:
        if emu is not None:
            emu.stop()
            print("Stopped the emulator.")
    return rc


if __name__ == "__main__":
    sys.exit(main())
