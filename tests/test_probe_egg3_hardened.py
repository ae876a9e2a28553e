"""`eggshield probe` against a real egg 3 server with the protections on
(tests/fixtures/probe/egg3-hardened): the near misses of every probe rule."""

from __future__ import annotations

import json

import pytest

from probe_support import probe_fixture

pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module")
def probed():
    p = probe_fixture("egg3-hardened")
    yield p
    if p.server is not None:
        p.server.stop()


def test_no_findings_and_top_grade(probed):
    assert probed.findings == []
    assert probed.grade.grade == "A+"


def test_signed_csrf_cookie_refuses_forged_double_submit(probed):
    assert probed.result.csrf.signed
    assert probed.case("forged-double-submit", "/api/items").outcome == "refused"
    assert probed.case("valid-token").outcome == "accepted"
    attacks = [c for c in probed.result.csrf.cases if c.expected == "refused"]
    assert len(attacks) == 16 and all(c.outcome == "refused" for c in attacks)


def test_thrown_errors_keep_headers_when_set_before_egg_security(probed):
    errors = {e.status for e in probed.result.error_responses()}
    assert {400, 403, 405, 500} <= errors
    for e in probed.result.error_responses():
        if e.body:
            assert e.header("x-frame-options") == "DENY", (e.status, e.target)


def test_prod_error_page_hides_the_sql_error(probed):
    wrong = [e for e in probed.result.cases("route-wrong-type") if "json" in (e.header("content-type") or "")]
    assert wrong and json.loads(wrong[0].text) == {"message": "Internal Server Error"}
