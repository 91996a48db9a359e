# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's ad-hoc commands work, in the order printed, on a fresh account (make demo's seed).

Each ``ansible localhost -m MODULE -a 'ARGS' [--check] [--diff]`` line becomes one task of a single playbook
(the same module arguments in Ansible's key=value form, check_mode / diff per task): one ansible-playbook run
instead of one ansible run per line. Each command must succeed, and each one that writes must change something,
then nothing when run again.
"""

from __future__ import annotations

import json
import os
import re
import shlex

from nb_testlib import REPO


def readme_commands():
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as handle:
        text = handle.read()
    block = text.split("Ad-hoc, in this order on a fresh account", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        line = line.split("  #", 1)[0].strip()
        if not line.startswith("ansible localhost"):
            continue
        argv = shlex.split(line)
        commands.append({"module": argv[argv.index("-m") + 1], "args": argv[argv.index("-a") + 1] if "-a" in argv else "",
                         "check": "--check" in argv, "diff": "--diff" in argv, "line": line})
    return commands


def test_readme_adhoc_commands_work_in_order_on_a_fresh_account(ansible, emulator):
    with open(os.path.join(REPO, "examples", "emulator-seed.json"), encoding="utf-8") as handle:
        emulator.seed(**json.load(handle))
    commands = readme_commands()
    assert len(commands) >= 6, commands
    tasks = []
    for number, cmd in enumerate(commands):
        # the token comes from the environment, never from -a (a failed ad-hoc task prints its arguments)
        assert "api_token" not in cmd["args"], cmd["line"]
        for run_id in ("first", "again"):
            tasks.append({"name": "%d %s" % (number, run_id), cmd["module"]: cmd["args"],
                          "check_mode": cmd["check"], "diff": cmd["diff"]})
    run = ansible.playbook(tasks)
    assert run.rc == 0, run.output
    for number, cmd in enumerate(commands):
        first, again = run.result("%d first" % number), run.result("%d again" % number)
        assert not first["failed"] and not again["failed"], (cmd["line"], first, again)
        if cmd["module"].endswith("_info"):
            assert first["users"], cmd["line"]
        elif cmd["check"]:
            assert first["changed"] and again["changed"] and "diff" in first, cmd["line"]
        else:
            assert first["changed"] and not again["changed"], (cmd["line"], first, again)
    assert re.search(r"\bbob@example.com\b", json.dumps(run.result("0 first"))) is None  # the account started without Bob
    assert emulator.user(email="bob@example.com") is None  # the last command removed him
