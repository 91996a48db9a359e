# -*- coding: utf-8 -*-
# Copyright (c) netbird_ops.netbird contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP client for the NetBird management REST API.

This is a private module of the netbird_ops.netbird collection; it is not a public API
and may change without notice.

One ``requests.Session`` per module run (its adapter's keep-alive pool), a timeout on every request,
bounded retries with jittered exponential backoff on 429 / 502 / 503 / 504 and transport
errors, ``Retry-After`` honoured, redirects refused (the token is never replayed to another
host), and one error type that carries method, path, status, the server's message and the
``X-Request-Id``. The API token never appears in any message this module produces.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import re
import threading
import time
import traceback
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union
from urllib.parse import quote, urlsplit, urlunsplit

from ansible_collections.netbird_ops.netbird.plugins.module_utils._errors import AmbiguousWriteError, NetBirdAPIError, NetBirdInputError

# Without requests the module fails at once with missing_required_lib (_module.py), before anything here is called;
# so the names are left undefined then (no "= None" stand-ins, which would give them a type they never have in use).
REQUESTS_IMPORT_ERROR: Optional[str] = None
try:
    import requests
    from requests import exceptions as requests_exceptions
    from requests.adapters import HTTPAdapter
    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - exercised by the sanity import test
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

COLLECTION_NAME = "netbird_ops.netbird"
COLLECTION_VERSION = "0.1.0"
DEFAULT_API_URL = "https://api.netbird.io"
# Writes in flight in batch mode (api_concurrency): measured, see docs/docsite/rst/guide_scale.rst
DEFAULT_API_CONCURRENCY = 8

RETRY_STATUSES = frozenset((429, 502, 503, 504))
NOT_THE_API = "check that api_url points at the NetBird management API, not a proxy or dashboard page"
# Statuses that prove the server did not act on the request, so even a POST may be re-sent.
NOT_PROCESSED_STATUSES = frozenset((429,))
LOOPBACK_HOSTS = frozenset(("localhost", "127.0.0.1", "::1"))
# OpenSSL's reasons when the answer to a ClientHello is not TLS at all (a plain-http server), by OpenSSL version
_NOT_TLS_CODES = frozenset(("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "UNKNOWN_PROTOCOL",
                            "HTTP_REQUEST", "HTTPS_PROXY_REQUEST"))


def normalize_base_url(api_url: Optional[str]) -> str:
    """Return ``scheme://host[:port][/prefix]`` without a trailing ``/`` or ``/api``."""
    url = (api_url or "").strip()
    if not url:
        raise NetBirdInputError("api_url is empty: set api_url or NETBIRD_API_URL to the management server, e.g. %s" % DEFAULT_API_URL)
    if "@" in url:
        # requests would send user:password@ as Basic auth in place of the token (the server answers 401); checked
        # before anything below echoes the URL, so that the password is never printed
        raise NetBirdInputError("api_url must not contain a user name or password (...@%s): the API authenticates with api_token "
                                "alone, so remove the part before '@'" % url.rpartition("@")[2])
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise NetBirdInputError("api_url %r is not an http(s) URL" % api_url)
    if parts.query or parts.fragment:
        raise NetBirdInputError("api_url %r must not contain a query string or fragment" % api_url)
    path = parts.path.rstrip("/")
    if path.endswith("/api"):
        path = path[:-4]
    return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), "", ""))


def url_password(api_url: Optional[str]) -> Optional[str]:
    """The password of a ``user:password@`` in api_url (which normalize_base_url refuses), to mask in the task's result."""
    userinfo = (api_url or "").strip().split("://", 1)[-1].rpartition("@")[0]
    return userinfo.partition(":")[2] or None


def is_loopback_url(base_url: str) -> bool:
    host = (urlsplit(base_url).hostname or "").lower()
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def auth_header(token: Optional[str]) -> str:
    """A PAT (``nbp_``) is sent with the ``Token`` scheme, anything else (a JWT) as ``Bearer``."""
    token = (token or "").strip()
    if not token:
        raise NetBirdInputError("api_token is empty: set api_token or NETBIRD_API_TOKEN (a personal access token nbp_... or a JWT)")
    if re.search(r"\s", token):
        raise NetBirdInputError("api_token contains white space: it must be a single personal access token (nbp_...) or a JWT")
    if token.startswith("nbp_"):
        return "Token " + token
    return "Bearer " + token


def quote_segment(value: Any) -> str:
    """URL-encode one path segment (user IDs may contain ``|`` or ``/``)."""
    return quote(str(value), safe="")


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def _strip_html(text):
    text = re.sub(r"(?is)<(script|style).*?</\1>", " ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", text).strip()


# After a 429 the bucket is empty: send no faster than it refills. NetBird Cloud refills 120 requests per minute
# (one every 0.5 s); 10 % margin so that timing noise does not meet an empty bucket again. A first guess only: the
# refill rate is measured between two 429 answers (see FlowControl).
RATE_LIMIT_INTERVAL = 0.55
PACE_MAX = 10.0          # never space requests further apart than this
PACE_MIN = 0.01          # below this, pacing is switched off again
PACE_MARGIN = 1.05       # a measured refill interval is paced this much slower
# Successes sent after an empty bucket that make a measurement of its refill rate; fewer, and the pace doubles instead.
MEASURE_MIN = 8
# Successes at one pace before trying twice the rate (a probe: a limit that went away gives full speed back). A probe
# that meets the limit measures it; the next probe then waits four times as long.
PROBE_RUN = 24


class Ticket:
    """One request's turn: when it was sent, and the pace generation it was sent in."""

    __slots__ = ("generation", "sent_at")

    def __init__(self, generation: int, sent_at: float) -> None:
        self.generation = generation
        self.sent_at = sent_at


class FlowControl:
    """How many requests may be in flight and when each may start; shared by the threads of one client.

    ``limit`` (api_concurrency) requests may be in flight; a 429 never lowers it. A rate limiter's 429 says that its
    token bucket is empty, not that the server is overloaded: with fewer requests in flight each paced request would
    wait for the previous answer, and the run would take the server's latency per request on top of the limit's own
    time (100 users under NetBird's 120 per minute, burst 30: 60 s instead of 36 s).

    Pacing, start to start: the first 429 spaces starts ``RATE_LIMIT_INTERVAL`` apart (NetBird Cloud's rate), whether
    or not the requests before have been answered. A start reserved before a change of pace is retaken at the new pace
    (``take_turn``), so requests waiting for a start follow every change. Two empty buckets (429s) apart, the successes
    sent in between are the tokens the bucket refilled in that time: a 429 at the current pace sets the pace to that
    measured interval plus ``PACE_MARGIN`` (at least 10 % slower than before), or doubles it when too few requests got
    through to measure. After ``probe_run`` successes at one pace the pace is halved (a probe); a probe that meets the
    limit measures it and the next probe waits four times as long.
    A 429 answered to a request sent before the last change of pace says nothing about the new pace.
    """

    def __init__(self, limit: int = 1, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], Any] = time.sleep) -> None:
        self.limit = max(1, int(limit))
        self.window = self.limit
        self.pace = 0.0
        self.good: Optional[float] = None  # the last pace that held, while probing a faster one
        self.probe_run = PROBE_RUN
        self.generation = 0
        self.rate_limited = 0
        self._streak = 0
        self._next = 0.0
        self._last_start = 0.0
        self._empty_at: Optional[float] = None  # send time of the request that last met an empty bucket
        self._refilled = 0           # successes sent since then
        self._in_flight = 0
        self._clock = clock
        self._sleep = sleep
        self._cond = threading.Condition()

    # -- slots (the batch runner takes one per change) --------------------------------------------
    def acquire(self) -> None:
        with self._cond:
            while self._in_flight >= self.window:
                self._cond.wait()
            self._in_flight += 1

    def release(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()

    def can_start(self) -> bool:
        with self._cond:
            return self._in_flight < self.window

    # -- pacing (every request) --------------------------------------------------------------------
    def reserve(self) -> Tuple[float, int, float]:
        """Take the next start: (start time, generation, seconds to wait for it)."""
        with self._cond:
            now = self._clock()
            if not self.pace:
                return now, self.generation, 0.0
            start = max(now, self._next)
            self._next = start + self.pace
            return start, self.generation, start - now

    def confirm(self, start: float, generation: int) -> Optional[Ticket]:
        """The Ticket of a start reserved in ``generation``, or None when the pace changed meanwhile (reserve again)."""
        with self._cond:
            if generation != self.generation:
                return None
            start = max(start, self._clock())
            self._last_start = max(self._last_start, start)
            return Ticket(generation, start)

    def take_turn(self, at_least: float = 0.0) -> Tuple[Ticket, float]:
        """Wait for a start (and at least ``at_least`` seconds) and take it; returns (Ticket, seconds waited).

        A start reserved before a change of pace (a 429, a probe) is given up when the request wakes for it, and a new
        one taken at the new pace: every request that has not been sent yet follows the change.
        """
        waited = 0.0
        while True:
            start, generation, wait_for = self.reserve()
            wait_for = max(wait_for, at_least - waited)
            if wait_for > 0:
                self._sleep(wait_for)
                waited += wait_for
            ticket = self.confirm(start, generation)
            if ticket is not None:
                return ticket, waited

    def before_send(self) -> Ticket:
        """Wait for this request's start; returns its Ticket."""
        return self.take_turn()[0]

    def on_success(self, ticket: Optional[Ticket] = None) -> None:
        with self._cond:
            if ticket is None or self._empty_at is None or ticket.sent_at >= self._empty_at:
                self._refilled += 1
            if not self.pace:
                return
            self._streak += 1
            if self._streak >= self.probe_run:
                if self.good is not None and self.pace < self.good:
                    self.probe_run = max(PROBE_RUN, self.probe_run // 4)  # the last probe held
                self.good = self.pace
                self.pace = self.pace / 2.0 if self.pace / 2.0 >= PACE_MIN else 0.0
                self._next = self._last_start + self.pace  # start to start at the new pace (reserved starts are retaken)
                self._streak = 0
                self.generation += 1

    def on_rate_limited(self, ticket: Optional[Ticket]) -> None:
        with self._cond:
            self.rate_limited += 1
            self._streak = 0
            sent_at = ticket.sent_at if ticket is not None else self._clock()
            measured = None
            if self._empty_at is not None and self._refilled >= MEASURE_MIN and sent_at > self._empty_at:
                measured = (sent_at - self._empty_at) / self._refilled
            if self._empty_at is None or sent_at >= self._empty_at:
                self._empty_at = sent_at
                self._refilled = 0
            if ticket is not None and ticket.generation != self.generation:
                return  # sent before the last change of pace: no news about this one
            probing = self.good is not None and self.pace < self.good
            if measured is not None:
                self.pace = min(PACE_MAX, max(measured * PACE_MARGIN, self.pace * 1.1))
            elif not self.pace:
                self.pace = RATE_LIMIT_INTERVAL
            else:
                self.pace = min(PACE_MAX, self.pace * 2)
            if probing:
                self.probe_run *= 4
            self.good = None
            self._next = self._clock() + self.pace  # the starts reserved so far are retaken at the new pace
            self.generation += 1

    def summary(self) -> Optional[str]:
        if not self.rate_limited:
            return None
        text = "the rate limit answered 429 %d time(s), and requests were spaced out to the server's refill rate" % self.rate_limited
        if self.pace:
            text += " (one every %.2f s)" % self.pace
        return text


class NetBirdClient:
    """Small, strict client for the NetBird management API."""

    def __init__(self, api_url: str, api_token: Optional[str], validate_certs: bool = True, ca_path: Optional[str] = None,
                 timeout: float = 30, retries: int = 5, user_agent: Optional[str] = None, backoff_base: float = 0.5,
                 backoff_max: float = 30.0, retry_after_max: float = 120.0, sleep: Callable[[float], Any] = time.sleep,
                 rand: Callable[[], float] = random.random, session: Optional[requests.Session] = None, concurrency: int = 1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.base_url = normalize_base_url(api_url)
        # api_url without a scheme gets https://; an error that shows the server speaks plain http says so
        self._scheme_assumed = "://" not in api_url
        self._host = urlsplit(self.base_url).netloc
        # api_token None: the public calls of a fresh server (GET /api/instance, POST /api/setup) need no token
        self._auth = auth_header(api_token) if api_token is not None else None
        self._token = (api_token or "").strip()
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_max = retry_after_max
        self._sleep = sleep
        self._rand = rand
        self._clock = clock
        self.retry_log: List[Dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self.concurrency = max(1, int(concurrency or 1))
        self.flow = FlowControl(self.concurrency, clock=clock, sleep=sleep)
        self.verify: Union[bool, str]
        if ca_path and validate_certs:
            self.verify = ca_path
        else:
            self.verify = bool(validate_certs)
        self.session = session if session is not None else requests.Session()
        self._read_environment_once()
        self.session.headers.update({
            "Accept": "application/json",
            "User-Agent": user_agent or "%s/%s" % (COLLECTION_NAME, COLLECTION_VERSION),
        })
        if self._auth:
            self.session.headers["Authorization"] = self._auth
        if session is None and self.concurrency > 1:
            # one keep-alive connection per thread in flight (requests' default pool keeps 10)
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(10, self.concurrency))
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)
        self._headers = dict(self.session.headers)

    def _read_environment_once(self):
        """What requests reads from the environment on every request, read once per client instead.

        With ``trust_env`` on, each request looks for ``~/.netrc`` and scans every environment variable for proxies:
        about a third of the client's CPU per request (2.1 ms against 1.4 ms for a POST to a local server, measured
        2026-11-29), which a 10,000 user batch pays 10,000 times. A ``~/.netrc`` entry for the server would also
        replace the API token with Basic auth, so it is not read at all. Proxy variables (``HTTPS_PROXY``, ``NO_PROXY``,
        ...) and ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` keep their meaning.
        """
        self.session.trust_env = False
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        if self.verify is True:
            self.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True

    # -- helpers -------------------------------------------------------------------------
    def redact(self, text: Any) -> Optional[str]:
        if text is None:
            return text
        text = str(text)
        if self._token:
            text = text.replace(self._token, "********")
        return text

    def _backoff(self, attempt):
        delay = min(self.backoff_max, self.backoff_base * (2 ** attempt))
        # "equal jitter": at least half the exponential delay, at most all of it
        return delay / 2.0 + self._rand() * delay / 2.0

    def _tls_message(self, exc):
        """One sentence for a failed TLS handshake; the ca_path / validate_certs advice only where it can help."""
        reason = _exc_reason(exc)
        match = _SSL_REASON_RE.search(str(exc))
        code = match.group(1) if match else ""
        if code in _NOT_TLS_CODES or "wrong version number" in reason.lower():
            scheme = ("api_url %s has no scheme, so https:// was assumed" % self._host) if self._scheme_assumed \
                else "api_url asks for https://"
            return ("the server at %s did not answer in TLS although %s (OpenSSL: %s); check http/https in api_url: "
                    "a server without TLS needs http://%s" % (self._host, scheme, reason, self.base_url.split("://", 1)[1]))
        if code == "CERTIFICATE_VERIFY_FAILED" or "certificate verify failed" in reason.lower():
            detail = re.sub(r"(?i)^certificate verify failed:?\s*", "", reason)
            if "mismatch" in reason.lower() or "not valid for" in reason.lower():
                return ("TLS certificate verification failed (%s): check the host name in api_url, it must be one the "
                        "server's certificate was issued for" % detail)
            return ("TLS certificate verification failed (CERTIFICATE_VERIFY_FAILED%s); set ca_path (or NETBIRD_CA_PATH) to the CA "
                    "bundle that signed the server's certificate, or validate_certs: false to skip verification (not recommended)"
                    % (": " + detail if detail else ""))
        return "TLS handshake with %s failed (%s); check http/https and the port in api_url" % (self._host, reason)

    def _transport_advice(self, kind, exc):
        """What to check after a transport failure (the part after ``connection refused after 5 retries over 14 s:``)."""
        host = self._host
        if kind == "connection refused":
            return ("nothing accepts connections at %s; check api_url (%s) and that the NetBird management server is running"
                    % (host, self.base_url))
        if kind == "host name could not be resolved":
            return "%s is not a known host name; check api_url (%s)" % (urlsplit(self.base_url).hostname, self.base_url)
        if kind == "connection timed out":
            return ("%s did not accept a connection within api_timeout (%s s); check api_url (%s), firewalls and proxies"
                    % (host, self.timeout, self.base_url))
        if kind.startswith("read timed out"):
            return "%s did not answer within api_timeout (%s s)" % (host, self.timeout)
        reason = _exc_reason(exc)
        if kind == "connection reset by the server" and self.base_url.startswith("http://"):
            return ("%s closed the connection (%s); if the server expects TLS, check http/https in api_url: it needs https://%s"
                    % (host, reason, self.base_url[len("http://"):]))
        return "%s (%s)" % (host, reason)

    def _error_from_response(self, method, path, response):
        status = response.status_code
        request_id = response.headers.get("X-Request-Id")
        message = ""
        body = response.text or ""
        try:
            data = response.json()
        except ValueError:
            data = None
        netbird_answer = isinstance(data, dict) and bool(data.get("message"))
        if netbird_answer:
            message = str(data.get("message"))
        elif body.strip():
            ctype = response.headers.get("Content-Type", "")
            snippet = _strip_html(body) if ("html" in ctype or body.lstrip().startswith("<")) else body.strip()
            snippet = snippet[:200]
            message = "the server answered with a non-JSON body (%s): %s" % (ctype or "no content type", snippet)
        else:
            message = "empty response body"
        hint = None
        if status == 404 and not netbird_answer:
            # NetBird answers 404 for a missing object with its JSON error body; a plain "404 page not found" is a path
            # that no route serves: the wrong api_url (or a server older than the endpoint)
            message += ("; no NetBird API route answers there, so check api_url (%s), or whether the server's NetBird version "
                        "has this endpoint" % self.base_url)
        elif status == 400 and not netbird_answer and _plain_http_to_tls(body):
            message += "; the server expects TLS: check http/https in api_url (%s), it needs https://" % self.base_url
        elif status in (401, 404) and path and self._looks_like_auth_failure(status, message):
            hint = ("The API token was rejected: check api_token (or NETBIRD_API_TOKEN / NB_PAT); "
                    "NetBird answers 401 for an unknown, deleted, expired or malformed token")
        elif status == 403 and "blocked" in message:
            hint = "The token's own user is blocked"
        elif status == 403 and "pending approval" in message:
            hint = "The token's own user is pending approval"
        elif status in (301, 302, 303, 307, 308):
            location = response.headers.get("Location", "")
            message = "redirect to %s refused (the token is never replayed to another URL)" % location
            hint = "Set api_url to the server's final URL"
        return NetBirdAPIError(method, path, status=status, message=self.redact(message),
                               request_id=request_id, hint=hint)

    @staticmethod
    def _looks_like_auth_failure(status, message):
        text = message.lower()
        if status == 401:
            return True
        return "invalid token" in text or ("pat" in text and "not found" in text and "user" not in text)

    # -- core ----------------------------------------------------------------------------
    def request(self, method: str, path: str, params: Optional[Mapping[str, Any]] = None, body: Any = None, expect_json: bool = True,
                idempotent: Optional[bool] = None) -> Any:
        """Send one API request and return the decoded JSON body.

        ``path`` is relative to the API root, e.g. ``/users``. Retries follow the rules in the
        module docstring; a non-idempotent request (POST by default) is only re-sent when the
        server certainly did not process it (429, or a refused connection). Otherwise an
        :class:`AmbiguousWriteError` is raised and the caller re-reads state.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "DELETE", "HEAD", "OPTIONS")
        full_path = "/api" + path
        url = self.base_url + full_path
        data = None
        headers = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":"))
            headers = {"Content-Type": "application/json"}
        attempt = 0
        ticket = None
        started = self._clock()
        waited = 0.0
        while True:
            if ticket is None:
                ticket = self.flow.before_send()
            # The transport errors below are raised "from None": their message is requests' exception put through
            # redact(), and the original, unredacted one is not kept attached for a traceback to show.
            try:
                response = self._send(method, url, params, data, headers)
            except requests_exceptions.SSLError as exc:
                # not retried: a handshake that failed fails the same way again
                raise NetBirdAPIError(method, full_path, message=self.redact(self._tls_message(exc)), reason="TLS") from None
            except requests_exceptions.InvalidURL as exc:
                raise NetBirdInputError("api_url %s is not a valid URL: %s" % (self.base_url, _exc_reason(exc))) from None
            except requests_exceptions.RequestException as exc:
                refused = _connection_never_made(exc)
                kind = _transport_reason(exc)
                if attempt < self.retries and (idempotent or refused):
                    waited += self._wait(attempt, None, method, full_path, kind)
                    attempt += 1
                    ticket = None
                    continue
                err_cls = NetBirdAPIError if (idempotent or refused) else AmbiguousWriteError
                retried = _retried(attempt, max(waited, self._clock() - started))
                raise err_cls(method, full_path, message="%s%s: %s" % (kind, retried, self.redact(self._transport_advice(kind, exc))),
                              reason=kind) from None
            status = response.status_code
            if status == 429:
                self.flow.on_rate_limited(ticket)
            elif status < 300:
                self.flow.on_success(ticket)
            if status in RETRY_STATUSES:
                processed_safe = idempotent or status in NOT_PROCESSED_STATUSES
                if attempt < self.retries and processed_safe:
                    if status == 429:
                        # the pacer spaces the retry to the server's refill rate (no backoff on top); Retry-After first
                        ticket, paced = self._wait_paced(response.headers.get("Retry-After"), method, full_path)
                        waited += paced
                    else:
                        waited += self._wait(attempt, response.headers.get("Retry-After"), method, full_path, "HTTP %s" % status)
                        ticket = None
                    attempt += 1
                    continue
                err = self._error_from_response(method, full_path, response)
                if not processed_safe:
                    raise AmbiguousWriteError(method, full_path, status=status, message=err.message,
                                              request_id=err.request_id)
                if attempt:
                    err.hint = "Gave up%s (api_retries)" % _retried(attempt, max(waited, self._clock() - started))
                raise err
            if status >= 300:
                raise self._error_from_response(method, full_path, response)
            if not expect_json:
                return None
            # A 2xx answer that cannot be read: a write may have been carried out, so the caller must re-read state.
            return self._decode(method, full_path, response, NetBirdAPIError if idempotent else AmbiguousWriteError)

    def _send(self, method, url, params, data, headers):
        """One request through the session's adapter (its keep-alive pool), without Session.request.

        Session.request merges settings, runs hooks and parses cookies into a jar on every request, none of which this
        client uses (no cookies, redirects refused, the environment read once): sending the prepared request to the
        adapter takes about a third less CPU per request (0.83 ms against 1.22 ms for a POST to a local server,
        measured 2026-11-29). The body is read at once, as Session.request does, so that the connection goes back to
        the pool.
        """
        prepared = requests.PreparedRequest()
        prepared.prepare(method=method, url=url, params=params, data=data,
                         headers=dict(self._headers, **headers) if headers else self._headers)
        response = self.session.get_adapter(prepared.url or url).send(
            prepared, stream=False, timeout=self.timeout, verify=self.verify, cert=None, proxies=self.session.proxies)
        _read_body(response)
        return response

    def _decode(self, method, path, response, err_cls=None):
        err_cls = err_cls or NetBirdAPIError
        # the bytes, decoded once by json (which reads UTF-8/16/32 as JSON allows): response.text followed by
        # response.json() decoded a 10,000 user list twice
        content = response.content or b""
        ctype = response.headers.get("Content-Type", "")
        if not content.strip():
            raise err_cls(method, path, status=response.status_code, request_id=response.headers.get("X-Request-Id"),
                          message="the server answered with an empty body where JSON was expected; " + NOT_THE_API)
        try:
            return json.loads(content)
        except ValueError as exc:
            snippet = _strip_html(response.text or "")[:200]
            raise err_cls(method, path, status=response.status_code,
                          message="the server answered with a non-JSON body (%s): %s; %s" % (
                              ctype or "no content type", self.redact(snippet), NOT_THE_API),
                          request_id=response.headers.get("X-Request-Id")) from exc

    def _wait(self, attempt, retry_after, method, path, why):
        delay = self._backoff(attempt)
        ra = parse_retry_after(retry_after)
        if ra is not None:
            delay = max(delay, min(ra, self.retry_after_max))
        with self._log_lock:
            self.retry_log.append({"method": method, "path": path, "reason": why, "delay": round(delay, 3)})
        self._sleep(delay)
        return delay

    def _wait_paced(self, retry_after, method, path):
        """After a 429: wait out Retry-After (if the server sent one), then for a paced start; returns its Ticket and the wait."""
        ra = parse_retry_after(retry_after)
        ticket, waited = self.flow.take_turn(at_least=min(ra, self.retry_after_max) if ra else 0.0)
        with self._log_lock:
            self.retry_log.append({"method": method, "path": path, "reason": "HTTP 429", "delay": round(waited, 3)})
        return ticket, waited

    # -- typed helpers ---------------------------------------------------------------------
    def get(self, path: str, params: Optional[Mapping[str, Any]] = None) -> Any:
        return self.request("GET", path, params=params)

    def get_list(self, path: str, params: Optional[Mapping[str, Any]] = None, null_ok: Optional[bool] = None) -> List[Any]:
        """GET a list endpoint. JSON ``null`` is NetBird's empty list only on the token list (``null_ok``
        defaults to True for paths ending in ``/tokens``); anywhere else it is an error, never "no users"."""
        data = self.request("GET", path, params=params)
        if null_ok is None:
            null_ok = path.rstrip("/").endswith("/tokens")
        if data is None and null_ok:
            return []
        if not isinstance(data, list):
            raise NetBirdAPIError("GET", "/api" + path, status=200,
                                  message="the server answered %s where a JSON list was expected; %s" % (_json_kind(data), NOT_THE_API))
        return data

    def get_object(self, path: str, params: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """GET an endpoint that answers one JSON object."""
        data = self.request("GET", path, params=params)
        if not isinstance(data, dict):
            raise NetBirdAPIError("GET", "/api" + path, status=200,
                                  message="the server answered %s where a JSON object was expected; %s" % (_json_kind(data), NOT_THE_API))
        return data

    def post(self, path: str, body: Any = None, idempotent: bool = False) -> Any:
        return self.request("POST", path, body=body, idempotent=idempotent)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, body=body)

    def delete(self, path: str) -> None:
        """DELETE; NetBird answers ``{}``, which nobody needs, so the body is not read."""
        return self.request("DELETE", path, expect_json=False)

    def retry_summary(self) -> Optional[str]:
        with self._log_lock:
            log = list(self.retry_log)
        if not log:
            return None
        reasons: Dict[str, int] = {}
        for item in log:
            reasons[item["reason"]] = reasons.get(item["reason"], 0) + 1
        detail = ", ".join("%s x%d" % (k, v) for k, v in sorted(reasons.items()))
        waited = sum(item["delay"] for item in log)
        text = "%d request(s) were retried (%s; %.1f s waited in total)" % (len(log), detail, waited)
        flow = self.flow.summary()
        return text + ("; " + flow if flow else "")


def _read_body(response: Any) -> bytes:
    """The whole body, read now: requests reads it on the first access to ``content``, and then the connection goes back
    to the pool."""
    return response.content


def _json_kind(data):
    if data is None:
        return "JSON null"
    return "a JSON %s" % {dict: "object", list: "list", str: "string", bool: "boolean"}.get(type(data), "number")


def _retried(attempt, seconds):
    """`` after 5 retries over 14 s``: how many, and how long the whole request took."""
    if not attempt:
        return ""
    return " after %d %s over %s s" % (attempt, "retry" if attempt == 1 else "retries",
                                       ("%.0f" if seconds >= 10 else "%.1f") % seconds)


_SSL_REASON_RE = re.compile(r"\[SSL: ([A-Z0-9_]+)\]\s*(.*?)\s*(?:\(_ssl\.c:\d+\)|['\"]\)|$)")


def _exc_reason(exc):
    """The innermost human-readable reason of a requests / urllib3 error, without the exception reprs around it.

    ``HTTPConnectionPool(host=...): Max retries exceeded ... (Caused by NewConnectionError("HTTPConnection(...): Failed to
    establish a new connection: [Errno 111] Connection refused"))`` becomes ``Connection refused``.
    """
    text = str(exc)
    match = _SSL_REASON_RE.search(text)
    if match:
        return match.group(2).strip(" .") or match.group(1)
    match = re.search(r"\[Errno -?\d+\]\s*([^(\'\")\]]+)", text)
    if match:
        return match.group(1).strip(" .")
    match = re.search(r"\b\w+(?:Error|Exception|Disconnected|Timeout)\((?:\d+,\s*)?['\"]([^'\"]+)['\"]", text)
    if match:
        inner = match.group(1).strip(" .")
        # one more level: ("Connection aborted.", RemoteDisconnected("Remote end closed connection without response"))
        deeper = re.search(r"\w+\(['\"]([^'\"]+)['\"]\)\)?\s*$", text)
        return deeper.group(1).strip(" .") if deeper and deeper.group(1) != match.group(1) else inner
    text = re.sub(r"\w+Pool\(host=[^)]*\):\s*", "", text)
    text = re.sub(r"\s*\(Caused by .*$", "", text)
    return (text.strip(" .") or exc.__class__.__name__)[:200]


def _plain_http_to_tls(body):
    """The plain-text 400 that Go's net/http ("Client sent an HTTP request to an HTTPS server") and nginx ("The plain
    HTTP request was sent to HTTPS port") give an http:// request to a TLS port."""
    text = (body or "").lower()
    return "http request to an https server" in text or "http request was sent to https port" in text


def _transport_reason(exc):
    if isinstance(exc, requests_exceptions.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, requests_exceptions.ReadTimeout):
        return "read timed out (api_timeout)"
    if isinstance(exc, requests_exceptions.Timeout):
        return "timed out"
    text = str(exc)
    if "refused" in text:
        return "connection refused"
    if isinstance(exc, requests_exceptions.ChunkedEncodingError):
        return "connection broken mid-response"
    if "reset" in text.lower() or "RemoteDisconnected" in text or "aborted" in text.lower():
        return "connection reset by the server"
    if "Name or service not known" in text or "NameResolution" in text or "nodename nor servname" in text:
        return "host name could not be resolved"
    return "connection error"


def _connection_never_made(exc):
    """True when the request certainly never reached the server (safe to re-send anything)."""
    if isinstance(exc, requests_exceptions.ConnectTimeout):
        return True
    text = str(exc)
    return ("refused" in text or "NewConnectionError" in text or "NameResolution" in text
            or "Name or service not known" in text)
