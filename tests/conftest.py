# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make the collection importable as ``ansible_collections.netbird_ops.netbird`` for pytest.

ansible-test is not used for unit tests (it needs Docker or a venv it downloads), so a temporary
``ansible_collections/netbird_ops/netbird`` symlink to this checkout is put on ``sys.path``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _collection_root():
    root = tempfile.mkdtemp(prefix="netbird-ops-pytest-")
    namespace = os.path.join(root, "ansible_collections", "netbird_ops")
    os.makedirs(namespace)
    os.symlink(REPO, os.path.join(namespace, "netbird"))
    return root


_ROOT = _collection_root()
sys.path.insert(0, _ROOT)


# The compatibility legs (scripts/compat.sh: ansible-core 2.16 on Python 3.11, the newest ansible-core on
# Python 3.12/3.13) run `pytest -m compat tests/unit tests/integration`; the main leg (`make pytest`) runs
# every test, marked or not. An integration test is marked `compat` when its outcome can depend on the
# ansible-core or Python version: argument-spec validation and its messages, the role's argument_specs and
# Jinja expressions, module_defaults and the action group, no_log / -vvvv secret handling, warnings, check
# and diff display, callback output, TLS verification (Python's ssl); that is, one idempotence and one
# check/diff test per module, the role, bad input and the secrets sweep. Tests of the client, the emulator,
# the fault matrix, concurrency, the AWX and EE tooling and the benchmark behave alike on every version:
# main leg only. Every unit test runs on every leg (it is marked here).
def pytest_configure(config):
    config.addinivalue_line("markers", "compat: also run on the compatibility legs of scripts/compat.sh (the outcome can "
                            "depend on the ansible-core or Python version); the main leg runs every test")


def pytest_collection_modifyitems(config, items):  # pylint: disable=unused-argument
    unit = os.path.join(REPO, "tests", "unit") + os.sep
    for item in items:
        if str(item.path).startswith(unit):
            item.add_marker("compat")
    # Not reordered: starting the longest tests first (tried) packs the multi-fork ones (fault matrix,
    # concurrency, benchmark) together and made the run 40% slower on 2 cores than the collection order.


def pytest_unconfigure(config):  # pylint: disable=unused-argument
    shutil.rmtree(_ROOT, ignore_errors=True)
