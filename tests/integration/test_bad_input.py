# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input table: every invalid input fails before any write request, with a message naming the option.

The module tables run each module in this process (``main()`` with patched module arguments, as
Ansible would run it, against the emulator): a case costs milliseconds instead of an
ansible-playbook task, and an unexpected exception surfaces as the test's own traceback. One case
of each module also goes through ansible-playbook, and the role's table is a real playbook run (its
argument validation is Ansible's). The emulator's write counter must stay at 0 for every table,
which it can only do if every single case wrote nothing. The README's "Reliability coverage"
section lists the cases.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json

import pytest

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19 reads the arguments of an in-process module from basic._ANSIBLE_ARGS
    @contextlib.contextmanager
    def patch_module_args(args):
        from ansible.module_utils import basic  # pylint: disable=import-outside-toplevel
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


# scripts/compat.sh runs this file on every ansible-core leg (tests/conftest.py, marker compat)
pytestmark = pytest.mark.compat

PREFIX = "netbird_ops.netbird."

# (case id, module, args, what the one-line message must contain)
USER_CASES = [
    ("bad role", "netbird_user", {"email": "a@x.io", "name": "A", "role": "superuser"}, "role 'superuser' is not a NetBird role"),
    ("bad role in a batch", "netbird_user", {"users": [{"email": "a@x.io", "name": "A"}, {"email": "b@x.io", "name": "B", "role": "boss"}]},
     "users[1].role 'boss' is not a NetBird role"),
    ("bad email", "netbird_user", {"email": "not-an-email", "name": "A"}, "email 'not-an-email' is not an email address"),
    ("owner on create", "netbird_user", {"email": "a@x.io", "name": "A", "role": "owner"}, "role owner cannot be given when creating"),
    ("owner on a service user", "netbird_user", {"name": "bot", "service_user": True, "role": "OWNER"},
     "role owner is not allowed for a service user"),
    ("All group", "netbird_user", {"email": "a@x.io", "name": "A", "auto_groups": ["All"]},
     "auto_groups: the 'All' group cannot be assigned"),
    ("All group by ID", "netbird_user", {"email": "a@x.io", "name": "A", "auto_groups": ["{all_id}"]},
     "auto_groups: the 'All' group cannot be assigned"),
    ("unknown group", "netbird_user", {"email": "a@x.io", "name": "A", "auto_groups": ["dev", "nope"]},
     "auto_groups: unknown group 'nope'"),
    ("unknown group ID", "netbird_user", {"email": "a@x.io", "name": "A", "auto_groups": ["cv0a0a0a0a0a0a0a0a0a"]},
     "auto_groups: unknown group 'cv0a0a0a0a0a0a0a0a0a'"),
    ("empty group name", "netbird_user", {"email": "a@x.io", "name": "A", "auto_groups": [" "]}, "auto_groups must contain non-empty"),
    ("users and email together", "netbird_user", {"users": [{"email": "a@x.io", "name": "A"}], "email": "b@x.io"},
     "mutually exclusive: users|email"),
    ("empty batch entry", "netbird_user", {"users": [{"email": "a@x.io", "name": "A"}, {}]},
     "users[1] needs users[1].user_id, users[1].email (regular user) or users[1].name"),
    ("same user twice in a batch", "netbird_user", {"users": [{"email": "a@x.io", "name": "A"}, {"email": "A@X.IO", "role": "admin"}]},
     "users[0] and users[1] name the same user"),
    ("wrong type: blocked", "netbird_user", {"email": "a@x.io", "name": "A", "blocked": "maybe"}, "blocked"),
    ("wrong type: auto_groups", "netbird_user", {"email": "a@x.io", "name": "A", "auto_groups": {"dev": True}}, "auto_groups"),
    ("wrong type: users", "netbird_user", {"users": "a@x.io"}, "Elements value for option 'users' is of type "),
    ("wrong type: a users element", "netbird_user",
     {"users": [{"old_password": "Pw-Hidden-1!", "new_password": "Pw-Hidden-2!"}, "a@x.io"]},
     "Elements value for option 'users' is of type "),
    ("passwords on a service user", "netbird_user",
     {"name": "bot", "service_user": True, "old_password": "Old-Pass-1!", "new_password": "New-Pass-2!"},
     "old_password/new_password do not apply to service users"),
    ("email on a service user", "netbird_user", {"name": "bot", "service_user": True, "email": "bot@x.io"},
     "email does not apply to service users"),
    ("resend_invite on a service user", "netbird_user", {"name": "bot", "service_user": True, "resend_invite": True},
     "resend_invite does not apply to service users"),
    ("old_password alone", "netbird_user", {"old_password": "Old-Pass-1!"}, "parameters are required together: old_password, new_password"),
    ("same old and new password", "netbird_user", {"old_password": "Same-Pass-1!", "new_password": "Same-Pass-1!"},
     "new_password must differ from old_password"),
    ("absent with attributes", "netbird_user", {"email": "a@x.io", "state": "absent", "role": "admin"},
     "role cannot be combined with state=absent"),
    ("name without email", "netbird_user", {"name": "Alice"}, "email is required to identify or create a regular user"),
    ("create without name", "netbird_user", {"email": "a@x.io"}, "name is required to create a regular user"),
    ("bad auto_groups_mode", "netbird_user", {"email": "a@x.io", "name": "A", "auto_groups_mode": "merge"}, "auto_groups_mode"),
    ("unknown user_id", "netbird_user", {"user_id": "no-such-id", "role": "admin"}, "no user with user_id 'no-such-id' exists"),
    ("block own user", "netbird_user", {"email": "owner@example.com", "blocked": True}, "cannot block or unblock your own user"),
    ("unknown option", "netbird_user", {"email": "a@x.io", "name": "A", "rolle": "admin"}, "Unsupported parameters"),
    ("api_retries out of range", "netbird_user", {"email": "a@x.io", "name": "A", "api_retries": 50}, "api_retries must be between 0 and 20"),
    ("api_timeout zero", "netbird_user", {"email": "a@x.io", "name": "A", "api_timeout": 0}, "api_timeout must be a positive number"),
    ("api_url not http", "netbird_user", {"email": "a@x.io", "name": "A", "api_url": "ftp://nb.example.com"},
     "api_url 'ftp://nb.example.com' is not an http(s) URL"),
    ("ca_path missing", "netbird_user", {"email": "a@x.io", "name": "A", "ca_path": "/nonexistent/netbird-ca.pem"},
     "ca_path /nonexistent/netbird-ca.pem does not exist"),
    ("api_token empty", "netbird_user", {"email": "a@x.io", "name": "A", "api_token": ""}, "api_token is empty"),
]

OTHER_CASES = [
    ("approval: nothing chosen", "netbird_user_approval", {}, "give exactly one of user_id, email, emails or all_pending"),
    ("approval: email and emails", "netbird_user_approval", {"email": "a@x.io", "emails": ["b@x.io"]},
     "mutually exclusive: user_id|email|emails"),
    ("approval: email and all_pending", "netbird_user_approval", {"email": "p@x.io", "all_pending": True},
     "give exactly one of user_id, email, emails or all_pending: true (got email, all_pending)"),
    ("approval: email_domains without all_pending", "netbird_user_approval", {"email": "p@x.io", "email_domains": ["x.io"]},
     "email_domains applies only with all_pending"),
    ("approval: bad email", "netbird_user_approval", {"email": "p-at-x.io"}, "email 'p-at-x.io' is not an email address"),
    ("approval: bad email in a list", "netbird_user_approval", {"emails": ["p@x.io", "bob"]}, "emails[1] 'bob' is not an email address"),
    ("approval: bad domain", "netbird_user_approval", {"all_pending": True, "email_domains": ["bob@x.io"]},
     "email_domains entry 'bob@x.io' is not a domain name"),
    ("approval: bad state", "netbird_user_approval", {"email": "p@x.io", "state": "pending"}, "state"),
    ("approval: reject an active user", "netbird_user_approval", {"email": "active@x.io", "state": "rejected"},
     "rejecting would delete an active user, so nothing was deleted"),
    ("approval: approve an unknown user", "netbird_user_approval", {"email": "ghost@x.io"}, "no user with email ghost@x.io exists"),
    ("info: bad role", "netbird_user_info", {"role": "boss"}, "role"),
    ("info: bad status", "netbird_user_info", {"status": "deleted"}, "status"),
    ("info: wrong type", "netbird_user_info", {"blocked": "perhaps"}, "blocked"),
]

TOKEN_CASES = [
    ("token: expires_in out of range", "netbird_user_token", {"user_name": "bot", "name": "ci", "expires_in": 400},
     "expires_in must be between 1 and 365 days"),
    ("token: expires_in missing", "netbird_user_token", {"user_name": "bot", "name": "ci"}, "expires_in is required"),
    ("token: user_id and user_name", "netbird_user_token", {"user_id": "x", "user_name": "bot", "name": "ci", "expires_in": 30},
     "mutually exclusive: user_id|user_name"),
    ("token: rotate_before_days too big", "netbird_user_token", {"user_name": "bot", "name": "ci", "expires_in": 30, "rotate_before_days": 30},
     "rotate_before_days (30) must be smaller than expires_in (30)"),
    ("token: batch entry without name", "netbird_user_token", {"tokens": [{"user_name": "bot", "expires_in": 30}]},
     "tokens[0].name is required"),
]

# (case id, role variables, what the message must contain)
ROLE_CASES = [
    ("role: bad role", {"netbird_onboarding_users": [{"email": "a@x.io", "name": "A", "role": "superuser"}]},
     "netbird_onboarding_users"),
    ("role: user without email", {"netbird_onboarding_users": [{"name": "A"}]}, "email"),
    ("role: owner for a service user", {"netbird_onboarding_service_users": [{"name": "bot", "role": "owner"}]},
     "netbird_onboarding_service_users"),
    ("role: users not a list", {"netbird_onboarding_users": "a@x.io"}, "netbird_onboarding_users"),
    ("role: unknown key in a user", {"netbird_onboarding_users": [{"email": "a@x.io", "name": "A", "grups": ["dev"]}]}, "grups"),
    ("role: owner on create", {"netbird_onboarding_users": [{"email": "a@x.io", "name": "A", "role": "owner"}]},
     "netbird_onboarding_users[0] (a@x.io): role owner cannot be given when creating"),
    ("role: unknown group", {"netbird_onboarding_users": [{"email": "a@x.io", "name": "A"}, {"email": "b@x.io", "name": "B", "auto_groups": ["nope"]}]},
     "netbird_onboarding_users[1] (b@x.io).auto_groups: unknown group 'nope'"),
    ("role: bad approve email", {"netbird_onboarding_users": [{"email": "a@x.io", "name": "A"}], "netbird_onboarding_approve": ["p@x.io", "bob"]},
     "netbird_onboarding_approve[1] 'bob' is not an email address"),
    ("role: approve and reject the same user",
     {"netbird_onboarding_users": [{"email": "a@x.io", "name": "A"}],
      "netbird_onboarding_approve": ["p@x.io"], "netbird_onboarding_reject": ["P@x.io"]},
     "p@x.io is in both netbird_onboarding_approve and netbird_onboarding_reject"),
    ("role: token lifetime out of range",
     {"netbird_onboarding_service_users": [{"name": "bot", "tokens": [{"name": "ci", "expires_in": 400}]}]},
     "netbird_onboarding_service_users[0] (bot).tokens[0] (ci): expires_in must be between 1 and 365"),
    ("role: token without lifetime",
     {"netbird_onboarding_service_users": [{"name": "bot", "tokens": [{"name": "ci"}]}]},
     "netbird_onboarding_service_users[0] (bot).tokens[0] (ci): expires_in is required"),
    ("role: token rotation window too long",
     {"netbird_onboarding_service_users": [{"name": "old", "state": "absent", "tokens": [{"name": "x"}]},
                                           {"name": "bot", "tokens": [{"name": "gone", "state": "absent"},
                                                                      {"name": "ci", "expires_in": 30, "rotate_before_days": 40}]}]},
     "netbird_onboarding_service_users[1] (bot).tokens[1] (ci): rotate_before_days (40) must be smaller than expires_in (30)"),
]

SEED = {"groups": [{"name": "dev"}], "users": [{"email": "active@x.io", "name": "Active"},
                                               {"email": "p@x.io", "name": "P", "pending_approval": True},
                                               {"name": "bot", "service_user": True}]}


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return dict((k, _fill(v, ids)) for k, v in value.items())
    return value


def _passwords(value):
    if isinstance(value, list):
        return [p for v in value for p in _passwords(v)]
    if isinstance(value, dict):
        return [v for k, v in value.items() if k.endswith("password") and isinstance(v, str)] + _passwords(list(value.values()))
    return []


def run_module(module, args):
    """Run a module of the collection in this process; returns its result dict."""
    main = importlib.import_module("ansible_collections.netbird_ops.netbird.plugins.modules." + module).main
    out = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main()
    return json.loads(out.getvalue())


def _check_run(run, emulator, cases, name_of):
    problems = []
    for case in cases:
        case_id, expected = case[0], case[-1]
        res = run.result(name_of(case_id))
        msg = res.get("msg") or ""
        if not res.get("failed"):
            problems.append("%s: did not fail" % case_id)
        elif expected not in msg:
            problems.append("%s: message lacks %r: %r" % (case_id, expected, msg))
        elif ("\n" in msg.strip() and not msg.startswith("Validation of arguments failed:")) \
                or "Traceback (most recent call last)" in msg or "MODULE FAILURE" in msg:
            problems.append("%s: not a one-line message: %r" % (case_id, msg))
    assert "Traceback (most recent call last)" not in run.output, run.output
    assert not problems, "\n".join(problems) + "\n\n" + run.output[-4000:]
    assert emulator.writes() == 0, [e for e in emulator.log() if e["method"] != "GET"]
    return len(cases)


def _module_tasks(cases):
    return [{"name": case_id, PREFIX + module: args, "ignore_errors": True} for case_id, module, args, dummy in cases]


TABLES = {"netbird_user": USER_CASES, "approval-info-token": OTHER_CASES + TOKEN_CASES}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_bad_module_input_fails_before_any_write(emulator, table):
    emulator.seed(**SEED)
    ids = {"all_id": emulator.group_id("All")}
    emulator.reset_counters()
    problems = []
    for case_id, module, args, expected in TABLES[table]:
        args = dict(dict(api_url=emulator.url, api_token=emulator.token), **_fill(args, ids))
        res = run_module(module, args)
        msg = res.get("msg") or ""
        if not res.get("failed"):
            problems.append("%s: did not fail" % case_id)
        elif expected not in msg:
            problems.append("%s: message lacks %r: %r" % (case_id, expected, msg))
        elif "\n" in msg.strip():
            problems.append("%s: not a one-line message: %r" % (case_id, msg))
        for secret in [args["api_token"]] + _passwords(args):
            if secret and secret in json.dumps(res):
                problems.append("%s: a secret is in the result" % case_id)
    assert not problems, "\n".join(problems)
    assert emulator.writes() == 0, [e for e in emulator.log() if e["method"] != "GET"]


def test_bad_module_input_through_ansible_playbook(ansible, emulator):
    """The first case of each module's table, as a playbook task: the same message, no write."""
    emulator.seed(**SEED)
    emulator.reset_counters()
    firsts = {}
    for case in USER_CASES + OTHER_CASES + TOKEN_CASES:
        firsts.setdefault(case[1], case)
    cases = list(firsts.values())
    run = ansible.playbook(_module_tasks(cases))
    assert run.rc == 0, run.output
    _check_run(run, emulator, cases, lambda case_id: case_id)


def test_bad_role_input_fails_before_any_write(ansible, emulator):
    emulator.seed(**SEED)
    emulator.reset_counters()
    tasks = []
    for case_id, role_vars, dummy in ROLE_CASES:
        tasks.append({
            "name": case_id,
            "block": [{"name": "run " + case_id, "ansible.builtin.include_role": {"name": "netbird_ops.netbird.onboarding"},
                       "vars": role_vars}],
            "rescue": [{"name": "failed " + case_id, "ansible.builtin.debug": {"msg": "{{ ansible_failed_result.msg }}"}}],
        })
    run = ansible.playbook(tasks)
    assert run.rc == 0, run.output

    class Rescued:
        """The rescue task's debug message is the role's failure message."""

        def __init__(self, run_):
            self.run = run_
            self.output = run_.output

        def result(self, name):
            res = dict(self.run.result(name))
            res["failed"] = True
            return res

    _check_run(Rescued(run), emulator, [(c[0], c[2]) for c in ROLE_CASES], lambda case_id: "failed " + case_id)


def test_tables_are_large_enough():
    assert len(USER_CASES) + len(OTHER_CASES) + len(TOKEN_CASES) + len(ROLE_CASES) >= 30
