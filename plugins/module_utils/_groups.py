# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Group names <-> IDs, with at most one ``GET /api/groups`` per module run.

Private to netbird_ops.netbird; not a public API."""

from __future__ import annotations

import difflib
import re
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from ansible_collections.netbird_ops.netbird.plugins.module_utils import _resources as api
from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdAPIError, NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._core import Change, Prerequisite
from ansible_collections.netbird_ops.netbird.plugins.module_utils._rules import group_refs

# NetBird group IDs are xids: 20 characters of base32hex in lower case.
GROUP_ID_RE = re.compile(r"^[0-9a-v]{20}$")
ALL_GROUP_NAME = "All"
# Stands for the ID of a group that ``create_groups`` will create (never sent: ``real`` maps it first).
NEW_GROUP_PREFIX = "(new group) "


Group = Dict[str, Any]


def looks_like_group_id(value: Optional[str]) -> bool:
    return bool(GROUP_ID_RE.match(value or ""))


class GroupResolver:
    """Resolves ``auto_groups`` entries (names or IDs) against the account's groups.

    The group list is fetched lazily, once. ``readable`` is False when the token may not
    read groups (HTTP 403); then IDs are passed through unchecked and names cannot be used.

    With ``create`` (the modules' ``create_groups``), a name that no group has is planned as a new group
    (``planned``: names, in the order met) under a stand-in ID. ``prerequisites`` hands them to the runner, which makes
    them (one ``POST /api/groups`` each) before the first change that uses them, and does not attempt a change whose
    group could not be made; ``real_body`` maps stand-ins to the new IDs in a request body.
    Unknown IDs still fail.
    """

    def __init__(self, client: Any, create: bool = False) -> None:
        self.client = client
        self.create_groups = create
        self.planned: List[str] = []
        self.made: List[str] = []          # names of the groups created in this run
        self.created: Dict[str, Any] = {}  # stand-in ID -> the ID the server gave
        self._groups: Optional[List[Group]] = None
        self.readable: Optional[bool] = None
        self.read_error: Optional[NetBirdAPIError] = None
        self._index: Optional[Tuple[Dict[Any, Group], Dict[Any, List[Group]]]] = None
        self._index_of: Optional[List[Group]] = None
        # to_ids answers by (names or IDs, create) for this group list: a team has few distinct group sets
        self._memo: Dict[Tuple[Tuple[str, ...], bool], List[str]] = {}

    @property
    def loaded(self) -> bool:
        return self._groups is not None

    def load(self, required: bool = False) -> bool:
        """Fetch the group list once. Returns True when groups are readable."""
        if self._groups is None and self.readable is None:
            try:
                self._groups = api.list_groups(self.client)
                self.readable = True
            except NetBirdAPIError as exc:
                if exc.status != 403:
                    raise
                self.readable = False
                self.read_error = exc
        if required and not self.readable and self.read_error is not None:
            raise self.read_error
        return bool(self.readable)

    def seed(self, groups: Optional[Iterable[Group]]) -> None:
        """Use an already fetched group list (tests, or a caller that had to read it anyway)."""
        self._groups = list(groups or [])
        self.readable = True

    @property
    def groups(self) -> List[Group]:
        return self._groups or []

    def _indexes(self) -> Tuple[Dict[Any, Group], Dict[Any, List[Group]]]:
        """(groups by ID, groups by name), built once per group list: a batch resolves in O(users + groups)."""
        groups = self.groups
        if self._index is None or self._index_of is not groups:
            by_name: Dict[Any, List[Group]] = {}
            for group in groups:
                by_name.setdefault(group.get("name"), []).append(group)
            self._index = (dict((g.get("id"), g) for g in groups), by_name)
            self._index_of = groups
            self._memo = {}
        return self._index

    def by_id(self) -> Dict[Any, Group]:
        return self._indexes()[0]

    def needs_lookup(self, values: Optional[Iterable[str]]) -> bool:
        """True when resolving ``values`` requires the group list (some entry is not an ID)."""
        return any(not looks_like_group_id(v) for v in values or [])

    def to_ids(self, values: Optional[List[Any]], option: str = "auto_groups", create: bool = True) -> Optional[List[str]]:
        """Resolve names or IDs to a sorted list of IDs, or raise NetBirdInputError.

        ``create=False`` refuses unknown names even under ``create_groups`` (a group to remove is never made)."""
        cleaned = group_refs(values, option)
        if cleaned is None:
            return None
        if not self.loaded and self.readable is None:
            self.load()
        if not self.readable:
            names = [v for v in cleaned if not looks_like_group_id(v)]
            if names:
                raise NetBirdInputError(
                    "%s uses group names (%s) but the token may not read groups (%s); give group IDs instead"
                    % (option, ", ".join(sorted(names)), self.read_error))
            return sorted(set(cleaned))
        ids_index, names_index = self._indexes()
        key = (tuple(cleaned), create)
        if key in self._memo:
            return list(self._memo[key])
        result: Set[Any] = set()
        unknown = []
        planned = False
        for value in cleaned:
            if value in ids_index:
                group = ids_index[value]
            elif value in names_index:
                matches = names_index[value]
                if len(matches) > 1:
                    raise NetBirdInputError(
                        "%s: group name %r is ambiguous, it matches %d groups (%s); give the group ID instead"
                        % (option, value, len(matches), ", ".join("%s issued by %s" % (g.get("id"), g.get("issued") or "api") for g in matches)))
                group = matches[0]
            elif self.create_groups and create and not looks_like_group_id(value):
                group = self._plan_group(value)
                planned = True
            else:
                unknown.append(value)
                continue
            if group.get("name") == ALL_GROUP_NAME:
                raise NetBirdInputError("%s: the %r group cannot be assigned to users (every user is in it implicitly)" % (option, ALL_GROUP_NAME))
            result.add(group.get("id"))
        if unknown:
            guesses = self._close_names(unknown, names_index)
            hint = "" if self.create_groups or any(looks_like_group_id(u) for u in unknown) else (
                "; %sset create_groups: true to create it" % ("or " if guesses else ""))
            raise NetBirdInputError("%s: unknown group%s %s (no group has that name or ID%s)%s"
                                    % (option, "s" if len(unknown) > 1 else "", ", ".join(repr(u) for u in unknown), guesses, hint))
        ids = sorted(result)
        if not planned:   # a planned group's stand-in is handed out by _plan_group, every time
            self._memo[key] = ids
        return list(ids)

    @staticmethod
    def _close_names(unknown: Sequence[str], names_index: Dict[Any, List[Group]]) -> str:
        """``; did you mean 'developers'?`` for a typo of an existing group's name (``'x' for 'y'`` for several), or ''."""
        names = sorted(name for name in names_index if isinstance(name, str) and name != ALL_GROUP_NAME)
        guesses = []
        for value in unknown:
            close = difflib.get_close_matches(value, names, n=1) or difflib.get_close_matches(value.lower(), names, n=1)
            if not close:
                # an abbreviation: 'devs' or 'dev' for the one group whose name starts with it
                stem = value.lower().rstrip("s")
                close = [name for name in names if len(stem) >= 3 and name.lower().startswith(stem)]
            if len(close) == 1:
                guesses.append((value, close[0]))
        if not guesses:
            return ""
        if len(unknown) == 1:
            return "; did you mean %r?" % guesses[0][1]
        return "; did you mean %s?" % ", ".join("%r for %r" % (close, value) for value, close in guesses)

    def _plan_group(self, name: str) -> Group:
        """A group the runner will make (``prerequisites``); until then a stand-in in the list (so names and diffs show it)."""
        group = {"id": NEW_GROUP_PREFIX + name, "name": name, "issued": "api", "peers_count": 0}
        self.planned.append(name)
        self._groups = self.groups + [group]
        self._index = None
        return group

    def prerequisites(self, changes: Sequence[Change]) -> List[Prerequisite]:
        """The groups ``create_groups`` planned, as prerequisites of the changes that use them (one POST each)."""
        return [NewGroup(self, name) for name in self.planned if NEW_GROUP_PREFIX + name not in self.created]

    def create(self, name: str) -> str:
        """Create one planned group; returns its name. The new group joins the list under its real ID."""
        group = api.create_group(self.client, name)
        real = (group or {}).get("id")
        self.created[NEW_GROUP_PREFIX + name] = real
        self.made.append(name)
        if real:
            # the stand-in stays (predictions and diffs name it); the new group joins it under its real ID
            self._groups = self.groups + [{"id": real, "name": name, "issued": "api"}]
            self._index = None
        return name

    def real_body(self, body: Dict[str, Any]) -> Dict[str, Any]:
        """A request body with the stand-in IDs of groups made by create_groups replaced by their real IDs."""
        if not body or "auto_groups" not in body:
            return body
        return dict(body, auto_groups=self.real(body["auto_groups"]))

    def report(self, result: Dict[str, Any], check_mode: bool = False) -> None:
        """``groups_created`` of a result, when create_groups is on: planned (check mode) or really made."""
        if self.create_groups:
            result["groups_created"] = list(self.planned if check_mode else self.made)

    def real(self, ids: Optional[List[str]]) -> Optional[List[str]]:
        """``ids`` with every stand-in replaced by the ID of the group made for it."""
        if ids is None or not self.created:
            return ids
        return sorted(self.created.get(i, i) for i in ids)

    def to_names(self, ids: Optional[Iterable[str]]) -> Optional[List[str]]:
        """Group names for IDs (an ID without a known group keeps its ID); None when unreadable."""
        if not self.readable:
            return None
        index = self.by_id()
        names: List[Any] = [index[i].get("name") if i in index else i for i in ids or []]
        return sorted(names)


class NewGroup(Prerequisite):
    """One group that create_groups makes before the first change that names it."""

    def __init__(self, resolver: GroupResolver, name: str) -> None:
        self.resolver = resolver
        self.name = name
        self.stand_in = NEW_GROUP_PREFIX + name
        self.label = "creating group %r (create_groups)" % name

    def needed_by(self, change: Change) -> bool:
        return any(isinstance(body, dict) and self.stand_in in (body.get("auto_groups") or ())
                   for body in change.request.values())

    def run(self) -> str:
        return "created group %s" % self.resolver.create(self.name)

    def blocked_text(self) -> str:
        return "its group %r could not be created" % self.name
