# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A module of this collection run in the action plugin's own process, for ``connection: local``.

The onboarding action calls netbird_user and friends once each. Run as modules, every call packs an AnsiballZ
payload, starts a Python, serializes the batch twice and validates every entry again, which the action has already
checked: at 10,000 users that is most of a re-run's time. When the module would run on the controller anyway
(``connection: local``, no ``become``, no task ``environment``), the action runs the module's own ``main()`` here,
with ``ControllerModule`` in place of AnsibleModule: the same argument spec and rules, the same engine, check and
diff mode as the task sets them, the same masking of no_log values. Only a batch list whose every entry certainly
passes its element spec as it is (``PlainCheck``) skips the per-entry validation; any other input is validated as the
module validates it.

Private to netbird_ops.netbird; not a public API.
"""

from __future__ import annotations

import importlib
import json
from typing import Any, Callable, Dict, List, Mapping, Optional, Set, Tuple

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.common.validation import (
    check_mutually_exclusive, check_required_by, check_required_if, check_required_one_of, check_required_together)
from ansible.module_utils.errors import NoLogError, UnsupportedError

from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import COLLECTION_NAME
from ansible_collections.netbird_ops.netbird.plugins.module_utils._module import _secret_values, connection_argument_spec

MODULES = "ansible_collections.netbird_ops.netbird.plugins.modules."

# the rules an argument spec (or a list option, for each of its elements) may carry, and how each is checked
RULE_CHECKS: Dict[str, Callable[..., Any]] = {
    "mutually_exclusive": check_mutually_exclusive,
    "required_together": check_required_together,
    "required_one_of": check_required_one_of,
    "required_if": check_required_if,
    "required_by": check_required_by,
}
_TYPES: Dict[str, Tuple[type, ...]] = {"str": (str,), "bool": (bool,), "int": (int,)}


def _value_check(option: Mapping[str, Any]) -> Optional[Callable[[Any], bool]]:
    """For an option a plain value can have: a function telling whether a (non-None) value passes the option as it
    is; else None (any value goes to ArgumentSpecValidator)."""
    if "removed_in_version" in option or "removed_at_date" in option:
        return None
    kind = option.get("type", "str")
    choices = option.get("choices")
    if kind in _TYPES:
        wanted = _TYPES[kind]
        exact = kind != "int"   # bool is an int, but not a plain one

        def scalar(value: Any) -> bool:
            return isinstance(value, wanted) and (exact or not isinstance(value, bool)) and (choices is None or value in choices)
        return scalar
    if kind == "list" and option.get("elements", "str") in ("str", "bool"):
        element = _TYPES[option.get("elements", "str")]

        def items(value: Any) -> bool:
            return isinstance(value, list) and all(isinstance(item, element) and (choices is None or item in choices) for item in value)
        return items
    return None


def _named(rule: str, terms: Any) -> Set[str]:
    """Every option name the terms of ``rule`` mention: lists of names, required_if's (key, value, requirements[,
    any]) tuples, required_by's {key: requirements}."""
    def names(value: Any) -> Set[str]:
        return {value} if isinstance(value, str) else set(value or ())

    if rule == "required_by":
        return set(terms) | set().union(*(names(value) for value in terms.values()))
    if rule == "required_if":
        return set().union(*({term[0]} | names(term[2]) for term in terms))
    return set().union(*(names(term) for term in terms))


class PlainCheck:
    """``check(entry)``: whether ``entry`` certainly passes ``spec`` (and ``rules``) as it is -- known keys (no
    aliases, nothing deprecated), values of exactly the option's type (None only where there is neither a default
    nor choices), choices, required options, the rules, each checked on what Ansible checks it on (mutually_exclusive
    on the entry as given, the others after the defaults). A fast path for 10,000 entries, built once per spec:
    anything else is left to ArgumentSpecValidator, whose messages are the ones a user sees."""

    def __init__(self, spec: Mapping[str, Mapping[str, Any]], rules: Optional[Mapping[str, Any]] = None) -> None:
        self.checks = dict((key, _value_check(option)) for key, option in spec.items())
        # a given None passes as it is only where there is no default (Ansible checks it against the type otherwise)
        # and no choices (None is not one of them)
        self.none_ok = frozenset(key for key, option in spec.items() if option.get("default") is None and not option.get("choices"))
        self.required = [key for key, option in spec.items() if option.get("required")]
        self.rules = dict((rule, terms) for rule, terms in (rules or {}).items() if terms)
        self.defaults = dict((key, option["default"]) for key, option in spec.items() if option.get("default") is not None)
        # a rule other than required_one_of can fail only when one of the keys it names is set
        self.rule_keys = dict((rule, _named(rule, terms)) for rule, terms in self.rules.items())
        self.skippable = dict((rule, rule != "required_one_of" and keys.isdisjoint(self.defaults)) for rule, keys in self.rule_keys.items())

    def __call__(self, entry: Mapping[str, Any]) -> bool:
        checks = self.checks
        for key, value in entry.items():
            check = checks.get(key)
            if check is None or (not check(value) if value is not None else key not in self.none_ok):
                return False
        for key in self.required:
            if entry.get(key) is None:
                return False
        if self.rules:
            defaulted: Optional[Dict[str, Any]] = None
            for rule, terms in self.rules.items():
                if self.skippable[rule] and self.rule_keys[rule].isdisjoint(entry):
                    continue
                if defaulted is None:
                    defaulted = dict(self.defaults, **entry)
                try:
                    RULE_CHECKS[rule](terms, dict(entry) if rule == "mutually_exclusive" else defaulted)
                except (TypeError, KeyError):
                    return False
        return True


class _Filler:
    """``fill(entry)``: a plain entry as validation returns it -- every option of the spec, its default where the entry
    leaves it out (a given None stays None), lists copied."""

    def __init__(self, spec: Mapping[str, Mapping[str, Any]]) -> None:
        self.defaults = dict((name, option.get("default")) for name, option in spec.items())
        self.lists = [name for name, option in spec.items() if option.get("type") == "list"]

    def __call__(self, entry: Mapping[str, Any]) -> Dict[str, Any]:
        out = dict(self.defaults)
        out.update(entry)
        for name in self.lists:
            value = out[name]
            if value is not None:
                out[name] = list(value)
        return out


def _fast_list(option: Mapping[str, Any], value: Any) -> Optional[List[Dict[str, Any]]]:
    """A list-of-dicts option's value with every element filled in, if every element is plain; else None."""
    sub = option.get("options")
    if option.get("type") != "list" or option.get("elements") != "dict" or not sub or not isinstance(value, list) or not value:
        return None
    if any(sub_option.get("fallback") or sub_option.get("options") for sub_option in sub.values()):
        return None
    check = PlainCheck(sub, dict((rule, option[rule]) for rule in RULE_CHECKS if option.get(rule)))
    if not all(isinstance(entry, dict) and check(entry) for entry in value):
        return None
    fill = _Filler(sub)
    return [fill(entry) for entry in value]


def validate(spec: Mapping[str, Any], rules: Mapping[str, Any], params: Mapping[str, Any]) -> Tuple[Dict[str, Any], List[Any]]:
    """(validated parameters, errors) as ArgumentSpecValidator(spec, **rules) gives them; a batch list of plain
    entries is filled in directly (the validator sees it as an empty list, so that the rules between options hold)."""
    lists: Dict[str, List[Dict[str, Any]]] = {}
    for key, option in spec.items():
        filled = _fast_list(option, params.get(key))
        if filled is not None:
            lists[key] = filled
    checked = ArgumentSpecValidator(dict(spec), **rules).validate(dict(params, **dict((key, []) for key in lists)))
    validated = checked.validated_parameters
    validated.update(lists)
    return validated, list(checked.errors.errors)


class ModuleExit(Exception):
    """What ``exit_json`` / ``fail_json`` end with: the module's result."""

    def __init__(self, result: Dict[str, Any]) -> None:
        super().__init__("module exit")
        self.result = result


class ControllerModule:
    """What NetBirdModule uses of AnsibleModule, for a module run in the action's process: ``params`` validated by
    the module's own argument spec and rules, ``check_mode``, ``_diff``, ``_name``, ``no_log_values``, ``warn``,
    ``fail_json`` and ``exit_json`` (which raise ModuleExit with the result, no_log values masked)."""

    def __init__(self, args: Mapping[str, Any], name: str, check_mode: bool, diff: bool, argument_spec: Mapping[str, Any],
                 supports_check_mode: bool = True, **rules: Any) -> None:
        self._name = name
        self.check_mode = bool(check_mode) and supports_check_mode
        self._diff = bool(diff)
        self._warnings: List[str] = []
        self.params, errors = validate(argument_spec, rules, args)
        self.no_log_values: Set[str] = _secret_values(argument_spec, self.params)
        if errors:
            # as AnsibleModule (the first error) and NetBirdModule's _AnsibleModule (the others after a NoLogError)
            first = errors[0]
            msg = first.msg
            if isinstance(first, UnsupportedError):
                msg = "Unsupported parameters for (%s) module: %s" % (name, first.msg)
            elif isinstance(first, NoLogError) and len(errors) > 1:
                msg = "; ".join(err.msg for err in errors if not isinstance(err, NoLogError)) or msg
            self.fail_json(msg=msg)
        if check_mode and not supports_check_mode:
            self.exit_json(skipped=True, msg="remote module (%s) does not support check mode" % name)

    def warn(self, text: str) -> None:
        self._warnings.append(text)

    def fail_json(self, msg: str, **kwargs: Any) -> None:
        kwargs.update(failed=True, msg=msg)
        self.exit_json(**kwargs)

    def exit_json(self, **kwargs: Any) -> None:
        kwargs.setdefault("changed", False)
        if self._warnings:
            kwargs["warnings"] = list(self._warnings)
        raise ModuleExit(remove_values(kwargs, self.no_log_values) if _may_hold(kwargs, self.no_log_values) else kwargs)


def _may_hold(result: Mapping[str, Any], secrets: Set[str]) -> bool:
    """Whether ``result`` may hold one of ``secrets`` (the api_token at least): False only when its JSON text holds
    none of them and every secret is written the same in JSON, so that remove_values (a copy of the whole result, the
    summary of 10,000 users included) runs only when there may be something to mask."""
    if not secrets:
        return False
    if any(secret in ("True", "False", "None") or json.dumps(secret, ensure_ascii=False)[1:-1] != secret for secret in secrets):
        return True
    try:
        text = json.dumps(result, ensure_ascii=False)
    except (TypeError, ValueError):
        return True
    return any(secret in text for secret in secrets)


def run_module(name: str, args: Mapping[str, Any], check_mode: bool, diff: bool) -> Dict[str, Any]:
    """The result of the collection's module ``name`` run here with ``args``: its ``main(module_class=...)``.

    An exception the module does not turn into a result (a bug) is a failed result, as a module's traceback is: the
    action then still reports what the earlier steps did (their one-time passwords and tokens are shown only once)."""
    built: List[ControllerModule] = []

    def module_class(**kwargs: Any) -> ControllerModule:
        built.append(ControllerModule(args, COLLECTION_NAME + "." + name, check_mode, diff, **kwargs))
        return built[-1]

    try:
        module = importlib.import_module(MODULES + name)
        module.main(module_class=module_class)
    except ModuleExit as done:
        return done.result
    except Exception as exc:  # noqa: BLE001  # pylint: disable=broad-exception-caught
        secrets = built[0].no_log_values if built else _secret_values(connection_argument_spec(), args)
        text = "MODULE FAILURE: %s raised %s: %s" % (name, type(exc).__name__, exc)
        return {"failed": True, "changed": False, "msg": remove_values(text, secrets) if secrets else text}
    return {"failed": True, "changed": False, "msg": "MODULE FAILURE: %s ended without a result" % name}
