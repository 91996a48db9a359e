# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The onboarding role run the way AWX / Automation Platform runs a job template: through
``ansible-runner`` (the engine under the controller), with the credential's environment injected
from extensions/awx/credential_type_netbird.yml (tests/nb_awx.py) and no connection variables in
the playbook (examples/onboard.yml) or the extra variables (examples/team.yml).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from nb_awx import inject, load_credential_type, require_tool
from nb_testlib import REPO, Emulator

TEAM_FILE = os.path.join(REPO, "examples", "team.yml")
SEED_FILE = os.path.join(REPO, "examples", "emulator-seed.json")


class Job:
    """One ``ansible-runner run`` of a private data directory, like one controller job."""

    def __init__(self, private_data_dir, ident, proc):
        self.proc = proc
        self.artifacts = os.path.join(private_data_dir, "artifacts", ident)
        with open(os.path.join(self.artifacts, "status"), encoding="utf-8") as handle:
            self.status = handle.read().strip()
        self.events = []
        for path in sorted(glob.glob(os.path.join(self.artifacts, "job_events", "*.json"))):
            with open(path, encoding="utf-8") as handle:
                self.events.append(json.load(handle))
        with open(os.path.join(self.artifacts, "stdout"), encoding="utf-8") as handle:
            self.stdout = handle.read()

    def stats(self, key):
        stats = [event["event_data"] for event in self.events if event["event"] == "playbook_on_stats"]
        assert stats, "no playbook_on_stats event:\n%s" % self.stdout
        return stats[-1].get(key) or {}

    def recorded_text(self):
        """Everything the controller keeps of a job: the stdout and every job event."""
        return self.stdout + "\n".join(json.dumps(event) for event in self.events)


def private_data_dir(base, env, extravars, collections_path):
    """An ansible-runner private data directory laid out as the controller lays it out for a job."""
    pdd = os.path.join(base, "job")
    os.makedirs(os.path.join(pdd, "project"))
    os.makedirs(os.path.join(pdd, "inventory"), exist_ok=True)
    os.makedirs(os.path.join(pdd, "env"), exist_ok=True)
    shutil.copy(os.path.join(REPO, "examples", "onboard.yml"), os.path.join(pdd, "project", "onboard.yml"))
    with open(os.path.join(pdd, "inventory", "hosts"), "w", encoding="utf-8") as handle:
        handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    envvars = dict(env)
    # In an execution environment the collection is installed in /usr/share/ansible/collections.
    envvars["ANSIBLE_COLLECTIONS_PATH"] = collections_path
    envvars["ANSIBLE_LOCAL_TEMP"] = os.path.join(base, "ansible-tmp")
    envvars["ANSIBLE_HOME"] = os.path.join(base, "ansible-home")
    with open(os.path.join(pdd, "env", "envvars"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(envvars, handle)
    with open(os.path.join(pdd, "env", "extravars"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(extravars, handle)
    return pdd


def run_job(pdd, ident):
    runner = require_tool("ansible-runner")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("NETBIRD_", "NB_", "ANSIBLE_"))}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run([runner, "run", pdd, "-p", "onboard.yml", "--ident", ident],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert os.path.isdir(os.path.join(pdd, "artifacts", ident)), "ansible-runner wrote no artifacts:\n%s\n%s" % (proc.stdout, proc.stderr)
    return Job(pdd, ident, proc)


def team_with_a_token():
    with open(TEAM_FILE, encoding="utf-8") as handle:
        team = yaml.safe_load(handle)
    for service_user in team["netbird_onboarding_service_users"]:
        if service_user["name"] == "ci-pipeline":
            service_user["tokens"] = [{"name": "deploy", "expires_in": 30}]
    return team


def test_onboarding_job_with_injected_credential(emulator, collections_path, tmp_path):
    with open(SEED_FILE, encoding="utf-8") as handle:
        emulator.seed(**json.load(handle))
    credential = {"netbird_api_url": emulator.url, "netbird_api_token": emulator.token}
    env = inject(load_credential_type(), credential, str(tmp_path / "controller"))
    pdd = private_data_dir(str(tmp_path), env, team_with_a_token(), collections_path)

    first = run_job(pdd, "first")
    assert first.status == "successful", first.stdout + first.proc.stderr
    assert first.stats("failures") == {} and first.stats("changed").get("localhost", 0) > 0
    assert emulator.user(email="alice@example.com")["role"] == "admin"
    assert emulator.user(name="ci-pipeline")["role"] == "network_admin"
    assert emulator.user(email="dave@example.com")["pending_approval"] is False
    assert emulator.user(email="mallory@example.com") is None

    second = run_job(pdd, "second")
    assert second.status == "successful", second.stdout
    assert second.stats("changed") == {}, second.stdout

    # The controller stores stdout and job events: neither may hold the API token or the new PAT
    # (every NetBird PAT starts with nbp_); the module arguments show the token masked.
    for job in (first, second):
        text = job.recorded_text()
        assert emulator.token not in text
        assert "nbp_" not in text


def test_self_hosted_tls_with_the_credential_ca_certificate(collections_path, tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl CLI is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    emu = Emulator.start("--tls-cert", str(cert), "--tls-key", str(key))
    try:
        assert emu.url.startswith("https://")
        # secure logging off: ansible-core < 2.19 hides the message of a failed no_log task entirely
        team = {"netbird_onboarding_service_users": [{"name": "tls-check", "role": "auditor"}],
                "netbird_onboarding_secure_logging": False}
        credential = {"netbird_api_url": emu.url, "netbird_api_token": emu.token}

        # Without the CA certificate the job fails with the TLS hint, and no token is shown.
        env = inject(load_credential_type(), credential, str(tmp_path / "controller-1"))
        assert env["NETBIRD_CA_PATH"] == ""
        job = run_job(private_data_dir(str(tmp_path / "without-ca"), env, team, collections_path), "job")
        assert job.status == "failed"
        assert "set ca_path (or NETBIRD_CA_PATH)" in job.stdout, job.stdout
        assert emu.token not in job.recorded_text()

        credential["netbird_ca_cert"] = cert.read_text(encoding="utf-8")
        env = inject(load_credential_type(), credential, str(tmp_path / "controller-2"))
        job = run_job(private_data_dir(str(tmp_path / "with-ca"), env, team, collections_path), "job")
        assert job.status == "successful", job.stdout
        assert job.stats("changed") == {"localhost": 1}
    finally:
        emu.stop()
