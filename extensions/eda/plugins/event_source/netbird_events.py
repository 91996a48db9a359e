# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""netbird_events: an ansible-rulebook event source that polls NetBird's audit log.

It polls ``GET /api/events/audit`` every ``interval`` seconds and puts each event it has not seen
before on the queue once, oldest first, as ``{"netbird": <the API's event object>}``. The HTTP calls
go through the collection's own API client (retries with backoff, TLS options, the token never in a
message). Read DOCUMENTATION below, or docs/docsite/rst/guide_events.rst.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sys

DOCUMENTATION = r"""
---
short_description: Emit the events of a NetBird account's audit log
description:
  - An ansible-rulebook event source plugin that polls the NetBird management API's audit log
    (C(GET /api/events/audit)) of the account the token belongs to.
  - "It remembers the highest event ID it has seen (and the IDs of the newest 10,000 events) and puts each
    newer event on the queue once, oldest first, as C({\"netbird\": event}), where C(event) is the API's event
    object: C(id), C(activity_code), C(activity), C(initiator_id), C(initiator_email), C(initiator_name),
    C(target_id), C(meta) (every value text, for example C(pending_approval) is C(\"true\")) and C(timestamp)."
  - Events that are already in the log at the first successful poll are history and are not emitted,
    unless O(replay=true). Events logged while the source is not running are not emitted after a restart
    either (use O(replay=true) with idempotent rules, or a scheduled job as a safety net).
  - Errors, HTTP 429 and 5xx answers and connection failures are retried with backoff (the client's
    O(api_retries) within one poll, then a growing pause between polls, at most 5 minutes); the source
    keeps running and logs a warning for each failed poll. The API token never appears in its output.
  - If the log's newest ID goes down, or a known ID comes back with another timestamp, the server's log was
    reset (a restored or new database); the source then emits only the events that are newer than the
    newest one it had seen, and goes on from there.
  - NetBird keeps the newest 10,000 events of an account. This source needs C(requests) and the
    collection installed where ansible-rulebook runs.
options:
  api_url:
    description:
      - URL of the NetBird management API, with or without a trailing C(/api).
      - If not set, the environment variables E(NETBIRD_API_URL) and then E(NB_MANAGEMENT_URL) are used,
        else C(https://api.netbird.io).
    type: str
  api_token:
    description:
      - A personal access token (C(nbp_...)) or a JWT of a user or service user allowed to read the audit log
        (admin, owner or auditor).
      - If not set, the environment variables E(NETBIRD_API_TOKEN) and then E(NB_PAT) are used. Prefer them,
        because a value in the rulebook may be printed by ansible-rulebook's debug output.
    type: str
  validate_certs:
    description:
      - Verify the server's TLS certificate. If not set, E(NETBIRD_VALIDATE_CERTS), else true.
    type: bool
  ca_path:
    description:
      - CA bundle (PEM) for a self-hosted server. If not set, E(NETBIRD_CA_PATH).
    type: path
  api_timeout:
    description:
      - Timeout of one request in seconds. If not set, E(NETBIRD_API_TIMEOUT), else 30.
    type: int
  api_retries:
    description:
      - Retries of one poll on 429, 502, 503, 504 and connection errors before it counts as failed.
        If not set, E(NETBIRD_API_RETRIES), else 5.
    type: int
  interval:
    description:
      - Seconds between two polls (a number greater than 0).
    type: float
    default: 30
  activity_codes:
    description:
      - Emit only events with these C(activity_code) values (for example C(user.join), C(user.role.update),
        C(personal.access.token.create)), as a list or as one text with the codes separated by commas.
      - Default all events.
    type: list
    elements: str
  replay:
    description:
      - Emit the events that are already in the log at the first poll (at most the newest 10,000), oldest first.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: React to NetBird's audit log
  hosts: localhost
  sources:
    - netbird_ops.netbird.netbird_events:
        interval: 30
        activity_codes:
          - user.join
  rules:
    - name: A user waits for approval
      condition: event.netbird.activity_code == "user.join" and event.netbird.meta.pending_approval == "true"
      action:
        debug:
          msg: "{{ event.netbird.initiator_email }} waits for approval"
"""

try:
    from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import NetBirdClient
    from ansible_collections.netbird_ops.netbird.plugins.module_utils._common import time_key
except ImportError:
    # ansible-rulebook runs this file by its path (runpy), without Ansible's collection loader: put the
    # collections directory that holds this collection on sys.path, then import the collection's client.
    _HERE = os.path.abspath(__file__)
    _ROOT = _HERE
    for _dummy in range(7):
        _ROOT = os.path.dirname(_ROOT)
    if os.path.basename(_ROOT) != "ansible_collections":
        raise
    if os.path.dirname(_ROOT) not in sys.path:
        sys.path.append(os.path.dirname(_ROOT))
    from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import NetBirdClient
    from ansible_collections.netbird_ops.netbird.plugins.module_utils._common import time_key

LOGGER = logging.getLogger("netbird_ops.netbird.netbird_events")
DEFAULT_API_URL = "https://api.netbird.io"
DEFAULT_INTERVAL = 30.0
MAX_PAUSE = 300.0          # longest pause between two failed polls
RETAIN = 10000             # IDs remembered: as many as the server answers at most
TRUE_WORDS = ("1", "true", "yes", "on", "y", "t")
FALSE_WORDS = ("0", "false", "no", "off", "n", "f")


class ConfigError(ValueError):
    """A bad option: the message names it."""


def _first(args, name, env_names):
    value = args.get(name)
    if value is None or value == "":
        for env in env_names:
            if os.environ.get(env):
                return os.environ[env], env
        return None, None
    return value, name


def _as_bool(value, name):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ConfigError("netbird_events: %s must be true or false, not %r" % (name, value))


def _as_number(value, name, kind, minimum):
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigError("netbird_events: %s must be a number, not %r" % (name, value)) from None
    if number < minimum or (kind is float and number <= 0):
        raise ConfigError("netbird_events: %s must be %s %s, not %r" % (name, "greater than" if kind is float else "at least",
                                                                        minimum, value))
    return number


def parse_args(args):
    """The source's settings from the rulebook's arguments and the modules' environment variables."""
    args = dict(args or {})
    known = {"api_url", "api_token", "validate_certs", "ca_path", "api_timeout", "api_retries", "interval",
             "activity_codes", "replay"}
    unknown = sorted(set(args) - known)
    if unknown:
        raise ConfigError("netbird_events: unknown option(s) %s; the options are %s" % (", ".join(unknown), ", ".join(sorted(known))))
    url, dummy = _first(args, "api_url", ("NETBIRD_API_URL", "NB_MANAGEMENT_URL"))
    token, dummy = _first(args, "api_token", ("NETBIRD_API_TOKEN", "NB_PAT"))
    if not token or not str(token).strip():
        raise ConfigError("netbird_events: api_token is required: set NETBIRD_API_TOKEN (or NB_PAT) in the environment of "
                          "ansible-rulebook, or the api_token option")
    certs, where = _first(args, "validate_certs", ("NETBIRD_VALIDATE_CERTS",))
    ca_path, dummy = _first(args, "ca_path", ("NETBIRD_CA_PATH",))
    timeout, twhere = _first(args, "api_timeout", ("NETBIRD_API_TIMEOUT",))
    retries, rwhere = _first(args, "api_retries", ("NETBIRD_API_RETRIES",))
    codes = args.get("activity_codes")
    if isinstance(codes, str):
        codes = [c for c in (part.strip() for part in codes.split(",")) if c]
    elif codes is not None:
        if not isinstance(codes, (list, tuple)) or not all(isinstance(c, str) and c.strip() for c in codes):
            raise ConfigError("netbird_events: activity_codes must be a list of activity codes, such as [user.join]")
        codes = [c.strip() for c in codes]
    return {
        "api_url": str(url or DEFAULT_API_URL),
        "api_token": str(token).strip(),
        "validate_certs": True if certs is None else _as_bool(certs, where),
        "ca_path": os.path.expanduser(str(ca_path)) if ca_path else None,
        "api_timeout": 30 if timeout is None else _as_number(timeout, twhere, int, 1),
        "api_retries": 5 if retries is None else _as_number(retries, rwhere, int, 0),
        "interval": DEFAULT_INTERVAL if args.get("interval") is None else _as_number(args["interval"], "interval", float, 0),
        "activity_codes": frozenset(codes) if codes else None,
        "replay": _as_bool(args.get("replay", False), "replay"),
    }


def _event_id(event):
    """NetBird's event IDs are increasing integers, sent as text; None for anything else."""
    if not isinstance(event, dict):
        return None
    try:
        return int(str(event.get("id")))
    except ValueError:
        return None


class EventCursor:
    """Which events of an audit log answer are new.

    The cursor is the highest event ID seen. NetBird stores events asynchronously, so an event can become
    visible after one with a higher ID (its ID was taken first, it was written later); the IDs of the newest
    ``retain`` events seen are remembered too, and an unseen ID above the oldest remembered one is new even
    below the cursor. Timestamps decide nothing in normal operation (several events share one, and a higher
    ID can carry an earlier one); they only tell a reset log apart: when the answer's highest ID is below the
    cursor, or a remembered ID comes back with another timestamp, the server's log was replaced (a restored
    or new database), and only events newer than the newest timestamp seen before are emitted.
    """

    def __init__(self, replay=False, retain=RETAIN):
        self.replay = replay
        self.retain = retain
        self.started = False
        self.highest = None        # the cursor: the highest event ID seen
        self.seen = {}             # event ID -> timestamp, the newest `retain` IDs seen
        self.floor = None          # IDs at or below this were forgotten (older than the remembered ones)
        self.newest_time = None    # the newest timestamp seen (time_key)
        self.resets = 0

    def _remember(self, parsed):
        for eid, event in parsed:
            self.seen[eid] = event.get("timestamp")
            key = time_key(event.get("timestamp"))
            if key is not None and (self.newest_time is None or key > self.newest_time):
                self.newest_time = key
            if self.highest is None or eid > self.highest:
                self.highest = eid
        if len(self.seen) > self.retain:
            drop = sorted(self.seen)[:len(self.seen) - self.retain]
            for eid in drop:
                del self.seen[eid]
            self.floor = drop[-1] if self.floor is None else max(self.floor, drop[-1])

    def _is_reset(self, parsed):
        if not parsed or self.highest is None:
            return False
        if max(eid for eid, dummy in parsed) < self.highest:
            return True
        return any(eid in self.seen and self.seen[eid] != event.get("timestamp") for eid, event in parsed)

    def update(self, events):
        """The new events of one answer (any order), oldest (lowest ID) first; each ID at most once."""
        parsed = {}
        for event in events or []:
            eid = _event_id(event)
            if eid is not None:
                parsed[eid] = event
        parsed = sorted(parsed.items())
        if not self.started:
            self.started = True
            self._remember(parsed)
            return [event for dummy, event in parsed] if self.replay else []
        if self._is_reset(parsed):
            self.resets += 1
            before = self.newest_time
            fresh = [event for eid, event in parsed
                     if before is None or (time_key(event.get("timestamp")) or before) > before]
            self.seen, self.highest, self.floor = {}, None, None
            self._remember(parsed)
            return fresh
        fresh = [(eid, event) for eid, event in parsed
                 if eid not in self.seen and (self.floor is None or eid > self.floor)]
        self._remember(fresh)
        return [event for dummy, event in fresh]


class NetBirdEventSource:
    """Polls the audit log and feeds the queue; never ends on its own."""

    def __init__(self, args, client=None, sleep=asyncio.sleep, rand=random.random):
        self.settings = parse_args(args)
        self.client = client or NetBirdClient(
            self.settings["api_url"], self.settings["api_token"], validate_certs=self.settings["validate_certs"],
            ca_path=self.settings["ca_path"], timeout=self.settings["api_timeout"], retries=self.settings["api_retries"])
        self.cursor = EventCursor(replay=self.settings["replay"])
        self.failures = 0
        self.polls = 0
        self._sleep = sleep
        self._rand = rand

    def redact(self, text):
        text = self.client.redact(text)
        token = self.settings["api_token"]
        return text.replace(token, "********") if token else text

    def fetch(self):
        """One poll (blocking: the client's retries sleep); the events in the API's order."""
        try:
            return self.client.get_list("/events/audit")
        finally:
            self.client.retry_log.clear()

    def pause_after_failure(self):
        """The pause after the n-th failed poll in a row: interval, doubled each time, at most MAX_PAUSE, jittered."""
        interval = self.settings["interval"]
        pause = min(max(interval, MAX_PAUSE), interval * (2 ** min(self.failures - 1, 16)))
        return pause * (0.75 + 0.25 * self._rand())

    def accepted(self, event):
        codes = self.settings["activity_codes"]
        return codes is None or event.get("activity_code") in codes

    async def poll_once(self, queue, loop):
        """Poll and queue the new events; return the pause before the next poll."""
        try:
            events = await loop.run_in_executor(None, self.fetch)
        except Exception as exc:  # noqa: BLE001  # pylint: disable=broad-exception-caught
            # any failure (HTTP error, a non-JSON answer, a refused connection, a bug of ours) must not end the source
            self.failures += 1
            pause = self.pause_after_failure()
            LOGGER.warning("netbird_events: polling the audit log failed (%d in a row): %s; next poll in %.0f s",
                           self.failures, self.redact(str(exc)) or type(exc).__name__, pause)
            return pause
        if self.failures:
            LOGGER.warning("netbird_events: the audit log answers again after %d failed poll(s)", self.failures)
        self.failures = 0
        self.polls += 1
        resets = self.cursor.resets
        for event in self.cursor.update(events):
            if self.accepted(event):
                await queue.put({"netbird": event})
        if self.cursor.resets != resets:
            LOGGER.warning("netbird_events: the server's audit log was reset (its newest event ID went down or an ID came "
                           "back with another timestamp); only events newer than the last one seen were emitted")
        return self.settings["interval"]

    async def run(self, queue):
        loop = asyncio.get_running_loop()
        base = self.client.base_url
        if base.startswith("http://") and not base.startswith(("http://127.", "http://localhost", "http://[::1]")):
            LOGGER.warning("netbird_events: api_url uses plain http://: the API token travels unencrypted")
        LOGGER.info("netbird_events: polling %s/api/events/audit every %s s", base, self.settings["interval"])
        while True:
            pause = await self.poll_once(queue, loop)
            await self._sleep(pause)


async def main(queue, args):
    """Entry point of ansible-rulebook: runs until the rulebook stops it."""
    await NetBirdEventSource(args).run(queue)
