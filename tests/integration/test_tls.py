# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS: the emulator over HTTPS with a certificate from a throw-away CA, made here with the openssl CLI.

Verification fails by default with a message that says what to do, works with ca_path (option,
NETBIRD_CA_PATH, the role's netbird_ca_path), and works with validate_certs: false, which warns.
No key or certificate is committed: they are generated into the test's temporary directory.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess

import pytest

from nb_testlib import Emulator

# on every leg of scripts/compat.sh (marker compat): certificate verification is Python's ssl, which differs
# between Python versions (3.13 verifies strictly, VERIFY_X509_STRICT)
pytestmark = [pytest.mark.compat,
              pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl CLI is not installed")]
P = "netbird_ops.netbird."


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory):
    """An HTTPS emulator whose certificate for 127.0.0.1 is signed by a CA of its own; yields (emulator, CA file)."""
    work = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=netbird-test-ca",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=work)
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=work)
    (work / "server.ext").write_text("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                                     "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n"
                                     "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
            "-days", "2", "-extfile", "server.ext", cwd=work)
    emu = Emulator.start("--tls-cert", str(work / "server.pem"), "--tls-key", str(work / "server.key"))
    emu.ssl_context = ssl.create_default_context(cafile=str(work / "ca.pem"))
    assert emu.url.startswith("https://127.0.0.1:")
    yield emu, str(work / "ca.pem")
    emu.stop()


def test_tls_verification(ansible, tls_emulator):
    emu, ca_file = tls_emulator
    emu.reset()
    tasks = [
        {"name": "default", P + "netbird_user_info": {}, "ignore_errors": True},
        {"name": "ca_path", P + "netbird_user": {"email": "tls@x.io", "name": "TLS", "ca_path": ca_file}},
        {"name": "NETBIRD_CA_PATH", P + "netbird_user_info": {"email": "tls@x.io"}, "environment": {"NETBIRD_CA_PATH": ca_file}},
        {"name": "validate_certs false", P + "netbird_user_info": {"email": "tls@x.io", "validate_certs": False}},
        {"name": "onboarding", "ansible.builtin.include_role": {"name": "netbird_ops.netbird.onboarding"},
         "vars": {"netbird_ca_path": ca_file, "netbird_onboarding_users": [{"email": "role@x.io", "name": "Role"}]}},
    ]
    run = ansible.playbook(tasks, url=emu.url, token=emu.token)
    assert run.rc == 0, run.output

    default = run.result("default")
    assert default["failed"]
    msg = default["msg"]
    assert msg.startswith("GET /api/users failed: TLS certificate verification failed (CERTIFICATE_VERIFY_FAILED: "), msg
    assert "); set ca_path (or NETBIRD_CA_PATH) to the CA bundle" in msg and "\n" not in msg and "Error(" not in msg
    assert "Traceback (most recent call last)" not in run.output

    assert run.result("ca_path")["changed"] is True
    assert [u["email"] for u in run.result("NETBIRD_CA_PATH")["users"]] == ["tls@x.io"]
    insecure = run.result("validate_certs false")
    assert [u["email"] for u in insecure["users"]] == ["tls@x.io"]
    assert any("validate_certs is false" in w for w in insecure["warnings"]), insecure
    assert "InsecureRequestWarning" not in run.output
    assert not any("validate_certs" in w for w in run.result("NETBIRD_CA_PATH").get("warnings") or [])
    assert emu.user(email="role@x.io") is not None
    # the refused connection never got as far as an HTTP request
    counts = emu.requests()
    assert counts["writes"] == 2 and counts["by_route"]["POST /api/users"] == 2
