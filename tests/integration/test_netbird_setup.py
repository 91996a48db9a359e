# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""netbird_setup and examples/bootstrap.yml against emulators started --uninitialized."""

from __future__ import annotations

import json
import os

import pytest

from nb_testlib import REPO, Emulator

M = "netbird_ops.netbird.netbird_setup"
OWNER = {"email": "owner@example.com", "name": "Owner", "password": "{{ owner_password }}"}


@pytest.fixture()
def fresh():
    emu = Emulator.start("--uninitialized")
    yield emu
    emu.stop()


def test_bootstrap_example_twice(ansible, fresh, tmp_path):
    token_file = tmp_path / "ansible.token"
    vault = tmp_path / "owner.json"
    vault.write_text(json.dumps({"netbird_owner_password": "Owner-Passw0rd!", "netbird_token_file": str(token_file)}))
    env = {"NETBIRD_API_TOKEN": None}
    args = ["-e", "@%s" % vault]
    playbook = os.path.join(REPO, "examples", "bootstrap.yml")
    run = ansible.playbook(playbook=playbook, url=fresh.url, env=env, args=args)
    assert run.rc == 0, run.output
    assert run.result("Set up the server (no change when it is set up already)")["changed"] is True
    assert run.result("Ensure the service user for automation")["changed"] is True
    assert str(token_file) in run.result("Say where to store it")["msg"]
    token = token_file.read_text().strip()
    assert token.startswith("nbp_") and token not in run.output
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    users = fresh.users()
    assert sorted((u["name"], u["role"]) for u in users) == [("Admin", "owner"), ("ansible", "admin")]
    owner = [u for u in users if u["role"] == "owner"][0]
    assert fresh.state()["tokens"].get(owner["id"], []) == []  # the setup token deleted itself, last

    # second run: set up already; the stored token finds the service user and its token as they are
    fresh.reset_counters()
    run = ansible.playbook(playbook=playbook, url=fresh.url, env={"NETBIRD_API_TOKEN": token}, args=args)
    assert run.rc == 0 and run.recap()["changed"] == 0, run.output
    setup = run.result("Set up the server (no change when it is set up already)")
    assert setup["changed"] is False
    assert fresh.requests()["writes"] == 0 and fresh.requests()["by_route"]["GET /api/instance"] == 1


@pytest.mark.compat
def test_setup_check_mode_bad_input_diff_and_missing_pat(ansible, tmp_path):
    emu = Emulator.start("--uninitialized", "--no-setup-pat")
    try:
        vault = tmp_path / "vault.json"
        vault.write_text(json.dumps({"owner_password": "Owner-Passw0rd!", "short": "short", "long": "A1!" + "a" * 70}))
        tasks = [
            {"name": "check", M: OWNER, "check_mode": True, "diff": True},
            {"name": "too short", M: dict(OWNER, password="{{ short }}"), "ignore_errors": True},
            {"name": "too long", M: dict(OWNER, password="{{ long }}"), "ignore_errors": True},
            {"name": "bad email", M: dict(OWNER, email="not-an-email"), "ignore_errors": True},
            {"name": "bad lifetime", M: dict(OWNER, pat_expire_in=366), "ignore_errors": True},
        ]
        run = ansible.playbook(tasks, url=emu.url, env={"NETBIRD_API_TOKEN": None}, args=["-e", "@%s" % vault])
        assert run.rc == 0, run.output
        check = run.result("check")
        assert check["changed"] and check["setup_required"] is True and "personal_access_token" not in check
        assert check["diff"]["after"]["owner"] == {"email": "owner@example.com", "name": "Owner"}
        assert "Owner-Passw0rd!" not in run.output
        for name, text in (("too short", "password must be 8 to 72 characters long"), ("too long", "got 73"),
                           ("bad email", "email 'not-an-email' is not an email address"),
                           ("bad lifetime", "pat_expire_in must be between 1 and 365")):
            res = run.result(name)
            assert res["failed"] and text in res["msg"], res
        assert emu.requests()["writes"] == 0

        # a server without NB_SETUP_PAT_ENABLED: set up, no token, a warning naming the variable; then no change
        run = ansible.playbook([{"name": "setup", M: OWNER, "register": "r"}, {"name": "again", M: OWNER}],
                               url=emu.url, env={"NETBIRD_API_TOKEN": None}, args=["-e", "@%s" % vault], diff=True)
        assert run.rc == 0, run.output
        setup = run.result("setup")
        assert setup["changed"] and setup["setup_required"] is False and setup["user_id"]
        assert "personal_access_token" not in setup
        # the setting exists from v0.71.0 on; an older server (v0.66.0) needs the owner's login and a PAT made there
        assert any("from NetBird v0.71.0 on, start the management server with NB_SETUP_PAT_ENABLED=true" in w
                   and "before v0.71.0" in w and "create a PAT" in w for w in setup["warnings"]), setup["warnings"]
        again = run.result("again")
        assert again["changed"] is False and again["setup_required"] is False and "user_id" not in again
        assert emu.requests()["by_route"]["POST /api/setup"] == 1
    finally:
        emu.stop()


@pytest.mark.compat
def test_examples_pass_the_syntax_check(ansible, tmp_path):
    """bootstrap.yml and invite_mail.yml parse with only this collection installed: no module left to resolve from
    another collection (Galaxy's import lint reports those to every user); one run that imports both."""
    both = tmp_path / "examples.yml"
    both.write_text(json.dumps([{"ansible.builtin.import_playbook": os.path.join(REPO, "examples", name)}
                                for name in ("bootstrap.yml", "invite_mail.yml")]))
    run = ansible.playbook(playbook=str(both), args=["--syntax-check"])
    assert run.rc == 0 and "playbook: " in run.stdout, run.output
