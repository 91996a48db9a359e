#!/usr/bin/env python
# Copyright: (c) 2025, NetBird Ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keep the ``netbird`` action group in meta/runtime.yml equal to plugins/modules/.

Usage (from anywhere in the checkout):

    python scripts/gen_action_group.py          # rewrite meta/runtime.yml if stale
    python scripts/gen_action_group.py --check  # exit 1 if meta/runtime.yml is stale

Only the list under ``action_groups: -> netbird:`` is rewritten; comments and any
other keys (``requires_ansible``, ``plugin_routing``, ...) are left untouched.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "meta" / "runtime.yml"
MODULES_DIR = ROOT / "plugins" / "modules"
GROUP = "netbird"


def module_names(modules_dir: Path = MODULES_DIR) -> list[str]:
    """Short names of all modules: every plugins/modules/*.py except __init__ / private ones."""
    if not modules_dir.is_dir():
        return []
    return sorted(p.stem for p in modules_dir.glob("*.py") if not p.name.startswith("_"))


def current_group(text: str) -> list[str] | None:
    """The module list of the action group in the given runtime.yml text (None when absent)."""
    data = yaml.safe_load(text) or {}
    groups = data.get("action_groups") or {}
    if GROUP not in groups:
        return None
    return [str(entry) for entry in (groups[GROUP] or []) if isinstance(entry, str)]


def render(text: str, modules: list[str]) -> str:
    """Return ``text`` with the action group's list replaced by ``modules``."""
    items = "".join(f"    - {name}\n" for name in modules) if modules else ""
    # "action_groups:" at column 0, optionally other groups, then "  netbird:" and its list.
    block = re.compile(
        r"(?m)^(action_groups:[ \t]*\n(?:(?:[ \t]+.*|[ \t]*)\n)*?)"  # header + anything before the group
        r"  " + re.escape(GROUP) + r":[^\n]*\n"                     # the group key
        r"(?:    - [^\n]*\n|[ \t]*#[^\n]*\n)*"                         # its current list items
    )
    new_key = f"  {GROUP}:{'' if modules else ' []'}\n"
    if block.search(text):
        new_text = block.sub(lambda m: m.group(1) + new_key + items, text, count=1)
    elif re.search(r"(?m)^action_groups:", text):
        raise SystemExit(
            f"{RUNTIME.relative_to(ROOT)}: cannot find the '{GROUP}' list under action_groups "
            "in the expected block style; fix the file by hand"
        )
    else:
        if not text.endswith("\n"):
            text += "\n"
        new_text = text + "action_groups:\n" + new_key + items
    if current_group(new_text) != modules:  # safety net against an unexpected layout
        raise SystemExit(f"internal error: regenerated {RUNTIME.name} does not parse back to {modules}")
    return new_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 when meta/runtime.yml is out of date")
    args = parser.parse_args(argv)

    modules = module_names()
    text = RUNTIME.read_text(encoding="utf-8") if RUNTIME.exists() else '---\nrequires_ansible: ">=2.16.0"\n'
    listed = current_group(text)

    if listed == modules:
        print(f"{RUNTIME.relative_to(ROOT)}: action group '{GROUP}' is up to date ({len(modules)} modules)")
        return 0

    if args.check:
        listed_set, module_set = set(listed or []), set(modules)
        print(f"ERROR: {RUNTIME.relative_to(ROOT)} is stale: action group '{GROUP}' does not match plugins/modules/",
              file=sys.stderr)
        if listed is None:
            print(f"  the action group '{GROUP}' is missing", file=sys.stderr)
        for name in sorted(module_set - listed_set):
            print(f"  missing from the group: {name}", file=sys.stderr)
        for name in sorted(listed_set - module_set):
            print(f"  listed but no such module: {name}", file=sys.stderr)
        if listed_set == module_set:
            print("  same modules, but not sorted / duplicated", file=sys.stderr)
        print("Run: python scripts/gen_action_group.py", file=sys.stderr)
        return 1

    RUNTIME.parent.mkdir(parents=True, exist_ok=True)
    RUNTIME.write_text(render(text, modules), encoding="utf-8")
    print(f"{RUNTIME.relative_to(ROOT)}: action group '{GROUP}' regenerated: {', '.join(modules) or '(empty)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
