# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The server's rules that an argument spec cannot express, once each: email addresses, roles, group references.

Every module, spec and filter checks them here, with the same wording, before any request. (What Ansible can say
itself, types, choices, ``required_if``, ``mutually_exclusive``, stays in the argument specs.)
Private to netbird_ops.netbird; not a public API."""

from __future__ import annotations

import re
from typing import Any, List, Optional

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdInputError

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ROLES = ("owner", "admin", "user", "billing_admin", "auditor", "network_admin")


def email_problem(option: str, value: Any) -> Optional[str]:
    """Why ``value`` (given as ``option``) is not an email address, or None: the one wording of the email rule."""
    if isinstance(value, str) and EMAIL_RE.match(value.strip()):
        return None
    return "%s %r is not an email address" % (option, value)


def check_email(option: str, value: Any) -> None:
    """Refuse a value that is not an email address (None: not given)."""
    if value is not None:
        problem = email_problem(option, value)
        if problem:
            raise NetBirdInputError(problem)


def normalize_role(value: Any, option: str = "role") -> Optional[str]:
    """A role compared case-insensitively (``ADMIN`` is ``admin``): Ansible's ``choices`` are case-sensitive."""
    if value is None:
        return None
    role = str(value).strip().lower()
    if role not in ROLES:
        raise NetBirdInputError("%s %r is not a NetBird role; choose one of %s" % (option, value, ", ".join(ROLES)))
    return role


def group_refs(values: Optional[List[Any]], option: str = "auto_groups") -> Optional[List[str]]:
    """Group names or IDs as given (None: not managed), stripped; an empty or non-text item is refused."""
    if values is None:
        return None
    for item in values:
        if not isinstance(item, str) or not item.strip():
            raise NetBirdInputError("%s must contain non-empty group names or IDs, got %r" % (option, item))
    return [item.strip() for item in values]
