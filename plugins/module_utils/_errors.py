# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The collection's error types, shared by the transport, the engine, the kinds and the modules.

Every error a user can meet carries a one-line message. Private to netbird_ops.netbird; not a public API."""

from __future__ import annotations

import re
from typing import Any, Dict, Optional

_STATUS_REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    409: "Conflict", 412: "Precondition Failed", 422: "Unprocessable Entity", 429: "Too Many Requests",
    500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}


# a hint's first word when it is an ordinary capitalised word ("The", "Gave"), not a name (NetBird, API, an email)
_PLAIN_FIRST_WORD = re.compile(r"^[A-Z](?=[a-z]* )")


def _continued(hint: str) -> str:
    """The hint as the second half of the error's one sentence: its first letter lower-cased unless a name starts it."""
    return _PLAIN_FIRST_WORD.sub(lambda match: match.group(0).lower(), hint, count=1)


class NetBirdError(Exception):
    """Base class: every error this collection raises carries a one-line user-facing message."""

    extra: Optional[Dict[str, Any]] = None  # result keys to return with the failure (what was already done)


class OperationFailed(NetBirdError):
    """A multi-step operation failed part-way; ``extra`` holds the results of the steps already done."""

    def __init__(self, message, extra=None):
        self.extra = extra or {}
        super().__init__(message)


class NetBirdInputError(NetBirdError):
    """The task's input is invalid; raised before any write request."""


class NetBirdAPIError(NetBirdError):
    """A request failed: HTTP error status, transport failure, or an unusable response body."""

    def __init__(self, method, path, status=None, message=None, request_id=None, reason=None, hint=None):
        self.method = method
        self.path = path
        self.status = status
        self.message = message or ""
        self.request_id = request_id
        self.reason = reason
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self):
        if self.status is not None:
            text = ("%s %s failed with HTTP %s %s" % (self.method, self.path, self.status, _STATUS_REASONS.get(self.status, ""))).rstrip()
            if self.message:
                text += ": %s" % self.message
        else:
            text = "%s %s failed: %s" % (self.method, self.path, self.message or self.reason or "no response")
        if self.request_id:
            text += " (X-Request-Id %s)" % self.request_id
        if self.hint:
            text += "; %s" % _continued(self.hint)
        return text

    def to_dict(self):
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "message": self.message,
            "request_id": self.request_id,
        }


class AmbiguousWriteError(NetBirdAPIError):
    """A non-idempotent request may or may not have reached the server (timeout, reset, 502-504)."""
