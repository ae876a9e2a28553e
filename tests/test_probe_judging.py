"""How observed headers are judged: CSP parsing, cookies, the grade's arithmetic (pure functions
over values real servers send)."""

from __future__ import annotations

import base64
import json
import os

import pytest

from eggshield.probe import csp, headers
from eggshield.probe.client import Exchange
from eggshield.probe.cookies import decode_readable, parse_set_cookie
from eggshield.probe.disclosure import inspect
from eggshield.probe.model import ProbeResult


def _ex(headers_: list[tuple[str, str]], status: int = 200, body: bytes = b"", case: str = "root") -> Exchange:
    return Exchange(case=case, method="GET", target="/", url="http://127.0.0.1/", request_headers={},
                    status=status, headers=headers_, body=body)


def _judge(policy: str, https: bool = False) -> csp.CspVerdict:
    return csp.judge(csp.parse_all([policy]), https)


def test_egg_nonce_makes_unsafe_inline_harmless():
    v = _judge("default-src 'self'; script-src 'self' 'unsafe-inline' 'nonce-abc'; object-src 'none'")
    assert v.result == "csp-implemented-with-no-unsafe" and "ignored by browsers" in v.notes[0]


@pytest.mark.parametrize("policy, result", [
    ("default-src *", "csp-implemented-with-unsafe-inline"),
    ("script-src 'self'", "csp-implemented-with-unsafe-inline"),  # object-src unrestricted
    ("default-src 'self'; script-src 'self' data:", "csp-implemented-with-unsafe-inline"),
    ("default-src 'self'; script-src 'self' 'unsafe-eval'", "csp-implemented-with-unsafe-eval"),
    ("default-src 'self'; style-src 'self' 'unsafe-inline'", "csp-implemented-with-unsafe-inline-in-style-src-only"),
    ("default-src 'none'; script-src 'self'; form-action 'self'", "csp-implemented-with-no-unsafe-default-src-none"),
    ("default-src 'self'; img-src http://cdn.example", "csp-implemented-with-no-unsafe"),
])
def test_csp_verdicts(policy, result):
    assert _judge(policy).result == result


def test_http_sources_only_count_on_https():
    assert _judge("default-src 'self'; img-src http://cdn.example", https=True).result == \
        "csp-implemented-with-insecure-scheme"


def test_report_only_is_not_a_policy():
    t = headers.judge_csp(_ex([("Content-Security-Policy-Report-Only", "default-src 'self'")]), https=False)
    assert t.result == "csp-not-implemented" and "blocks nothing" in t.notes[0]


@pytest.mark.parametrize("value, result", [
    ("SAMEORIGIN", "x-frame-options-sameorigin-or-deny"), ("deny", "x-frame-options-sameorigin-or-deny"),
    ("ALLOWALL", "x-frame-options-header-invalid"), ("ALLOW-FROM https://a", "x-frame-options-allow-from-origin"),
])
def test_xfo_values(value, result):
    assert headers.judge_xfo(_ex([("X-Frame-Options", value)])).result == result


def test_frame_ancestors_wins_over_missing_xfo():
    t = headers.judge_xfo(_ex([("Content-Security-Policy", "frame-ancestors 'self'")]))
    assert t.result == "x-frame-options-implemented-via-csp"
    t = headers.judge_xfo(_ex([("Content-Security-Policy", "frame-ancestors *")]))
    assert t.result == "x-frame-options-not-implemented"


def test_hsts_over_https():
    assert headers.judge_hsts(_ex([("Strict-Transport-Security", "max-age=3600")]), True).result == \
        "hsts-implemented-max-age-less-than-six-months"
    assert headers.judge_hsts(_ex([("Strict-Transport-Security", "max-age=31536000; includeSubDomains")]), True).result == \
        "hsts-implemented-max-age-at-least-six-months"
    assert headers.judge_hsts(_ex([("Strict-Transport-Security", "max-age=abc")]), True).result == "hsts-header-invalid"
    assert headers.judge_hsts(_ex([]), False).result == "hsts-not-applicable-http"


def test_readable_session_cookie_decodes_egg4_format():
    value = base64.urlsafe_b64encode(json.dumps({"userId": 42, "_expire": 1, "_maxAge": 2}).encode()).decode().rstrip("=")
    assert decode_readable(value) == {"userId": 42, "_expire": 1, "_maxAge": 2}
    encrypted = base64.urlsafe_b64encode(os.urandom(48)).decode().rstrip("=")
    assert decode_readable(encrypted) is None


def test_set_cookie_attributes():
    c = parse_set_cookie("EGG_SESS=abc; path=/; max-age=86400; expires=Fri, 04 Dec 2026 17:35:45 GMT; httponly; SameSite=Lax")
    assert c.name == "EGG_SESS" and c.http_only and c.same_site == "lax" and not c.secure
    assert parse_set_cookie("EGG_SESS=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT").deletes


def _result(exchanges: list[Exchange], https: bool = False) -> ProbeResult:
    r = ProbeResult(url="x", origin="http://127.0.0.1", scheme="https" if https else "http", host="127.0.0.1",
                    budget=1, rate=1, timeout=1, allow_unsafe=False)
    r.exchanges.extend(exchanges)
    return r


def test_bonus_counts_only_from_90():
    strong = [("Content-Security-Policy", "default-src 'none'; script-src 'self'; form-action 'self'; frame-ancestors 'none'"),
              ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
              ("Cross-Origin-Resource-Policy", "same-origin")]
    g = headers.grade(_result([_ex(strong)]))
    assert (g.score, g.grade) == (100 + 10 + 5 + 5 + 10, "A+")
    g = headers.grade(_result([_ex([("Cross-Origin-Resource-Policy", "same-origin")])]))
    # no CSP (-25), no XFO (-20), no nosniff (-5): 50, so CORP's +10 does not count
    assert (g.score, g.grade) == (50, "C")


def test_anticsrf_cookie_without_samesite_costs_20():
    page = _ex([("Set-Cookie", "csrfToken=abc; path=/")])
    t = headers.judge_cookies(_result([page]), hsts=False)
    assert t.result == "cookies-anticsrf-without-samesite-flag" and t.modifier == -20


def test_disclosure_patterns():
    body = (b'{"message":"boom","stack":"Error: boom\\n    at HomeController.user '
            b'(/srv/app/app/controller/home.js:20:19)\\n    at /srv/app/node_modules/koa-compose/index.js:44:32"}')
    d = inspect(_ex([("Content-Type", "application/json")], status=500, body=body))
    assert {"json-stack", "stack", "path", "module"} <= d.kinds()
    prod = inspect(_ex([("Content-Type", "text/html")], status=500,
                       body=b"<h2>Internal Server Error, real status: 500</h2>"))
    assert prod.leaks == []
