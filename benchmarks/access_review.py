# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access review benchmark: the access_review role over an account of N users (default 1,000).

    .venv/bin/python benchmarks/access_review.py [--n 1000] [--service 50] [--latency MS]

Seeds a fresh local emulator with N users (N - S regular users with last logins and peers, S service users with a
token each), installs the collection with ansible-galaxy into a temporary path, and runs the role twice through
ansible-playbook (the first run writes users.csv and report.md, the re-run finds them unchanged). Prints the wall
time, the API requests and the CSV row count of each run. Reports, never asserts, the time; exits 1 when a run
fails or the files are wrong (deterministic).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--service", type=int, default=50)
    parser.add_argument("--latency", type=int, default=0, help="emulator latency per answer, in ms")
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(REPO, "tests"))
    import nb_testlib as testlib  # pylint: disable=import-outside-toplevel
    work = tempfile.mkdtemp(prefix="nb-review-bench-")
    collections = testlib.install_collection(work)
    extra = ["--order", "insertion"] + (["--latency", str(args.latency)] if args.latency else [])
    emu = testlib.Emulator.start(*extra)
    try:
        regular = args.n - args.service
        users = [{"email": "u%05d@example.com" % i, "name": "User %05d" % i, "auto_groups": ["team-%d" % (i % 10)],
                  "peers": i % 3, "last_login": testlib.days_ago(i % 365) if i % 7 else None} for i in range(regular - 1)]
        users += [{"name": "bot-%03d" % i, "service_user": True, "tokens": [{"name": "ci", "expires_in": 1 + i % 90}]}
                  for i in range(args.service)]
        emu.seed(groups=[{"name": "team-%d" % i} for i in range(10)], users=users)
        playbook = os.path.join(work, "review.yml")
        dest = os.path.join(work, "review")
        with open(playbook, "w", encoding="utf-8") as handle:
            json.dump([{"name": "review", "hosts": "localhost", "connection": "local", "gather_facts": False,
                        "roles": [{"role": "netbird_ops.netbird.access_review", "netbird_access_review_dest": dest}]}],
                      handle)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, NETBIRD_API_URL=emu.url, NETBIRD_API_TOKEN=emu.token,
                   ANSIBLE_LOCALHOST_WARNING="0", **json.loads(os.environ.get("BENCH_ENV", "{}")), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                   PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        failed = False
        for label in ("first run", "re-run"):
            emu.reset_counters()
            start = time.monotonic()
            proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", playbook], env=env,
                                  capture_output=True, text=True, check=False)
            seconds = time.monotonic() - start
            if os.environ.get("BENCH_ENV"):
                print(proc.stdout)
            if proc.returncode:
                print(proc.stdout[-3000:] + proc.stderr[-3000:])
                return 1
            with open(os.path.join(dest, "users.csv"), encoding="utf-8", newline="") as handle:
                rows = len(list(csv.DictReader(handle)))
            counts = emu.requests()
            print("%-9s %5d users: %6.2f s, %d API requests (%d writes), %d CSV rows, rc %d"
                  % (label, args.n, seconds, counts["total"], counts["writes"], rows, proc.returncode))
            if proc.returncode or rows != args.n or counts["writes"]:
                print(proc.stdout[-3000:] + proc.stderr[-3000:])
                failed = True
        return 1 if failed else 0
    finally:
        emu.stop()


if __name__ == "__main__":
    sys.exit(main())
