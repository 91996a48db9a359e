# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""netbird_access_review: one read of the account (netbird_user_info's), the findings, users.csv and report.md.

Built in Python rather than in Jinja: a review of 1,000 users through Ansible's templating takes minutes, here it
takes the few requests and well under a second. Private to netbird_ops.netbird; not a public API.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import NetBirdError, NetBirdInputError
from ansible_collections.netbird_ops.netbird.plugins.module_utils._info import read_users

CSV_FIELDS = ("email", "name", "kind", "role", "status", "groups", "last_login", "days_since_login", "peers", "tokens")
# what the review reads: every user, with tokens and peers (netbird_user_info's options)
READ = dict(dict((key, None) for key in ("user_id", "email", "name", "role", "status", "service_user", "pending_approval",
                                         "blocked", "inactive_days", "never_logged_in")),
            current=False, include_tokens=True, include_peers=True)


def argument_spec():
    """netbird_access_review's options (the connection options aside), and no rules between them."""
    return dict(
        dest=dict(type="path", required=True),
        inactive_days=dict(type="int", default=90),
        token_days=dict(type="int", default=30, no_log=False),
    ), {}


def label(user):
    """How the review names a user: its email, or a service user's name."""
    return user.get("email") or user.get("name") or user.get("id")


def findings(users, inactive_days, token_days):
    """The review as lists of user dicts / [user, token] pairs (stubs, whose state the server does not report, apart)."""
    regular = [u for u in users if not u.get("is_service_user")]
    service = [u for u in users if u.get("is_service_user")]
    pairs = [(u, t) for u in users for t in u.get("tokens") or []]
    return {
        "users": users,
        "regular": regular,
        "service": service,
        "owners_admins": [u for u in users if u.get("role") in ("owner", "admin")],
        "inactive": [u for u in regular if u.get("state_reported") and u.get("last_login_days") is not None
                     and u["last_login_days"] >= inactive_days],
        "never": [u for u in regular if u.get("state_reported") and u.get("last_login_days") is None],
        "blocked": [u for u in users if u.get("is_blocked") and not u.get("pending_approval")],
        "pending": [u for u in users if u.get("pending_approval")],
        "unreported": [u for u in users if not u.get("state_reported")],
        "no_tokens": [u for u in service if "tokens" in u and not u["tokens"]],
        "pairs": pairs,
        "expired": [p for p in pairs if p[1].get("expired")],
        "expiring": [p for p in pairs if not p[1].get("expired") and p[1].get("expires_in_days") is not None
                     and p[1]["expires_in_days"] <= token_days],
    }


def last_use(token):
    days = token.get("last_used_days")
    return "never" if days is None else "%d days ago" % days


def cell(value):
    """A CSV field: text, and never a formula for a spreadsheet (a leading = + - @ gets a ')."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def users_csv(users):
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for user in users:
        reported = user.get("state_reported")
        if "tokens" in user:
            tokens = "; ".join("%s (expires %s%s, last used %s)" % (t.get("name"), t.get("expiration_date"),
                                                                    ", expired" if t.get("expired") else "", last_use(t))
                               for t in user["tokens"])
        else:
            tokens = "not readable"
        days = user.get("last_login_days")
        writer.writerow([cell(v) for v in (
            user.get("email"), user.get("name"), "service" if user.get("is_service_user") else "regular", user.get("role"),
            user.get("status") if reported else "unreported",
            "; ".join(user.get("auto_groups_names") if user.get("auto_groups_names") is not None else user.get("auto_groups") or []),
            "unreported" if not reported else ("never" if days is None else user.get("last_login")),
            "" if days is None else days, user.get("peers_count", ""), tokens)])
    return out.getvalue()


def who(user):
    return "%s%s" % (label(user), " (service user)" if user.get("is_service_user") else "")


def peers(user):
    return user.get("peers_count", "?")


def report_md(f, inactive_days, token_days):
    rows = [
        ("users", len(f["users"])), ("regular users", len(f["regular"])), ("service users", len(f["service"])),
        ("owners and admins", len(f["owners_admins"])), ("inactive for %d days or more" % inactive_days, len(f["inactive"])),
        ("never logged in", len(f["never"])), ("blocked", len(f["blocked"])), ("pending approval", len(f["pending"])),
        ("state not reported by the server", len(f["unreported"])),
        ("peers", sum(u.get("peers_count") or 0 for u in f["users"])), ("tokens", len(f["pairs"])),
        ("tokens expiring within %d days" % token_days, len(f["expiring"])), ("expired tokens", len(f["expired"])),
        ("service users without tokens", len(f["no_tokens"])),
    ]
    lines = ["# NetBird access review", "", "## Counts", "", "| what | count |", "|---|---|"]
    lines += ["| %s | %s |" % row for row in rows]
    lines += ["", "# Findings", ""]

    def section(title, items):
        lines.extend(["## %s (%d)" % (title, len(items)), ""])
        lines.extend("- %s" % item for item in items)
        if not items:
            lines.append("None.")
        lines.append("")

    section("Owners and admins", ["%s: %s" % (who(u), u.get("role")) for u in f["owners_admins"]])
    section("Inactive for %d days or more" % inactive_days,
            ["%s: last login %s, %s days ago, %s peers" % (who(u), u.get("last_login"), u.get("last_login_days"), peers(u))
             for u in f["inactive"]])
    section("Never logged in", ["%s: %s, %s peers" % (who(u), u.get("role"), peers(u)) for u in f["never"]])
    section("Blocked", ["%s: %s, %s peers" % (who(u), u.get("role"), peers(u)) for u in f["blocked"]])
    section("Pending approval", ["%s: %s, %s peers" % (who(u), u.get("role"), peers(u)) for u in f["pending"]])
    expiring = ["%s: token %s expires %s (in %s days), last used %s"
                % (who(u), t.get("name"), t.get("expiration_date"), t.get("expires_in_days"), last_use(t))
                for u, t in f["expiring"]]
    section("Tokens expiring within %d days" % token_days, expiring)
    expired = ["%s: token %s expired %s, last used %s" % (who(u), t.get("name"), t.get("expiration_date"), last_use(t))
               for u, t in f["expired"]]
    section("Expired tokens", expired)
    section("Service users without tokens", ["%s: %s" % (who(u), u.get("role")) for u in f["no_tokens"]])
    section("State not reported by the server",
            ["%s: %s; blocked state, approval and last login not reported (external IdP)" % (who(u), u.get("role"))
             for u in f["unreported"]])
    lines.append("Tokens: NetBird lets a token read only its own user's tokens and those of service users; other users' "
                 "tokens show as not readable in users.csv.")
    return "\n".join(lines) + "\n"


def write_file(path, text, check_mode):
    """Write ``text`` to ``path`` (mode 0640) unless it already holds it; True when it changed (or would)."""
    data = text.encode("utf-8")
    try:
        with open(path, "rb") as handle:
            if handle.read() == data:
                return False
    except OSError:
        pass
    if check_mode:
        return True
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".%s." % os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def run_review(nb):
    params = nb.params
    for option in ("inactive_days", "token_days"):
        if params[option] < 0:
            raise NetBirdInputError("%s must be 0 or more, got %s" % (option, params[option]))
    dest = params["dest"]
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise NetBirdInputError("dest %s exists and is not a directory" % dest)
    # other users' tokens are unreadable by design (NetBird's rule): the report says so, no warning needed
    users = read_users(nb.client, READ, nb.warn, unreadable_tokens_warning=False)["users"]
    f = findings(users, params["inactive_days"], params["token_days"])
    changed = False
    csv_path = os.path.join(dest, "users.csv")
    md_path = os.path.join(dest, "report.md")
    try:
        if not os.path.isdir(dest):
            changed = True
            if not nb.check_mode:
                os.makedirs(dest, 0o750)
        if not (nb.check_mode and changed):
            changed = write_file(csv_path, users_csv(users), nb.check_mode) | changed
            changed = write_file(md_path, report_md(f, params["inactive_days"], params["token_days"]), nb.check_mode) | changed
    except OSError as exc:
        raise NetBirdError("dest: cannot write the review to %s: %s" % (dest, exc.strerror or exc)) from exc

    def names(items):
        return [label(u) for u in items]

    def token_names(items):
        return ["%s / %s" % (label(u), t.get("name")) for u, t in items]

    review = {
        "counts": {"users": len(users), "regular_users": len(f["regular"]), "service_users": len(f["service"]),
                   "owners_admins": len(f["owners_admins"]), "inactive": len(f["inactive"]), "never_logged_in": len(f["never"]),
                   "blocked": len(f["blocked"]), "pending_approval": len(f["pending"]), "state_unreported": len(f["unreported"]),
                   "peers": sum(u.get("peers_count") or 0 for u in users), "tokens": len(f["pairs"]),
                   "tokens_expiring": len(f["expiring"]), "tokens_expired": len(f["expired"]),
                   "service_users_without_tokens": len(f["no_tokens"])},
        "owners_admins": names(f["owners_admins"]),
        "inactive": names(f["inactive"]),
        "never_logged_in": names(f["never"]),
        "blocked": names(f["blocked"]),
        "pending_approval": names(f["pending"]),
        "state_unreported": names(f["unreported"]),
        "tokens_expiring": token_names(f["expiring"]),
        "tokens_expired": token_names(f["expired"]),
        "service_users_without_tokens": names(f["no_tokens"]),
        "users_csv": csv_path,
        "report_md": md_path,
    }
    return {"changed": changed, "review": review}
