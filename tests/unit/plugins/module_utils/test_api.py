# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the API client, with HTTP mocked at the requests transport adapter."""

from __future__ import annotations

import json

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from ansible_collections.netbird_ops.netbird.plugins.module_utils import _api
from ansible_collections.netbird_ops.netbird.plugins.module_utils._api import NetBirdClient, auth_header, normalize_base_url, parse_retry_after
from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import AmbiguousWriteError, NetBirdAPIError, NetBirdInputError

PAT = "nbp_" + "A" * 30 + "abcdef"


class FakeAdapter(BaseAdapter):
    """Returns scripted answers: (status, body[, headers]) tuples or exceptions, in order."""

    def __init__(self, answers):
        super().__init__()
        self.answers = list(answers)
        self.sent = []

    def send(self, request, **kwargs):  # pylint: disable=arguments-differ
        self.sent.append((request, kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body = answer[0], answer[1]
        headers = answer[2] if len(answer) > 2 else {}
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json", "X-Request-Id": "req-1"})
        response.headers.update(headers)
        if isinstance(body, (dict, list)) or body is None and status != 204:
            payload = json.dumps(body).encode()
        else:
            payload = (body or "").encode()
        response._content = payload  # pylint: disable=protected-access
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


def make_client(answers, **kwargs):
    adapter = FakeAdapter(answers)
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    sleeps = []
    kwargs.setdefault("retries", 3)
    client = NetBirdClient(kwargs.pop("url", "https://nb.example.com"), kwargs.pop("token", PAT), session=session,
                           sleep=sleeps.append, rand=lambda: 0.5, **kwargs)
    return client, adapter, sleeps


@pytest.mark.parametrize("given,expected", [
    ("https://api.netbird.io", "https://api.netbird.io"),
    ("https://api.netbird.io/", "https://api.netbird.io"),
    ("https://api.netbird.io/api", "https://api.netbird.io"),
    ("https://api.netbird.io/api/", "https://api.netbird.io"),
    ("https://nb.example.com:33073/prefix/api", "https://nb.example.com:33073/prefix"),
    ("nb.example.com", "https://nb.example.com"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
])
def test_base_url_normalisation(given, expected):
    assert normalize_base_url(given) == expected


@pytest.mark.parametrize("bad", ["", "ftp://x", "https://x/api?x=1", "https://"])
def test_bad_base_url(bad):
    with pytest.raises(NetBirdInputError, match="api_url"):
        normalize_base_url(bad)


def test_auth_header_schemes():
    assert auth_header(PAT) == "Token " + PAT
    assert auth_header("eyJhbGciOi.x.y") == "Bearer eyJhbGciOi.x.y"
    with pytest.raises(NetBirdInputError, match="api_token is empty"):
        auth_header("")
    with pytest.raises(NetBirdInputError, match="white space"):
        auth_header("nbp_abc def")


def test_request_headers_and_url():
    client, adapter, _sleeps = make_client([(200, [])], url="https://nb.example.com/api/")
    assert client.get_list("/users", params={"service_user": "false"}) == []
    request, kwargs = adapter.sent[0]
    assert request.url == "https://nb.example.com/api/users?service_user=false"
    assert request.headers["Authorization"] == "Token " + PAT
    assert request.headers["User-Agent"].startswith("netbird_ops.netbird/")
    assert "terraform" not in request.headers["User-Agent"].lower()
    assert kwargs["timeout"] == 30
    assert kwargs["verify"] not in (False, None)  # True, or the REQUESTS_CA_BUNDLE requests merges in


def test_tls_options():
    client, adapter, _sleeps = make_client([(200, [])], ca_path="/etc/ca.pem")
    client.get_list("/users")
    assert adapter.sent[0][1]["verify"] == "/etc/ca.pem"
    client, adapter, _sleeps = make_client([(200, [])], validate_certs=False, ca_path="/etc/ca.pem")
    client.get_list("/users")
    assert adapter.sent[0][1]["verify"] is False


def test_netrc_never_replaces_the_token(tmp_path, monkeypatch):
    # requests' trust_env would take Basic auth from a ~/.netrc entry for the host instead of the Authorization header
    netrc = tmp_path / "netrc"
    netrc.write_text("machine nb.example.com login someone password secret\n")
    monkeypatch.setenv("NETRC", str(netrc))
    client, adapter, _sleeps = make_client([(200, [])])
    client.get_list("/users")
    assert adapter.sent[0][0].headers["Authorization"] == "Token " + PAT


@pytest.mark.parametrize("no_proxy,expected", [("", {"https": "http://127.0.0.1:3128"}), ("nb.example.com", {})])
def test_proxy_variables_are_read_once_and_kept(monkeypatch, no_proxy, expected):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    client, adapter, _sleeps = make_client([(200, []), (200, [])])
    client.get_list("/users")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3129")  # read once, at the start of the run
    client.get_list("/users")
    for _request, kwargs in adapter.sent:
        assert kwargs["proxies"].get("https") == expected.get("https")


def test_ca_bundle_variables_apply_unless_ca_path_or_no_validation(monkeypatch):
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/env-ca.pem")
    for options, expected in (({}, "/etc/env-ca.pem"), ({"ca_path": "/etc/ca.pem"}, "/etc/ca.pem"), ({"validate_certs": False}, False)):
        client, adapter, _sleeps = make_client([(200, [])], **options)
        client.get_list("/users")
        assert adapter.sent[0][1]["verify"] == expected
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/curl-ca.pem")
    client, adapter, _sleeps = make_client([(200, [])])
    client.get_list("/users")
    assert adapter.sent[0][1]["verify"] == "/etc/curl-ca.pem"


def test_timeout_option():
    client, adapter, _sleeps = make_client([(200, {})], timeout=7)
    client.get("/users/current")
    assert adapter.sent[0][1]["timeout"] == 7


def test_null_list_is_empty():
    client, _adapter, _sleeps = make_client([(200, None)])
    assert client.get_list("/users/u1/tokens") == []


def test_non_list_where_list_expected():
    client, _adapter, _sleeps = make_client([(200, {"x": 1})])
    with pytest.raises(NetBirdAPIError, match="answered a JSON object where a JSON list was expected"):
        client.get_list("/users")


@pytest.mark.parametrize("body", [None, ""])
def test_null_or_empty_user_list_is_an_error_not_no_users(body):
    """Regression: JSON null / an empty 200 body read as "no users" made netbird_user create every user again."""
    client, _adapter, _sleeps = make_client([(200, body)])
    with pytest.raises(NetBirdAPIError) as info:
        client.get_list("/users")
    assert info.value.status == 200 and "GET /api/users failed with HTTP 200" in str(info.value)
    assert ("JSON null" if body is None else "empty body") in str(info.value)


def test_get_object_refuses_null():
    client, _adapter, _sleeps = make_client([(200, None)])
    with pytest.raises(NetBirdAPIError, match="answered JSON null where a JSON object was expected"):
        client.get_object("/users/current")


@pytest.mark.parametrize("answer", [(200, ""), (200, "<html>ok</html>", {"Content-Type": "text/html"})])
def test_unreadable_answer_to_a_post_is_ambiguous(answer):
    """A 2xx the client cannot read may still mean the server created something: the caller must re-read."""
    client, adapter, _sleeps = make_client([answer])
    with pytest.raises(AmbiguousWriteError):
        client.post("/users", {"name": "x"})
    assert len(adapter.sent) == 1


def test_delete_does_not_need_a_body():
    client, _adapter, _sleeps = make_client([(200, "")])
    assert client.delete("/users/u1") is None


def test_error_carries_method_path_status_message_request_id():
    client, _adapter, _sleeps = make_client([(422, {"message": "unknown user role boss", "code": 422}, {"X-Request-Id": "abc123"})])
    with pytest.raises(NetBirdAPIError) as info:
        client.post("/users", {"role": "boss"})
    err = info.value
    assert (err.method, err.path, err.status, err.request_id) == ("POST", "/api/users", 422, "abc123")
    assert str(err) == "POST /api/users failed with HTTP 422 Unprocessable Entity: unknown user role boss (X-Request-Id abc123)"


def test_a_hint_continues_the_one_sentence():
    blocked = NetBirdAPIError("GET", "/api/users", status=403, message="user is blocked", hint="The token's own user is blocked")
    assert str(blocked) == "GET /api/users failed with HTTP 403 Forbidden: user is blocked; the token's own user is blocked"
    # a name keeps its capitals
    service = NetBirdAPIError("GET", "/api/users/current", status=403, message="forbidden",
                              hint="NetBird does not answer /api/users/current for a service user's token")
    assert str(service).endswith(": forbidden; NetBird does not answer /api/users/current for a service user's token")


@pytest.mark.parametrize("status,message", [(401, "token invalid"), (404, "invalid token: pat: 0af3 not found")])
def test_rejected_token_is_explained_without_the_token(status, message):
    client, _adapter, _sleeps = make_client([(status, {"message": message, "code": status})])
    with pytest.raises(NetBirdAPIError) as info:
        client.get_list("/users")
    text = str(info.value)
    assert "; the API token was rejected" in text
    assert "HTTP %d" % status in text
    assert PAT not in text


def test_user_not_found_is_not_a_token_error():
    client, _adapter, _sleeps = make_client([(404, {"message": "user: abc not found", "code": 404})])
    with pytest.raises(NetBirdAPIError) as info:
        client.put("/users/abc", {})
    assert "token" not in str(info.value)


def test_token_is_redacted_from_server_messages():
    client, _adapter, _sleeps = make_client([(400, {"message": "bad header Token %s" % PAT, "code": 400})])
    with pytest.raises(NetBirdAPIError) as info:
        client.get("/users/current")
    assert PAT not in str(info.value)
    assert "********" in str(info.value)


def test_html_error_body_is_summarised():
    html = "<html><head><style>x{}</style></head><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
    client, _adapter, _sleeps = make_client([(500, html, {"Content-Type": "text/html"})])
    with pytest.raises(NetBirdAPIError) as info:
        client.get_list("/users")
    text = str(info.value)
    assert "non-JSON body (text/html): 502 Bad Gateway nginx" in text
    assert "<" not in text


def test_html_success_body_is_an_error():
    client, _adapter, _sleeps = make_client([(200, "<html>login</html>", {"Content-Type": "text/html"})])
    with pytest.raises(NetBirdAPIError, match="non-JSON body"):
        client.get_list("/users")


def test_empty_error_body():
    client, _adapter, _sleeps = make_client([(500, "")])
    with pytest.raises(NetBirdAPIError, match="empty response body"):
        client.get_list("/users")


def test_redirect_is_refused():
    client, adapter, _sleeps = make_client([(302, "", {"Location": "https://evil.example.com/api/users"})])
    with pytest.raises(NetBirdAPIError, match="redirect to https://evil.example.com/api/users refused"):
        client.get_list("/users")
    assert len(adapter.sent) == 1  # not followed: the token is never sent to the other URL


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_get_retried_on_retryable_status(status):
    client, adapter, sleeps = make_client([(status, {"message": "x", "code": status}), (200, [])])
    assert client.get_list("/users") == []
    assert len(adapter.sent) == 2
    assert len(sleeps) == 1


def test_no_retry_on_500_or_4xx():
    for status in (500, 400, 403, 409, 422):
        client, adapter, sleeps = make_client([(status, {"message": "x", "code": status})])
        with pytest.raises(NetBirdAPIError):
            client.get_list("/users")
        assert len(adapter.sent) == 1 and not sleeps


def test_backoff_is_exponential_with_jitter_and_bounded():
    answers = [(503, {"message": "x", "code": 503})] * 4
    client, adapter, sleeps = make_client(answers, retries=3, backoff_base=1.0)
    with pytest.raises(NetBirdAPIError) as info:
        client.get_list("/users")
    assert len(adapter.sent) == 4
    # equal jitter with rand()=0.5: 3/4 of 1, 2, 4
    assert sleeps == [0.75, 1.5, 3.0]
    assert "; gave up after 3 retries" in str(info.value)


def test_jitter_range():
    client, _adapter, _sleeps = make_client([])
    for attempt in range(6):
        client._rand = lambda: 0.0  # pylint: disable=protected-access
        low = client._backoff(attempt)  # pylint: disable=protected-access
        client._rand = lambda: 0.999999  # pylint: disable=protected-access
        high = client._backoff(attempt)  # pylint: disable=protected-access
        full = min(client.backoff_max, client.backoff_base * 2 ** attempt)
        assert low == pytest.approx(full / 2) and high == pytest.approx(full, rel=1e-5)


def test_retry_after_is_honoured():
    client, _adapter, sleeps = make_client([(429, {"message": "too many requests", "code": 429}, {"Retry-After": "7"}), (200, [])])
    client.get_list("/users")
    assert sleeps == [7.0]


def test_retry_after_is_capped():
    client, _adapter, sleeps = make_client([(429, {"message": "x", "code": 429}, {"Retry-After": "86400"}), (200, [])])
    client.get_list("/users")
    assert sleeps == [120.0]


def test_parse_retry_after():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)


def test_post_retried_on_429_only():
    client, adapter, _sleeps = make_client([(429, {"message": "too many requests", "code": 429}), (200, {"id": "u1"})])
    assert client.post("/users", {"name": "x"}) == {"id": "u1"}
    assert len(adapter.sent) == 2


@pytest.mark.parametrize("status", [502, 503, 504])
def test_post_is_never_blindly_resent_after_gateway_errors(status):
    client, adapter, sleeps = make_client([(status, {"message": "x", "code": status}), (200, {"id": "u1"})])
    with pytest.raises(AmbiguousWriteError):
        client.post("/users", {"name": "x"})
    assert len(adapter.sent) == 1 and not sleeps


def test_post_not_resent_after_read_timeout():
    client, adapter, _sleeps = make_client([requests.exceptions.ReadTimeout("read timed out"), (200, {})])
    with pytest.raises(AmbiguousWriteError, match="read timed out"):
        client.post("/users", {"name": "x"})
    assert len(adapter.sent) == 1


def test_post_resent_after_refused_connection():
    refused = requests.exceptions.ConnectionError("Max retries exceeded (Caused by NewConnectionError('Connection refused'))")
    client, adapter, _sleeps = make_client([refused, (200, {"id": "u"})])
    assert client.post("/users", {"name": "x"}) == {"id": "u"}
    assert len(adapter.sent) == 2


def test_get_retried_after_reset_and_timeout():
    reset = requests.exceptions.ConnectionError("('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))")
    client, adapter, _sleeps = make_client([reset, requests.exceptions.ReadTimeout("x"), (200, [])])
    assert client.get_list("/users") == []
    assert len(adapter.sent) == 3
    assert client.retry_summary().startswith("2 request(s) were retried")


def test_transport_error_message_after_retries():
    refused = requests.exceptions.ConnectionError("Max retries exceeded (Caused by NewConnectionError('Connection refused'))")
    client, _adapter, _sleeps = make_client([refused] * 3, retries=2)
    with pytest.raises(NetBirdAPIError) as info:
        client.get_list("/users")
    assert str(info.value).startswith("GET /api/users failed: connection refused after 2 retries")


def test_tls_error_message():
    client, _adapter, _sleeps = make_client([requests.exceptions.SSLError("certificate verify failed: self-signed certificate")])
    with pytest.raises(NetBirdAPIError) as info:
        client.get_list("/users")
    assert str(info.value) == (
        "GET /api/users failed: TLS certificate verification failed (CERTIFICATE_VERIFY_FAILED: self-signed certificate); "
        "set ca_path (or NETBIRD_CA_PATH) to the CA bundle that signed the server's certificate, "
        "or validate_certs: false to skip verification (not recommended)")


def test_tls_host_name_mismatch_does_not_suggest_ca_path():
    exc = requests.exceptions.SSLError(
        "HTTPSConnectionPool(host='localhost', port=8443): Max retries exceeded with url: /api/users (Caused by "
        "SSLError(SSLCertVerificationError(1, \"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, "
        "certificate is not valid for 'localhost'. (_ssl.c:1006)\")))")
    client, _adapter, _sleeps = make_client([exc])
    with pytest.raises(NetBirdAPIError) as info:
        client.get_list("/users")
    text = str(info.value)
    assert text == ("GET /api/users failed: TLS certificate verification failed (Hostname mismatch, certificate is not valid for "
                    "'localhost'): check the host name in api_url, it must be one the server's certificate was issued for")


WRONG_VERSION = requests.exceptions.SSLError(
    "HTTPSConnectionPool(host='127.0.0.1', port=8080): Max retries exceeded with url: /api/users (Caused by SSLError(SSLError(1, "
    "'[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)')))")


@pytest.mark.parametrize("validate_certs", [True, False])
def test_https_to_a_plain_http_server_says_so(validate_certs):
    client, adapter, sleeps = make_client([WRONG_VERSION], url="https://127.0.0.1:8080", validate_certs=validate_certs)
    with pytest.raises(NetBirdAPIError) as info:
        client.get_list("/users")
    assert str(info.value) == (
        "GET /api/users failed: the server at 127.0.0.1:8080 did not answer in TLS although api_url asks for https:// "
        "(OpenSSL: wrong version number); check http/https in api_url: a server without TLS needs http://127.0.0.1:8080")
    # neither advice would help, so neither is given; and a handshake is not retried
    assert "validate_certs" not in str(info.value) and "ca_path" not in str(info.value)
    assert len(adapter.sent) == 1 and not sleeps


def test_api_url_without_scheme_says_https_was_assumed():
    client, _adapter, _sleeps = make_client([WRONG_VERSION], url="127.0.0.1:8080/api")
    with pytest.raises(NetBirdAPIError) as info:
        client.get_list("/users")
    assert "api_url 127.0.0.1:8080 has no scheme, so https:// was assumed" in str(info.value)
    assert "check http/https in api_url" in str(info.value)


def test_http_to_a_tls_port_says_so():
    # Go's net/http answers a plain request on a TLS port with this 400 (nginx has its own wording)
    body = "Client sent an HTTP request to an HTTPS server.\n"
    client, _adapter, _sleeps = make_client([(400, body, {"Content-Type": "text/plain"})], url="http://nb.example.com:443")
    with pytest.raises(NetBirdAPIError) as info:
        client.get_list("/users")
    assert str(info.value).endswith("the server expects TLS: check http/https in api_url (http://nb.example.com:443), it needs https:// "
                                    "(X-Request-Id req-1)")


def test_non_netbird_404_names_api_url():
    client, _adapter, _sleeps = make_client([(404, "404 page not found\n", {"Content-Type": "text/plain", "X-Request-Id": ""})],
                                            url="https://nb.example.com/netbird")
    with pytest.raises(NetBirdAPIError) as info:
        client.get_list("/users")
    assert str(info.value) == (
        "GET /api/users failed with HTTP 404 Not Found: the server answered with a non-JSON body (text/plain): 404 page not found; "
        "no NetBird API route answers there, so check api_url (https://nb.example.com/netbird), or whether the server's NetBird "
        "version has this endpoint")
    assert info.value.status == 404


def test_netbird_404_is_not_an_api_url_problem():
    client, _adapter, _sleeps = make_client([(404, {"message": "user invite not found", "code": 404})])
    with pytest.raises(NetBirdAPIError) as info:
        client.get_list("/users/invites")
    assert "api_url" not in str(info.value)


REFUSED = requests.exceptions.ConnectionError(
    "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: /api/users (Caused by NewConnectionError("
    "\"HTTPConnection(host='127.0.0.1', port=9): Failed to establish a new connection: [Errno 111] Connection refused\"))")


def test_refused_connection_names_api_url_and_the_retries():
    client, adapter, sleeps = make_client([REFUSED] * 3, url="http://127.0.0.1:9", retries=2)
    with pytest.raises(NetBirdAPIError) as info:
        client.get_list("/users")
    # equal jitter with rand()=0.5: 0.375 + 0.75 s waited
    assert sleeps == [0.375, 0.75] and len(adapter.sent) == 3
    assert str(info.value) == (
        "GET /api/users failed: connection refused after 2 retries over 1.1 s: nothing accepts connections at 127.0.0.1:9; "
        "check api_url (http://127.0.0.1:9) and that the NetBird management server is running")


def test_long_retries_are_given_in_whole_seconds_and_one_retry_is_singular():
    client, _adapter, _sleeps = make_client([(503, {"message": "x", "code": 503})] * 6, retries=5)
    with pytest.raises(NetBirdAPIError) as info:
        client.get_list("/users")
    # 0.375 + 0.75 + 1.5 + 3 + 6 = 11.625 s
    assert str(info.value).endswith("; gave up after 5 retries over 12 s (api_retries)")
    client, _adapter, _sleeps = make_client([REFUSED] * 2, retries=1)
    with pytest.raises(NetBirdAPIError, match="connection refused after 1 retry over 0.4 s: "):
        client.get_list("/users")


@pytest.mark.parametrize("exc,expected", [
    (requests.exceptions.ConnectionError("HTTPSConnectionPool(host='nb.invalid', port=443): Max retries exceeded with url: /api/users "
                                         "(Caused by NameResolutionError(\"HTTPSConnection(host='nb.invalid', port=443): Failed to "
                                         "resolve 'nb.invalid' ([Errno -2] Name or service not known)\"))"),
     ("GET /api/users failed: host name could not be resolved after 1 retry over 0.4 s: nb.example.com is not a known host name; "
      "check api_url (https://nb.example.com)")),
    (requests.exceptions.ConnectTimeout("HTTPSConnectionPool(host='nb.example.com', port=443): Max retries exceeded (Caused by "
                                        "ConnectTimeoutError(<urllib3.connection.HTTPSConnection object at 0x7f>, 'Connection to "
                                        "nb.example.com timed out. (connect timeout=30)'))"),
     ("GET /api/users failed: connection timed out after 1 retry over 0.4 s: nb.example.com did not accept a connection within "
      "api_timeout (30 s); check api_url (https://nb.example.com), firewalls and proxies")),
    (requests.exceptions.ConnectionError("('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"),
     ("GET /api/users failed: connection reset by the server after 1 retry over 0.4 s: nb.example.com (Remote end closed connection "
      "without response)")),
])
def test_transport_errors_are_one_plain_sentence(exc, expected):
    client, _adapter, _sleeps = make_client([exc, exc], retries=1)
    with pytest.raises(NetBirdAPIError) as info:
        client.get_list("/users")
    assert str(info.value) == expected


def test_reset_on_plain_http_suggests_https():
    exc = requests.exceptions.ConnectionError("('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))")
    client, _adapter, _sleeps = make_client([exc], retries=0, url="http://127.0.0.1:8443")
    with pytest.raises(NetBirdAPIError) as info:
        client.get_list("/users")
    assert str(info.value) == (
        "GET /api/users failed: connection reset by the server: 127.0.0.1:8443 closed the connection (Remote end closed connection "
        "without response); if the server expects TLS, check http/https in api_url: it needs https://127.0.0.1:8443")


@pytest.mark.parametrize("url", ["http://admin:S3cret-pw@127.0.0.1:8080", "https://admin@nb.example.com/api",
                                 "admin:S3cret-pw@nb.example.com", "ftp://admin:S3cret-pw@nb.example.com"])
def test_user_name_or_password_in_api_url_is_refused_before_any_request(url):
    with pytest.raises(NetBirdInputError) as info:
        make_client([], url=url)
    text = str(info.value)
    assert text.startswith("api_url must not contain a user name or password (...@")
    assert "S3cret-pw" not in text and "admin" not in text


def test_real_transport_errors_carry_no_exception_reprs():
    """A closed loopback port and https to a plain-http server, through the real requests stack."""
    import http.server  # pylint: disable=import-outside-toplevel
    import socket  # pylint: disable=import-outside-toplevel
    import threading  # pylint: disable=import-outside-toplevel

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # pylint: disable=invalid-name
            body = b"404 page not found\n"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # pylint: disable=arguments-differ
            pass

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    server = http.server.HTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        messages = []
        for url in ("http://127.0.0.1:%d" % closed, "https://127.0.0.1:%d" % port, "http://127.0.0.1:%d/netbird" % port):
            client = NetBirdClient(url, PAT, retries=1, sleep=lambda s: None, rand=lambda: 0.0)
            with pytest.raises(NetBirdAPIError) as info:
                client.get_list("/users")
            messages.append(str(info.value))
    finally:
        server.shutdown()
        server.server_close()
    assert messages[0].startswith("GET /api/users failed: connection refused after 1 retry over ")
    assert "check api_url (http://127.0.0.1:%d)" % closed in messages[0]
    assert "did not answer in TLS although api_url asks for https://" in messages[1]
    assert messages[2].startswith("GET /api/users failed with HTTP 404 Not Found: ")
    assert "404 page not found; no NetBird API route answers there, so check api_url (http://127.0.0.1:%d/netbird)" % port in messages[2]
    for text in messages:
        assert "\n" not in text and PAT not in text
        assert "Error(" not in text and "HTTPConnection" not in text and "Pool(" not in text, text


def test_zero_retries():
    client, adapter, _sleeps = make_client([(503, {"message": "x", "code": 503})], retries=0)
    with pytest.raises(NetBirdAPIError):
        client.get_list("/users")
    assert len(adapter.sent) == 1


def test_requests_missing_flag_exists():
    assert _api.HAS_REQUESTS is True
    assert _api.REQUESTS_IMPORT_ERROR is None
