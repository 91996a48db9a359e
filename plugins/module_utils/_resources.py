# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The NetBird API's resources: every path the collection uses, and the small helpers around them, in one file.

Kinds, readers and modules speak in resources (``list_users(client)``, ``delete_token(client, user_id, token_id)``);
only this file knows the URLs (relative to ``<api_url>/api``). Each function is one request through the client,
which owns retries, timeouts and errors. Private to netbird_ops.netbird; not a public API.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import quote_segment
from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdAPIError

USERS = "/users"
GROUPS = "/groups"
PEERS = "/peers"
INVITES = "/users/invites"
EVENTS = "/events/audit"
CURRENT_USER = "/users/current"
INSTANCE = "/instance"
SETUP = "/setup"

Raw = Dict[str, Any]


def _user(user_id: str, *rest: str) -> str:
    return "/".join((USERS, quote_segment(user_id)) + rest)


# -- users ---------------------------------------------------------------------------------------------------------

def service_user_query(service_user: Optional[bool]) -> Optional[Dict[str, str]]:
    """The ``service_user`` query of the user list (None: every user)."""
    if service_user is None:
        return None
    return {"service_user": "true" if service_user else "false"}


def list_users(client: Any, service_user: Optional[bool] = None) -> List[Raw]:
    return client.get_list(USERS, params=service_user_query(service_user))


def current_user(client: Any) -> Raw:
    return client.get_object(CURRENT_USER)


def create_user(client: Any, body: Raw) -> Raw:
    return client.post(USERS, body)


def update_user(client: Any, user_id: str, body: Raw) -> Raw:
    return client.put(_user(user_id), body)


def delete_user(client: Any, user_id: str) -> Any:
    return client.delete(_user(user_id))


def resend_invite(client: Any, user_id: str) -> Any:
    return client.request("POST", _user(user_id, "invite"), idempotent=True, expect_json=False)


def change_password(client: Any, user_id: str, body: Raw) -> Any:
    """Not idempotent: once the change took effect, the same request is refused (wrong old password)."""
    return client.request("PUT", _user(user_id, "password"), idempotent=False, expect_json=False, body=body)


def approve_user(client: Any, user_id: str) -> Raw:
    return client.post(_user(user_id, "approve"))


def reject_user(client: Any, user_id: str) -> Any:
    return client.delete(_user(user_id, "reject"))


# -- personal access tokens ----------------------------------------------------------------------------------------

def tokens_path(user_id: str) -> str:
    return _user(user_id, "tokens")


def list_tokens(client: Any, user_id: str) -> List[Raw]:
    return client.get_list(tokens_path(user_id))


def create_token(client: Any, user_id: str, body: Raw) -> Raw:
    return client.post(tokens_path(user_id), body)


def delete_token(client: Any, user_id: str, token_id: str) -> Any:
    return client.delete(_user(user_id, "tokens", quote_segment(token_id)))


# -- invites of the embedded IdP -----------------------------------------------------------------------------------

def list_invites(client: Any) -> List[Raw]:
    return client.get_list(INVITES)


def create_invite(client: Any, body: Raw) -> Raw:
    return client.post(INVITES, body)


def delete_invite(client: Any, invite_id: str) -> Any:
    return client.delete("%s/%s" % (INVITES, quote_segment(invite_id)))


def regenerate_invite(client: Any, invite_id: str, body: Raw) -> Raw:
    return client.post("%s/%s/regenerate" % (INVITES, quote_segment(invite_id)), body, idempotent=True)


# -- groups, peers, events, setup ----------------------------------------------------------------------------------

def list_groups(client: Any) -> List[Raw]:
    return client.get_list(GROUPS)


def create_group(client: Any, name: str) -> Raw:
    return client.post(GROUPS, {"name": name})


def peer_counts(client: Any) -> Tuple[Optional[Dict[Any, int]], Optional[NetBirdAPIError]]:
    """({user id: number of peers}, None) from one ``GET /api/peers``; (None, the error) when the token may not read peers."""
    try:
        peers = client.get_list(PEERS)
    except NetBirdAPIError as exc:
        if exc.status not in (403, 404):
            raise
        return None, exc
    counts: Dict[Any, int] = {}
    for peer in peers:
        if isinstance(peer, dict):
            counts[peer.get("user_id")] = counts.get(peer.get("user_id"), 0) + 1
    return counts, None


def list_events(client: Any) -> List[Raw]:
    return client.get_list(EVENTS)


def get_instance(client: Any) -> Raw:
    return client.get_object(INSTANCE)


def setup(client: Any, body: Raw) -> Raw:
    return client.post(SETUP, body)
