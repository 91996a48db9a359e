# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""examples/awx/create_credential_type.yml and examples/awx/create_job_templates.yml against a stand-in for the
controller's API (list by name, create, update; a job template's credentials and survey spec, validated as AWX
validates them): each creates its objects from the shipped files, changes nothing on a second run, and puts a
drifted definition back."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from nb_awx import load_credential_type
from nb_testlib import REPO

PLAYBOOK = os.path.join(REPO, "examples", "awx", "create_credential_type.yml")
JOB_TEMPLATES_PLAYBOOK = os.path.join(REPO, "examples", "awx", "create_job_templates.yml")
SURVEYS = os.path.join(REPO, "examples", "awx", "surveys")
TOKEN = "controller-test-token"
API = "/api/controller/v2/"
BASE = API + "credential_types/"
JT = API + "job_templates/"
# what AWX answers for a job template field the request left out
JT_DEFAULTS = {"description": "", "job_type": "run", "execution_environment": None, "survey_enabled": False,
               "ask_job_type_on_launch": False, "ask_variables_on_launch": False, "extra_vars": "", "organization": 1}
SURVEY_TYPES = {"text": str, "textarea": str, "password": str, "multiplechoice": str, "multiselect": str, "integer": int,
                "float": (float, int)}


def survey_spec_error(spec):
    """The checks of AWX's JobTemplateSurveySpec._validate_spec_data (awx/api/views), or None."""
    for field, kind in (("name", str), ("description", str), ("spec", list)):
        if not isinstance(spec.get(field), kind):
            return "field %r missing or not a %s" % (field, kind.__name__)
    if not spec["spec"]:
        return "'spec' doesn't contain any items."
    variables = set()
    for idx, item in enumerate(spec["spec"]):
        for field in ("type", "question_name", "variable", "required"):
            if field not in item or not isinstance(item[field], bool if field == "required" else str):
                return "%r missing or wrong type in survey question %d" % (field, idx)
        if item["variable"] in variables:
            return "'variable' %r duplicated in survey question %d" % (item["variable"], idx)
        variables.add(item["variable"])
        if item["type"] not in SURVEY_TYPES:
            return "%r in survey question %d is not an allowed question type" % (item["type"], idx)
        if item.get("default", "") != "" and not isinstance(item["default"], SURVEY_TYPES[item["type"]]):
            return "Default value in survey question %d has the wrong type" % idx
        for key in ("min", "max"):
            if item.get(key) is not None and not isinstance(item[key], int):
                return "The %s limit in survey question %d expected to be integer." % (key, idx)
        if item["type"] in ("multiselect", "multiplechoice"):
            if "choices" not in item:
                return "Survey question %d of type %s must specify choices." % (idx, item["type"])
            default = item.get("default", "")
            defaults = default.splitlines() if isinstance(default, str) else default
            if item["type"] == "multiplechoice" and len(defaults) > 1:
                return "Multiple Choice (Single Select) can only have one default value."
            if any(value not in item["choices"] for value in defaults):
                return "Default choice must be answered from the choices listed."
    return None


class Controller:
    """Just enough of the controller's API to run both playbooks; records every request."""

    def __init__(self):
        self.types = {}
        self.requests = []
        # objects the job templates use, looked up by name
        self.named = {"projects": [{"id": 7, "name": "NetBird"}], "inventories": [{"id": 8, "name": "NetBird"}],
                      "credentials": [{"id": 9, "name": "NetBird API"}, {"id": 10, "name": "Other"}],
                      "execution_environments": [{"id": 11, "name": "netbird-ee"}]}
        self.job_templates = {}
        self.jt_credentials = {}
        self.surveys = {}
        controller = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

            def _answer(self, status, body):
                data = b"" if body is None else json.dumps(body).encode()
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
                if url.path.startswith(JT):
                    return self._job_templates(url, body)
                for endpoint, objects in controller.named.items():
                    if self.command == "GET" and url.path == API + endpoint + "/":
                        name = parse_qs(url.query).get("name", [None])[0]
                        found = [o for o in objects if o["name"] == name]
                        return self._answer(200, {"count": len(found), "results": found})
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

            def _job_templates(self, url, body):
                parts = url.path[len(JT):].strip("/").split("/")
                if parts == [""]:
                    if self.command == "GET":
                        query = parse_qs(url.query)
                        names = query["name__in"][0].split(",") if "name__in" in query else query.get("name", [])
                        found = [controller.job_template(t["id"]) for t in controller.job_templates.values() if t["name"] in names]
                        return self._answer(200, {"count": len(found), "results": found})
                    missing = [f for f in ("name", "project", "playbook") if f not in body]
                    if missing:
                        return self._answer(400, {f: ["This field is required."] for f in missing})
                    new = dict(JT_DEFAULTS, **body)
                    new["id"] = 100 + len(controller.job_templates)
                    controller.job_templates[new["id"]] = new
                    return self._answer(201, controller.job_template(new["id"]))
                jt_id = int(parts[0])
                if jt_id not in controller.job_templates:
                    return self._answer(404, {"detail": "Not found."})
                if len(parts) == 1 and self.command == "PATCH":
                    controller.job_templates[jt_id].update(body)
                    return self._answer(200, controller.job_template(jt_id))
                if parts[1:] == ["credentials"]:
                    if self.command == "GET":
                        found = [o for o in controller.named["credentials"] if o["id"] in controller.jt_credentials.get(jt_id, [])]
                        return self._answer(200, {"count": len(found), "results": found})
                    controller.jt_credentials.setdefault(jt_id, []).append(body["id"])
                    return self._answer(204, None)
                if parts[1:] == ["survey_spec"]:
                    if self.command == "GET":
                        return self._answer(200, controller.surveys.get(jt_id, {}))
                    error = survey_spec_error(body)
                    if error:
                        return self._answer(400, {"error": error})
                    controller.surveys[jt_id] = body
                    return self._answer(200, None)
                return self._answer(404, {"detail": "Not found."})

            do_GET = do_POST = do_PATCH = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def job_template(self, jt_id):
        """A job template as the API shows it: its credentials are in summary_fields."""
        credentials = [{"id": o["id"], "name": o["name"], "kind": "cloud"} for o in self.named["credentials"]
                       if o["id"] in self.jt_credentials.get(jt_id, [])]
        return dict(self.job_templates[jt_id], summary_fields={"credentials": credentials})

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


def load_survey(name):
    with open(os.path.join(SURVEYS, name), encoding="utf-8") as handle:
        return json.load(handle)


def run_job_templates(ansible, controller, **extra_vars):
    names = {"controller_api_path": API, "controller_project": "NetBird", "controller_inventory": "NetBird",
             "controller_credential": "NetBird API", "controller_execution_environment": "netbird-ee"}
    names.update(extra_vars)
    return ansible.playbook(playbook=JOB_TEMPLATES_PLAYBOOK, env={"CONTROLLER_HOST": controller.url, "CONTROLLER_OAUTH_TOKEN": TOKEN},
                            extra_vars=names)


def test_job_templates_with_surveys_then_no_change_then_repair(ansible, controller):
    handover = {"person_handover_tasks": "handover/vault_kv.yml"}
    run = run_job_templates(ansible, controller, **handover)
    assert run.rc == 0, run.output
    by_name = {t["name"]: t for t in controller.job_templates.values()}
    assert sorted(by_name) == ["NetBird: offboard a person", "NetBird: onboard a person"]
    for name, playbook, survey in (("NetBird: onboard a person", "examples/awx/onboard_person.yml", "onboard_person.json"),
                                   ("NetBird: offboard a person", "examples/awx/offboard_person.yml", "offboard_person.json")):
        template = by_name[name]
        assert {key: template[key] for key in ("project", "inventory", "execution_environment", "playbook", "survey_enabled", "job_type")} == {
            "project": 7, "inventory": 8, "execution_environment": 11, "playbook": playbook, "survey_enabled": True, "job_type": "run"}
        assert controller.jt_credentials[template["id"]] == [9]
        assert controller.surveys[template["id"]] == load_survey(survey)
    # the onboarding template carries the handover as an extra variable; the offboarding one has none
    assert yaml.safe_load(by_name["NetBird: onboard a person"]["extra_vars"]) == handover
    assert by_name["NetBird: offboard a person"]["extra_vars"] == ""
    assert sorted(controller.writes()) == sorted([("POST", JT)] * 2 + [("POST", JT + "%d/credentials/" % i) for i in (100, 101)]
                                                 + [("POST", JT + "%d/survey_spec/" % i) for i in (100, 101)])
    assert TOKEN not in run.output

    controller.requests.clear()
    run = run_job_templates(ansible, controller, **handover)
    assert run.rc == 0 and run.recap()["changed"] == 0, run.output
    assert controller.writes() == []

    # edited in the controller: another playbook, the survey's role question removed, the credential detached, the
    # handover replaced by another extra variable (JSON text, as the API also takes it)
    onboard = by_name["NetBird: onboard a person"]
    onboard["playbook"] = "examples/onboard.yml"
    onboard["extra_vars"] = '{"vault_mount": "kv"}'
    controller.surveys[onboard["id"]]["spec"].pop(2)
    controller.jt_credentials[onboard["id"]] = []
    run = run_job_templates(ansible, controller, **handover)
    assert run.rc == 0 and run.recap()["changed"] == 3, run.output
    assert sorted(controller.writes()) == [("PATCH", JT + "100/"), ("POST", JT + "100/credentials/"), ("POST", JT + "100/survey_spec/")]
    assert onboard["playbook"] == "examples/awx/onboard_person.yml"
    assert yaml.safe_load(onboard["extra_vars"]) == dict(handover, vault_mount="kv")  # the other variable is kept
    assert controller.surveys[onboard["id"]] == load_survey("onboard_person.json")


def test_job_templates_unknown_or_ambiguous_name_fails_before_any_write(ansible, controller):
    controller.named["credentials"].append({"id": 12, "name": "NetBird API"})
    run = run_job_templates(ansible, controller, controller_inventory="Netbird")
    assert run.rc != 0
    assert "controller_inventory: 0 inventories named 'Netbird'" in run.output, run.output
    assert "controller_credential: 2 credentials named 'NetBird API'" in run.output and "Set controller_organization" in run.output
    assert controller.writes() == []
