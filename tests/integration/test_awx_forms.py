# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The form playbooks examples/awx/onboard_person.yml and offboard_person.yml run the way a job template with a
survey runs them: ``ansible-runner`` on a private data directory, the survey's answers as extra variables (a
multiselect answer is a list, a text answer a string), the credential's environment injected from
extensions/awx/credential_type_netbird.yml, and the project checked out as the job's project directory.

The emulator marks every secret it makes (the API token, one-time passwords), so "no secret in the job" is one
search over everything the controller keeps of a job: stdout and every job event (set_stats artifacts included).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from nb_awx import inject, load_credential_type, require_tool
from nb_testlib import REPO, Emulator

MARK = "AwxFormSecret"
SURVEYS = os.path.join(REPO, "examples", "awx", "surveys")
VAULT_TOKEN = "vault-test-token"  # nosec - a stand-in's token


class Job:
    """One ``ansible-runner run``, as one controller job: its status, stdout and job events."""

    def __init__(self, artifacts, proc):
        self.proc = proc
        with open(os.path.join(artifacts, "status"), encoding="utf-8") as handle:
            self.status = handle.read().strip()
        with open(os.path.join(artifacts, "stdout"), encoding="utf-8") as handle:
            self.stdout = handle.read()
        self.events = []
        events_dir = os.path.join(artifacts, "job_events")
        for name in sorted(os.listdir(events_dir)):
            with open(os.path.join(events_dir, name), encoding="utf-8") as handle:
                self.events.append(json.load(handle))

    def stats(self):
        stats = [event["event_data"] for event in self.events if event["event"] == "playbook_on_stats"]
        assert stats, "no playbook_on_stats event:\n%s" % self.stdout
        return stats[-1]

    def changed(self):
        return self.stats().get("changed") or {}

    def artifacts(self):
        """What set_stats left: the controller stores it as the job's artifacts."""
        return self.stats().get("artifact_data") or {}

    def recorded_text(self):
        return self.stdout + "\n".join(json.dumps(event) for event in self.events)


class Controller:
    """Lays out one private data directory per job as the controller does, with the project and the credential."""

    def __init__(self, base, emulator, collections_path, extra_env=None):
        self.base = base
        self.count = 0
        credential = {"netbird_api_url": emulator.url, "netbird_api_token": emulator.token}
        self.env = inject(load_credential_type(), credential, os.path.join(base, "credential"))
        self.env.update(extra_env or {})
        # In an execution environment the collection is installed in /usr/share/ansible/collections.
        self.env["ANSIBLE_COLLECTIONS_PATH"] = collections_path
        self.env["ANSIBLE_HOME"] = os.path.join(base, "ansible-home")

    def launch(self, playbook, answers, check=False, verbosity=0):
        """Launch the job template of ``playbook`` with the survey ``answers`` (the extra variables AWX passes);
        ``check``: job type "Check"; ``verbosity``: the template's verbosity (4: connection debug)."""
        self.count += 1
        pdd = os.path.join(self.base, "job-%d" % self.count)
        shutil.copytree(os.path.join(REPO, "examples", "awx"), os.path.join(pdd, "project", "examples", "awx"))
        for sub in ("inventory", "env"):
            os.makedirs(os.path.join(pdd, sub))
        with open(os.path.join(pdd, "inventory", "hosts"), "w", encoding="utf-8") as handle:
            handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        env = dict(self.env, ANSIBLE_LOCAL_TEMP=os.path.join(pdd, "tmp"))
        with open(os.path.join(pdd, "env", "envvars"), "w", encoding="utf-8") as handle:
            yaml.safe_dump(env, handle)
        with open(os.path.join(pdd, "env", "extravars"), "w", encoding="utf-8") as handle:
            yaml.safe_dump(dict(answers, awx_job_id=self.count, awx_job_template_name="NetBird"), handle)
        cmd = [require_tool("ansible-runner"), "run", pdd, "-p", "examples/awx/" + playbook, "--ident", "job"]
        options = (["--check", "--diff"] if check else []) + (["-" + "v" * verbosity] if verbosity else [])
        if options:
            cmd.append("--cmdline=" + " ".join(options))
        run_env = {key: value for key, value in os.environ.items() if not key.startswith(("NETBIRD_", "NB_", "ANSIBLE_", "VAULT_"))}
        run_env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + run_env.get("PATH", "")
        proc = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=600, check=False)
        artifacts = os.path.join(pdd, "artifacts", "job")
        assert os.path.isdir(artifacts), "ansible-runner wrote no artifacts:\n%s\n%s" % (proc.stdout, proc.stderr)
        return Job(artifacts, proc)


class Vault:
    """Just enough of HashiCorp Vault's KV v2 write (POST /v1/<mount>/data/<path>) to receive a handover."""

    def __init__(self):
        self.secrets = {}
        vault = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002  # pylint: disable=redefined-builtin
                pass

            def do_POST(self):  # pylint: disable=invalid-name
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                ok = self.headers.get("X-Vault-Token") == VAULT_TOKEN and self.path.startswith("/v1/secret/data/")
                if ok:
                    vault.secrets[self.path[len("/v1/secret/data/"):]] = body["data"]
                data = json.dumps({"data": {"version": 1}} if ok else {"errors": ["permission denied"]}).encode()
                self.send_response(200 if ok else 403)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def marked_emulator():
    emu = Emulator.start("--secret-marker", MARK)
    emu.seed(groups=[{"name": "developers"}, {"name": "ops"}],
             users=[{"email": "erin@example.com", "name": "Erin Leaver", "auto_groups": ["ops"], "peers": 2},
                    {"email": "frank@example.com", "name": "Frank Leaver", "peers": 3}])
    yield emu
    emu.stop()


@pytest.fixture()
def vault():
    stub = Vault()
    yield stub
    stub.stop()


def survey_variables(name):
    with open(os.path.join(SURVEYS, name), encoding="utf-8") as handle:
        return {question["variable"] for question in json.load(handle)["spec"]}


def groups_of(emu, email):
    ids = {group["id"]: group["name"] for group in emu.state()["groups"]}
    return sorted(ids[group_id] for group_id in emu.user(email=email)["auto_groups"])


def test_onboard_person_form(marked_emulator, vault, collections_path, tmp_path):
    emu = marked_emulator
    assert survey_variables("onboard_person.json") == {"person_email", "person_name", "person_role", "person_change_role",
                                                       "person_groups"}
    controller = Controller(str(tmp_path), emu, collections_path, {"VAULT_ADDR": vault.url, "VAULT_TOKEN": VAULT_TOKEN})
    group_names = sorted(group["name"] for group in emu.state()["groups"])
    alice = {"person_email": "alice@example.com", "person_name": "Alice Engineer", "person_role": "user",
             "person_groups": ["developers", "ops"], "person_handover_tasks": "handover/vault_kv.yml"}

    # a multiselect answer (a list); the one-time password goes to the secret store, nowhere else, even at the
    # highest verbosity
    first = controller.launch("onboard_person.yml", alice, verbosity=4)
    assert first.status == "successful", first.stdout + first.proc.stderr
    assert "ESTABLISH LOCAL CONNECTION" in first.stdout  # the verbosity reached ansible-playbook
    assert groups_of(emu, "alice@example.com") == ["developers", "ops"]
    handed_over = vault.secrets["netbird/onboarding/alice@example.com"]
    assert handed_over["one_time_password"].startswith(MARK) and handed_over["name"] == "Alice Engineer"

    # the same answers again, but the form's role admin without person_change_role: Alice keeps her role (the
    # survey's role is for new people), no change, nothing handed over again
    vault.secrets.clear()
    emu.reset_counters()
    second = controller.launch("onboard_person.yml", dict(alice, person_role="admin"))
    assert second.status == "successful", second.stdout
    assert second.changed() == {} and emu.writes() == 0 and vault.secrets == {}, second.stdout
    assert emu.user(email="alice@example.com")["role"] == "user"
    assert "user (kept: the form asked for admin; set person_change_role to yes to change it)" in second.stdout, second.stdout

    # a text answer "developers, ops", a role in capitals, and no handover set up: the embedded IdP would return a
    # one-time password with nowhere to go, so the job stops before anything is written
    bob = {"person_email": "bob@example.com", "person_name": "Bob Admin", "person_role": "Admin",
           "person_groups": "developers, ops"}
    third = controller.launch("onboard_person.yml", bob)
    assert third.status == "failed"
    assert ("bob@example.com would be created with a one-time password (this server uses NetBird's embedded identity "
            "provider), but person_handover_tasks is not set. Nothing was changed.") in third.stdout, third.stdout
    assert emu.writes() == 0 and emu.user(email="bob@example.com") is None

    # an existing person's role changes only when the form asks for it; the job's diff shows the change
    erin = {"person_email": "erin@example.com", "person_role": "network_admin", "person_change_role": "yes",
            "person_groups": ["developers"]}
    fourth = controller.launch("onboard_person.yml", erin)
    assert fourth.status == "successful", fourth.stdout
    assert emu.user(email="erin@example.com")["role"] == "network_admin"
    assert groups_of(emu, "erin@example.com") == ["developers", "ops"]
    assert '-    "role": "user"' in fourth.stdout and '+    "role": "network_admin"' in fourth.stdout, fourth.stdout
    assert "network_admin (was user)" in fourth.stdout

    # a typo in a group: fails before any write, names the answer, creates neither a group nor the person
    emu.reset_counters()
    carol = {"person_email": "carol@example.com", "person_name": "Carol", "person_groups": "developers, devs"}
    typo = controller.launch("onboard_person.yml", carol)
    assert typo.status == "failed"
    assert "person_groups: unknown group 'devs'" in typo.stdout and "never creates groups" in typo.stdout, typo.stdout
    assert "did you mean 'developers'?). Nothing was changed." in typo.stdout, typo.stdout
    assert "create_groups" not in typo.stdout
    assert emu.writes() == 0 and emu.user(email="carol@example.com") is None
    assert sorted(group["name"] for group in emu.state()["groups"]) == group_names

    for job in (first, second, third, fourth, typo):
        assert MARK not in job.recorded_text()
        assert VAULT_TOKEN not in job.recorded_text()


def test_onboard_person_form_checks_before_writing(collections_path, tmp_path):
    """A server with an external IdP returns no one-time password: no handover is needed there. A handover that is
    set but cannot work (no Vault settings) fails before the person is created."""
    emu = Emulator.start("--idp", "external", "--secret-marker", MARK)
    try:
        emu.seed(groups=[{"name": "developers"}])
        controller = Controller(str(tmp_path), emu, collections_path)
        ivan = {"person_email": "ivan@example.com", "person_name": "Ivan", "person_groups": ["developers"]}

        emu.reset_counters()
        broken = controller.launch("onboard_person.yml", dict(ivan, person_handover_tasks="handover/vault_kv.yml"))
        assert broken.status == "failed"
        assert ("person_handover_tasks (handover/vault_kv.yml): its check 'Check that VAULT_ADDR and VAULT_TOKEN are set' "
                "failed: VAULT_ADDR and VAULT_TOKEN must be set") in broken.stdout, broken.stdout
        assert "Nothing was changed." in broken.stdout
        assert emu.writes() == 0 and emu.user(email="ivan@example.com") is None

        invited = controller.launch("onboard_person.yml", ivan)
        assert invited.status == "successful", invited.stdout
        assert emu.user(email="ivan@example.com")["status"] == "invited"
        assert groups_of(emu, "ivan@example.com") == ["developers"]
        assert '"one_time_password": "none"' in invited.stdout
        for job in (broken, invited):
            assert MARK not in job.recorded_text()
    finally:
        emu.stop()


def test_offboard_person_form(marked_emulator, collections_path, tmp_path):
    emu = marked_emulator
    assert survey_variables("offboard_person.json") == {"person_email", "offboard_action"}
    controller = Controller(str(tmp_path), emu, collections_path)
    users = len(emu.users())

    # default action block: Erin is blocked and keeps her peers
    block = controller.launch("offboard_person.yml", {"person_email": "erin@example.com", "offboard_action": "block"})
    assert block.status == "successful", block.stdout + block.proc.stderr
    assert block.changed() == {"localhost": 1}
    erin = emu.user(email="erin@example.com")
    assert erin["is_blocked"] is True and erin["peers"] == 2
    assert "erin@example.com is now blocked; their peers are kept." in block.stdout

    # a check job shows what delete would do and writes nothing
    emu.reset_counters()
    check = controller.launch("offboard_person.yml", {"person_email": "Frank@Example.com", "offboard_action": "delete"}, check=True)
    assert check.status == "successful", check.stdout
    assert check.changed() == {"localhost": 1} and emu.writes() == 0
    assert "frank@example.com would be deleted, with 3 peer(s)." in check.stdout.replace("Frank@Example.com", "frank@example.com")

    delete = controller.launch("offboard_person.yml", {"person_email": "frank@example.com", "offboard_action": "delete"})
    assert delete.status == "successful", delete.stdout
    assert emu.user(email="frank@example.com") is None
    assert "frank@example.com was deleted, with 3 peer(s)." in delete.stdout

    # someone who has no NetBird user: no change, nobody created, no error
    emu.reset_counters()
    nobody = controller.launch("offboard_person.yml", {"person_email": "nobody@example.com"})
    assert nobody.status == "successful", nobody.stdout
    assert nobody.changed() == {} and emu.writes() == 0
    assert "No NetBird user has the email nobody@example.com: nothing to do." in nobody.stdout
    assert len(emu.users()) == users - 1

    # an access review job keeps its findings and report.md as job artifacts: its container is thrown away
    review = controller.launch("access_review.yml", {})
    assert review.status == "successful", review.stdout
    artifacts = review.artifacts()
    assert artifacts["netbird_access_review"]["blocked"] == ["erin@example.com"]
    assert artifacts["netbird_access_review"]["counts"]["regular_users"] == users - 1
    assert "erin@example.com" in artifacts["netbird_access_review_report"]
    assert "report_md" not in artifacts["netbird_access_review"]

    for job in (block, check, delete, nobody, review):
        assert MARK not in job.recorded_text()
