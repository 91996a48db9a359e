# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""From a task to one run of the engine: the only place that reads the module's parameters for the runner.

Private to netbird_ops.netbird; not a public API."""

from __future__ import annotations

from ansible_collections.netbird_ops.netbird.plugins.module_utils._core import BatchRunner


def module_runner(build_kind, make_specs, batch_key=None):
    """The ``run(nb)`` of a module: specs from the parameters, one kind (``build_kind(client, params, check_mode)``,
    usually ``SomeKind.from_params``), one BatchRunner handed everything it needs."""
    def run(nb):
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
