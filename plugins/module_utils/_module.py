# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ansible glue shared by every module: the connection argspec, client construction and
error reporting. Private to netbird_ops.netbird; not a public API."""

from __future__ import annotations

import os
import platform
from typing import Any, Dict, List, Set, Tuple

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION
from ansible.module_utils.errors import NoLogError

from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import (
    COLLECTION_NAME,
    COLLECTION_VERSION,
    DEFAULT_API_CONCURRENCY,
    DEFAULT_API_URL,
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    NetBirdClient,
    is_loopback_url,
    url_password,
)
from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdAPIError, NetBirdError, NetBirdInputError


def connection_argument_spec():
    """Options every module takes; documented once in the ``netbird_ops.netbird.netbird`` doc fragment."""
    return dict(
        api_url=dict(type="str", default=DEFAULT_API_URL, fallback=(env_fallback, ["NETBIRD_API_URL", "NB_MANAGEMENT_URL"])),
        api_token=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["NETBIRD_API_TOKEN", "NB_PAT"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["NETBIRD_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["NETBIRD_CA_PATH"])),
        api_timeout=dict(type="int", default=30, fallback=(env_fallback, ["NETBIRD_API_TIMEOUT"])),
        api_retries=dict(type="int", default=5, fallback=(env_fallback, ["NETBIRD_API_RETRIES"])),
        api_concurrency=dict(type="int", default=DEFAULT_API_CONCURRENCY, fallback=(env_fallback, ["NETBIRD_API_CONCURRENCY"])),
    )


CONNECTION_OPTIONS = frozenset(connection_argument_spec())


def _secret_options(spec):
    """(key, option, the same for its suboptions) of each option (aliases included) that is no_log or has a no_log
    suboption: the only ones the no_log scan needs to look at."""
    found: List[Tuple[str, Dict[str, Any], List[Any]]] = []
    for name, option in spec.items():
        sub = _secret_options(option["options"]) if option.get("options") else []
        if option.get("no_log") or sub:
            found.extend((key, option, sub) for key in [name] + list(option.get("aliases") or []))
    return found


def _collect_secrets(options, params, found):
    if not isinstance(params, dict):
        return
    for key, option, sub in options:
        value = params.get(key)
        if not value:   # as Ansible's scan: an empty value is no secret (masking "" would garble every string)
            continue
        if option.get("no_log") and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            found.add(str(value))
        if sub:
            for item in value if isinstance(value, list) else [value]:
                _collect_secrets(sub, item, found)


def _secret_values(spec, params):
    """Values of the no_log options (suboptions included) in ``params``, as Ansible's no_log scan would find them."""
    found: Set[str] = set()
    _collect_secrets(_secret_options(spec), params, found)
    return found


class _AnsibleModule(AnsibleModule):
    """AnsibleModule whose argument validation failure names the option and keeps secrets hidden.

    For a list element of the wrong type (``users: alice@example.com``) Ansible's no_log scan stops with an
    error that names nothing ("dictionary requested, could not parse JSON or key=value"), reports only that
    first error, and, having collected no no_log values at all, would print ``api_token`` in clear in the
    failed result's ``invocation`` (shown at -vvv). Report the errors that name the option, and mask the
    secrets the scan did not reach.
    """

    def fail_json(self, msg, **kwargs):
        result = getattr(self, "validation_result", None)
        errors = list(result.errors.errors) if result is not None else []
        if any(isinstance(err, NoLogError) for err in errors):
            self.no_log_values.update(_secret_values(self.argument_spec, self.params))
        if len(errors) > 1 and isinstance(errors[0], NoLogError) and msg == errors[0].msg:
            msg = "; ".join(err.msg for err in errors if not isinstance(err, NoLogError)) or msg
        super().fail_json(msg=msg, **kwargs)


# A batch list longer than this is echoed back in ``invocation`` as its length (see NetBirdModule._invocation).
ECHO_LIMIT = 100


class NetBirdModule:
    """Wraps AnsibleModule: builds the client, turns every NetBirdError into one clean failure."""

    def __init__(self, argument_spec, token_required=True, module_class=None, **kwargs):
        """``module_class``: what takes the place of AnsibleModule (the onboarding action runs a module in its own
        process with plugin_utils/_in_process.py's ControllerModule); AnsibleModule by default."""
        spec = connection_argument_spec()
        if not token_required:
            # netbird_setup talks to a fresh server before any token exists: api_token is neither required nor sent
            spec["api_token"]["required"] = False
        self.sends_token = token_required
        spec.update(argument_spec)
        self.module = (module_class or _AnsibleModule)(argument_spec=spec, **kwargs)
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        self.diff_mode = self.module._diff
        self._client = None
        if not HAS_REQUESTS:
            self.module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)

    @property
    def client(self):
        if self._client is None:
            self._client = self._build_client()
        return self._client

    def _build_client(self):
        p = self.params
        if url_password(p["api_url"]):
            # refused below; the result's invocation (shown at -vvv) must not carry it either
            self.module.no_log_values.add(url_password(p["api_url"]))
        if p["api_timeout"] is not None and p["api_timeout"] <= 0:
            raise NetBirdInputError("api_timeout must be a positive number of seconds, got %s" % p["api_timeout"])
        if p["api_retries"] is not None and not 0 <= p["api_retries"] <= 20:
            raise NetBirdInputError("api_retries must be between 0 and 20, got %s" % p["api_retries"])
        if p["api_concurrency"] is not None and p["api_concurrency"] < 1:
            raise NetBirdInputError("api_concurrency must be 1 (strictly sequential) or more, got %s" % p["api_concurrency"])
        if p["ca_path"] and p["validate_certs"] and not os.path.exists(p["ca_path"]):
            # requests would raise a bare OSError for it (a traceback), on the first request
            raise NetBirdInputError("ca_path %s does not exist: give the PEM file (or directory) of the CA that signed the server's "
                                    "certificate" % p["ca_path"])
        user_agent = "%s/%s (module %s; ansible-core %s; python %s)" % (
            COLLECTION_NAME, COLLECTION_VERSION, self.module._name, ANSIBLE_VERSION, platform.python_version())
        client = NetBirdClient(
            p["api_url"], p["api_token"] if self.sends_token else None, validate_certs=p["validate_certs"], ca_path=p["ca_path"],
            timeout=p["api_timeout"], retries=p["api_retries"], user_agent=user_agent,
            concurrency=p["api_concurrency"] or DEFAULT_API_CONCURRENCY,
        )
        if client.base_url.startswith("http://") and not is_loopback_url(client.base_url):
            self.module.warn("api_url uses plain http://: the API token travels unencrypted; use https:// outside a lab")
        if not p["validate_certs"]:
            self.module.warn("validate_certs is false: the server's TLS certificate is not verified; prefer ca_path for a self-signed CA")
            try:
                import urllib3  # pylint: disable=import-outside-toplevel
                urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            except ImportError:  # pragma: no cover
                pass
        return client

    def run(self, func):
        """Call ``func(self)`` and exit; any NetBirdError becomes ``failed`` with a one-line message."""
        error = None
        try:
            result = func(self)
        except NetBirdError as exc:
            error = exc
        if error is not None:
            # outside the except block: an expected failure is one line, with no traceback attached
            self.fail(error, **(error.extra or {}))
        self.exit(**result)

    def _add_retry_warning(self):
        if self._client is not None:
            summary = self._client.retry_summary()
            if summary:
                self.module.warn(summary)

    def _invocation(self):
        """``invocation.module_args`` of the result (shown at -vvv, kept by ``register``): the options as Ansible echoes
        them, except that a batch list of more than ECHO_LIMIT entries is given as its length. The result has one entry
        per element anyway; echoing 10,000 input entries doubled what the module wrote, scrubbed for no_log values and
        serialized, and what the controller read, tagged and registered. no_log values are masked as before (Ansible
        scrubs the whole result)."""
        args = {}
        for key, value in self.params.items():
            if isinstance(value, list) and len(value) > ECHO_LIMIT and isinstance(value[0], dict):
                value = "%d entries (not echoed back)" % len(value)
            args[key] = value
        return {"module_args": args}

    def fail(self, exc, **extra):
        msg = str(exc)
        if self._client is not None:
            msg = self._client.redact(msg)
        if isinstance(exc, NetBirdAPIError):
            extra.setdefault("api_error", exc.to_dict())
        self._add_retry_warning()
        extra.setdefault("invocation", self._invocation())
        self.module.fail_json(msg=msg, **extra)

    def exit(self, **result):
        self._add_retry_warning()
        result.setdefault("invocation", self._invocation())
        self.module.exit_json(**result)

    def warn(self, text):
        self.module.warn(text)
