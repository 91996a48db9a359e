# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scale benchmark, scenario "raw floor": the least work a client can do for the same team.

One Python process, one requests.Session (keep-alive): list the users, list the groups, then one POST per
missing user and one PUT per user whose role or groups differ. A re-run with nothing to change is the two
list calls. No validation, no results, no Ansible: this is the floor the collection is measured against.

    python benchmarks/raw_floor.py TEAM.json    # NETBIRD_API_URL / NETBIRD_API_TOKEN from the environment
"""

from __future__ import annotations

import json
import os
import sys

import requests


def key_of(entry, service):
    return ("service", entry["name"]) if service else ("email", entry["email"].lower())


def main(argv):
    with open(argv[1], encoding="utf-8") as handle:
        team = json.load(handle)
    api = os.environ["NETBIRD_API_URL"].rstrip("/") + "/api"
    session = requests.Session()
    session.headers.update({"Authorization": "Token " + os.environ["NETBIRD_API_TOKEN"], "Accept": "application/json"})

    def call(method, path, body=None):
        response = session.request(method, api + path, json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    current = {}
    for user in call("GET", "/users"):
        current[key_of(user, user.get("is_service_user"))] = user
    group_ids = dict((group["name"], group["id"]) for group in call("GET", "/groups"))

    wanted = [(entry, False) for entry in team.get("netbird_onboarding_users") or []]
    wanted += [(entry, True) for entry in team.get("netbird_onboarding_service_users") or []]
    writes = 0
    for entry, service in wanted:
        groups = sorted(group_ids[name] for name in entry.get("auto_groups") or [])
        now = current.get(key_of(entry, service))
        if now is None:
            body = {"name": entry["name"], "role": entry.get("role") or "user", "auto_groups": groups, "is_service_user": service}
            if not service:
                body["email"] = entry["email"]
            call("POST", "/users", body)
            writes += 1
        elif entry.get("role", now["role"]) != now["role"] or groups != sorted(now["auto_groups"]):
            call("PUT", "/users/%s" % requests.utils.quote(now["id"], safe=""),
                 {"role": entry.get("role", now["role"]), "auto_groups": groups, "is_blocked": now["is_blocked"]})
            writes += 1
    print(json.dumps({"users": len(wanted), "writes": writes}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
