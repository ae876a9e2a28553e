"""`eggshield probe` against a real egg 4 server with the protections on
(tests/fixtures/probe/egg4-hardened): session-bound CSRF secret, encrypted session, strict CSP."""

from __future__ import annotations

import pytest

from probe_support import probe_fixture

pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module")
def probed():
    p = probe_fixture("egg4-hardened")
    yield p
    if p.server is not None:
        p.server.stop()


def test_no_findings_and_top_grade(probed):
    assert probed.findings == []
    assert probed.grade.grade == "A+" and probed.grade.score == 130


def test_recognized_as_egg_without_readtime_or_csrf_cookie(probed):
    assert not any(e.has_header("x-readtime") for e in probed.result.answered())
    assert not probed.result.csrf.secret_seen
    assert probed.result.looks_like_egg  # x-csp-nonce, EGG_SESS, the csrf refusal


def test_session_bound_secret(probed):
    attacks = [c for c in probed.result.csrf.cases if c.expected == "refused" and c.outcome != "not run"]
    assert attacks and all(c.outcome == "refused" for c in attacks)
    assert probed.case("other-session-token", "/api/items").outcome == "not run"
    assert probed.case("valid-token").outcome == "not run"  # no token to replay: said, not guessed


def test_encrypted_session_is_opaque(probed):
    assert not probed.rule("EGG-CFG-103")
    assert any(v.startswith("EGG_SESS=") for e in probed.result.answered() for v in e.header_values("set-cookie"))


def test_thrown_500_hides_paths_and_keeps_headers(probed):
    boom = next(e for e in probed.result.cases("route") if e.target == "/boom")
    assert boom.status == 500 and "/srv/app" not in boom.text
    assert boom.header("x-content-type-options") == "nosniff"
