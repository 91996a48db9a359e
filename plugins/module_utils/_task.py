# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""From a task to one run of the engine: argument specs of batch modules, specs from the parameters, and the
``run(nb)`` that hands a BatchRunner everything it needs. The only place between a module's parameters and the
engine. Private to netbird_ops.netbird; not a public API."""

from __future__ import annotations

import copy
from typing import Any, Callable, Dict, List, Optional, Tuple, Type

from ansible_collections.netbird_ops.netbird.plugins.module_utils._core import BatchRunner, Kind, Spec
from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdInputError


def entry_keys(spec: Dict[str, Any]) -> Tuple[str, ...]:
    """Option names of one batch entry: the keys of its argument spec."""
    return tuple(spec)


def batch_argument_spec(entry_spec: Dict[str, Any], key: str, **extra: Any) -> Tuple[Dict[str, Any], Dict[str, List[Any]]]:
    """``entry_spec`` for single mode plus ``key`` (a list of such entries) for batch mode, mutually exclusive.

    The element spec carries its own ``required_*`` / ``mutually_exclusive`` rules, so Ansible checks every element
    the way it checks the single-mode options. Returns (argument_spec, module kwargs).
    """
    rules = entry_spec.pop("_rules", {})
    spec = copy.deepcopy(entry_spec)
    spec[key] = dict(type="list", elements="dict", options=copy.deepcopy(entry_spec), **extra)
    spec[key].update(rules)
    spec["batch_results"] = dict(type="str", choices=["all", "changed"], default="all")
    spec["fail_fast"] = dict(type="bool", default=False)
    kwargs = dict((name, list(value)) for name, value in rules.items())
    kwargs["mutually_exclusive"] = kwargs.get("mutually_exclusive", []) + [(key, name) for name in entry_spec]
    return spec, kwargs


def build_specs(params: Dict[str, Any], key: Optional[str], spec_class: Type[Spec],
                duplicate: Optional[Callable[[Any, Spec, Any], str]]) -> List[Spec]:
    """Specs from the module parameters: one in single mode, one per element of ``params[key]`` in batch mode.

    ``duplicate`` words the refusal of two entries with the same ``identity()``.
    """
    if key is not None and params.get(key) is not None:
        specs = [spec_class(entry or {}, where="%s[%d]" % (key, index)) for index, entry in enumerate(params[key])]
    else:
        specs = [spec_class(dict((name, params.get(name)) for name in spec_class.keys))]
    seen: Dict[Any, Any] = {}
    for spec in specs:
        ident = spec.identity()
        if ident in seen and duplicate is not None:
            raise NetBirdInputError(duplicate(seen[ident], spec, ident))
        seen[ident] = spec.where
    return specs


KindBuilder = Callable[..., Kind]   # (client, params, check_mode=...) -> Kind, usually SomeKind.from_params


def module_runner(build_kind: KindBuilder, make_specs: Callable[[Dict[str, Any]], List[Any]],
                  batch_key: Optional[str] = None) -> Callable[[Any], Dict[str, Any]]:
    """The ``run(nb)`` of a module: specs from the parameters, one kind (``build_kind(client, params, check_mode)``,
    usually ``SomeKind.from_params``), one BatchRunner handed everything it needs."""
    def run(nb: Any) -> Dict[str, Any]:
        params = nb.params
        specs = make_specs(params)
        kind = build_kind(nb.client, params, check_mode=nb.check_mode)
        batch = bool(batch_key) and params.get(batch_key) is not None
        runner = BatchRunner(
            kind,
            width=params.get("api_concurrency") or 1,
            flow=getattr(nb.client, "flow", None),
            check_mode=nb.check_mode,
            diff_mode=nb.diff_mode,
            warn=nb.warn,
            batch=batch,
            only_changed=batch and params.get("batch_results") == "changed",
            fail_fast=bool(params.get("fail_fast")),
        )
        return runner.run(specs)
    return run
