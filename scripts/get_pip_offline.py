# Copyright: (c) 2025, NetBird Ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline stand-in for get-pip.py, used by ansible-test when it bootstraps pip in a fresh venv.

ansible-test downloads get-pip.py from a host that is not reachable from CI. noxfile.py
installs this file as ~/.ansible/test/cache/get_pip_<version>.py, where ansible-test looks first.
It bootstraps pip from the interpreter's bundled wheel (ensurepip) and then installs the
requested packages (e.g. pip==24.2) from the package index, as get-pip.py would.
"""

import subprocess
import sys


def main():
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], stdout=subprocess.DEVNULL)
    if args:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + args)


if __name__ == "__main__":
    main()
