# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets: every module and the role at -vvvv with the token, passwords and one-time secrets as markers.

The emulator starts every secret it makes (the owner's PAT, one-time passwords, new PATs) with one
marker word, so any secret in the output is found without knowing it. Allowed: a one-time password
or a new token exactly once, as the value of the return key meant for it, in the result of a module
task that is not under no_log. Nowhere else: not the API token, not old/new passwords, not in
warnings, diffs or failure messages, and not under the role's secure logging. In the emulator's
request log the passwords may appear only in the body of the password change, which carries them.
"""

from __future__ import annotations

import json
import re
import secrets
import string

import pytest

from nb_testlib import Emulator

# scripts/compat.sh runs this file on every ansible-core leg (tests/conftest.py, marker compat)
pytestmark = pytest.mark.compat

ALNUM = string.ascii_letters + string.digits
MARK = "SeCrEt" + "".join(secrets.choice(ALNUM) for dummy in range(6))
OLD = "OldPw-%s-Mark1!" % "".join(secrets.choice(ALNUM) for dummy in range(8))
NEW = "NewPw-%s-Mark2!" % "".join(secrets.choice(ALNUM) for dummy in range(8))
WRONG = "WrongPw-%s-Mark3!" % "".join(secrets.choice(ALNUM) for dummy in range(8))
P = "netbird_ops.netbird."


@pytest.fixture(scope="module")
def marked_emulator():
    emu = Emulator.start("--secret-marker", MARK, "--owner-password", OLD)
    yield emu
    emu.stop()


def task(name, module, args, **extra):
    item = {"name": name, P + module: args}
    item.update(extra)
    return item


def tasks(emu):
    return [
        task("create one", "netbird_user", {"email": "s1@x.io", "name": "S1"}, diff=True),
        task("create batch", "netbird_user", {"users": [{"email": "s2@x.io", "name": "S2"}, {"email": "s3@x.io", "name": "S3", "blocked": True},
                                                        {"name": "bot-s", "service_user": True}]}, diff=True),
        task("new token", "netbird_user_token", {"user_name": "bot-s", "name": "ci", "expires_in": 30}, diff=True),
        task("token batch", "netbird_user_token", {"tokens": [{"user_name": "bot-s", "name": "cd", "expires_in": 7},
                                                              {"user_name": "bot-s", "name": "ci", "expires_in": 30}]}),
        # secrets come from variables (a vault in real life): Ansible 2.19 prints the playbook source around a failed
        # task, so a password written literally in a playbook would show up there
        task("own password", "netbird_user", {"old_password": "{{ nb_old }}", "new_password": "{{ nb_new }}"}, diff=True),
        task("wrong old password", "netbird_user", {"old_password": "{{ nb_wrong }}", "new_password": "{{ nb_old }}"}, ignore_errors=True),
        task("approve", "netbird_user_approval", {"email": "pend@x.io"}, diff=True),
        # the token as a module argument instead of the environment
        task("info", "netbird_user_info", {"api_url": emu.url, "api_token": "{{ nb_token }}", "include_tokens": True}),
        task("info current", "netbird_user_info", {"current": True}),
        task("server echoes the token", "netbird_user_info", {"api_retries": 0}, ignore_errors=True),
        # Ansible's no_log scan gives up on a malformed list element; the module still masks what it did not reach
        task("malformed users", "netbird_user",
             {"api_token": "{{ nb_token }}", "users": [{"old_password": "{{ nb_old }}", "new_password": "{{ nb_new }}"}, "x"]},
             ignore_errors=True),
        {"name": "onboarding", "ansible.builtin.include_role": {"name": "netbird_ops.netbird.onboarding"},
         "vars": {"netbird_api_url": emu.url, "netbird_api_token": "{{ nb_token }}",
                  "netbird_onboarding_users": [{"email": "r1@x.io", "name": "R1"}, {"email": "r2@x.io", "name": "R2"}],
                  "netbird_onboarding_service_users": [{"name": "bot-r", "tokens": [{"name": "deploy", "expires_in": 30}]}],
                  "netbird_onboarding_approve": ["pend2@x.io"]}},
        # the role's result holds its one-time secrets: read back through a file, never printed
        {"name": "keep the role result", "no_log": True, "diff": False,
         "ansible.builtin.copy": {"content": "{{ netbird_onboarding_result | to_json }}", "dest": "{{ playbook_dir }}/role-result.json",
                                  "mode": "0600"}},
    ]


def test_no_secret_in_vvvv_output_or_request_log(ansible, marked_emulator, tmp_path):
    emu = marked_emulator
    emu.reset()
    emu.seed(users=[{"email": "pend@x.io", "name": "Pend", "pending_approval": True},
                    {"email": "pend2@x.io", "name": "Pend2", "pending_approval": True}])
    vault = tmp_path / "vault.json"
    vault.write_text(json.dumps({"nb_old": OLD, "nb_new": NEW, "nb_wrong": WRONG, "nb_token": emu.token}))
    args = ["-e", "@%s" % vault]
    run = ansible.playbook(tasks(emu)[:9], verbosity=4, url=emu.url, token=emu.token, args=args)
    # a proxy or server that echoes the request's Authorization header back in its error
    emu.faults([{"method": "GET", "path": "/api/users", "status": 400, "message": "bad header Authorization: Token %s" % emu.token}])
    run2 = ansible.playbook(tasks(emu)[9:], verbosity=4, url=emu.url, token=emu.token, args=args)
    assert run.rc == 0 and run2.rc == 0, run.output + run2.output
    output = run.output + run2.output
    results = run.results + run2.results

    # every task really ran and handed out the secrets this test looks for
    one_time = {}
    for name in ("create one", "create batch", "new token", "token batch"):
        res = [r for r in results if r["task"] == name][-1]["result"]
        assert res["changed"] is True, res
        if "password" in res:
            one_time[res["password"]] = "password"
        for entry in res.get("users") or []:
            if "password" in entry:
                one_time[entry["password"]] = "password"
        if "plain_token" in res:
            one_time[res["plain_token"]] = "plain_token"
        for entry in res.get("tokens") or []:
            if entry.get("plain_token"):
                one_time[entry["plain_token"]] = "plain_token"
    assert len(one_time) == 5, one_time  # s1, s2, s3 passwords; ci and cd tokens
    assert all(secret.startswith((MARK, "nbp_" + MARK)) for secret in one_time)
    failed = [r for r in results if r["task"] == "wrong old password"][-1]
    assert failed["status"] == "ignored" and "current password is incorrect" in failed["result"]["msg"]
    malformed = [r for r in results if r["task"] == "malformed users"][-1]
    assert malformed["status"] == "ignored" and "Elements value for option 'users'" in malformed["result"]["msg"]
    echoed = [r for r in results if r["task"] == "server echoes the token"][-1]
    assert echoed["status"] == "ignored" and "bad header Authorization: Token ********" in echoed["result"]["msg"]
    with open(tmp_path / "role-result.json", encoding="utf-8") as handle:
        role_result = json.load(handle)
    role_secrets = list(role_result["passwords"].values()) + [t for user in role_result["tokens"].values() for t in user.values()]
    assert len(role_secrets) == 3 and all(MARK in s for s in role_secrets), role_result
    assert role_result["approved"] == ["pend2@x.io"]

    # the API token and the passwords: nowhere in the output
    for secret in (emu.token, OLD, NEW, WRONG):
        assert secret not in output, "secret %s...%s printed" % (secret[:6], secret[-3:])
    # one-time secrets: exactly once each, as the value of their return key; nothing else carries the marker
    for secret, key in one_time.items():
        assert output.count(secret) == 1, "%s printed %d times" % (key, output.count(secret))
        assert re.search(r'"%s": "%s"' % (key, re.escape(secret)), output), "%s printed outside its return key" % key
    assert output.count(MARK) == len(one_time), [output[max(0, m.start() - 80):m.end() + 20] for m in re.finditer(MARK, output)]
    for secret in role_secrets:
        assert secret not in output
    assert "did not set no_log" not in output and "no_log" not in " ".join(w for r in results for w in r["result"].get("warnings") or [])

    # the request log: no one-time secret or token ever; the passwords only in the body of the password change
    log = emu.log()
    for entry in log:
        text = json.dumps(entry)
        assert MARK not in text and emu.token not in text, entry
        for secret in (OLD, NEW, WRONG):
            if secret in text:
                assert entry["route"] == "/api/users/{userId}/password" and entry["method"] == "PUT" and secret in entry["body"], entry
    password_puts = [e for e in log if e["route"] == "/api/users/{userId}/password"]
    assert len(password_puts) == 2


def test_invite_links_and_setup_token_only_in_their_return_keys(ansible, marked_emulator, tmp_path):
    """Invite tokens (in invite_token and inside invite_url), the setup PAT and the owner's password at -vvvv."""
    emu = marked_emulator
    emu.reset()
    emu.seed(groups=[{"name": "dev"}])
    invite = {"email": "i1@x.io", "name": "I1", "auto_groups": ["dev"]}
    run = ansible.playbook([
        task("invite", "netbird_user_invite", invite, diff=True),
        task("invite batch", "netbird_user_invite", {"invites": [{"email": "i2@x.io", "name": "I2"}, {"email": "i3@x.io", "name": "I3"}]},
             diff=True),
        task("regenerate", "netbird_user_invite", dict(invite, regenerate="always"), diff=True),
        task("replace", "netbird_user_invite", dict(invite, role="admin"), diff=True),
        task("refused", "netbird_user_invite", dict(invite, auto_groups=["nope"]), ignore_errors=True),
        task("info", "netbird_user_info", {"include_invites": True}),
        {"name": "onboarding", "ansible.builtin.include_role": {"name": "netbird_ops.netbird.onboarding"},
         "vars": {"netbird_onboarding_invite": True, "netbird_onboarding_users": [{"email": "r1@x.io", "name": "R1"}]}},
        {"name": "keep the role result", "no_log": True, "diff": False,
         "ansible.builtin.copy": {"content": "{{ netbird_onboarding_result | to_json }}", "dest": "{{ playbook_dir }}/role-result.json",
                                  "mode": "0600"}},
    ], verbosity=4, url=emu.url, token=emu.token)
    assert run.rc == 0, run.output
    tokens = []
    for name in ("invite", "invite batch", "regenerate", "replace"):
        res = run.result(name)
        assert res["changed"], res
        for entry in [res] + (res.get("invites") or []):
            if entry.get("invite_token"):
                assert entry["invite_url"] == "%s/invite?token=%s" % (emu.url, entry["invite_token"])
                tokens.append(entry["invite_token"])
    assert len(set(tokens)) == 5 and all(t.startswith("nbi_" + MARK) for t in tokens)
    assert "unknown group 'nope'" in run.result("refused")["msg"]
    with open(tmp_path / "role-result.json", encoding="utf-8") as handle:
        role_result = json.load(handle)
    [role_url] = role_result["invite_urls"].values()
    assert MARK in role_url and role_url not in run.output
    # each token: once as invite_token, once inside invite_url, nowhere else (not in diffs, info, warnings)
    for secret in tokens:
        assert run.output.count(secret) == 2, run.output.count(secret)
        assert '"invite_token": "%s"' % secret in run.output and 'token=%s"' % secret in run.output
    assert run.output.count(MARK) == 2 * len(tokens)
    assert emu.token not in run.output
    for entry in emu.log():
        assert MARK not in json.dumps(entry), entry  # the collection never sends an invite token anywhere

    # setup: the owner's password never printed, the PAT once in its return key
    fresh = Emulator.start("--uninitialized", "--secret-marker", MARK)
    try:
        vault = tmp_path / "owner.json"
        vault.write_text(json.dumps({"pw": OLD}))
        owner = {"email": "o@x.io", "name": "O", "password": "{{ pw }}"}
        run = ansible.playbook([task("setup", "netbird_setup", owner, diff=True), task("again", "netbird_setup", owner, diff=True)],
                               verbosity=4, url=fresh.url, env={"NETBIRD_API_TOKEN": None}, args=["-e", "@%s" % vault])
        assert run.rc == 0, run.output
        pat = run.result("setup")["personal_access_token"]
        assert pat.startswith("nbp_" + MARK) and run.output.count(pat) == 1 and '"personal_access_token": "%s"' % pat in run.output
        assert run.output.count(MARK) == 1 and OLD not in run.output
        for entry in fresh.log():
            text = json.dumps(entry)
            assert MARK not in text
            if OLD in text:
                assert entry["route"] == "/api/setup" and entry["method"] == "POST", entry
    finally:
        fresh.stop()
