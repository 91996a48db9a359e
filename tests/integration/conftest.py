# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for integration tests: the collection as built and installed by ansible-galaxy,
a NetBird API emulator process, and helpers that run real ansible-playbook / ansible commands."""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from nb_testlib import REPO, Emulator, bin_path

CALLBACK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "callback_plugins")


@pytest.fixture(scope="session")
def collection_tarball(tmp_path_factory):
    """The collection artifact, built with ansible-galaxy into a temporary directory."""
    build_dir = tmp_path_factory.mktemp("build")
    subprocess.run([bin_path("ansible-galaxy"), "collection", "build", REPO, "--output-path", str(build_dir), "--force"],
                   check=True, capture_output=True, text=True)
    return glob.glob(str(build_dir / "netbird_ops-netbird-*.tar.gz"))[0]


@pytest.fixture(scope="session")
def collections_path(tmp_path_factory, collection_tarball):
    """The collection artifact installed by ansible-galaxy into a temporary collections path."""
    tarball = collection_tarball
    target = tmp_path_factory.mktemp("collections")
    subprocess.run([bin_path("ansible-galaxy"), "collection", "install", tarball, "-p", str(target), "--force"],
                   check=True, capture_output=True, text=True)
    return str(target)


@pytest.fixture(scope="session")
def emulator_process():
    emu = Emulator.start()
    yield emu
    emu.stop()


@pytest.fixture()
def emulator(emulator_process):
    """The shared emulator, reset to its start-up state before each test."""
    emulator_process.reset()
    return emulator_process


class Run:
    """Outcome of one ansible-playbook or ansible run."""

    def __init__(self, proc, results):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.output = proc.stdout + proc.stderr
        self.results = results

    def recap(self, host="localhost"):
        match = re.search(r"^%s\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)" % re.escape(host),
                          self.stdout, re.M)
        assert match, "no PLAY RECAP in output:\n%s" % self.output
        return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups())))

    def result(self, task):
        """Result dict of the (last) task with that name."""
        found = [r for r in self.results if r["task"] == task]
        assert found, "task %r has no result; tasks: %s\n%s" % (task, [r["task"] for r in self.results], self.output)
        result = dict(found[-1]["result"])
        result["failed"] = found[-1]["status"] in ("failed", "ignored")
        return result

    def status(self, task):
        return [r for r in self.results if r["task"] == task][-1]["status"]


class Ansible:
    """Runs ansible-playbook / ansible against the emulator with the installed collection."""

    def __init__(self, collections_path, emulator, tmp_path):
        self.collections_path = collections_path
        self.emulator = emulator
        self.tmp_path = tmp_path
        self.counter = 0

    def env(self, extra=None, token=None, url=None):
        env = dict(os.environ)
        for key in list(env):
            if key.startswith(("NETBIRD_", "NB_", "ANSIBLE_")):
                del env[key]
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": self.collections_path,
            "ANSIBLE_CALLBACK_PLUGINS": CALLBACK_DIR,
            "ANSIBLE_CALLBACKS_ENABLED": "nb_results",
            "ANSIBLE_LOCAL_TEMP": str(self.tmp_path / "ansible-tmp"),
            "ANSIBLE_HOME": str(self.tmp_path / "ansible-home"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_DEPRECATION_WARNINGS": "1",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "NETBIRD_API_URL": url if url is not None else self.emulator.url,
            "NETBIRD_API_TOKEN": token if token is not None else self.emulator.token,
            "PATH": os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
        })
        if extra:
            for key, value in extra.items():
                if value is None:
                    env.pop(key, None)
                else:
                    env[key] = value
        return env

    def _results_file(self):
        self.counter += 1
        return str(self.tmp_path / ("results-%d.jsonl" % self.counter))

    @staticmethod
    def _read_results(path):
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def playbook(self, tasks=None, playbook=None, check=False, diff=False, verbosity=0, env=None, token=None, url=None,
                 extra_vars=None, play_vars=None, module_defaults=None, args=None, play_environment=None):
        """Run a playbook made of ``tasks`` (list of dicts), or an existing ``playbook`` file. ``play_environment``:
        the play's ``environment`` keyword."""
        if playbook is None:
            play = {"name": "test", "hosts": "localhost", "gather_facts": False, "connection": "local", "tasks": tasks}
            if play_vars:
                play["vars"] = play_vars
            if module_defaults:
                play["module_defaults"] = module_defaults
            if play_environment:
                play["environment"] = play_environment
            self.counter += 1
            playbook = str(self.tmp_path / ("playbook-%d.yml" % self.counter))
            with open(playbook, "w", encoding="utf-8") as handle:
                yaml.safe_dump([play], handle, sort_keys=False)
        results = self._results_file()
        cmd = [bin_path("ansible-playbook"), "-i", "localhost,", playbook]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        cmd += list(args or [])
        run_env = self.env(env, token=token, url=url)
        run_env["NB_RESULTS_FILE"] = results
        proc = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=600, cwd=str(self.tmp_path), check=False)
        return Run(proc, self._read_results(results))

    def adhoc(self, module, module_args="", env=None, token=None, url=None, check=False, verbosity=0):
        results = self._results_file()
        cmd = [bin_path("ansible"), "localhost", "-i", "localhost,", "-c", "local", "-m", module]
        if module_args:
            cmd += ["-a", module_args]
        if check:
            cmd.append("--check")
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        run_env = self.env(env, token=token, url=url)
        run_env["NB_RESULTS_FILE"] = results
        run_env["ANSIBLE_LOAD_CALLBACK_PLUGINS"] = "1"
        proc = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=300, cwd=str(self.tmp_path), check=False)
        return Run(proc, self._read_results(results))


@pytest.fixture()
def ansible(collections_path, emulator, tmp_path):
    return Ansible(collections_path, emulator, tmp_path)
