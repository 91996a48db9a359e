# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""examples/tenants/: many NetBird accounts in one inventory, one host each, run side by side with forks.

The example as shipped (inventory, group_vars, vaulted host_vars, team files, play), pointed at three emulators
(each account's vault.yml re-encrypted with the demo password and that emulator's token), plus a fourth account on a
closed loopback port: the three are onboarded, only the fourth fails, and a second run changes nothing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

import pytest
import yaml

from nb_testlib import REPO, Emulator, bin_path

EXAMPLE = os.path.join(REPO, "examples", "tenants")
ACCOUNTS = ("acme", "globex", "initech")
EXPECTED = {
    "acme": {"wile@acme.example.com": ("admin", ["engineering"]), "road.runner@acme.example.com": ("user", ["engineering", "field"]),
             "acme-ci": ("user", ["engineering"]), "monitoring": ("auditor", [])},
    "globex": {"hank@globex.example.com": ("admin", ["engineering", "management"]), "homer@globex.example.com": ("user", ["engineering"]),
               "monitoring": ("auditor", [])},
    "initech": {"peter@initech.example.com": ("user", ["engineering"]),
                "bill@initech.example.com": ("admin", ["engineering", "management"]), "monitoring": ("auditor", [])},
}


@pytest.fixture(scope="module")
def accounts():
    emulators = dict((name, Emulator.start()) for name in ACCOUNTS)
    yield emulators
    for emu in emulators.values():
        emu.stop()


def closed_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def encrypt(value, password_file):
    proc = subprocess.run([bin_path("ansible-vault"), "encrypt_string", "--vault-password-file", password_file, "--name",
                           "vault_netbird_api_token", value], capture_output=True, text=True, check=True)
    return "---\n" + proc.stdout


def view(emu):
    state = emu.state()
    names = dict((g["id"], g["name"]) for g in state["groups"])
    return dict(((u["email"] or u["name"]), (u["role"], sorted(names[g] for g in u["auto_groups"])))
                for u in state["users"] if u["role"] != "owner")


def test_the_role_keeps_nothing_shared_between_hosts():
    """Hosts run side by side: no run_once, no delegation, no fixed path on disk in the role or its action."""
    with open(os.path.join(REPO, "roles", "onboarding", "tasks", "main.yml"), encoding="utf-8") as handle:
        tasks = yaml.safe_load(handle)
    for task in tasks:
        assert not set(task) & {"run_once", "delegate_to", "delegate_facts"}, task
    for path in ("plugins/action/netbird_onboarding.py", "plugins/plugin_utils/_onboarding.py"):
        with open(os.path.join(REPO, path), encoding="utf-8") as handle:
            source = handle.read()
        for fixed in ("/tmp", "/var/", "tempfile", "run_once"):
            assert fixed not in source, (path, fixed)


def test_three_accounts_and_one_unreachable(ansible, accounts, tmp_path):
    project = tmp_path / "tenants"
    shutil.copytree(EXAMPLE, str(project))
    password_file = str(project / "demo-vault-password.txt")
    for name, emu in accounts.items():
        emu.reset()
        main = project / "host_vars" / name / "main.yml"
        data = yaml.safe_load(main.read_text(encoding="utf-8"))
        data["netbird_api_url"] = emu.url
        main.write_text(yaml.safe_dump(data), encoding="utf-8")
        (project / "host_vars" / name / "vault.yml").write_text(encrypt(emu.token, password_file), encoding="utf-8")
    # a fourth account whose server does not answer (a closed loopback port), in a second inventory source
    (project / "down.yml").write_text(yaml.safe_dump({"netbird_accounts": {"hosts": {"umbrella": None}}}), encoding="utf-8")
    (project / "host_vars" / "umbrella").mkdir()
    (project / "host_vars" / "umbrella" / "main.yml").write_text(yaml.safe_dump({
        "netbird_api_url": "http://127.0.0.1:%d" % closed_port(), "netbird_api_retries": 0,
        "netbird_onboarding_users": [{"email": "alice@umbrella.example.com", "name": "Alice"}]}), encoding="utf-8")
    (project / "host_vars" / "umbrella" / "vault.yml").write_text(encrypt("nbp_" + "U" * 36, password_file), encoding="utf-8")

    args = ["-i", str(project / "inventory.yml"), "-i", str(project / "down.yml"), "--vault-password-file", password_file,
            "--forks", "4"]
    env = {"NETBIRD_API_URL": None, "NETBIRD_API_TOKEN": None}
    run = ansible.playbook(playbook=str(project / "onboard.yml"), args=args, env=env)
    assert run.rc != 0, run.output
    for name in ACCOUNTS:
        recap = run.recap(name)
        assert recap["failed"] == 0 and recap["unreachable"] == 0 and recap["changed"] >= 1, (name, run.output)
        assert view(accounts[name]) == EXPECTED[name], (name, run.output)
    assert run.recap("umbrella")["failed"] == 1, run.output
    assert "GET /api/users failed: connection refused" in run.output, run.output
    for token in [emu.token for emu in accounts.values()]:
        assert token not in run.output

    # the second run: no change in any reachable account
    for emu in accounts.values():
        emu.reset_counters()
    run = ansible.playbook(playbook=str(project / "onboard.yml"), args=args + ["--limit", ",".join(ACCOUNTS)], env=env)
    assert run.rc == 0, run.output
    for name in ACCOUNTS:
        assert run.recap(name)["changed"] == 0, (name, run.output)
        assert accounts[name].writes() == 0, name
