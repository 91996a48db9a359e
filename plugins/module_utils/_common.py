# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Small helpers shared by the engines: option cleaning and NetBird's timestamps.

Private to netbird_ops.netbird; not a public API."""

from __future__ import annotations

import datetime
import re

_ISO_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$")


def clean(value):
    """A stripped string, or None for None and blank values."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def _parse(value):
    match = _ISO_RE.match((value or "").strip()) if isinstance(value, str) else None
    if not match:
        return None
    year, month, day, hour, minute, second, frac, zone = match.groups()
    tz = datetime.timezone.utc
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = datetime.timezone(sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        when = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=tz)
    except ValueError:
        return None
    return when, int((frac or "0")[:9].ljust(9, "0"))


def parse_time(value):
    """An aware datetime from NetBird's RFC 3339 timestamps (nanoseconds allowed, cut to microseconds), or None."""
    parsed = _parse(value)
    if parsed is None:
        return None
    return parsed[0].replace(microsecond=parsed[1] // 1000)


def time_key(value):
    """A sort key that orders NetBird timestamps to the nanosecond (strings would not: digits vary); None if unreadable."""
    parsed = _parse(value)
    if parsed is None:
        return None
    return (parsed[0].astimezone(datetime.timezone.utc), parsed[1])


def format_time(when):
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
