# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the netbird_events event source: its cursor, its options and its poll loop (fake client)."""

from __future__ import annotations

import asyncio
import os
import runpy
import shutil
import subprocess
import sys

import pytest
import yaml

from ansible_collections.netbird_ops.netbird.extensions.eda.plugins.event_source import netbird_events as source_mod
from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import NetBirdClient

EventCursor = source_mod.EventCursor
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLUGIN = os.path.join(REPO, "extensions", "eda", "plugins", "event_source", "netbird_events.py")
TOKEN = "nbp_" + "S" * 30 + "123456"


def ev(eid, ts="2026-12-05T10:00:00.000000001Z", code="user.create", **extra):
    event = {"id": str(eid), "activity_code": code, "timestamp": ts, "target_id": "u%s" % eid, "meta": {}}
    event.update(extra)
    return event


def ids(events):
    return [int(e["id"]) for e in events]


# ---- the cursor -----------------------------------------------------------------------------------

def test_history_is_not_news_unless_replay():
    history = [ev(3), ev(2), ev(1)]
    assert EventCursor().update(history) == []
    assert ids(EventCursor(replay=True).update(history)) == [1, 2, 3]
    assert EventCursor().update([]) == [] and EventCursor(replay=True).update([]) == []


def test_each_event_once_even_when_seen_in_several_polls():
    cursor = EventCursor()
    cursor.update([ev(1)])
    assert ids(cursor.update([ev(2), ev(1)])) == [2]
    assert cursor.update([ev(2), ev(1)]) == []
    assert ids(cursor.update([ev(4), ev(3), ev(2), ev(1)])) == [3, 4]
    assert cursor.highest == 4


def test_equal_timestamps_are_told_apart_by_id():
    same = "2026-12-05T10:00:00.123456789Z"
    cursor = EventCursor()
    cursor.update([ev(5, same)])
    # a cursor by timestamp would drop 6 and 7 (not later than the last one seen)
    assert ids(cursor.update([ev(7, same), ev(6, same), ev(5, same)])) == [6, 7]
    assert cursor.update([ev(7, same), ev(6, same), ev(5, same)]) == []


def test_ids_out_of_order_in_one_answer_are_emitted_by_id():
    cursor = EventCursor()
    cursor.update([ev(10)])
    # the real server's reject: user.delete has the higher id and the earlier timestamp
    answer = [ev(12, "2026-12-05T10:00:00.2Z"), ev(14, "2026-12-05T10:00:00.1Z"), ev(11, "2026-12-05T10:00:00.9Z"),
              ev(13, "2026-12-05T10:00:00.3Z")]
    assert ids(cursor.update(answer)) == [11, 12, 13, 14]
    assert cursor.highest == 14


def test_an_event_that_becomes_visible_late_below_the_cursor_is_still_emitted_once():
    cursor = EventCursor()
    cursor.update([ev(20)])
    assert ids(cursor.update([ev(22), ev(20)])) == [22]          # 21 was not written yet
    assert ids(cursor.update([ev(22), ev(21), ev(20)])) == [21]   # now it is
    assert cursor.update([ev(22), ev(21), ev(20)]) == []


def test_a_reset_that_lowers_the_highest_id_emits_only_newer_events():
    cursor = EventCursor()
    cursor.update([ev(n, "2026-12-05T10:00:%02d.5Z" % n) for n in range(1, 51)])
    # a new database: ids start again at 1, the events are newer than anything seen
    fresh = [ev(2, "2026-12-05T11:00:01Z", "user.join"), ev(1, "2026-12-05T11:00:00Z")]
    assert ids(cursor.update(fresh)) == [1, 2] and cursor.resets == 1 and cursor.highest == 2
    assert cursor.update(fresh) == []
    assert ids(cursor.update([ev(3, "2026-12-05T11:00:02Z")] + fresh)) == [3]
    # a restore from an older backup: lower ids again, all of them older than what was seen: history
    other = EventCursor()
    other.update([ev(n, "2026-12-05T10:00:%02d.5Z" % n) for n in range(1, 51)])
    assert other.update([ev(n, "2026-12-05T10:00:%02d.5Z" % n) for n in range(1, 31)]) == [] and other.resets == 1
    assert ids(other.update([ev(31, "2026-12-05T12:00:00Z")] + [ev(n, "2026-12-05T10:00:%02d.5Z" % n) for n in range(1, 31)])) == [31]


def test_a_reset_whose_new_ids_overtook_the_cursor_is_seen_by_a_known_id_with_another_timestamp():
    cursor = EventCursor()
    cursor.update([ev(1, "2026-12-05T10:00:01Z"), ev(2, "2026-12-05T10:00:02Z")])
    # restored empty, then three events before the next poll: id 3 is above the cursor, 1 and 2 are new too
    answer = [ev(3, "2026-12-05T12:00:03Z"), ev(2, "2026-12-05T12:00:02Z"), ev(1, "2026-12-05T12:00:01Z")]
    assert ids(cursor.update(answer)) == [1, 2, 3] and cursor.resets == 1


def test_the_10000_cap_drops_old_events_without_a_false_reset():
    cursor = EventCursor(retain=5)
    cursor.update([ev(n) for n in range(1, 6)])
    assert ids(cursor.update([ev(n) for n in range(3, 9)])) == [6, 7, 8]    # 1 and 2 fell off the log
    assert cursor.resets == 0 and sorted(cursor.seen) == [4, 5, 6, 7, 8] and cursor.floor == 3
    assert cursor.update([ev(n) for n in range(3, 9)]) == []                # 3 is below the floor: old, not new


def test_events_without_a_numeric_id_are_ignored():
    cursor = EventCursor()
    cursor.update([ev(1)])
    assert ids(cursor.update([{"id": "x"}, None, ev(2), {"activity_code": "user.join"}])) == [2]


# ---- options ------------------------------------------------------------------------------------

@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("NETBIRD_", "NB_")):
            monkeypatch.delenv(name)
    return monkeypatch


def test_options_fall_back_to_the_modules_environment(clean_env):
    clean_env.setenv("NB_MANAGEMENT_URL", "https://nb.example.org/api")
    clean_env.setenv("NB_PAT", TOKEN)
    clean_env.setenv("NETBIRD_VALIDATE_CERTS", "no")
    clean_env.setenv("NETBIRD_API_RETRIES", "2")
    settings = source_mod.parse_args({"activity_codes": "user.join, user.role.update"})
    assert settings["api_url"] == "https://nb.example.org/api" and settings["api_token"] == TOKEN
    assert settings["validate_certs"] is False and settings["api_retries"] == 2 and settings["interval"] == 30
    assert settings["activity_codes"] == {"user.join", "user.role.update"} and settings["replay"] is False
    clean_env.setenv("NETBIRD_API_URL", "https://first.example.org")
    clean_env.setenv("NETBIRD_API_TOKEN", "nbp_other")
    settings = source_mod.parse_args({"api_url": "https://given.example.org", "interval": "0.5", "replay": "yes"})
    assert settings["api_url"] == "https://given.example.org" and settings["api_token"] == "nbp_other"
    assert settings["interval"] == 0.5 and settings["replay"] is True
    assert source_mod.parse_args({})["api_url"] == "https://first.example.org"


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("args, message", [
    ({}, "api_token is required: set NETBIRD_API_TOKEN"),
    ({"api_token": TOKEN, "interval": 0}, "interval must be greater than 0"),
    ({"api_token": TOKEN, "interval": "soon"}, "interval must be a number"),
    ({"api_token": TOKEN, "replay": "maybe"}, "replay must be true or false"),
    ({"api_token": TOKEN, "activity_codes": [1]}, "activity_codes must be a list"),
    ({"api_token": TOKEN, "intervall": 5}, "unknown option(s) intervall"),
    ({"api_token": TOKEN, "api_retries": -1}, "api_retries must be at least 0"),
])
def test_bad_options_fail_with_one_sentence_naming_them(args, message):
    with pytest.raises(source_mod.ConfigError) as info:
        source_mod.parse_args(args)
    assert message in str(info.value) and TOKEN not in str(info.value)


@pytest.mark.usefixtures("clean_env")
def test_the_source_uses_the_collections_client_with_its_options():
    source = source_mod.NetBirdEventSource({"api_url": "https://nb.example.org/api/", "api_token": TOKEN,
                                            "validate_certs": False, "api_timeout": 7, "api_retries": 1})
    assert isinstance(source.client, NetBirdClient)
    assert source.client.base_url == "https://nb.example.org" and source.client.verify is False
    assert source.client.timeout == 7 and source.client.retries == 1


@pytest.mark.usefixtures("clean_env")
def test_ansible_rulebook_loads_the_file_by_path(tmp_path):
    """ansible-rulebook runs the plugin with runpy.run_path from an installed collection, where nothing has put
    ``ansible_collections`` on sys.path: the plugin finds its own collection and the collection's client."""
    module = runpy.run_path(PLUGIN)
    assert callable(module["main"]) and "short_description" in module["DOCUMENTATION"]
    root = tmp_path / "collections" / "ansible_collections" / "netbird_ops" / "netbird"
    (root / "extensions" / "eda" / "plugins" / "event_source").mkdir(parents=True)
    shutil.copy(PLUGIN, root / "extensions" / "eda" / "plugins" / "event_source" / "netbird_events.py")
    os.symlink(os.path.join(REPO, "plugins"), root / "plugins")
    code = ("import runpy, sys; m = runpy.run_path(sys.argv[1]); "
            "print(m['NetBirdClient'].__module__, m['main'].__name__)")
    out = subprocess.run([sys.executable, "-c", code, str(root / "extensions" / "eda" / "plugins" / "event_source" / "netbird_events.py")],
                         capture_output=True, text=True, check=False, cwd=str(tmp_path), env=dict(os.environ, PYTHONPATH=""))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ansible_collections.netbird_ops.netbird.plugins.module_utils._api", "main"]


def test_documentation_parses_and_lists_exactly_the_options():
    """Like validate-modules for a module: the DOCUMENTATION block is YAML and names the options parse_args takes."""
    docs = yaml.safe_load(source_mod.DOCUMENTATION)
    assert set(docs) == {"short_description", "description", "options"}
    with pytest.raises(source_mod.ConfigError) as info:
        source_mod.parse_args({"api_token": TOKEN, "not_an_option": 1})
    known = str(info.value).split("the options are ", 1)[1].split(", ")
    assert sorted(docs["options"]) == sorted(known)
    assert docs["options"]["interval"]["default"] == source_mod.DEFAULT_INTERVAL and docs["options"]["replay"]["default"] is False
    example = yaml.safe_load(source_mod.EXAMPLES)[0]
    assert set(example["sources"][0]["netbird_ops.netbird.netbird_events"]) <= set(docs["options"])


# ---- the poll loop --------------------------------------------------------------------------------

class FakeClient:
    """Answers a script of audit-log answers; an Exception item is raised instead."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = 0
        self.retry_log = []
        self.base_url = "https://nb.example.org"

    def get_list(self, path):
        assert path == "/events/audit"
        self.calls += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @staticmethod
    def redact(text):
        return text


class ListQueue:
    def __init__(self):
        self.items = []

    async def put(self, item):
        self.items.append(item)


def run_polls(source, polls):
    queue = ListQueue()
    pauses = []

    async def go():
        loop = asyncio.get_running_loop()
        for dummy in range(polls):
            pauses.append(await source.poll_once(queue, loop))

    asyncio.run(go())
    return queue.items, pauses


@pytest.mark.usefixtures("clean_env")
def test_failed_polls_back_off_and_the_source_goes_on(caplog):
    error = RuntimeError("GET /api/events/audit failed with HTTP 500 Internal Server Error: token %s leaked?" % TOKEN)
    client = FakeClient([[ev(1)], error, error, error, [ev(2), ev(1)], [ev(2), ev(1)]])
    source = source_mod.NetBirdEventSource({"api_token": TOKEN, "interval": 10}, client=client, rand=lambda: 1.0)
    items, pauses = run_polls(source, 6)
    assert [i["netbird"]["id"] for i in items] == ["2"]
    assert pauses == [10, 10, 20, 40, 10, 10]
    assert source.failures == 0 and client.calls == 6
    assert "polling the audit log failed (3 in a row)" in caplog.text and "answers again after 3 failed poll(s)" in caplog.text
    assert TOKEN not in caplog.text


@pytest.mark.usefixtures("clean_env")
def test_pause_is_capped_at_five_minutes():
    source = source_mod.NetBirdEventSource({"api_token": TOKEN, "interval": 30}, client=FakeClient([[]]), rand=lambda: 1.0)
    source.failures = 40
    assert source.pause_after_failure() == 300
    source.settings["interval"] = 600              # an interval above the cap is kept as it is
    assert source.pause_after_failure() == 600


@pytest.mark.usefixtures("clean_env")
def test_activity_codes_filter_what_is_emitted_not_what_is_seen():
    client = FakeClient([[ev(1)], [ev(3, code="user.role.update"), ev(2, code="user.join"), ev(1)],
                         [ev(3, code="user.role.update"), ev(2, code="user.join"), ev(1)]])
    source = source_mod.NetBirdEventSource({"api_token": TOKEN, "activity_codes": ["user.join"]}, client=client)
    items, dummy = run_polls(source, 3)
    assert items == [{"netbird": ev(2, code="user.join")}]
