"""`eggshield probe` against a real egg 4 server in env prod configured badly
(tests/fixtures/probe/egg4-weak): CSRF off, a controller that sends err.stack, CORS `*` with
credentials, TRACE allowed, nosniff off, X-Frame-Options ALLOWALL, Referrer-Policy unsafe-url,
egg 4's default unencrypted session."""

from __future__ import annotations

import pytest

from probe_support import probe_fixture

pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module")
def probed():
    p = probe_fixture("egg4-weak")
    yield p
    if p.server is not None:
        p.server.stop()


def test_server_is_egg4_prod(probed):
    assert probed.result.looks_like_egg
    if probed.live:
        assert probed.server.major == 4 and probed.server.egg_env == "prod"


def test_every_csrf_attack_passes_and_the_cause_is_csrf_off(probed):
    attacks = [c for c in probed.result.csrf.cases if c.expected == "refused" and c.outcome != "not run"]
    assert attacks and all(c.outcome == "accepted" for c in attacks)
    [f] = probed.rule("EGG-CSRF-100")
    assert f.config_key == "security.csrf.enable" and "security.csrf.enable = false" in f.message
    assert f.severity == "high"


def test_readable_session_cookie(probed):
    [f] = probed.rule("EGG-CFG-103")
    assert f.severity == "medium"  # signed (EGG_SESS.sig), so readable but not forgeable
    assert "role" in f.message and "userId" in f.message
    assert "admin" not in f.evidence  # values are masked
    assert "encrypt: true" in f.fix


def test_wildcard_with_credentials_not_reflection(probed):
    assert probed.rule("EGG-CFG-106")
    assert not probed.rule("EGG-CFG-104") and not probed.rule("EGG-CFG-105")


def test_trace_passes_when_methodnoallow_is_off(probed):
    [f] = probed.rule("EGG-CFG-107")
    assert "instead of 405" in f.message and f.config_key == "security.methodnoallow"


def test_header_rules(probed):
    assert probed.rule("EGG-HDR-100")  # no CSP at all
    [xfo] = probed.rule("EGG-HDR-103")
    assert "ALLOWALL" in xfo.message
    assert probed.rule("EGG-HDR-104")
    [ref] = probed.rule("EGG-HDR-105")
    assert "unsafe-url" in ref.message
    [disc] = probed.rule("EGG-HDR-108")
    assert disc.severity == "info"  # only x-readtime


def test_app_level_stack_leak_in_prod(probed):
    [f] = probed.rule("EGG-ERR-100")
    assert f.location.url.endswith("/boom") and f.severity == "medium"
    assert "json-stack" in f.message
    assert not probed.rule("EGG-ERR-102")  # prod env: a JSON stack from app code is not env local
