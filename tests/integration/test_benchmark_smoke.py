# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Smoke test of the scale benchmark (benchmarks/scale.py) on a tiny team: it runs every scenario and prints
the table. Only the request counts are asserted (they are deterministic); timings never are."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from nb_testlib import REPO

N = 5
ACCOUNTS = 2


def test_benchmark_runs_and_meets_the_request_targets(tmp_path):
    rows_file = tmp_path / "rows.json"
    proc = subprocess.run([sys.executable, os.path.join(REPO, "benchmarks", "scale.py"), "--n", str(N), "--json", str(rows_file),
                           "--rate-limit", "120:30@%d" % N, "--accounts", str(ACCOUNTS), "--accounts-n", str(N)],
                          capture_output=True, text=True, timeout=900, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    for text in ("API requests", "peak RSS MiB", "raw floor", "role", "uri loop", "Targets at N=%d" % N):
        assert text in proc.stdout, output
    assert "FAILED" not in proc.stdout, output

    rows = dict(((row["n"], row["scenario"], row["phase"]), row) for row in json.loads(rows_file.read_text()))
    assert rows[(0, "role", "start-up")]["requests"] == 0
    for scenario in ("raw floor", "role", "uri loop"):
        first, rerun = rows[(N, scenario, "first run")], rows[(N, scenario, "re-run")]
        # list users + list groups + one create per user; the re-run only reads
        assert (first["requests"], first["writes"]) == (N + 2, N), (scenario, first)
        assert rerun["writes"] == 0, (scenario, rerun)
        assert rerun["wall"] > 0 and rerun["rss_mib"] > 0
    assert rows[(N, "role", "re-run")]["requests"] <= 3
    assert rows[(N, "role", "re-run")]["by_route"] == {"GET /api/users": 1, "GET /api/groups": 1}
    # the same re-run with the team in the inventory's group_vars instead of extra vars
    assert rows[(N, "role, team in group_vars", "re-run")]["by_route"] == {"GET /api/users": 1, "GET /api/groups": 1}
    assert rows[(N, "netbird_user", "1 user")]["requests"] == 1
    assert rows[(N, "netbird_user", "1 user+grp")]["requests"] == 2
    # Ansible's own cost for the input (the team loaded, nothing done with it): no request at all
    assert rows[(N, "Ansible, input only", "load")]["requests"] == 0
    # the team in a team file (netbird_onboarding_team_file): the same requests as the other role rows
    first, rerun = rows[(N, "role, team file", "first run")], rows[(N, "role, team file", "re-run")]
    assert (first["requests"], first["writes"]) == (N + 2, N), first
    assert rerun["by_route"] == {"GET /api/users": 1, "GET /api/groups": 1}
    # the row of a self-hosted limiter (120 per minute, burst 30): a team this small stays within the burst
    limited = rows[(N, "role, rate limit 120:30", "first run")]
    assert limited["writes"] == N and limited["rejected"] == 0
    # accounts in parallel: every account onboarded with forks 1 and with forks K, the re-runs only read
    for forks in (1, ACCOUNTS):
        first = rows[(ACCOUNTS * N, "accounts in parallel, forks %d" % forks, "first run")]
        rerun = rows[(ACCOUNTS * N, "accounts in parallel, forks %d" % forks, "re-run")]
        assert (first["requests"], first["writes"]) == (ACCOUNTS * (N + 2), ACCOUNTS * N), first
        assert rerun["by_route"] == {"GET /api/users": ACCOUNTS, "GET /api/groups": ACCOUNTS}, rerun
        assert rerun["rss_mib"] > 0
    for text in ("Targets of the accounts in parallel", "role re-run, team file", "the limit's own time"):
        assert text in proc.stdout, output
