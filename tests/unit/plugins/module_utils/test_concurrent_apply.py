# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""api_concurrency: the apply loop with several changes in flight, and the client's flow control on 429.

A concurrent run must be indistinguishable from a sequential one in what it returns (results in input order, the
summary, warnings, the partial-failure report), keep stages in order, never run two changes of one lane at once,
and keep an EXCLUSIVE change alone. Overlap is observed (who was in flight when), never timed.
"""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from fakes import FakeClient, FakeNB, raw_user
from test_api import make_client  # pylint: disable=import-error

from ansible_collections.netbird_ops.netbird.plugins.module_utils import _api
from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import FlowControl
from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdAPIError, NetBirdInputError, OperationFailed
from ansible_collections.netbird_ops.netbird.plugins.module_utils._core import EXCLUSIVE, BatchRunner, Change, Kind, Outcome, Spec
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import USER_ENTRY_KEYS
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import run_users as run_user_specs

PAUSE = 0.01  # a worker holds its change this long, so that others really are in flight meanwhile


# -- a minimal kind whose apply records who was in flight ------------------------------------------------

class ItemSpec(Spec):
    keys = ("name", "lane", "fail", "stage")

    @property
    def label(self):
        return self.name

    def identity(self):
        return self.name


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.in_flight = set()
        self.max_in_flight = 0
        self.overlaps = []      # (started, [names in flight when it started])
        self.applied = []

    def start(self, name):
        with self.lock:
            self.overlaps.append((name, sorted(self.in_flight)))
            self.in_flight.add(name)
            self.max_in_flight = max(self.max_in_flight, len(self.in_flight))

    def end(self, name):
        with self.lock:
            self.in_flight.discard(name)
            self.applied.append(name)


class ItemKind(Kind):
    result_key = "items"
    concurrent = True

    def __init__(self, client, check_mode=False):
        super().__init__(client, check_mode)
        self.recorder = Recorder()

    def plan(self, spec):
        return Change(spec, {"id": spec.name}, "create", {"stage": spec.stage or "one"}, {"name": spec.name})

    def phases(self, changes):
        return [(stage, [i for i, c in enumerate(changes) if c.step("stage") == stage]) for stage in ("one", "two")]

    def lane(self, change):
        if change.spec.lane == "exclusive":
            return EXCLUSIVE
        return change.spec.lane or super().lane(change)

    def apply(self, change, stage=None, previous=None):
        name = change.spec.name
        self.recorder.start(name)
        try:
            time.sleep(PAUSE)
            if change.spec.fail:
                raise NetBirdAPIError("POST", "/api/items", status=500, message="boom %s" % name)
            return Outcome(change, {"name": name, "stage": stage}, warnings=["warned about %s" % name])
        finally:
            self.recorder.end(name)

    def view(self, change, outcome, partial=False):
        if outcome.change is change and outcome.result is change.current and not outcome.done:
            return {"name": change.spec.name, "changed": False}  # not applied
        return {"name": change.spec.name, "changed": True, "result": outcome.result}


def run_items(items, width, fail_fast=False):
    nb = FakeNB(None, {"api_concurrency": width})
    kind = ItemKind(None)
    specs = [ItemSpec(dict({"lane": None, "fail": False, "stage": None}, **item), where="items[%d]" % i) for i, item in enumerate(items)]
    try:
        result = BatchRunner(kind, width=width, warn=nb.warn, batch=True, fail_fast=fail_fast).run(specs)
        error = None
    except OperationFailed as exc:
        result, error = exc.extra, str(exc)
    return result, error, nb.warnings, kind.recorder


def test_results_warnings_and_order_as_sequential():
    items = [{"name": "i%02d" % i, "stage": "two" if i % 3 == 0 else "one"} for i in range(24)]
    sequential = run_items(items, 1)
    concurrent = run_items(items, 6)
    assert concurrent[0] == sequential[0]
    assert concurrent[2] == sequential[2]  # warnings in input order within each stage
    assert [e["name"] for e in concurrent[0]["items"]] == ["i%02d" % i for i in range(24)]
    assert sequential[3].max_in_flight == 1
    assert 1 < concurrent[3].max_in_flight <= 6


def test_stages_keep_their_order():
    items = [{"name": "i%02d" % i, "stage": "two" if i % 2 else "one"} for i in range(16)]
    recorder = run_items(items, 8)[3]
    first_two = min(recorder.applied.index(n["name"]) for n in items if n["stage"] == "two")
    last_one = max(recorder.applied.index(n["name"]) for n in items if n["stage"] == "one")
    assert last_one < first_two
    for name, others in recorder.overlaps:  # nothing of stage one is still in flight when stage two starts
        stage = next(i["stage"] for i in items if i["name"] == name)
        assert all(next(i["stage"] for i in items if i["name"] == other) == stage for other in others)


def test_one_lane_never_runs_twice_at_once_and_exclusive_runs_alone():
    items = [{"name": "a%d" % i, "lane": "alice"} for i in range(4)] + [{"name": "x", "lane": "exclusive"}]
    items += [{"name": "b%d" % i} for i in range(6)]
    items.insert(2, {"name": "y", "lane": "exclusive"})
    result, error, _warnings, recorder = run_items(items, 4)
    assert error is None and len(result["items"]) == len(items)
    for name, others in recorder.overlaps:
        if name.startswith("a"):
            assert not [o for o in others if o.startswith("a")]
        if name in ("x", "y"):
            assert others == []
        assert "x" not in others and "y" not in others
    order = recorder.applied
    # an exclusive change starts after every earlier change and before every later one
    for excl in ("x", "y"):
        position = [i["name"] for i in items].index(excl)
        before = [i["name"] for i in items[:position]]
        after = [i["name"] for i in items[position + 1:]]
        assert all(order.index(b) < order.index(excl) for b in before)
        started = [pair[0] for pair in recorder.overlaps]
        assert all(started.index(a) > started.index(excl) for a in after)
    assert recorder.max_in_flight > 1


def test_fail_fast_failure_midway_stops_new_writes_and_reports_exactly():
    items = [{"name": "i%02d" % i} for i in range(20)]
    items[5]["fail"] = True
    result, error, _warnings, recorder = run_items(items, 4, fail_fast=True)
    assert error.startswith("i05: POST /api/items failed with HTTP 500 Internal Server Error: boom i05; already done: ")
    done = error.split("already done: ")[1].split("; not attempted: ")[0].split("; ")
    rest = error.split("; not attempted: ")[1].split(", ")
    applied = [name for name in recorder.applied if name != "i05"]
    assert done == ["created %s" % name for name in sorted(applied)]  # input order, exactly what ran
    assert sorted(applied + rest + ["i05"]) == sorted(i["name"] for i in items)
    assert len(applied) < 19  # new writes stopped
    assert [e["name"] for e in result["items"] if not e.get("failed")] == sorted(applied)
    assert [e["name"] for e in result["items"] if e.get("not_attempted")] == sorted(rest)
    sequential = run_items(items, 1, fail_fast=True)[1]
    assert sequential.startswith("i05: POST /api/items failed") and "not attempted: i06, " in sequential


def test_two_failures_in_flight_are_both_reported():
    items = [{"name": "i%d" % i, "fail": i in (1, 2)} for i in range(3)]
    _result, error, _warnings, _recorder = run_items(items, 3)
    assert error.startswith("i1: POST /api/items failed")
    assert "also failed: i2: POST /api/items failed" in error
    assert "not attempted" not in error


def test_width_one_and_check_mode_are_sequential():
    items = [{"name": "i%d" % i} for i in range(5)]
    assert run_items(items, 1)[3].max_in_flight == 1
    kind = ItemKind(None)
    kind.predict = lambda change: Outcome(change, change.predicted)
    BatchRunner(kind, width=4, check_mode=True, batch=True).run([ItemSpec({"name": "i%d" % i}) for i in range(5)])
    assert kind.recorder.applied == []


# -- the users kind on the shared fake client, made thread-safe and slow ------------------------------

class SlowClient(FakeClient):
    """The shared fake with a lock around its state and a pause per write, recording writes in flight."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()
        self.flight = Recorder()
        self.numbers = itertools.count()

    def _slow(self, method, path, *args, **kwargs):
        key = "%s %s #%d" % (method, path, next(self.numbers))
        self.flight.start(key)
        try:
            time.sleep(PAUSE)
            with self.lock:
                return getattr(super(), method)(path, *args, **kwargs)
        finally:
            self.flight.end(key)

    def post(self, path, body=None, idempotent=False):
        return self._slow("post", path, body, idempotent)

    def put(self, path, body):
        return self._slow("put", path, body)

    def delete(self, path):
        return self._slow("delete", path)


GROUPS = [{"id": "g-dev", "name": "dev", "issued": "api"}]
OWNER = raw_user("owner1", "owner@example.com", "Owner", role="owner", current=True)


def user_params(**entry):
    params = dict((key, None) for key in USER_ENTRY_KEYS)
    params.update(state="present", auto_groups_mode="replace", resend_invite=False)
    params.update(entry)
    return params


def run_team(width, check_mode=False, **extra):
    existing = [raw_user("u%d" % i, "old%d@example.com" % i, "Old %d" % i, groups=["g-dev"]) for i in range(6)]
    client = SlowClient([OWNER] + existing, groups=GROUPS)
    batch = [user_params(email="new%d@example.com" % i, name="New %d" % i, role="user", auto_groups=["dev"]) for i in range(10)]
    batch += [user_params(email="old%d@example.com" % i, role="admin") for i in range(3)]           # updates
    batch += [user_params(email="old%d@example.com" % i, state="absent") for i in range(3, 5)]      # deletes
    batch += [user_params(email="old5@example.com", auto_groups=["dev"])]                           # unchanged
    params = user_params(users=batch, api_concurrency=width, **extra)
    nb = FakeNB(client, params, check_mode=check_mode)
    result = run_user_specs(nb)
    for entry in result["users"]:
        if entry["user"] and (entry["user"].get("id") or "").startswith("new"):
            entry["user"]["id"] = "<new>"  # ids of creates follow the order the fake saw them in
    return result, nb.warnings, client


def test_users_batch_identical_to_sequential():
    sequential, seq_warnings, seq_client = run_team(1)
    concurrent, con_warnings, con_client = run_team(8)
    assert concurrent == sequential
    assert con_warnings == seq_warnings
    assert sorted(map(repr, con_client.writes())) == sorted(map(repr, seq_client.writes()))
    assert seq_client.flight.max_in_flight == 1
    assert con_client.flight.max_in_flight > 1


@pytest.mark.parametrize("check_mode", [False, True])
def test_batch_results_changed_lists_only_the_changed_entries(check_mode):
    full, full_warnings, _client = run_team(8, check_mode=check_mode, batch_results="all")
    brief, brief_warnings, _client = run_team(8, check_mode=check_mode, batch_results="changed")
    assert len(full["users"]) == 16
    assert brief["users"] == [entry for entry in full["users"] if entry["changed"]]
    assert len(brief["users"]) == 15                       # the one unchanged user is left out of the list ...
    assert brief["summary"] == full["summary"]             # ... and still named in the summary
    assert brief["summary"]["unchanged"] == ["old5@example.com"]
    assert (brief["changed"], brief_warnings) == (full["changed"], full_warnings)


def test_users_owner_change_runs_alone():
    client = SlowClient([OWNER, raw_user("u1", "bob@example.com", "Bob")] +
                        [raw_user("v%d" % i, "v%d@example.com" % i, "V") for i in range(6)], groups=GROUPS)
    batch = [user_params(email="v%d@example.com" % i, role="admin") for i in range(3)]
    batch += [user_params(email="bob@example.com", role="owner")]
    batch += [user_params(email="v%d@example.com" % i, role="admin") for i in range(3, 6)]
    run_user_specs(FakeNB(client, user_params(users=batch, api_concurrency=8)))
    for key, others in client.flight.overlaps:
        if "/u1" in key:
            assert others == []
        assert not [o for o in others if "/u1" in o]


# -- flow control: AIMD on the number in flight, pacing after a 429 --------------------------------------

class Clock:
    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_pacing_spaces_requests_and_probes_back_to_full_speed():
    clock = Clock()
    flow = FlowControl(4, clock=clock, sleep=clock.sleep)
    assert flow.before_send().generation == 0 and clock.slept == []  # no pacing before any 429
    flow.on_rate_limited(flow.before_send())
    assert flow.window == 4  # a 429 paces; it never lowers api_concurrency (tests/unit/.../test_pacing.py)
    starts = []
    for dummy in range(3):
        flow.before_send()
        starts.append(clock.now)
    assert [round(b - a, 3) for a, b in zip(starts, starts[1:])] == [_api.RATE_LIMIT_INTERVAL] * 2
    for dummy in range(_api.PROBE_RUN):
        flow.on_success()
    assert flow.pace == _api.RATE_LIMIT_INTERVAL / 2 and flow.good == _api.RATE_LIMIT_INTERVAL
    flow.on_rate_limited(flow.before_send())  # the probe failed: slower again, and the next probe waits longer
    assert flow.pace >= _api.RATE_LIMIT_INTERVAL / 2 * 1.1 and flow.probe_run == 4 * _api.PROBE_RUN
    for dummy in range(2000):
        flow.on_success()
    assert flow.pace == 0.0 and flow.probe_run == _api.PROBE_RUN  # the limit went away: full speed again


def test_client_429_paces_and_says_so_once_in_the_retry_warning():
    client, adapter, sleeps = make_client([(429, {"message": "too many requests", "code": 429}), (200, []), (200, [])],
                                          concurrency=4)
    assert client.get_list("/users") == []
    assert client.get_list("/groups") == []
    assert len(adapter.sent) == 3
    assert client.flow.rate_limited == 1 and client.flow.window == 4
    assert sleeps[0] >= _api.RATE_LIMIT_INTERVAL - 0.01  # the retry waited for the refill, in one sleep
    summary = client.retry_summary()
    assert "HTTP 429 x1" in summary and "spaced out to the server's refill rate (one every 0.55 s)" in summary
    assert "nbp_" not in summary


def test_client_retry_log_is_thread_safe():
    answers = [(429, {"message": "too many requests"}), (200, [])] * 200
    client, _adapter, _sleeps = make_client(answers, concurrency=8, retries=20)
    lock = threading.Lock()
    original = client.session.request

    def serialized(*args, **kwargs):  # the fake adapter pops answers: hand them out one at a time
        with lock:
            return original(*args, **kwargs)

    client.session.request = serialized
    threads = [threading.Thread(target=lambda: [client.get_list("/users") for dummy in range(25)]) for dummy in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(client.retry_log) == client.flow.rate_limited == 200
    assert client.retry_summary().startswith("200 request(s) were retried (HTTP 429 x200;")


def test_api_concurrency_adapter_pool_is_large_enough():
    client = _api.NetBirdClient("https://nb.example.com", "nbp_" + "a" * 36, concurrency=16)
    adapter = client.session.get_adapter("https://nb.example.com/api/users")
    assert adapter._pool_maxsize >= 16  # pylint: disable=protected-access


@pytest.mark.parametrize("width", [0, -2])
def test_api_concurrency_below_one_is_refused(width):
    from ansible_collections.netbird_ops.netbird.plugins.module_utils import _module  # pylint: disable=import-outside-toplevel

    class Module:
        _name = "netbird_user"

        def warn(self, text):
            raise AssertionError(text)

    nb = _module.NetBirdModule.__new__(_module.NetBirdModule)
    nb.module = Module()
    nb.params = dict(api_url="http://127.0.0.1:1", api_token="nbp_" + "a" * 36, validate_certs=True, ca_path=None,
                     api_timeout=30, api_retries=5, api_concurrency=width)
    with pytest.raises(NetBirdInputError, match=r"^api_concurrency must be 1 \(strictly sequential\) or more, got %d$" % width):
        nb._build_client()  # pylint: disable=protected-access
