"""A polite HTTP client for probing one origin: nothing else is ever contacted.

Every request goes through `PoliteClient.request`, which enforces what DESIGN.md promises
("Polite probing"): only the target origin, a request budget, a rate limit, a timeout per
request, no redirect ever followed by the client (callers follow same-origin ones on purpose),
and only GET/HEAD/OPTIONS unless unsafe methods were allowed. The stdlib `http.client` is
used directly: urllib would follow redirects and hide the raw Set-Cookie lines.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from eggshield import __version__

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Bytes of each body kept for detection; longer bodies are cut (and the connection dropped).
MAX_BODY = 512 * 1024
USER_AGENT = f"eggshield/{__version__} (live probe)"
#: Seconds a kept-alive connection may sit idle before the next request opens a fresh one
#: (Node closes idle sockets after 5 s by default, some proxies sooner).
IDLE_REUSE = 0.8


class ProbeError(Exception):
    """The probe cannot go on (bad URL, server down); the message is one line for the user."""


class BudgetExhausted(Exception):
    """The request budget is spent; the remaining cases are skipped, not an error."""


class UnsafeMethodRefused(Exception):
    """A state-changing method was asked for without --allow-unsafe-methods."""


@dataclass
class Exchange:
    """One request and what came back (or the error that stopped it)."""

    case: str
    method: str
    target: str  # path and query, exactly as sent
    url: str
    request_headers: dict[str, str]
    status: int | None = None
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    truncated: bool = False
    elapsed_ms: float = 0.0
    error: str | None = None
    request_body: bytes = b""

    def header(self, name: str) -> str | None:
        """The header's value; repeated headers joined with ', ' (RFC 9110 §5.3)."""
        values = self.header_values(name)
        return ", ".join(values) if values else None

    def header_values(self, name: str) -> list[str]:
        low = name.lower()
        return [v for k, v in self.headers if k.lower() == low]

    def has_header(self, name: str) -> bool:
        return bool(self.header_values(name))

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None

    def to_dict(self, excerpt: int = 600) -> dict:
        return {
            "case": self.case, "method": self.method, "url": self.url, "status": self.status,
            "headers": [[k, v] for k, v in self.headers], "body_excerpt": self.text[:excerpt],
            "body_bytes": len(self.body), "truncated": self.truncated, "elapsed_ms": round(self.elapsed_ms, 1),
            "error": self.error,
        }


def parse_target(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an http(s) URL; ProbeError with one line otherwise."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ProbeError(f"not a valid URL: {url!r} ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise ProbeError(f"not an http(s) URL: {url!r} (give e.g. http://127.0.0.1:7001)")
    if not parts.hostname:
        raise ProbeError(f"no host in URL: {url!r}")
    if parts.username or parts.password:
        raise ProbeError("credentials in the URL are not sent by the probe: remove user:password@")
    port = port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


class PoliteClient:
    """Requests to one origin, within a budget, at most `rate` per second."""

    def __init__(self, url: str, *, budget: int = 150, rate: float = 10.0, timeout: float = 10.0,
                 allow_unsafe: bool = False, on_request: Callable[[Exchange], None] | None = None):
        if budget < 1:
            raise ProbeError("--budget must be at least 1 request")
        if rate <= 0:
            raise ProbeError("--rate must be more than 0 requests per second")
        if timeout <= 0:
            raise ProbeError("--timeout must be more than 0 seconds")
        self.scheme, self.host, self.port, self.start_path = parse_target(url)
        default_port = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.origin = f"{self.scheme}://{host}" + ("" if self.port == default_port else f":{self.port}")
        self.host_header = host + ("" if self.port == default_port else f":{self.port}")
        self.budget = budget
        self.rate = rate
        self.timeout = timeout
        self.allow_unsafe = allow_unsafe
        self.on_request = on_request
        self.sent = 0
        self.exchanges: list[Exchange] = []
        self._conn: http.client.HTTPConnection | None = None
        self._next_slot = 0.0
        self._last_used = 0.0

    # -- the origin rule ------------------------------------------------------------------------

    def same_origin(self, url: str) -> bool:
        """Whether an absolute or relative URL (a Location header) stays on the target origin."""
        absolute = urljoin(self.origin + "/", url)
        try:
            parts = urlsplit(absolute)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return False
        return parts.scheme == self.scheme and (parts.hostname or "").lower() == self.host.lower() and port == self.port

    def target_of(self, url: str) -> str:
        """Path and query of a same-origin URL (ProbeError for another origin: never contacted)."""
        if not self.same_origin(url):
            raise ProbeError(f"refusing to contact another origin: {url}")
        parts = urlsplit(urljoin(self.origin + "/", url))
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    # -- requests --------------------------------------------------------------------------------

    @property
    def remaining(self) -> int:
        return self.budget - self.sent

    def request(self, method: str, target: str, *, case: str, headers: dict[str, str] | None = None,
                body: bytes | None = None, declared_length: int | None = None) -> Exchange:
        """Send one request for `case` and return the exchange; connection errors are recorded
        in `Exchange.error`, not raised. `target` is a path (with query) on the origin.

        `declared_length` sends a Content-Length larger than `body` (the oversized-body probe):
        the server is expected to refuse from the header alone; the connection is dropped after.
        """
        method = method.upper()
        if method not in SAFE_METHODS and not self.allow_unsafe:
            raise UnsafeMethodRefused(method)
        if not target.startswith("/"):
            target = self.target_of(target)
        if self.sent >= self.budget:
            raise BudgetExhausted(case)
        hdrs = {"Host": self.host_header, "User-Agent": USER_AGENT, "Accept": "*/*"}
        hdrs.update(headers or {})
        ex = Exchange(case=case, method=method, target=target, url=self.origin + target,
                      request_headers=hdrs, request_body=body or b"")
        self._wait_for_slot()
        self.sent += 1
        t0 = time.monotonic()
        try:
            self._send(ex, hdrs, body, declared_length)
        except TimeoutError:
            ex.error = f"no answer within {self.timeout:g} s"
            self._close()
        except ssl.SSLCertVerificationError as exc:
            ex.error = f"TLS certificate not trusted ({exc.verify_message or exc.reason})"
            self._close()
        except ConnectionRefusedError:
            ex.error = "connection refused"
            self._close()
        except socket.gaierror as exc:
            ex.error = f"host not found ({exc.strerror or exc})"
            self._close()
        except (OSError, http.client.HTTPException) as exc:
            ex.error = f"{type(exc).__name__}: {exc}".rstrip(": ")
            self._close()
        ex.elapsed_ms = (time.monotonic() - t0) * 1000
        self.exchanges.append(ex)
        if self.on_request is not None:
            self.on_request(ex)
        return ex

    def _wait_for_slot(self) -> None:
        now = time.monotonic()
        if now < self._next_slot:
            time.sleep(self._next_slot - now)
            now = self._next_slot
        self._next_slot = now + 1.0 / self.rate

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self.scheme == "https":
                self._conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                                         context=ssl.create_default_context())
            else:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def _send(self, ex: Exchange, hdrs: dict[str, str], body: bytes | None, declared_length: int | None) -> None:
        if self._conn is not None and time.monotonic() - self._last_used > IDLE_REUSE:
            self._close()  # the server may be closing it right now: never race a keep-alive timeout
        for attempt in (1, 2):
            conn = self._connection()
            reused = conn.sock is not None
            conn.timeout = self.timeout  # a per-request timeout applies to a kept-alive socket too
            if conn.sock is not None:
                conn.sock.settimeout(self.timeout)
            try:
                conn.putrequest(ex.method, ex.target, skip_host=True, skip_accept_encoding=True)
                for k, v in hdrs.items():
                    conn.putheader(k, v)
                if declared_length is not None:
                    conn.putheader("Content-Length", str(declared_length))
                elif body is not None or ex.method in ("POST", "PUT", "PATCH", "DELETE"):
                    conn.putheader("Content-Length", str(len(body or b"")))
                conn.endheaders(body)
                resp = conn.getresponse()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # a kept-alive socket the server had just closed: one retry on a fresh connection,
                # for safe methods only (a state-changing request is never sent twice)
                self._close()
                if attempt == 2 or not reused or ex.method not in SAFE_METHODS:
                    raise
        self._last_used = time.monotonic()
        ex.status, ex.reason = resp.status, resp.reason
        ex.headers = list(resp.getheaders())
        if ex.method == "HEAD":
            resp.read()
        else:
            data = resp.read(MAX_BODY + 1)
            ex.truncated = len(data) > MAX_BODY
            ex.body = data[:MAX_BODY]
        if ex.truncated or declared_length is not None or resp.will_close or not resp.isclosed():
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def close(self) -> None:
        self._close()
