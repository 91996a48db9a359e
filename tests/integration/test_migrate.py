# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""examples/migrate.yml: export a team from one emulator (netbird_user_info as_team) and onboard it into another
through the role's team file.

The target ends with the same users, roles, groups by name and blocked states; the owner, the users pending approval
and the tokens stay behind; a name that looks like a template arrives as written; a second run changes nothing.
"""

from __future__ import annotations

import glob
import os
import subprocess

import pytest
import yaml

from nb_testlib import REPO, Emulator

PLAYBOOK = os.path.join(REPO, "examples", "migrate.yml")
TEMPLATE_NAME = "{{ lookup('pipe', 'id') }}"

SOURCE = {
    "groups": [{"name": "dev"}, {"name": "ops"}, {"name": "Überwachung"}],
    "users": [
        {"email": "alice@example.com", "name": "Alice Ärger", "role": "admin", "auto_groups": ["dev", "ops"]},
        {"email": "bob@example.com", "name": "Bob", "auto_groups": ["dev"], "blocked": True},
        {"email": "carol@example.com", "name": "Carol", "role": "auditor", "auto_groups": ["Überwachung"]},
        {"email": "tpl@example.com", "name": TEMPLATE_NAME},
        {"email": "pen@example.com", "name": "Pen", "pending_approval": True},
        {"name": "ci-bot", "service_user": True, "role": "network_admin", "auto_groups": ["ops"], "tokens": [{"name": "deploy"}]},
        {"name": "svc-old", "service_user": True, "auto_groups": ["ops"], "blocked": True},
    ],
}
# what the target already has: one user with another role and groups, and the owner
TARGET = {"groups": [{"name": "dev"}], "users": [{"email": "carol@example.com", "name": "Carol", "role": "user", "auto_groups": ["dev"]}]}


@pytest.fixture(scope="module")
def target_process():
    emu = Emulator.start()
    yield emu
    emu.stop()


@pytest.fixture()
def target(target_process):
    target_process.reset()
    target_process.seed(**TARGET)
    target_process.reset_counters()
    return target_process


def view(emu):
    """{email or name: (role, group names, blocked, service user)} of everyone but the owner, as stored."""
    state = emu.state()
    names = dict((g["id"], g["name"]) for g in state["groups"])
    return dict(((u["email"] or u["name"]),
                 (u["role"], sorted(names[g] for g in u["auto_groups"]), u["is_blocked"], u["is_service_user"]))
                for u in state["users"] if u["role"] != "owner")


def git_status():
    return subprocess.run(["git", "status", "--porcelain", "--ignored", "examples"], cwd=REPO, capture_output=True, text=True,
                          check=False).stdout


def test_round_trip(ansible, emulator, target, tmp_path):
    emulator.seed(**SOURCE)
    team_file = str(tmp_path / "team.yml")
    extra = {"source_api_url": emulator.url, "source_api_token": emulator.token,
             "target_api_url": target.url, "target_api_token": target.token, "team_file": team_file}
    # the system's temporary directory, where the run's private directory goes
    env = {"NETBIRD_API_URL": None, "NETBIRD_API_TOKEN": None, "TMPDIR": str(tmp_path / "tmp")}
    os.makedirs(env["TMPDIR"])
    examples_before = git_status()
    run = ansible.playbook(playbook=PLAYBOOK, extra_vars=extra, env=env)
    assert run.rc == 0, run.output
    assert emulator.writes() == 0  # the source is only read

    # the one-time passwords of the users created on the target: in a 0600 file of the run's private directory
    # (outside the project), named in the output, and nowhere in the output itself
    (passwords_file,) = glob.glob(str(tmp_path / "tmp" / "netbird-migrate-*" / "one-time-passwords.yml"))
    assert oct(os.stat(passwords_file).st_mode & 0o777) == "0o600"
    assert oct(os.stat(os.path.dirname(passwords_file)).st_mode & 0o777) == "0o700"
    with open(passwords_file, encoding="utf-8") as handle:
        passwords = yaml.safe_load(handle)
    assert sorted(passwords) == ["alice@example.com", "bob@example.com", "tpl@example.com"]
    assert passwords_file in run.output
    for password in passwords.values():
        assert password and password not in run.output

    # the file: the role's shapes, no owner, no pending user, no token, the template-like name as written
    with open(team_file, encoding="utf-8") as handle:
        team = yaml.safe_load(handle)
    assert sorted(team) == ["service_users", "users"]
    assert sorted(u["email"] for u in team["users"]) == ["alice@example.com", "bob@example.com", "carol@example.com",
                                                         "tpl@example.com"]
    assert [u["name"] for u in team["service_users"]] == ["ci-bot", "svc-old"]
    with open(team_file, encoding="utf-8") as handle:
        assert "token" not in handle.read()
    assert oct(os.stat(team_file).st_mode & 0o777) == "0o600"

    expected = dict((key, value) for key, value in view(emulator).items() if key != "pen@example.com")
    assert view(target) == expected, run.output
    assert target.user(email="tpl@example.com")["name"] == TEMPLATE_NAME
    assert target.user(email="alice@example.com")["name"] == "Alice Ärger"
    assert target.user(email="pen@example.com") is None
    state = target.state()
    assert set(state["tokens"]) == {state["owner_id"]}  # the owner's own PAT only: no token moved

    # a second run (export and import) changes nothing on the target; without team_file, the export goes to a new
    # private directory of the run, never into the project (not even an ignored file)
    target.reset_counters()
    del extra["team_file"]
    run = ansible.playbook(playbook=PLAYBOOK, extra_vars=extra, env=env)
    assert run.rc == 0, run.output
    assert run.recap()["changed"] == 0, run.output
    assert target.writes() == 0
    assert view(target) == expected
    exported = glob.glob(str(tmp_path / "tmp" / "netbird-migrate-*" / "team.yml"))
    assert len(exported) == 1 and exported[0] in run.output, run.output
    with open(exported[0], encoding="utf-8") as handle:
        assert yaml.safe_load(handle) == team
    assert git_status() == examples_before
