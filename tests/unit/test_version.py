# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's version is galaxy.yml's: the User-Agent the client sends may not drift from it."""

from __future__ import annotations

import os

import yaml

from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import COLLECTION_NAME, COLLECTION_VERSION

GALAXY = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "galaxy.yml")


def test_version_and_name_come_from_galaxy_yml():
    with open(GALAXY, encoding="utf-8") as handle:
        galaxy = yaml.safe_load(handle)
    assert galaxy["version"] == COLLECTION_VERSION
    assert "%s.%s" % (galaxy["namespace"], galaxy["name"]) == COLLECTION_NAME
