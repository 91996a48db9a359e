# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pacing under a real rate limiter: start to start, with api_concurrency requests in flight.

NetBird v0.77.1 with NB_API_RATE_LIMITING_RPM=120 and BURST=30 took 60.2 s for 100 users against the limit's own 36 s:
each 429 halved the requests in flight down to one, and every paced request then waited for the previous answer.
These tests drive FlowControl through a discrete-event model of the batch (simulated time, no sleeping, no threads):
``api_concurrency`` workers, a token bucket as NetBird's limiter (a refused request takes no token), and a fixed
latency per answer.
"""

from __future__ import annotations

import heapq
import itertools

import pytest

from ansible_collections.netbird_ops.netbird.plugins.module_utils import _api
from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import FlowControl


class SimClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class FakeSleep:
    """Advances the simulated clock (for the tests that call before_send directly)."""

    def __init__(self, clock):
        self.clock = clock
        self.slept = []

    def __call__(self, seconds):
        self.slept.append(seconds)
        self.clock.now += seconds


def no_sleep(seconds):
    raise AssertionError("the model never sleeps (it reserves and comes back at the start): %s" % seconds)


class Bucket:
    """NetBird's per-token limiter: BURST tokens, refilled at RPM per minute; a refused request takes none."""

    def __init__(self, rpm, burst):
        self.rate = rpm / 60.0
        self.burst = float(burst)
        self.tokens = float(burst)
        self.last = 0.0

    def allow(self, now):
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


def simulate(requests, rpm=120, burst=30, latency=0.05, concurrency=8, retries=5):
    """Run ``requests`` writes through FlowControl as the batch runner and the client do; returns
    (simulated seconds until the last answer, 429 answers, largest number of requests in flight at the server)."""
    clock = SimClock()
    flow = FlowControl(concurrency, clock=clock, sleep=no_sleep)
    bucket = Bucket(rpm, burst)
    events, order = [], itertools.count()
    todo = list(range(requests))
    stats = {"done": 0, "rejected": 0, "in_flight": 0, "most_in_flight": 0}

    def at(when, action, *args):
        heapq.heappush(events, (when, next(order), action, args))

    def start_next():
        # the runner: a change starts while flow has a free slot (acquire never blocks here)
        while todo and flow.can_start():
            todo.pop()
            flow.acquire()
            at(clock.now, try_send, 0)

    def try_send(attempt):
        # the client's take_turn: reserve a start, wake for it, confirm it (or reserve again after a change of pace)
        start, generation, dummy = flow.reserve()
        at(start, send, start, generation, attempt)

    def send(start, generation, attempt):
        ticket = flow.confirm(start, generation)
        if ticket is None:
            try_send(attempt)
            return
        stats["in_flight"] += 1
        stats["most_in_flight"] = max(stats["most_in_flight"], stats["in_flight"])
        at(clock.now + latency / 2.0, arrive, ticket, attempt)

    def arrive(ticket, attempt):
        at(clock.now + latency / 2.0, answer, ticket, attempt, bucket.allow(clock.now))

    def answer(ticket, attempt, allowed):
        stats["in_flight"] -= 1
        if allowed:
            flow.on_success(ticket)
            stats["done"] += 1
            flow.release()
            start_next()
            return
        flow.on_rate_limited(ticket)
        stats["rejected"] += 1
        assert attempt < retries, "a request was refused more than api_retries times"
        at(clock.now, try_send, attempt + 1)   # the client's 429 retry: straight back to the pacer

    start_next()
    while events:
        when, dummy, action, args = heapq.heappop(events)
        clock.now = when
        action(*args)
    assert stats["done"] == requests
    return clock.now, stats["rejected"], stats["most_in_flight"]


def own_time(requests, rpm, burst):
    """The limit's own time: the burst at once, then one request per refill interval."""
    return max(0, requests - burst) * 60.0 / rpm


@pytest.mark.parametrize("latency", [0.01, 0.3, 0.8])
def test_100_users_under_120_per_minute_burst_30_take_the_limits_own_time(latency):
    # 100 creates + the two reads before them, as the role's first run sends them
    wall, rejected, in_flight = simulate(102, rpm=120, burst=30, latency=latency)
    own = own_time(102, 120, 30)
    assert wall <= 1.3 * own + latency, (wall, own, rejected)
    assert rejected <= 10, (wall, rejected)   # the requests in flight when the burst ran out, and one probe
    # start to start: a slow answer does not hold up the next paced start (the old client fell to one in flight)
    if latency > _api.RATE_LIMIT_INTERVAL:
        assert in_flight >= 2


@pytest.mark.parametrize("rpm", [30, 60])
def test_slower_limits_are_measured_not_guessed(rpm):
    """NetBird Cloud's rate is the first guess; a self-hosted server's slower RPM is measured from the 429s."""
    wall, rejected, dummy = simulate(80, rpm=rpm, burst=30, latency=0.05)
    own = own_time(80, rpm, 30)
    assert wall <= 1.3 * own, (wall, own, rejected)
    assert rejected <= 10, (wall, rejected)


def test_a_faster_limit_is_found_by_probing():
    """600 per minute: the pace halves every PROBE_RUN successes from the first guess until a probe meets the limit,
    then holds the measured rate (the guess costs time once: within twice the limit's own time)."""
    wall, rejected, dummy = simulate(300, rpm=600, burst=30, latency=0.05)
    own = own_time(300, 600, 30)
    assert wall <= 2.0 * own, (wall, own, rejected)
    assert rejected <= 10, (wall, rejected)


def test_netbird_cloud_1300_users():
    """NetBird Cloud: 120 per minute, burst 1,200 (the benchmark's row of issue 16)."""
    wall, rejected, dummy = simulate(1302, rpm=120, burst=1200, latency=0.05)
    own = own_time(1302, 120, 1200)
    assert wall <= 1.3 * own + 2.0, (wall, own, rejected)
    assert rejected <= 10, (wall, rejected)


def test_no_limit_no_pacing():
    wall, rejected, in_flight = simulate(200, rpm=60000, burst=1000, latency=0.05)
    assert rejected == 0 and in_flight == 8
    assert wall <= 200 / 8 * 0.05 + 0.05


def test_a_429_keeps_every_slot_and_paces_start_to_start():
    """The regression itself: after a 429 all api_concurrency slots stay open and starts are one interval apart,
    whether or not the earlier requests were answered."""
    clock = SimClock()
    flow = FlowControl(8, clock=clock, sleep=FakeSleep(clock))
    for dummy in range(8):
        assert flow.can_start()
        flow.acquire()
    first = flow.before_send()
    flow.on_rate_limited(first)
    assert flow.pace == _api.RATE_LIMIT_INTERVAL
    flow.release()
    assert flow.can_start()  # the old client halved the window to 4 (then 2, then 1)
    starts = []
    for dummy in range(4):      # four requests in a row, none of them answered yet
        flow.before_send()
        starts.append(clock.now)
    assert [round(b - a, 6) for a, b in zip(starts, starts[1:])] == [_api.RATE_LIMIT_INTERVAL] * 3


def test_a_change_of_pace_applies_to_requests_still_waiting():
    """A start reserved before a 429 is retaken at the new pace when its request wakes."""
    clock = SimClock()
    flow = FlowControl(4, clock=clock, sleep=no_sleep)
    flow.on_rate_limited(flow.confirm(*flow.reserve()[:2]))
    waiting = [flow.reserve() for dummy in range(3)]            # three requests wait for 0.55, 1.1 and 1.65 s
    assert [round(w[2], 6) for w in waiting] == [round(_api.RATE_LIMIT_INTERVAL * k, 6) for k in (1, 2, 3)]
    clock.now = waiting[0][0]
    sent = flow.confirm(*waiting[0][:2])
    flow.on_rate_limited(sent)                  # a 429 at this pace, too soon to measure: twice the interval
    assert flow.pace == 2 * _api.RATE_LIMIT_INTERVAL
    clock.now = waiting[1][0]
    assert flow.confirm(*waiting[1][:2]) is None                # its start was reserved at the old pace: retaken
    start, dummy, wait_for = flow.reserve()
    assert wait_for == pytest.approx(_api.RATE_LIMIT_INTERVAL)  # 1.1 s after the 429, which came 0.55 s ago


def test_the_refill_rate_is_measured_between_two_empty_buckets():
    clock = SimClock()
    flow = FlowControl(4, clock=clock, sleep=FakeSleep(clock))
    flow.on_rate_limited(flow.before_send())           # empty at t=0; pace 0.55 (a guess)
    for dummy in range(_api.PROBE_RUN):
        flow.on_success(flow.before_send())
    assert flow.pace == _api.RATE_LIMIT_INTERVAL / 2   # the probe, start to start from the last start
    sent = flow.before_send()
    flow.on_rate_limited(sent)                         # empty again: 24 tokens in 24 x 0.55 + 0.275 s
    measured = sent.sent_at / _api.PROBE_RUN
    assert measured == pytest.approx((_api.PROBE_RUN + 0.5) * _api.RATE_LIMIT_INTERVAL / _api.PROBE_RUN)
    assert flow.pace == pytest.approx(measured * _api.PACE_MARGIN)
    assert flow.probe_run == 4 * _api.PROBE_RUN        # a probe that met the limit: the next one much later


def test_an_old_429_says_nothing_about_the_new_pace():
    clock = SimClock()
    flow = FlowControl(8, clock=clock, sleep=no_sleep)
    tickets = [flow.before_send() for dummy in range(3)]   # three sent at full speed
    for ticket in tickets:
        flow.on_rate_limited(ticket)
    assert flow.pace == _api.RATE_LIMIT_INTERVAL and flow.rate_limited == 3


def test_a_sleep_that_returns_early_never_spins():
    """take_turn sleeps once per reserved start (a fake sleep that does not advance the clock must not loop)."""
    slept = []
    flow = FlowControl(4, sleep=slept.append)
    flow.on_rate_limited(flow.before_send())
    flow.before_send()
    assert len(slept) == 1 and slept[0] == pytest.approx(_api.RATE_LIMIT_INTERVAL, abs=0.05)


def test_probes_back_to_full_speed_when_the_limit_goes_away():
    clock = SimClock()
    flow = FlowControl(4, clock=clock, sleep=FakeSleep(clock))
    flow.on_rate_limited(flow.before_send())
    for dummy in range(400):
        flow.on_success(flow.before_send())
    assert flow.pace == 0.0 and flow.probe_run == _api.PROBE_RUN
