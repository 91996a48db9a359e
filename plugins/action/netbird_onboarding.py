# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The onboarding role in one task: read the team file on the controller, check everything, then run the modules.

Documentation: plugins/modules/netbird_onboarding.py. The work itself is plugins/plugin_utils/_onboarding.py.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import HAS_REQUESTS
from ansible_collections.netbird_ops.netbird.plugins.plugin_utils._in_process import run_module
from ansible_collections.netbird_ops.netbird.plugins.plugin_utils._onboarding import (
    TEAM_FILE, Onboarding, Team, TeamFileError, read_team_file)

display = Display()

CONNECTION = ("api_url", "api_token", "validate_certs", "ca_path", "api_timeout", "api_retries", "api_concurrency")
# netbird_user's exclusive mode, passed on as given
EXCLUSIVE = ("exclusive", "exclusive_scope", "offboard", "protect", "max_offboard")

# users and service_users are checked by Team, without the copy of every entry that validation makes
TEAM_LISTS = ("users", "service_users")
ARGUMENT_SPEC = dict(
    approve=dict(type="list", elements="str", default=[]),
    reject=dict(type="list", elements="str", default=[]),
    team_file=dict(type="str"),
    create_groups=dict(type="bool", default=False),
    invite=dict(type="bool", default=False),
    invite_expires_in=dict(type="int"),
    fail_fast=dict(type="bool", default=False),
    exclusive=dict(type="bool", default=False),
    exclusive_scope=dict(type="str", choices=["regular", "service", "all"], default="regular"),
    offboard=dict(type="str", choices=["block", "delete"], default="block"),
    protect=dict(type="list", elements="str", default=[]),
    max_offboard=dict(type="int", default=10),
    api_url=dict(type="str"),
    api_token=dict(type="str", no_log=True),
    validate_certs=dict(type="bool"),
    ca_path=dict(type="path"),
    api_timeout=dict(type="int"),
    api_retries=dict(type="int"),
    api_concurrency=dict(type="int"),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        lists = dict((key, self._task.args.get(key) or []) for key in TEAM_LISTS)
        checked = ArgumentSpecValidator(ARGUMENT_SPEC).validate(
            dict((key, value) for key, value in self._task.args.items() if key not in TEAM_LISTS))
        if checked.error_messages:
            result.update(failed=True, onboarding_failed=True, msg="; ".join(checked.error_messages))
            return result
        args = checked.validated_parameters
        for key, value in lists.items():
            if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
                result.update(failed=True, onboarding_failed=True, msg="%s must be a list of dicts" % key)
                return result
        team_file = None
        if args["team_file"]:
            try:
                team_file = read_team_file(self._team_file_path(args["team_file"]), args["team_file"], display.warning)
            except TeamFileError as exc:
                result.update(failed=True, onboarding_failed=True, msg="%s: %s; nothing was changed" % (TEAM_FILE, exc))
                return result
        team = Team(lists["users"], lists["service_users"], args["approve"], args["reject"], team_file)
        connection = dict((key, args[key]) for key in CONNECTION if args[key] is not None)
        in_process = self._in_process()
        display.vvv("netbird_onboarding: the modules run %s" % ("in this process (connection: local)" if in_process else "as modules"))

        def call(module, module_args):
            module_args.update(connection)
            if in_process:
                outcome = run_module(module, module_args, check_mode=bool(self._task.check_mode), diff=bool(self._task.diff))
            else:
                outcome = self._execute_module(module_name="netbird_ops.netbird." + module, module_args=module_args,
                                               task_vars=task_vars)
            outcome.pop("invocation", None)
            return outcome

        run = Onboarding(team, call, invite=args["invite"], invite_expires_in=args["invite_expires_in"],
                         create_groups=args["create_groups"], fail_fast=args["fail_fast"],
                         user_options=dict((key, args[key]) for key in EXCLUSIVE))
        try:
            result.update(run.run())
        finally:
            # the module calls share one temporary directory on the target: removed once, at the end
            if self._connection._shell.tmpdir:
                self._remove_tmp_path(self._connection._shell.tmpdir)
        result["failed"] = result["onboarding_failed"]
        return result

    def _in_process(self):
        """Whether the modules can run in this process (plugin_utils/_in_process.py) with the result they would have
        as modules: they would run on the controller anyway (connection local), as this user (no become), in this
        environment (no task ``environment``), and requests is here."""
        environment = [entry for entry in self._task.environment or [] if entry]
        return (HAS_REQUESTS and getattr(self._connection, "transport", None) == "local" and not self._play_context.become
                and not environment and not self._task.async_val)

    def _team_file_path(self, path):
        """Where ansible.builtin.copy would find ``src``: the role's files/, then the play's (an absolute path as it is)."""
        try:
            return self._find_needle("files", os.path.expanduser(path))
        except AnsibleError as exc:
            raise TeamFileError("%s not found (a relative path is looked up as ansible.builtin.copy's src is: in the role's"
                                " and the playbook's files/ directory, then next to the playbook)" % path) from exc
