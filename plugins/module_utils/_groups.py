# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Group names <-> IDs, with at most one ``GET /api/groups`` per module run.

Private to netbird_ops.netbird; not a public API."""

from __future__ import annotations

import re

from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import NetBirdAPIError, NetBirdInputError

# NetBird group IDs are xids: 20 characters of base32hex in lower case.
GROUP_ID_RE = re.compile(r"^[0-9a-v]{20}$")
ALL_GROUP_NAME = "All"


def looks_like_group_id(value):
    return bool(GROUP_ID_RE.match(value or ""))


class GroupResolver:
    """Resolves ``auto_groups`` entries (names or IDs) against the account's groups.

    The group list is fetched lazily, once. ``readable`` is False when the token may not
    read groups (HTTP 403); then IDs are passed through unchecked and names cannot be used.
    """

    def __init__(self, client):
        self.client = client
        self._groups = None
        self.readable = None
        self.read_error = None
        self._index = None
        self._index_of = None

    @property
    def loaded(self):
        return self._groups is not None

    def load(self, required=False):
        """Fetch the group list once. Returns True when groups are readable."""
        if self._groups is None and self.readable is None:
            try:
                self._groups = self.client.get_list("/groups")
                self.readable = True
            except NetBirdAPIError as exc:
                if exc.status != 403:
                    raise
                self.readable = False
                self.read_error = exc
        if required and not self.readable:
            raise self.read_error
        return bool(self.readable)

    def seed(self, groups):
        """Use an already fetched group list (tests, or a caller that had to read it anyway)."""
        self._groups = list(groups or [])
        self.readable = True

    @property
    def groups(self):
        return self._groups or []

    def _indexes(self):
        """(groups by ID, groups by name), built once per group list: a batch resolves in O(users + groups)."""
        groups = self.groups
        if self._index is None or self._index_of is not groups:
            by_name = {}
            for group in groups:
                by_name.setdefault(group.get("name"), []).append(group)
            self._index = (dict((g.get("id"), g) for g in groups), by_name)
            self._index_of = groups
        return self._index

    def by_id(self):
        return self._indexes()[0]

    def needs_lookup(self, values):
        """True when resolving ``values`` requires the group list (some entry is not an ID)."""
        return any(not looks_like_group_id(v) for v in values or [])

    def to_ids(self, values, option="auto_groups"):
        """Resolve names or IDs to a sorted list of IDs, or raise NetBirdInputError."""
        if values is None:
            return None
        cleaned = []
        for value in values:
            if value is None or not str(value).strip():
                raise NetBirdInputError("%s contains an empty group name" % option)
            cleaned.append(str(value).strip())
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
        result = set()
        unknown = []
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
            else:
                unknown.append(value)
                continue
            if group.get("name") == ALL_GROUP_NAME:
                raise NetBirdInputError("%s: the %r group cannot be assigned to users (every user is in it implicitly)" % (option, ALL_GROUP_NAME))
            result.add(group.get("id"))
        if unknown:
            raise NetBirdInputError("%s: unknown group%s %s (no group has that name or ID)"
                                    % (option, "s" if len(unknown) > 1 else "", ", ".join(repr(u) for u in unknown)))
        return sorted(result)

    def to_names(self, ids):
        """Group names for IDs (an ID without a known group keeps its ID); None when unreadable."""
        if not self.readable:
            return None
        index = self.by_id()
        return sorted(index[i].get("name") if i in index else i for i in ids or [])
