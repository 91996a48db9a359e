# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The netbird_events event source against the emulator, without ansible-rulebook: outages and the real audit log."""

from __future__ import annotations

import asyncio

from ansible_collections.netbird_ops.netbird.extensions.eda.plugins.event_source.netbird_events import NetBirdEventSource
from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import NetBirdClient


class ListQueue:
    def __init__(self):
        self.items = []

    async def put(self, item):
        self.items.append(item)


def polls(source, queue, count, until=None):
    """Run up to ``count`` polls of the source (the pauses between them are not waited for)."""
    async def go():
        loop = asyncio.get_running_loop()
        for dummy in range(count):
            await source.poll_once(queue, loop)
            if until and until():
                return
    asyncio.run(go())


def test_source_survives_a_burst_of_503s_and_emits_each_event_once(emulator, caplog):
    # the collection's client with its retries (2 per poll here) and a short backoff, so the test does not wait long
    client = NetBirdClient(emulator.url, emulator.token, retries=2, backoff_base=0.01)
    source = NetBirdEventSource({"api_url": emulator.url, "api_token": emulator.token, "interval": 0.01}, client=client)
    queue = ListQueue()
    emulator.seed(users=[{"email": "before@example.org", "name": "Before", "pending_approval": True}])
    polls(source, queue, 1)
    assert queue.items == []                                       # history is not news
    seeded = emulator.seed(users=[{"email": "p1@example.org", "name": "P1", "pending_approval": True},
                                  {"email": "p2@example.org", "name": "P2", "pending_approval": True}])["users"]
    # an outage: 9 failed answers in a row (more than one poll's retries), a dropped connection and a proxy's HTML page
    emulator.faults([{"method": "GET", "path": "/api/events/audit", "status": 503, "times": 7},
                     {"method": "GET", "path": "/api/events/audit", "drop": True},
                     {"method": "GET", "path": "/api/events/audit", "status": 502, "body": "<html>Bad Gateway</html>"}])
    polls(source, queue, 10, until=lambda: len(queue.items) >= 2)
    emulator.seed(users=[{"email": "p3@example.org", "name": "P3", "pending_approval": True}])
    polls(source, queue, 3)
    joined = [item["netbird"]["target_id"] for item in queue.items]
    assert sorted(joined) == sorted([u["id"] for u in seeded] + [emulator.user("p3@example.org")["id"]])
    assert all(item["netbird"]["activity_code"] == "user.join" and item["netbird"]["meta"] == {"pending_approval": "true"}
               for item in queue.items)
    ids = [int(item["netbird"]["id"]) for item in queue.items]
    assert ids == sorted(ids) and len(set(ids)) == 3               # oldest first, each once
    assert emulator.requests()["by_route"]["GET /api/events/audit"] >= 10 + 4
    assert "polling the audit log failed (1 in a row)" in caplog.text and "answers again after" in caplog.text
    assert source.failures == 0 and emulator.token not in caplog.text
