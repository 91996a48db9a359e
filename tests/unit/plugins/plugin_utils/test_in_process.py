# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module run in the action's process (plugin_utils/_in_process.py).

Its validation skips the per-entry work for a batch whose entries are plain. The property: for random parameters
of each batch module (valid entries, wrong types, aliases, unknown keys, None, choices, rule violations), ``validate``
gives exactly what ArgumentSpecValidator gives -- the same parameters, or the same errors. The module run itself:
the same result as the module (exit and fail), no_log values masked, warnings returned.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values

from ansible_collections.netbird_ops.netbird.plugins.module_utils._module import connection_argument_spec
from ansible_collections.netbird_ops.netbird.plugins.modules import (
    netbird_user, netbird_user_approval, netbird_user_invite, netbird_user_token)
from ansible_collections.netbird_ops.netbird.plugins.plugin_utils import _in_process
from ansible_collections.netbird_ops.netbird.plugins.plugin_utils._in_process import ControllerModule, ModuleExit, PlainCheck, validate

MODULES = {
    "netbird_user": (netbird_user, "users"),
    "netbird_user_token": (netbird_user_token, "tokens"),
    "netbird_user_invite": (netbird_user_invite, "invites"),
    "netbird_user_approval": (netbird_user_approval, "emails"),
}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def full_spec(module):
    spec, rules = module.argument_spec()
    full = connection_argument_spec()
    full.update(spec)
    return full, rules


# values of every kind an option may be given: the right type, a near miss, nothing
TEXTS = ["", "present", "absent", "replace", "add", "x@example.com", "admin", "user", "yes", "1", "a,b"]
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(TEXTS),
    st.lists(st.sampled_from(["dev", "ops", 1, True]), max_size=3), st.dictionaries(st.just("k"), st.just("v"), max_size=1))


@st.composite
def entries(draw, element_spec):
    keys = sorted(element_spec) + ["groups", "is_blocked", "is_service_user", "unknown"]   # aliases and a stranger
    chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=6))
    entry = {}
    for key in chosen:
        option = element_spec.get(key, {})
        plain_value = {"str": st.sampled_from(option.get("choices") or ["x@example.com", "Alice", "dev"]), "bool": st.booleans(),
                       "int": st.integers(0, 90), "list": st.lists(st.sampled_from(["dev", "ops"]), max_size=2)}.get(option.get("type", "str"))
        entry[key] = draw(st.one_of(plain_value, VALUES) if plain_value is not None else VALUES)
    return entry


@pytest.mark.parametrize("name", sorted(MODULES))
@SETTINGS
@given(data=st.data())
def test_validate_agrees_with_the_argument_spec_validator(name, data):
    module, key = MODULES[name]
    spec, rules = full_spec(module)
    option = spec[key]
    if option.get("elements") == "dict":
        batch = data.draw(st.lists(st.one_of(entries(option["options"]), st.sampled_from(["x@example.com", None])), min_size=1, max_size=4))
    else:
        batch = data.draw(st.lists(st.sampled_from(["x@example.com", "y@example.com", 3, None]), min_size=1, max_size=4))
    params = {key: batch, "api_token": "secret-token", "api_url": "http://127.0.0.1:1"}
    params.update(data.draw(st.fixed_dictionaries({}, optional={"batch_results": st.sampled_from(["all", "changed", "bad"]),
                                                                "fail_fast": st.booleans(), "state": st.sampled_from(["present", "absent"]),
                                                                "email": st.just("z@example.com")})))
    if name == "netbird_user_approval":
        params.pop("batch_results", None)
    expected = ArgumentSpecValidator(dict(spec), **rules).validate(params)
    got, errors = validate(spec, rules, params)
    assert [str(error) for error in errors] == [str(error) for error in expected.errors.errors]
    if not errors:
        assert got == expected.validated_parameters


@pytest.mark.parametrize("name", ["netbird_user", "netbird_user_token", "netbird_user_invite"])
def test_plain_batches_take_the_fast_path(name, monkeypatch):
    """A batch of valid entries is filled in without the validator looking at its entries (else the speed-up is gone
    silently). netbird_user_approval takes a list of strings, which the validator checks quickly."""
    module, key = MODULES[name]
    spec, rules = full_spec(module)
    entry = {"netbird_user": {"email": "a@example.com", "name": "A", "auto_groups": ["dev"]},
             "netbird_user_token": {"user_name": "ci", "name": "deploy", "expires_in": 30},
             "netbird_user_invite": {"email": "a@example.com", "name": "A"}}[name]
    seen = []
    real = ArgumentSpecValidator.validate

    def spy(self, parameters, *args, **kwargs):
        seen.append(parameters.get(key))
        return real(self, parameters, *args, **kwargs)

    monkeypatch.setattr(ArgumentSpecValidator, "validate", spy)
    params, errors = validate(spec, rules, {key: [dict(entry), dict(entry, name="B")], "api_token": "tok-123"})
    assert not errors and seen == [[]]
    assert len(params[key]) == 2 and params[key][0]["state"] == "present"


def test_plain_check_rules():
    spec = {"a": {"type": "str"}, "b": {"type": "str"}, "c": {"type": "bool", "default": False}}
    assert PlainCheck(spec, {"mutually_exclusive": [("a", "b")]})({"a": "x"})
    assert not PlainCheck(spec, {"mutually_exclusive": [("a", "b")]})({"a": "x", "b": None})   # Ansible counts a given None
    assert not PlainCheck(spec, {"required_together": [("a", "b")]})({"a": "x"})
    assert not PlainCheck(spec, {"required_one_of": [("a", "b")]})({"c": True})
    assert not PlainCheck(spec, {"required_if": [("c", False, ("a",))]})({})    # the default makes the rule apply
    assert not PlainCheck(spec, {"required_by": {"a": "b"}})({"a": "x"})
    assert not PlainCheck({"n": {"type": "int"}})({"n": True})
    assert not PlainCheck({"s": {"type": "str", "aliases": ["t"]}})({"t": "x"})
    assert not PlainCheck({"c": {"type": "str", "choices": ["a"]}})({"c": None})      # None is not one of the choices
    assert not PlainCheck(dict(spec, d={"type": "str"}), {"required_together": [("a", "b", "d")]})({"d": "x"})


def test_module_result_masks_no_log_values_and_returns_warnings():
    spec = dict(connection_argument_spec(), note=dict(type="str"))
    module = ControllerModule({"api_token": "tok-123", "note": "n"}, "netbird_user", check_mode=True, diff=True, argument_spec=spec)
    assert module.check_mode and module._diff and module.params["api_url"]
    module.warn("careful")
    with pytest.raises(ModuleExit) as done:
        module.fail_json(msg="the token tok-123 was refused", api_error={"status": 401})
    assert done.value.result == {"failed": True, "msg": "the token ******** was refused", "api_error": {"status": 401},
                                 "changed": False, "warnings": ["careful"]}


@pytest.mark.parametrize("secret", ["tok-123", 'tok"quoted', "tök-ü", "True", "7", "tok\\slash"])
def test_masking_is_skipped_only_when_no_secret_can_be_in_the_result(secret):
    """The quick check before remove_values never lets a secret through: every way it can be in a result is masked."""
    spec = dict(connection_argument_spec(), note=dict(type="str"))
    module = ControllerModule({"api_token": secret}, "netbird_user", check_mode=False, diff=False, argument_spec=spec)
    for result in ({"msg": "a %s b" % secret}, {"users": [{"name": secret}]}, {"nested": {secret: 1}}, {"n": 7},
                   {"clean": "nothing here", "flag": True}):
        with pytest.raises(ModuleExit) as done:
            module.exit_json(**result)
        assert done.value.result == remove_values(dict(result, changed=False), {secret})


def test_bad_parameters_fail_as_the_module_fails():
    spec = dict(connection_argument_spec(), count=dict(type="int"))
    with pytest.raises(ModuleExit) as done:
        ControllerModule({"api_token": "tok-123", "count": "many"}, "netbird_user", False, False, argument_spec=spec)
    assert done.value.result["failed"] and "count" in done.value.result["msg"]
    with pytest.raises(ModuleExit) as done:
        ControllerModule({"api_token": "tok-123", "colour": "red"}, "netbird_user", False, False, argument_spec=spec)
    assert done.value.result["msg"].startswith("Unsupported parameters for (netbird_user) module: colour")


def test_an_empty_token_is_no_secret():
    """Ansible's scan skips an empty no_log value; masking "" would put ******** between every two characters."""
    module = ControllerModule({"api_token": ""}, "netbird_user", False, False, argument_spec=connection_argument_spec())
    with pytest.raises(ModuleExit) as done:
        module.fail_json(msg="api_token is empty: set api_token", count=3)
    assert done.value.result["msg"] == "api_token is empty: set api_token" and done.value.result["count"] == 3


def test_a_crash_is_a_failed_result_without_the_token(monkeypatch):
    """A bug in a module is a failed result, as a module's traceback is, so that the action still reports what the
    earlier steps did; the token stays masked."""
    def crash(nb):
        raise RuntimeError("boom with tok-123456 inside")

    monkeypatch.setattr(netbird_user, "run_users", crash)
    result = _in_process.run_module("netbird_user", {"users": [{"email": "a@example.com", "name": "A"}], "api_token": "tok-123456",
                                                     "api_url": "http://127.0.0.1:9"}, check_mode=False, diff=False)
    assert result["failed"] and "tok-123456" not in result["msg"] and "RuntimeError: boom" in result["msg"]


def test_run_module_runs_the_modules_main(monkeypatch):
    """run_module hands main() a ControllerModule and returns what it exited with; the engine sees its params."""
    calls = []

    def fake_run(nb):
        calls.append((nb.params["users"][0]["state"], nb.check_mode, nb.diff_mode))
        nb.warn("warned")
        return {"changed": True, "users": []}

    monkeypatch.setattr(netbird_user, "run_users", fake_run)
    result = _in_process.run_module("netbird_user", {"users": [{"email": "a@example.com", "name": "A"}], "api_token": "tok-123",
                                                     "api_url": "http://127.0.0.1:9"}, check_mode=True, diff=False)
    assert calls == [("present", True, False)]
    assert result["changed"] and result["warnings"] == ["warned"] and result["users"] == []
