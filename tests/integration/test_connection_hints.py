# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A mistyped api_url, as an operator meets it: one ansible-playbook run, one task per mistake.

A closed loopback port, https:// (and no scheme) to the emulator's plain-http port, a path the server does not
have, and a user name and password in api_url. Each fails with one sentence that names api_url and what to check,
never an exception repr, never the token or the URL's password, and never advice that cannot help
(validate_certs / ca_path for a server that does not speak TLS at all).
"""

from __future__ import annotations

import re

from nb_cases import free_port

P = "netbird_ops.netbird."


def test_connection_mistakes_name_api_url(ansible, emulator):
    port = emulator.url.rsplit(":", 1)[1]
    closed = free_port()
    password = "Url-Passw0rd-7"
    cases = {
        "closed port": {"api_url": "http://127.0.0.1:%d" % closed, "api_retries": 1},
        "https to plain http": {"api_url": "https://127.0.0.1:%s" % port, "validate_certs": False},
        "no scheme": {"api_url": "127.0.0.1:%s/api" % port},
        "wrong path": {"api_url": emulator.url + "/netbird"},
        "password in api_url": {"api_url": "http://admin:%s@127.0.0.1:%s" % (password, port)},
    }
    tasks = [{"name": name, P + "netbird_user_info": args, "ignore_errors": True} for name, args in cases.items()]
    emulator.reset_counters()
    # -vvv: the failed results' invocation (the task's arguments) is printed too
    run = ansible.playbook(tasks, verbosity=3)
    assert run.rc == 0, run.output
    msgs = {}
    for name in cases:
        res = run.result(name)
        assert res["failed"], (name, res)
        msgs[name] = res["msg"]

    assert re.fullmatch(
        r"GET /api/users failed: connection refused after 1 retry over \d+\.\d s: nothing accepts connections at 127\.0\.0\.1:%d; "
        r"check api_url \(http://127\.0\.0\.1:%d\) and that the NetBird management server is running" % (closed, closed),
        msgs["closed port"]), msgs["closed port"]
    assert msgs["https to plain http"] == (
        "GET /api/users failed: the server at 127.0.0.1:%s did not answer in TLS although api_url asks for https:// "
        "(OpenSSL: wrong version number); check http/https in api_url: a server without TLS needs http://127.0.0.1:%s" % (port, port))
    assert msgs["no scheme"] == (
        "GET /api/users failed: the server at 127.0.0.1:%s did not answer in TLS although api_url 127.0.0.1:%s has no scheme, "
        "so https:// was assumed (OpenSSL: wrong version number); check http/https in api_url: a server without TLS needs "
        "http://127.0.0.1:%s" % (port, port, port))
    assert msgs["wrong path"].startswith(
        "GET /api/users failed with HTTP 404 Not Found: the server answered with a non-JSON body (text/plain; charset=utf-8): "
        "404 page not found; no NetBird API route answers there, so check api_url (%s/netbird)" % emulator.url), msgs["wrong path"]
    assert msgs["password in api_url"] == (
        "api_url must not contain a user name or password (...@127.0.0.1:%s): the API authenticates with api_token alone, "
        "so remove the part before '@'" % port)

    for name, msg in msgs.items():
        assert "\n" not in msg, (name, msg)
        assert "Error(" not in msg and "HTTPConnection" not in msg and "Pool(" not in msg, (name, msg)
    for name in ("https to plain http", "no scheme"):
        assert "validate_certs" not in msgs[name] and "ca_path" not in msgs[name], msgs[name]
    assert emulator.token not in run.output
    assert password not in run.output
    assert "Traceback (most recent call last)" not in run.output
    # no API request arrived: the URL with a password was refused before sending (it would have been a GET /api/users
    # with Basic auth), and the emulator counts neither unknown paths nor failed TLS handshakes
    counts = emulator.requests()
    assert counts["total"] == 0, counts
