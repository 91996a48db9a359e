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


def pytest_unconfigure(config):  # pylint: disable=unused-argument
    shutil.rmtree(_ROOT, ignore_errors=True)
