# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""examples/awx/create_credential_type.yml against a stand-in for the controller's credential type API
(list by name, create, update): it creates the credential type from the shipped file, changes nothing on a
second run, and puts a drifted definition back."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from nb_awx import load_credential_type
from nb_testlib import REPO

PLAYBOOK = os.path.join(REPO, "examples", "awx", "create_credential_type.yml")
TOKEN = "controller-test-token"
BASE = "/api/controller/v2/credential_types/"


class Controller:
    """Just enough of /api/.../credential_types/ to run the playbook; records every request."""

    def __init__(self):
        self.types = {}
        self.requests = []
        controller = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

            def _answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self):
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                controller.requests.append((self.command, url.path))
                if self.headers.get("Authorization") != "Bearer " + TOKEN:
                    return self._answer(401, {"detail": "Authentication credentials were not provided."})
                if self.command == "GET" and url.path == BASE:
                    name = parse_qs(url.query).get("name", [None])[0]
                    found = [t for t in controller.types.values() if t["name"] == name]
                    return self._answer(200, {"count": len(found), "results": found})
                if self.command == "POST" and url.path == BASE:
                    new = dict(body, id=len(controller.types) + 1, managed=False)
                    controller.types[new["id"]] = new
                    return self._answer(201, new)
                if self.command == "PATCH" and url.path.startswith(BASE):
                    type_id = int(url.path[len(BASE):].strip("/"))
                    controller.types[type_id].update(body)
                    return self._answer(200, controller.types[type_id])
                return self._answer(404, {"detail": "Not found."})

            do_GET = do_POST = do_PATCH = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def writes(self):
        return [r for r in self.requests if r[0] != "GET"]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def controller():
    stub = Controller()
    yield stub
    stub.stop()


def run_playbook(ansible, controller):
    return ansible.playbook(playbook=PLAYBOOK, env={"CONTROLLER_HOST": controller.url + "/", "CONTROLLER_OAUTH_TOKEN": TOKEN},
                            extra_vars={"controller_api_path": "/api/controller/v2/"})


def test_creates_then_changes_nothing_then_repairs_drift(ansible, controller):
    expected = load_credential_type()
    run = run_playbook(ansible, controller)
    assert run.rc == 0, run.output
    assert controller.writes() == [("POST", BASE)]
    (stored,) = controller.types.values()
    assert {key: stored[key] for key in expected} == expected
    assert TOKEN not in run.output

    controller.requests.clear()
    run = run_playbook(ansible, controller)
    assert run.rc == 0 and run.recap()["changed"] == 0, run.output
    assert controller.writes() == []

    stored["injectors"] = {"env": {"NETBIRD_API_TOKEN": "{{ netbird_api_token }}"}}
    run = run_playbook(ansible, controller)
    assert run.rc == 0 and run.recap()["changed"] == 1, run.output
    assert controller.writes() == [("PATCH", BASE + "1/")]
    assert stored["injectors"] == expected["injectors"]


def test_missing_controller_settings_fail_clearly(ansible):
    run = ansible.playbook(playbook=PLAYBOOK, env={"CONTROLLER_HOST": None, "CONTROLLER_OAUTH_TOKEN": None})
    assert run.rc != 0
    assert "Set CONTROLLER_HOST and CONTROLLER_OAUTH_TOKEN" in run.output
