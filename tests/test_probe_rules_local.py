"""Probe rules whose firing case no Egg fixture shows (https-only flags, hand-set cookies, OPTIONS
disclosure, a traversal that works), against real local servers: stdlib http.server, with TLS
from a throw-away certificate made by openssl for the https cases."""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from eggshield.checks.probe_context import run_probe_checks
from eggshield.probe import ProbeOptions, run_probe
from probe_http import Receiver, _cli


def _probe(url: str, **kw):
    result = run_probe(ProbeOptions(url=url, budget=60, rate=500, **kw))
    findings, problems, grade = run_probe_checks(result)
    assert not problems
    return result, findings, grade


def _ids(findings) -> set[str]:
    return {f.rule_id for f in findings}


def _session(doc: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")


def test_session_cookie_without_httponly_and_readable_unsigned():
    cookie = f"EGG_SESS={_session({'uid': 7, 'role': 'admin'})}; path=/"
    r = Receiver({"/": (200, {"Content-Type": "text/html", "Set-Cookie": cookie}, b"<p>x</p>")})
    try:
        _result, findings, _grade = _probe(r.url)
    finally:
        r.close()
    [httponly] = [f for f in findings if f.rule_id == "EGG-CFG-100"]
    assert "EGG_SESS" in httponly.message and httponly.config_key == "session.httpOnly"
    [readable] = [f for f in findings if f.rule_id == "EGG-CFG-103"]
    assert readable.severity == "high" and "forge" in readable.message and "admin" not in readable.evidence


def test_options_listing_methods_is_info_and_plain_200_is_not():
    r = Receiver({("OPTIONS", "/"): (200, {"Allow": "GET, POST, DELETE"}, b"")})
    try:
        _result, findings, _grade = _probe(r.url)
    finally:
        r.close()
    [f] = [f for f in findings if f.rule_id == "EGG-CFG-108"]
    assert f.severity == "info" and "DELETE" in f.message
    quiet = Receiver()
    try:
        _result, findings, _grade = _probe(quiet.url)
    finally:
        quiet.close()
    assert "EGG-CFG-108" not in _ids(findings)


def test_traversal_that_returns_passwd_is_critical():
    path = "/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd"
    r = Receiver({path: (200, {"Content-Type": "text/plain"}, b"root:x:0:0:root:/root:/bin/bash\n")})
    try:
        _result, findings, _grade = _probe(r.url)
    finally:
        r.close()
    [f] = [f for f in findings if f.rule_id == "EGG-ERR-103"]
    assert f.severity == "critical" and f.location.url.endswith(path)


# -- https --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make the test certificate")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem"), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


class TlsServer:
    def __init__(self, cert, headers: dict[str, str]):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server's naming
                self.send_response(200)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "3")
                self.end_headers()
                self.wfile.write(b"<p>")

            do_OPTIONS = do_HEAD = do_GET

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*cert)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_https_without_hsts_and_insecure_cookies(cert, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))  # trust the test certificate, nothing else changes
    s = TlsServer(cert, {"Set-Cookie": "EGG_SESS=opaque0123456789; path=/; httponly"})
    try:
        _result, findings, grade = _probe(s.url)
    finally:
        s.close()
    [hsts] = [f for f in findings if f.rule_id == "EGG-HDR-102"]
    assert hsts.severity == "medium"
    [secure] = [f for f in findings if f.rule_id == "EGG-CFG-101"]
    assert "EGG_SESS" in secure.message and secure.severity == "medium"
    cookies = next(t for t in grade.tests if t.test == "cookies")
    assert cookies.result == "cookies-session-without-secure-flag" and cookies.modifier == -40


def test_https_with_hsts_and_secure_cookies_is_clean(cert, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    s = TlsServer(cert, {"Strict-Transport-Security": "max-age=31536000; includeSubDomains",
                         "Set-Cookie": "EGG_SESS=opaque0123456789; path=/; httponly; secure; samesite=lax"})
    try:
        _result, findings, grade = _probe(s.url)
    finally:
        s.close()
    assert not _ids(findings) & {"EGG-HDR-102", "EGG-CFG-101", "EGG-CFG-102", "EGG-CFG-100"}
    cookies = next(t for t in grade.tests if t.test == "cookies")
    assert cookies.result == "cookies-secure-with-httponly-sessions-and-samesite"


def test_untrusted_certificate_is_one_clear_line(cert):
    s = TlsServer(cert, {})
    try:
        out = _cli(s.url)
    finally:
        s.close()
    assert out.returncode == 2 and "TLS certificate not trusted" in out.stderr and "Traceback" not in out.stderr
