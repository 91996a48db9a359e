# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""examples/invite_mail.yml as a user runs it: ansible.builtin only, so it resolves wherever the collection does
(Galaxy's import lint included), and it really mails each new link once.

A stand-in sendmail records its arguments and the message; the example runs twice in one ansible-playbook
process (two imports of the same playbook): the first run mails one link to each new person, the second mails
nothing. The links appear in the mails, never in Ansible's output.
"""

from __future__ import annotations

import json
import os
import sys

import yaml

from nb_testlib import REPO

SENDMAIL = """#!{python}
import json, os, sys
out = {out!r}
n = len(os.listdir(out))
with open(os.path.join(out, "%d.json" % n), "w") as handle:
    json.dump({{"argv": sys.argv[1:], "message": sys.stdin.read()}}, handle)
"""


def test_invite_mail_example_mails_each_new_link_once(ansible, emulator, tmp_path):
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    sendmail = tmp_path / "sendmail"
    sendmail.write_text(SENDMAIL.format(python=sys.executable, out=str(outbox)))
    sendmail.chmod(0o755)
    example = os.path.join(REPO, "examples", "invite_mail.yml")
    with open(example, encoding="utf-8") as handle:
        modules = {key for play in yaml.safe_load(handle) for task in play["tasks"] for key in task if "." in key}
    assert modules == {"netbird_ops.netbird.netbird_user_invite", "ansible.builtin.command", "ansible.builtin.debug"}, modules

    wrapper = tmp_path / "twice.yml"
    wrapper.write_text(yaml.safe_dump([{"ansible.builtin.import_playbook": example}] * 2))
    run = ansible.playbook(playbook=str(wrapper), args=["-e", "@" + os.path.join(REPO, "examples", "team.yml"),
                                                        "-e", "mail_sendmail=%s" % sendmail])
    assert run.rc == 0, run.output

    mails = [json.loads((outbox / name).read_text()) for name in sorted(os.listdir(outbox))]
    invited = {"alice@example.com", "bob@example.com", "carol@example.com"}
    assert sorted(m["argv"][-1] for m in mails) == sorted(invited)  # once each: the second run mailed nothing
    for mail in mails:
        assert mail["argv"][:5] == ["-i", "-f", "netbird-admin@example.com", "--", mail["argv"][-1]]
        headers, body = mail["message"].split("\n\n", 1)
        assert "To: %s" % mail["argv"][-1] in headers.splitlines() and "Subject: Your NetBird account" in headers
        url = [line for line in body.splitlines() if "/invite?token=" in line]
        assert len(url) == 1 and url[0].startswith(emulator.url + "/invite?token="), body
        assert url[0] not in run.output
    assert sorted(i["email"] for i in emulator.state()["invites"]) == sorted(invited)
