# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The onboarding action runs netbird_user and friends in its own process under ``connection: local``
(plugin_utils/_in_process.py), and as modules otherwise (here: a play ``environment``, which only a module would see).
Both ways must give the same: exit status, failure message, result, check-mode diffs, server end state."""

from __future__ import annotations

import json
import re

from test_onboarding_role import KEPT, KEPT_TEAM, ROLE_BLOCK, read_result

WAYS = (("in this process", None), ("as modules", {"NB_TEST_MARKER": "1"}))
ONBOARD = "Onboard users, service users and their tokens, approve and reject"
# one broken user (500 on create), a user in a group, two service users with tokens, an approval, a removal
TEAM = dict(KEPT_TEAM, netbird_onboarding_users=KEPT_TEAM["netbird_onboarding_users"] + [{"email": "gone@example.com", "state": "absent"}])
SEED = dict(KEPT, users=KEPT["users"] + [{"email": "gone@example.com", "name": "Gone"}])


def end_state(emulator):
    """The account without IDs, dates and secrets: what a user would compare."""
    state = emulator.state()
    names = dict((group["id"], group["name"]) for group in state["groups"])
    users = sorted((user.get("email") or user["name"], user["role"], tuple(sorted(names[gid] for gid in user.get("auto_groups") or [])),
                    bool(user.get("is_blocked")), bool(user.get("pending_approval")), bool(user.get("is_service_user")))
                   for user in state["users"])
    who = dict((user["id"], user.get("email") or user["name"]) for user in state["users"])
    tokens = sorted((who[uid], token["name"]) for uid, tokens in state["tokens"].items() for token in tokens)
    return users, tokens


def without_secrets(result):
    result = dict(result)
    result["passwords"] = sorted(result.get("passwords") or {})
    result["tokens"] = dict((user, sorted(tokens)) for user, tokens in (result.get("tokens") or {}).items())
    return result


def run(ansible, emulator, way, environment, **kwargs):
    emulator.reset()
    emulator.seed(**SEED)
    done = ansible.playbook(ROLE_BLOCK, play_vars=dict(TEAM, netbird_api_concurrency=1), play_environment=environment,
                            verbosity=3, **kwargs)
    assert "netbird_onboarding: the modules run %s" % way in done.stdout, done.stdout
    return done


def test_in_process_and_as_modules_agree(ansible, emulator):
    outcomes = []
    for way, environment in WAYS:
        done = run(ansible, emulator, way, environment)
        failure = [re.sub(r"X-Request-Id \w+", "X-Request-Id ?", r["result"]["msg"]) for r in done.results
                   if r["task"].endswith("Fail with what went wrong and what was done")]
        outcomes.append((done.rc, failure, without_secrets(read_result(ansible)), end_state(emulator)))
        # the one-time passwords and tokens stay out of the output either way (-vvv)
        result = read_result(ansible)
        for secret in list(result["passwords"].values()) + [s for t in result["tokens"].values() for s in t.values()]:
            assert secret not in done.output
    assert outcomes[0] == outcomes[1]
    rc, failure, result, state = outcomes[0]
    assert rc != 0 and "netbird_onboarding_users[1] (kept@example.com)" in failure[0] and "HTTP 500" in failure[0], failure
    assert sorted(result["created"]) == ["cd-bot", "ci-bot", "first@example.com", "last@example.com"], result
    assert result["removed"] == ["gone@example.com"] and result["approved"] == ["dave@example.com"], result
    assert state[1] == [("cd-bot", "deploy"), ("ci-bot", "deploy"), ("owner@example.com", "emulator owner")]


def test_check_mode_diffs_agree(ansible, emulator):
    diffs = []
    for way, environment in WAYS:
        done = run(ansible, emulator, way, environment, check=True, diff=True)
        assert emulator.writes() == 0
        task = [r["result"] for r in done.results if r["task"].endswith(ONBOARD)][0]
        # a predicted token expiry is "now + expires_in": the runs are seconds apart
        diffs.append((task["changed"], sorted(re.sub(r'"expiration_date": "[^"]+"', '"expiration_date": "?"', json.dumps(diff, sort_keys=True))
                                              for diff in task["diff"])))
    assert diffs[0] == diffs[1]
    assert diffs[0][0] and len(diffs[0][1]) >= 5, diffs[0]
