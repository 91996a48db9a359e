# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""api_concurrency against the emulator: over a slow link (--latency) a batch with several writes in flight returns
exactly what a sequential batch returns, in the same order; against a rate limiter it creates every user once with
few 429 answers, lowering its concurrency. Small numbers: speed itself is measured in benchmarks/, never here.
"""

from __future__ import annotations

import pytest

from nb_testlib import Emulator

LATENCY_MS = "30"
GROUPS = [{"name": "dev"}, {"name": "ops"}]
SEED_USERS = [{"email": "old%d@example.com" % i, "name": "Old %d" % i, "role": "user", "auto_groups": ["dev"]} for i in range(6)]


def batch():
    users = [{"email": "new%02d@example.com" % i, "name": "New %d" % i, "role": "user", "auto_groups": ["dev", "ops"]}
             for i in range(10)]
    users += [{"name": "svc-%d" % i, "service_user": True, "role": "network_admin", "auto_groups": ["ops"]} for i in range(4)]
    users += [{"email": "old%d@example.com" % i, "role": "admin"} for i in range(3)]            # updates
    users += [{"email": "old%d@example.com" % i, "state": "absent"} for i in (3, 4)]          # deletes
    users += [{"email": "old5@example.com", "auto_groups": ["dev"]}]                            # unchanged
    return users


def normalized(result):
    """The task result without what differs between two servers: ids, one-time passwords, the invocation."""
    result = dict(result)
    result.pop("invocation", None)
    entries = []
    for entry in result.pop("users"):
        entry = dict(entry)
        entry["user"] = dict((k, v) for k, v in (entry.get("user") or {}).items() if k not in ("id", "auto_groups"))
        if "password" in entry:
            entry["password"] = "<one-time password>"
        entries.append(entry)
    result["users"] = entries
    return result


@pytest.fixture()
def slow_emulators():
    emulators = [Emulator.start("--latency", LATENCY_MS) for dummy in range(2)]
    for emu in emulators:
        emu.seed(groups=GROUPS, users=SEED_USERS)
    yield emulators
    for emu in emulators:
        emu.stop()


def run_batch(ansible, emu, width, check=False):
    tasks = [{"name": "batch", "netbird_ops.netbird.netbird_user": {"users": batch(), "api_concurrency": width}}]
    emu.reset_counters()
    run = ansible.playbook(tasks, url=emu.url, token=emu.token, check=check)
    assert run.recap()["failed"] == 0, run.output[-4000:]
    return run.result("batch"), emu.requests(), emu.control("GET", "health")["max_in_flight"]


def test_concurrent_batch_returns_what_a_sequential_batch_returns(ansible, slow_emulators):
    sequential_emu, concurrent_emu = slow_emulators
    # check mode first: the same prediction, and no write at all
    predicted = [run_batch(ansible, emu, width, check=True) for emu, width in ((sequential_emu, 1), (concurrent_emu, 6))]
    assert normalized(predicted[0][0]) == normalized(predicted[1][0])
    assert predicted[0][1]["writes"] == predicted[1][1]["writes"] == 0

    sequential, seq_counts, seq_in_flight = run_batch(ansible, sequential_emu, 1)
    concurrent, con_counts, con_in_flight = run_batch(ansible, concurrent_emu, 6)
    assert normalized(concurrent) == normalized(sequential)
    assert [e["user"].get("email") or e["user"].get("name") for e in concurrent["users"]] == \
        [u.get("email") or u.get("name") for u in batch()]  # input order
    assert concurrent["changed"] is True
    assert con_counts == seq_counts and con_counts["writes"] == 19
    assert seq_in_flight == 1 and 1 < con_in_flight <= 6
    for emu in slow_emulators:
        emails = sorted(u["email"] for u in emu.users() if u["email"].startswith(("new", "old")))
        assert emails == sorted(["new%02d@example.com" % i for i in range(10)] + ["old%d@example.com" % i for i in (0, 1, 2, 5)])

    again, again_counts, _in_flight = run_batch(ansible, concurrent_emu, 6)
    assert again["changed"] is False and again_counts["writes"] == 0


def test_rate_limit_creates_each_user_once_with_few_429s(ansible, tmp_path):
    emu = Emulator.start("--rate-limit", "120:5")  # NetBird Cloud's refill rate, a burst of 5
    try:
        emu.seed(groups=GROUPS)
        users = [{"email": "rl%02d@example.com" % i, "name": "RL %d" % i, "auto_groups": ["dev"]} for i in range(12)]
        tasks = [{"name": "batch", "netbird_ops.netbird.netbird_user": {"users": users, "api_concurrency": 4}}]
        emu.reset_counters()
        run = ansible.playbook(tasks, url=emu.url, token=emu.token)
        assert run.recap()["failed"] == 0, run.output[-4000:]
        log = emu.log()
        rejected = [e for e in log if e["status"] == 429]
        created = [e for e in log if e["method"] == "POST" and e["status"] == 200]
        assert len(created) == 12
        assert sorted(u["email"] for u in emu.users() if u["email"].startswith("rl")) == sorted(u["email"] for u in users)
        # the requests in flight when the bucket ran dry, and at most a probe or two more: no blind retries
        assert 1 <= len(rejected) <= 4 + 2, [(e["method"], e["path"]) for e in rejected]
        assert "were retried (HTTP 429 x%d" % len(rejected) in run.output
        # paced, start to start, with every slot kept (a 429 never lowers api_concurrency any more)
        assert "requests were spaced out to the server's refill rate (one every" in " ".join(run.output.split())
    finally:
        emu.stop()
