# Copyright: (c) 2025, NetBird Ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check sessions of `make test`: antsibull-nox's (configured in antsibull-nox.toml) plus ansible-test sanity.

Run through make (`make sanity`, `make lint`, `make docs`, `make release-check`), which uses nox
from .venv; `nox --list` shows the sessions. Every session installs its tools into .nox/<session>/.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import nox

try:
    import antsibull_nox
except ImportError:
    print("You need to install antsibull-nox in the same Python environment as nox (make venv).")
    sys.exit(1)

ROOT = Path(__file__).resolve().parent

# One set of pins for .venv and for every session venv: pip and uv take these files as constraints
# for each install (ansible-test does not pass PIP_* on to the venvs it builds, so its own pins stay).
CONSTRAINTS = " ".join(str(ROOT / "requirements" / name) for name in ("test.txt", "release.txt", "nox/constraints.txt"))
os.environ.setdefault("PIP_CONSTRAINT", CONSTRAINTS)
os.environ.setdefault("UV_CONSTRAINT", CONSTRAINTS)
# Session venvs with uv (from .venv, requirements/nox.txt) when there, else virtualenv + pip; never
# download a Python (only PyPI is reachable): the sessions run on the Python of this nox.
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.download_python = "never"

antsibull_nox.load_antsibull_nox_toml()

PYTHON = "%d.%d" % sys.version_info[:2]
# The ansible-core of requirements/test.txt, as "X.Y" for antsibull-nox (pip's constraint above
# pins the patch release).
CORE_PIN = re.search(r"(?m)^ansible-core==(\S+)", (ROOT / "requirements" / "test.txt").read_text(encoding="utf-8")).group(1)
GET_PIP_STAND_IN = ROOT / "scripts" / "get_pip_offline.py"


def _sanity_setup() -> None:
    """Before ansible-test sanity (in the collection copy): refuse ignore files, provide get-pip.py offline.

    ansible-test bootstraps pip in each venv it builds with get-pip.py, downloaded from a host we
    cannot reach unless ~/.ansible/test/cache/get_pip_<pip pin>.py exists. The pin is that of the
    session's ansible-test, the same pinned ansible-core as in .venv, where nox runs.
    """
    ignores = sorted(str(path.relative_to(Path.cwd())) for path in Path.cwd().glob("tests/sanity/ignore-*.txt"))
    if ignores:
        raise SystemExit(f"sanity ignore files are not allowed (fix the findings instead): {', '.join(ignores)}")
    try:
        import ansible  # pylint: disable=import-outside-toplevel
        import ansible_test  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise SystemExit("run nox from .venv (make sanity): it needs ansible-core to find ansible-test's pip pin") from None
    if ansible.__version__ != CORE_PIN:
        raise SystemExit(f"nox runs with ansible-core {ansible.__version__}, requirements/test.txt pins {CORE_PIN}: run make venv")
    requirements_py = Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    pip_pin = re.search(r"pip='([0-9.]+)'", requirements_py.read_text(encoding="utf-8")).group(1)
    target = Path.home() / ".ansible" / "test" / "cache" / f"get_pip_{pip_pin.replace('.', '_')}.py"
    # A real get-pip.py cached there works offline too and is left alone.
    if not target.exists() or ("Offline stand-in for get-pip.py" in target.read_text(encoding="utf-8")
                               and target.read_bytes() != GET_PIP_STAND_IN.read_bytes()):
        print(f"installing the offline get-pip stand-in for pip {pip_pin}: {target}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(GET_PIP_STAND_IN, target)


def _sanity_cleanup() -> None:
    """Drop ansible-test's scratch directory before antsibull-nox copies tests/output/ back into the checkout.

    (antsibull-nox 1.10 copies that tree bottom-up and fails on tests/output/.tmp/pylint.)
    """
    shutil.rmtree(Path.cwd() / "tests" / "output" / ".tmp", ignore_errors=True)


# ansible-test sanity without Docker: in venvs that ansible-test builds itself (--venv), on the
# Python of this nox (that of .venv). antsibull-nox's own sanity sessions always use --docker.
antsibull_nox.add_ansible_test_session(
    name="ansible-test-sanity",
    description=f"Run ansible-test sanity (--venv, Python {PYTHON}) without Docker",
    ansible_test_params=["sanity", "--venv", "--python", PYTHON, "-v", "--color", "no"],
    default=False,
    ansible_core_version=".".join(CORE_PIN.split(".")[:2]),
    ansible_core_source="pypi",
    callback_before=_sanity_setup,
    callback_after=_sanity_cleanup,
)


if __name__ == "__main__":
    nox.main()
