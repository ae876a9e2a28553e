"""`eggshield probe` against a real egg 3 server configured badly (tests/fixtures/probe/egg3-weak):
env local served as if in production, CSRF narrowed to POST and ignoring JSON, a weak CSP, no
X-Frame-Options, egg-cors reflecting any Origin with credentials, X-Powered-By."""

from __future__ import annotations

import pytest

from eggshield.probe.document import markdown_sections
from eggshield.report import FORMATS, Report
from probe_support import probe_fixture

pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module")
def probed():
    p = probe_fixture("egg3-weak")
    yield p
    if p.server is not None:
        p.server.stop()


def test_server_is_egg3_in_env_local(probed):
    assert probed.result.looks_like_egg
    if probed.live:
        assert probed.server.major == 3 and probed.server.egg_env == "local"


def test_routes_come_from_router_namespace_and_resources(probed):
    routes = {(r.method, r.path) for r in probed.result.routes}
    assert ("DELETE", "/admin/cache") in routes  # egg-router-plus namespace in app/router/admin.js
    assert {("GET", "/posts/:id"), ("PATCH", "/posts/:id"), ("DELETE", "/posts/:id")} <= routes
    assert {r.path for r in probed.result.csrf.routes} == {"/api/items", "/api/items/:id", "/posts"}


def test_local_env_is_detected(probed):
    [f] = probed.rule("EGG-ERR-102")
    assert f.severity == "low"  # loopback: a developer's server
    assert "development error page" in f.evidence and "__loader_trace__" in f.evidence


def test_stack_traces_and_sql_errors_are_reported(probed):
    [dev] = probed.rule("EGG-ERR-100")
    assert dev.severity == "high" and "stack" in dev.message
    [sql] = probed.rule("EGG-ERR-101")
    assert sql.location.url.endswith("/users/1%27%22")
    assert sql.severity == "high" and "SQL syntax" in sql.evidence


def test_weak_csp_is_judged_not_just_present(probed):
    assert not probed.rule("EGG-HDR-100")
    [f] = probed.rule("EGG-HDR-101")
    assert "'unsafe-eval'" in f.message and "any host (https:)" in f.message
    assert f.config_key == "security.csp.policy" and "config/config.default.js" in f.message


def test_framing_allowed_and_disclosure(probed):
    [xfo] = probed.rule("EGG-HDR-103")
    assert "No X-Frame-Options" in xfo.message
    assert not probed.rule("EGG-HDR-104")  # nosniff stays on
    [disc] = probed.rule("EGG-HDR-108")
    assert "x-powered-by: Egg.js 3" in disc.message and disc.severity == "low"


def test_error_responses_lose_headers(probed):
    [f] = probed.rule("EGG-HDR-109")
    statuses = {line.split(" ", 1)[0] for line in f.evidence.splitlines()}
    assert {"400", "403", "405", "500"} <= statuses
    assert "coreMiddleware.unshift('errorPageHeaders')" in f.fix


def test_hsts_is_not_judged_over_http(probed):
    assert not probed.rule("EGG-HDR-102")
    hsts = next(t for t in probed.grade.tests if t.test == "strict-transport-security")
    assert hsts.result == "hsts-not-applicable-http" and hsts.observatory == -20


def test_cors_reflection_with_credentials(probed):
    [f] = probed.rule("EGG-CFG-104")
    assert f.severity == "high" and "with credentials" in f.message
    assert "PUT" in f.message  # the preflight's allowed methods
    [null] = probed.rule("EGG-CFG-105")
    assert null.severity == "high"
    assert not probed.rule("EGG-CFG-106")


def test_cookie_flags(probed):
    names = {f.message.split(" ")[2] for f in probed.rule("EGG-CFG-102")}
    assert names == {"csrfToken", "EGG_SESS"}
    assert not probed.rule("EGG-CFG-100")  # EGG_SESS is httponly
    assert not probed.rule("EGG-CFG-103")  # egg 3 encrypts the session
    assert not probed.rule("EGG-CFG-101")  # http: Secure not judged


def test_trace_refused_by_egg(probed):
    assert not probed.rule("EGG-CFG-107")
    trace = probed.result.first("trace")
    assert trace.status == 405


def test_csrf_matrix_verdicts(probed):
    control = probed.case("valid-token")
    assert control.outcome == "accepted" and control.status == 404
    refused = probed.case("no-token", "/api/items")
    assert refused.outcome == "refused" and refused.message == "invalid csrf token"
    json_case = probed.case("json-no-token", "/api/items")
    assert json_case.outcome == "accepted" and "ignoreJSON" in json_case.cause
    put = probed.case("no-token", "/api/items/1")
    assert put.outcome == "accepted" and "checks only POST" in put.cause and "PUT" in put.cause
    override = probed.case("method-override", "/api/items")
    assert override.outcome == "accepted" and override.override == "DELETE"
    assert probed.case("text-plain-no-token", "/api/items").outcome == "refused"
    assert probed.case("other-session-token", "/api/items").outcome == "refused"


def test_csrf_findings_name_the_config_cause(probed):
    keys = {f.config_key for f in probed.rule("EGG-CSRF-100")}
    assert keys == {"security.csrf.ignoreJSON", "security.csrf.supportedRequests"}
    [forged] = probed.rule("EGG-CSRF-101")
    assert "useSession" in forged.message


def test_grade_is_f(probed):
    assert probed.grade.grade == "F" and probed.grade.score == 0
    cors = next(t for t in probed.grade.tests if t.test == "cross-origin-resource-sharing")
    assert cors.modifier == -50


def test_markdown_documents_csrf_behaviour(probed):
    report = Report(findings=probed.findings)
    text = FORMATS["markdown"].render(report) + markdown_sections(probed.result, probed.grade)
    assert "## CSRF protection: how this app behaves" in text
    assert "| Methods checked | POST |" in text
    assert "NOT checked (ignoreJSON: true)" in text
    assert "**PASSED**" in text and "blocked" in text
    assert "## Security headers grade" in text and "**F**" in text
