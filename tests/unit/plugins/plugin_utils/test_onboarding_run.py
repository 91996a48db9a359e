# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The onboarding role's run (plugin_utils/_onboarding.py): labels, loop semantics between the steps, team files."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

import pytest

from ansible_collections.netbird_ops.netbird.plugins.plugin_utils._onboarding import (
    Member, Onboarding, Team, TeamFileError, read_team_file, relabel)


class Calls:
    """A fake ``call(module, args)``: answers from ``answers`` (module -> result), records the calls."""

    def __init__(self, answers=None):
        self.answers = answers or {}
        self.calls = []

    def __call__(self, module, args):
        self.calls.append((module, args))
        answer = self.answers.get(module, {"changed": False})
        return answer(args) if callable(answer) else dict(answer)

    def modules(self):
        return [module for module, dummy in self.calls]


def test_relabel_names_the_role_variable_and_entry():
    members = [Member({}, "netbird_onboarding_users[0]", "a@x.io"), Member({}, "team.csv line 3", "b@x.io")]
    # the module's "users[0] (b@x.io): users[0].role ..." names the entry once
    assert relabel("users[0] (a@x.io): users[0].role owner cannot be given when creating a user", "users", members) == (
        "netbird_onboarding_users[0] (a@x.io): role owner cannot be given when creating a user")
    assert relabel("users[1].auto_groups: unknown group 'x'; set create_groups: true", "users", members) == (
        "team.csv line 3 (b@x.io).auto_groups: unknown group 'x'; set netbird_onboarding_create_groups: true")
    assert relabel("users[0] (a@x.io): POST /api/users failed with HTTP 500", "users", members) == (
        "netbird_onboarding_users[0] (a@x.io): POST /api/users failed with HTTP 500")
    assert relabel("more than max_offboard=1: b@x.io; nothing was changed: add the users to keep to users or protect, or raise max_offboard",
                   "users", members) == ("more than netbird_onboarding_max_offboard=1: b@x.io; nothing was changed: add the users to keep to "
                                         "netbird_onboarding_users or netbird_onboarding_protect, or raise "
                                         "netbird_onboarding_max_offboard")
    # another variable's index is left alone, as is an index out of range
    assert relabel("netbird_onboarding_users[1] and users[7]", "users", members) == "netbird_onboarding_users[1] and users[7]"


def test_problems_stop_the_run_before_any_call():
    calls = Calls()
    team = Team(users=[{"email": "a@x.io", "name": "A"}, {"email": "A@X.io"}, {"email": "bob"}])
    result = Onboarding(team, calls).run()
    assert calls.calls == []
    assert result["onboarding_failed"] and result["msg"].endswith("nothing was changed")
    assert "A@X.io is named twice: netbird_onboarding_users[0] and netbird_onboarding_users[1]" in result["msg"]
    assert "netbird_onboarding_users[2].email 'bob' is not an email address" in result["msg"]


SERVICE = [{"name": "ci-bot", "tokens": [{"name": "deploy", "expires_in": 7}]},
           {"name": "cd-bot", "tokens": [{"name": "deploy", "expires_in": 7}]}]


def _users_fail_ci_bot(args):
    assert [entry.get("name") for entry in args["users"]] == ["A", "ci-bot", "cd-bot"]
    return {"failed": True, "changed": True, "msg": "users[1] (service user 'ci-bot'): POST /api/users failed with HTTP 500: boom",
            "users": [{"failed": True, "email": None, "name": "ci-bot", "msg": "boom"}],
            "summary": {"created": ["a@x.io", "cd-bot"]}}


def test_an_entry_failure_lets_independent_steps_run():
    calls = Calls({"netbird_user": _users_fail_ci_bot,
                   "netbird_user_approval": {"changed": True, "users": [{"email": "p@x.io"}]}})
    team = Team(users=[{"email": "a@x.io", "name": "A"}], service_users=SERVICE, approve=["p@x.io"])
    result = Onboarding(team, calls).run()
    assert calls.modules() == ["netbird_user", "netbird_user_token", "netbird_user_approval"]
    # the failed service user gets no token attempt, the other one does
    assert [entry["user_name"] for entry in calls.calls[1][1]["tokens"]] == ["cd-bot"]
    assert result["onboarding_failed"] and "fail_fast" not in calls.calls[0][1]
    assert result["msg"].startswith("netbird_onboarding_service_users[0] (ci-bot): POST /api/users failed with HTTP 500")
    assert "done in all: created 2, approved 1" in result["msg"] and "not attempted" not in result["msg"]
    assert result["result"]["approved"] == ["p@x.io"]


def test_fail_fast_and_whole_step_failures_stop_the_run():
    calls = Calls({"netbird_user": _users_fail_ci_bot})
    team = Team(users=[{"email": "a@x.io", "name": "A"}], service_users=SERVICE, approve=["p@x.io"])
    result = Onboarding(team, calls, fail_fast=True).run()
    assert calls.modules() == ["netbird_user"] and calls.calls[0][1]["fail_fast"] is True
    assert result["msg"].endswith("not attempted: the tokens, the approvals")

    calls = Calls({"netbird_user": {"failed": True, "msg": "GET /api/users failed: connection refused"}})
    result = Onboarding(Team(users=[{"email": "a@x.io", "name": "A"}], reject=["p@x.io"]), calls).run()
    assert calls.modules() == ["netbird_user"]
    assert result["msg"] == ("GET /api/users failed: connection refused; done in all: nothing was changed; "
                             "not attempted: the rejections")


def test_a_step_failure_does_not_say_nothing_changed_when_a_later_step_did():
    calls = Calls({"netbird_user": {"failed": True, "users": [{"failed": True, "email": "a@x.io"}],
                                    "msg": "users[0] (a@x.io): POST /api/users failed with HTTP 500; nothing had been changed yet"},
                   "netbird_user_approval": {"changed": True, "users": [{"email": "p@x.io", "changed": True}]}})
    result = Onboarding(Team(users=[{"email": "a@x.io", "name": "A"}], approve=["p@x.io"]), calls).run()
    assert "nothing had been changed yet" not in result["msg"] and "nothing was changed" not in result["msg"], result["msg"]
    assert result["msg"].startswith("netbird_onboarding_users[0] (a@x.io): POST /api/users failed with HTTP 500; done in all: ")


def test_a_team_file_entry_names_its_key_after_the_line():
    team = Team(team_file={"users": [Member({"email": "not-an-email", "name": "N"}, "team.csv line 4", "not-an-email")],
                           "service_users": [], "approve": [], "reject": []})
    assert team.problems and team.problems[0].startswith("team.csv line 4: email 'not-an-email'"), team.problems
    team = Team(users=[{"email": "not-an-email", "name": "N"}])
    assert team.problems[0].startswith("netbird_onboarding_users[0].email 'not-an-email'"), team.problems


def test_check_diffs_and_warnings_are_passed_on():
    calls = Calls({"netbird_user": {"changed": True, "diff": [{"before": {}, "after": {"role": "admin"}}],
                                    "warnings": ["users[0] (a@x.io): something"]}})
    result = Onboarding(Team(users=[{"email": "a@x.io", "name": "A"}]), calls).run()
    assert result["diff"] == [{"before": {}, "after": {"role": "admin"}}]
    assert result["warnings"] == ["netbird_onboarding_users[0] (a@x.io): something"]
    assert not result["onboarding_failed"] and "msg" not in result


class _SummaryShapes:
    """ansible-core 2.19's message classes as they look to the role (frozen dataclasses, the text in event.msg)."""

    @dataclasses.dataclass(frozen=True)
    class Event:
        msg: str

    @dataclasses.dataclass(frozen=True)
    class WarningSummary:
        event: Any

    @dataclasses.dataclass(frozen=True)
    class DeprecationSummary:
        event: Any
        version: Optional[str] = None


def test_warnings_and_deprecations_pass_on_their_text_not_a_repr():
    """ansible-core 2.19 returns a module's warnings as WarningSummary objects and its deprecations as
    DeprecationSummary (before: strings and dicts): the role passes on the message, relabelled, never the repr."""
    try:
        from ansible.module_utils._internal import _messages as messages
    except ImportError:  # ansible-core before 2.19: the same shapes
        messages = _SummaryShapes
    warning = messages.WarningSummary(event=messages.Event(msg="users[0] (a@x.io) will be deleted together with its 2 peers"))
    deprecation = messages.DeprecationSummary(event=messages.Event(msg="users[0] (a@x.io): old key"), version="3.0.0")
    calls = Calls({"netbird_user": {"changed": True, "warnings": [warning, "users[0] (a@x.io): plain"],
                                    "deprecations": [deprecation, {"msg": "users[0] (a@x.io): as a dict", "version": "3.0.0"}]}})
    result = Onboarding(Team(users=[{"email": "a@x.io", "name": "A"}]), calls).run()
    assert result["warnings"] == ["netbird_onboarding_users[0] (a@x.io) will be deleted together with its 2 peers",
                                  "netbird_onboarding_users[0] (a@x.io): plain"]
    first, second = result["deprecations"]
    assert isinstance(first, messages.DeprecationSummary) and first.version == "3.0.0"
    assert first.event.msg == "netbird_onboarding_users[0] (a@x.io): old key"
    assert second == {"msg": "netbird_onboarding_users[0] (a@x.io): as a dict", "version": "3.0.0"}


# -- team files ------------------------------------------------------------------------------------------------------

CSV = (u"\ufeffEmail,Name,role,auto_groups,Department,service_user,blocked\n"
       u"zoe@example.com,Zoë Ångström,admin,developers;ops,R&D,,\n"
       u"li@example.com,李雷,,,Sales,false,no\n"
       u"\n"
       u",\"{{ lookup('pipe', 'id') }}\",user,ci,,true,\n"
       u"\"multi@example.com\",\"Multi, Name\",user, developers ; ,,,true\n")


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_csv_rows_become_users_and_service_users(tmp_path):
    warnings = []
    team = read_team_file(_write(tmp_path, "team.csv", CSV), "team.csv", warnings.append)
    assert [(m.where, m.entry) for m in team["users"]] == [
        ("team.csv line 2", {"email": "zoe@example.com", "name": u"Zoë Ångström", "role": "admin", "auto_groups": ["developers", "ops"]}),
        ("team.csv line 3", {"email": "li@example.com", "name": u"李雷", "blocked": False}),
        ("team.csv line 6", {"email": "multi@example.com", "name": "Multi, Name", "role": "user", "auto_groups": ["developers"],
                             "blocked": True}),
    ]
    # values are data: a template is kept as written
    assert [(m.label, m.entry) for m in team["service_users"]] == [
        ("team.csv line 5 ({{ lookup('pipe', 'id') }})", {"name": "{{ lookup('pipe', 'id') }}", "role": "user", "auto_groups": ["ci"]})]
    assert warnings == [("team.csv: ignored the column(s) 'Department'; the columns a team file takes are email, name, role, "
                         "auto_groups, auto_groups_mode, blocked, state, service_user")]
    # the entries pass the role's rules
    checked = Team(users=[{"email": "x@example.com"}], team_file=team)
    assert checked.problems == []
    assert [m.entry.get("blocked") for m in checked.users] == [None, None, False, True]


@pytest.mark.parametrize("name, text, message", [
    ("a.csv", "name,role\nA,user\n", "a.csv line 1: the header has no email column (it has: name, role)"),
    ("a.csv", "email,name\na@x.io,A,extra\n", "a.csv line 2: 3 fields, but the header names 2 columns"),
    ("a.csv", "email,name,service_user\na@x.io,A,maybe\n", "a.csv line 2: service_user must be true or false, got 'maybe'"),
    ("a.csv", "email,name,service_user\na@x.io,bot,true\n", "a.csv line 2: email does not apply to a service user"),
    ("a.csv", "", "a.csv is empty"),
    # an unclosed quote would swallow the rows after it into one value: refused, naming the line where it opens
    ("a.csv", 'email,name\na@x.io,"Al\nb@x.io,B\nc@x.io,C\n', "a.csv line 2: unexpected end of data (an unclosed or stray quote?)"),
    ("a.csv", 'email,name\na@x.io,"Al\nb@x.io,B\nc@x.io,"C"\nd@x.io,D\n', "a.csv line 2: "),
    ("a.csv", 'email,name\na@x.io,A\nb@x.io,"B\nC"\n', "a.csv line 3: a quoted value runs over 2 lines"),
    ("a.csv", 'email,name\na@x.io,"A"l\n', "a.csv line 2: ',' expected after '\"' (an unclosed or stray quote?)"),
    ("a.yml", "users:\n  - email: a@x.io\n    name: [unclosed\n", "a.yml line 4: "),
    ("a.json", '{"users": [\n{"email": "a@x.io",}\n]}', "a.json line 2: "),
    ("a.yml", "users: []\ngroups: []\n", "a.yml: unknown key(s) groups; a team file has users, service_users, approve, reject"),
    ("a.yml", "- a@x.io\n", "a.yml must hold a mapping"),
    ("a.yml", "users:\n  - a@x.io\n", "a.yml users[0] must be a dict, got str"),
    ("a.txt", "", "a.txt: a team file is .csv, .yml, .yaml or .json"),
])
def test_a_bad_file_is_refused_naming_the_file_and_line(tmp_path, name, text, message):
    with pytest.raises(TeamFileError) as caught:
        read_team_file(_write(tmp_path, name, text), name, lambda text: None)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_file_entries_follow_the_role_rules_and_join_the_variables(tmp_path):
    text = ("users:\n  - {email: a@x.io, name: A, role: boss}\n  - {email: B@x.io, name: B, grups: [x]}\n  - {email: c@x.io}\n"
            "service_users:\n  - {name: bot, tokens: [{name: t, expires_in: 400}]}\napprove: [bob]\n")
    team = read_team_file(_write(tmp_path, "t.yml", text), "t.yml", None)
    checked = Team(users=[{"email": "c@X.io", "name": "C"}], service_users=[{"name": "bot"}], team_file=team)
    assert checked.problems[0].startswith("t.yml users[0] (a@x.io): value of role must be one of: admin, user,")
    assert checked.problems[1].startswith("t.yml users[1] (B@x.io): unsupported key 'grups'; the keys are ")
    assert "Supported parameters" not in checked.problems[1] and not checked.problems[1].endswith(".")
    assert "c@x.io is named twice: netbird_onboarding_users[0] and t.yml users[2]; name each user once" in checked.problems
    assert "bot is named twice: netbird_onboarding_service_users[0] and t.yml service_users[0]; name each user once" in checked.problems
    assert "t.yml approve[0] 'bob' is not an email address" in checked.problems
    assert any(problem.startswith("t.yml service_users[0] (bot).tokens[0] (t): expires_in must be between 1 and 365")
               for problem in checked.problems)
