# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Batch scale: the engine's lookups are indexed (a batch of n users reads each list once and plans in O(n), not
O(n^2)), and the batch summary is built in one pass.

Counted, not timed: the user and group lists are wrapped in lists that count how often they are iterated.
"""

from __future__ import annotations

import pytest

import fakes
from fakes import FakeClient

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._groups import GroupResolver
from ansible_collections.netbird_ops.netbird.plugins.module_utils._users import UserKind, UserSpec, summarize


class CountingList(list):
    """A list that counts full iterations (a linear scan is one iteration)."""

    iterations = 0

    def __iter__(self):
        self.iterations += 1
        return super().__iter__()


def raw_user(uid, email="", name="", service=False, current=False, role="user", groups=()):
    return fakes.raw_user(uid, email, name, role=role, groups=groups, service=service, current=current)


def Client(users, groups=(), peers=()):  # pylint: disable=invalid-name
    """The shared fake, answering the stored lists themselves so that scans can be counted."""
    return FakeClient(users, groups=CountingList(groups), peers=list(peers), copies=False)


def paths(client):
    return [call[1] for call in client.calls]


def spec(**entry):
    return UserSpec(dict({"state": "present", "auto_groups_mode": "replace"}, **entry))


def engine(users, **kwargs):
    client = Client(users, **kwargs)
    eng = UserKind(client)
    eng.load_users()
    return eng, client


def test_lookups_by_id_email_and_service_name():
    users = [raw_user("o", "owner@x.io", "Owner", current=True, role="owner"), raw_user("a", "Alice@X.io", "Alice"),
             raw_user("s", name="ci", service=True), raw_user("b", "ci@x.io", "ci")]
    eng, _client = engine(users)
    assert eng.find(spec(user_id="s"))["id"] == "s"
    assert eng.find(spec(user_id="nobody")) is None
    assert eng.find(spec(email="alice@x.IO"))["id"] == "a"
    # a service user is found by name only, a regular user by email only
    assert eng.find(spec(name="ci", service_user=True))["id"] == "s"
    assert eng.find(spec(email="ci@x.io"))["id"] == "b"
    assert eng.find(spec(name="Alice", service_user=True)) is None
    assert eng.current_user()["id"] == "o"
    assert eng.find(spec(old_password="a-Secret1!", new_password="b-Secret2!"))["id"] == "o"


def test_ambiguous_service_name_still_refused():
    eng, _client = engine([raw_user("s1", name="bot", service=True), raw_user("s2", name="bot", service=True)])
    with pytest.raises(NetBirdInputError, match="matches 2 users.*s1, s2"):
        eng.find(spec(name="bot", service_user=True))


def test_reloading_the_list_rebuilds_the_index():
    eng, client = engine([raw_user("a", "a@x.io", "A")])
    assert eng.find(spec(email="b@x.io")) is None
    client.users = [raw_user("a", "a@x.io", "A"), raw_user("b", "b@x.io", "B")]
    eng.load_users()
    assert eng.find(spec(email="b@x.io"))["id"] == "b"
    # an explicit list (re-read after an ambiguous create) is searched as given
    assert eng.find(spec(email="c@x.io"), users=[raw_user("c", "c@x.io", "C")])["id"] == "c"


def test_a_batch_scans_the_user_and_group_lists_once():
    count = 2000
    groups = [{"id": "g%019d" % index, "name": "team-%d" % index} for index in range(50)]
    users = CountingList([raw_user("o", "owner@x.io", "Owner", current=True, role="owner")])
    for index in range(count):
        if index % 5 == 4:
            users.append(raw_user("s%d" % index, name="svc-%d" % index, service=True, groups=[groups[index % 50]["id"]]))
        else:
            users.append(raw_user("u%d" % index, "user%d@x.io" % index, "User %d" % index, groups=[groups[index % 50]["id"]]))
    eng, client = engine(users, groups=groups)
    specs = []
    for index in range(count):
        team = ["team-%d" % (index % 50)]
        if index % 5 == 4:
            specs.append(spec(name="svc-%d" % index, service_user=True, role="admin", auto_groups=team))
        else:
            specs.append(spec(email="USER%d@x.io" % index, role="admin", auto_groups=team))
    plans = [eng.plan(s) for s in specs]
    assert all(p.action == "update" and p.step("put")["role"] == "admin" for p in plans)
    assert users.iterations <= 1 and client.groups.iterations <= 2
    assert paths(client) == ["/users", "/groups"]


def test_peer_counts_read_once_for_many_deletions():
    users = [raw_user("u%d" % index, "u%d@x.io" % index, "U") for index in range(3)]
    peers = [{"id": "p1", "user_id": "u0"}, {"id": "p2", "user_id": "u0"}, {"id": "p3", "user_id": "u2"}]
    eng, client = engine(users, peers=peers)
    plans = [eng.plan(spec(email="u%d@x.io" % index, state="absent")) for index in range(3)]
    assert [p.info["peers"] for p in plans] == [2, 0, 1]
    assert paths(client).count("/peers") == 1


def test_group_index_follows_a_new_group_list():
    resolver = GroupResolver(Client([], groups=[{"id": "g0000000000000000001", "name": "dev"}]))
    assert resolver.to_ids(["dev"]) == ["g0000000000000000001"]
    resolver.seed([{"id": "g0000000000000000002", "name": "dev"}])
    assert resolver.to_ids(["dev"]) == ["g0000000000000000002"]
    assert resolver.to_names(["g0000000000000000002"]) == ["dev"]


def test_batch_summary_names_users_by_outcome_in_input_order():
    def entry(action, email="", name="", service=False):
        return {"user": {"email": email, "name": name, "is_service_user": service}, "action": action, "changed": action != "none"}

    results = [entry("create", "b@x.io", "B"), entry("none", "a@x.io", "A"), entry("create", name="ci", service=True),
               entry("update", "c@x.io", "C"), entry("delete", name="old-bot", service=True),
               {"user": None, "action": "none", "changed": False}]
    assert summarize(results) == {"created": ["b@x.io", "ci"], "updated": ["c@x.io"], "deleted": ["old-bot"],
                                  "unchanged": ["a@x.io"]}
    assert summarize([]) == {"created": [], "updated": [], "deleted": [], "unchanged": []}
