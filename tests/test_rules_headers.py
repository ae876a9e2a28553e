"""EGG-HDR-001..014: each fires on what egg-security will (not) send and stays quiet on near misses.

Plus the quality bar of issue 3 for these rules: a fully hardened app (egg 3 and egg 4) yields no
CSRF or header finding at medium or above, values only `config.local` sets stay low, and values
eggshield cannot know are at most a low-confidence "needs review".
"""

from __future__ import annotations

import pytest

import appfactory
from appfactory import make_app
from appfactory import rule_findings as findings
from eggshield.finding import SEVERITY_RANK
from eggshield.pipeline import scan

D, PROD, LOCAL, PLUGIN = appfactory.D, appfactory.PROD, appfactory.LOCAL, appfactory.PLUGIN
KEYS = appfactory.KEYS
VIEWS = {PLUGIN: "exports.nunjucks = { enable: true, package: 'egg-view-nunjucks' };",
         "app/controller/home.js": "module.exports = class { async index() { await this.ctx.render('home.nj'); } };"}

HARDENED_SECURITY = """{
    hsts: { enable: true, maxAge: 365 * 24 * 3600, includeSubdomains: true },
    csp: {
      enable: true,
      policy: {
        'default-src': "'self'",
        'script-src': [ "'self'", "'unsafe-inline'" ],
        'style-src': [ "'self'", "'unsafe-inline'" ],
        'img-src': [ "'self'", 'data:' ],
        'object-src': "'none'",
        'base-uri': "'self'",
        'frame-ancestors': "'self'",
      },
    },
    xframe: { enable: true, value: 'DENY' },
    xssProtection: { value: '0' },
    referrerPolicy: { enable: true, value: 'strict-origin-when-cross-origin' },
    defaultMiddleware: 'csrf,hsts,methodnoallow,noopen,nosniff,csp,xssProtection,xframe,dta,referrerPolicy',
    csrf: { useSession: true, ignore: [ '/webhook/stripe' ], cookieOptions: { sameSite: 'lax' } },
  }"""

HARDENED_APP = {
    D: KEYS + "exports.jsonp = { whiteList: [ '.example.com' ] };\n"
              "exports.view = { defaultViewEngine: 'nunjucks', mapping: { '.nj': 'nunjucks' } };\n",
    PROD: f"module.exports = () => ({{\n  security: {HARDENED_SECURITY},\n"
          "  session: { encrypt: true, secure: true, sameSite: 'lax' },\n});\n",
    LOCAL: "exports.security = { hsts: { enable: false }, csrf: { ignoreJSON: true } };\n",
    "app/router.js": """module.exports = app => {
  const { router, controller } = app;
  router.get('/', controller.home.index);
  router.post('/login', controller.user.login);
  router.post('/webhook/stripe', controller.hook.stripe);
  router.get('/api/me.jsonp', app.jsonp(), controller.user.me);
};
""",
    "app/controller/user.js": """module.exports = class {
  async login() { const { ctx } = this; ctx.session.user = { id: 1 }; ctx.rotateCsrfSecret(); }
};
""",
    "app/middleware/permissions_policy.js": """module.exports = () => async (ctx, next) => {
  await next();
  ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
};
""",
    **VIEWS,
}




def app_with(tmp_path, security: str = "", *, files: dict | None = None, egg="^3.17.0"):
    body = {D: KEYS + (f"exports.security = {security};\n" if security else "")}
    body.update(files or {})
    return make_app(tmp_path, body, egg=egg)


# ---- quality bar ---------------------------------------------------------------------------------
@pytest.mark.parametrize("egg", ["^3.17.0", "^4.0.0"])
def test_hardened_app_has_no_csrf_or_header_finding_at_medium_or_above(tmp_path, egg):
    app = make_app(tmp_path, HARDENED_APP, pkg={"dependencies": {"egg": egg, "egg-view-nunjucks": "^2.3.0"}})
    report = scan(app).report
    assert report.targets[0].egg_major == int(egg[1]) and report.problems == []  # every file evaluated
    mine = [f for f in report.findings if f.rule_id.startswith(("EGG-CSRF", "EGG-HDR"))]
    assert [f for f in mine if SEVERITY_RANK[f.severity] >= SEVERITY_RANK["medium"]] == []
    assert mine == []


def test_hardened_app_with_local_weakening_is_low_in_local_and_clean_in_prod(tmp_path):
    app = make_app(tmp_path, HARDENED_APP)
    local = [f for f in findings(app, env="local") if f.rule_id.startswith(("EGG-CSRF", "EGG-HDR"))]
    assert local and all(f.severity in ("low", "info") for f in local)
    assert "EGG-CSRF-002" in {f.rule_id for f in local}  # config.local's ignoreJSON, capped at low
    assert not any(f.rule_id.startswith(("EGG-CSRF", "EGG-HDR")) for f in findings(app))


def test_defaults_alone_report_hsts_and_csp_but_nothing_high(tmp_path):
    app = make_app(tmp_path, {D: KEYS, **VIEWS})
    got = {f.rule_id: f for f in findings(app) if f.rule_id.startswith("EGG-HDR")}
    assert set(got) == {"EGG-HDR-002", "EGG-HDR-004", "EGG-HDR-011", "EGG-HDR-012"}
    assert (got["EGG-HDR-002"].severity, got["EGG-HDR-002"].confidence) == ("medium", "medium")
    assert "proxy" in got["EGG-HDR-002"].message and got["EGG-HDR-002"].location.path == D
    assert got["EGG-HDR-004"].severity == "medium" and got["EGG-HDR-011"].severity == "info"


# ---- EGG-HDR-001 -----------------------------------------------------------------------------------
def test_plugin_disabled_is_reported_once(tmp_path):
    app = app_with(tmp_path, "{ hsts: { enable: true } }", files={PLUGIN: "exports.security = { enable: false };"})
    hdr = [f for f in findings(app) if f.rule_id.startswith("EGG-HDR")]
    assert [(f.rule_id, f.severity, f.location.path) for f in hdr] == [("EGG-HDR-001", "medium", PLUGIN)]


def test_plugin_disabled_only_in_local_plugin_file_is_not_a_prod_problem(tmp_path):
    app = app_with(tmp_path, files={"config/plugin.local.js": "exports.security = false;"})
    assert findings(app, "EGG-HDR-001") == []


# ---- EGG-HDR-002 / 003 HSTS -------------------------------------------------------------------------
@pytest.mark.parametrize("security,key", [
    ("{ hsts: { enable: false } }", "security.hsts.enable"),
    ("{ hsts: { enable: true }, defaultMiddleware: 'csrf,nosniff,xframe' }", "security.defaultMiddleware"),
    ("{ hsts: { enable: true, ignore: '/' } }", "security.hsts.ignore"),
    ("{ hsts: { includeSubdomains: true } }", "security.hsts.enable"),  # the hsts-default fixture
])
def test_hsts_off(tmp_path, security, key):
    [f] = findings(app_with(tmp_path, security), "EGG-HDR-002")
    assert f.config_key == key and f.cwe == 319 and (f.severity, f.confidence) == ("medium", "medium")


@pytest.mark.parametrize("files", [
    {PROD: "exports.security = { hsts: { enable: true, includeSubdomains: true } };"},
    {"app/middleware/hsts.js": "module.exports = () => async (ctx, next) => { await next(); "
                               "ctx.set('Strict-Transport-Security', 'max-age=63072000'); };"},
])
def test_hsts_near_misses(tmp_path, files):
    assert findings(app_with(tmp_path, files=files), "EGG-HDR-002") == []


def test_hsts_is_not_reported_when_scanning_local(tmp_path):
    assert findings(app_with(tmp_path), "EGG-HDR-002", env="local") == []


def test_hsts_from_env_var_is_needs_review(tmp_path):
    [f] = findings(app_with(tmp_path, "{ hsts: { enable: process.env.HSTS === 'on' } }"), "EGG-HDR-002")
    assert (f.severity, f.confidence) == ("low", "low")


def test_hsts_weak(tmp_path):
    got = findings(app_with(tmp_path, "{ hsts: { enable: true, maxAge: 3600 } }"), "EGG-HDR-003")
    assert sorted((f.config_key, f.severity) for f in got) == [("security.hsts.includeSubdomains", "low"),
                                                               ("security.hsts.maxAge", "low")]
    [zero] = [f for f in findings(app_with(tmp_path / "z", "{ hsts: { enable: true, maxAge: 0, "
                                           "includeSubdomains: true } }"), "EGG-HDR-003")]
    assert zero.severity == "medium" and "max-age=0" in zero.message


def test_hsts_strong_is_quiet(tmp_path):
    app = app_with(tmp_path, "{ hsts: { enable: true, maxAge: 31536000, includeSubdomains: true } }")
    assert findings(app, "EGG-HDR-003") == []


# ---- EGG-HDR-004 / 005 CSP --------------------------------------------------------------------------
def test_csp_off_is_medium_for_html_apps_and_low_for_json_apis(tmp_path):
    [html] = findings(app_with(tmp_path / "h", files=VIEWS), "EGG-HDR-004")
    [api] = findings(app_with(tmp_path / "a"), "EGG-HDR-004")
    assert (html.severity, api.severity) == ("medium", "low") and "JSON" in api.message


def test_csp_report_only_and_empty_policy(tmp_path):  # csp-reportonly, utils-check-if-pass fixtures
    [ro] = findings(app_with(tmp_path / "r", "{ csp: { enable: true, reportOnly: true, policy: "
                             "{ 'default-src': \"'self'\" } } }", files=VIEWS), "EGG-HDR-004")
    assert ro.severity == "low" and "report-only" in ro.message
    [empty] = findings(app_with(tmp_path / "e", "{ csp: { enable: true } }", files=VIEWS), "EGG-HDR-004")
    assert empty.severity == "medium" and "empty policy" in empty.message


def test_csp_set_by_helmet_is_not_reported(tmp_path):
    app = app_with(tmp_path, files={**VIEWS, "app/middleware/helmet.js": "const helmet = require('koa-helmet');\n"
                                                                       "module.exports = () => helmet();"})
    assert findings(app, "EGG-HDR-004") == []


def test_csp_weak_policy_like_the_csp_fixture(tmp_path):
    security = """{ csp: { enable: true, policy: {
      'script-src': [ "'self'", "'unsafe-inline'", "'unsafe-eval'", '.domain.com' ],
      'img-src': [ "'self'", 'data:' ],
      'frame-ancestors': [ "'self'" ],
    } } }"""
    got = {(f.config_key, f.severity) for f in findings(app_with(tmp_path, security), "EGG-HDR-005")}
    assert got == {("security.csp.policy.script-src", "low"),  # unsafe-eval; unsafe-inline is nonce-neutralised
                   ("security.csp.policy.object-src", "low"), ("security.csp.policy.base-uri", "low")}


@pytest.mark.parametrize("policy,key,words", [
    ("{ 'default-src': [ \"'self'\", \"'unsafe-inline'\" ] }", "security.csp.policy.default-src", "inline"),
    ("{ 'script-src': [ \"'self'\", 'https:' ], 'object-src': \"'none'\", 'base-uri': \"'none'\" }",
     "security.csp.policy.script-src", "https:"),
    ("{ 'default-src': '*', 'base-uri': \"'self'\", 'object-src': \"'none'\" }", "security.csp.policy.default-src", "*"),
    ("{ 'img-src': \"'self'\" }", "security.csp.policy", "neither"),
])
def test_csp_medium_weaknesses(tmp_path, policy, key, words):
    got = [f for f in findings(app_with(tmp_path, f"{{ csp: {{ enable: true, policy: {policy} }} }}"), "EGG-HDR-005")
           if f.severity == "medium"]
    assert [f.config_key for f in got] == [key] and words in got[0].message


def test_csp_strict_dynamic_ignores_scheme_sources(tmp_path):
    policy = "{ 'script-src': [ \"'strict-dynamic'\", 'https:' ], 'object-src': \"'none'\", 'base-uri': \"'none'\" }"
    assert findings(app_with(tmp_path, f"{{ csp: {{ enable: true, policy: {policy} }} }}"), "EGG-HDR-005") == []


# ---- EGG-HDR-006 / 007 framing ---------------------------------------------------------------------
def test_xframe_off(tmp_path):  # the security-unset fixture
    [f] = findings(app_with(tmp_path, "{ xframe: { enable: false } }", files=VIEWS), "EGG-HDR-006")
    assert (f.severity, f.cwe, f.config_key) == ("medium", 1021, "security.xframe.enable")
    [api] = findings(app_with(tmp_path / "api", "{ xframe: { enable: false } }"), "EGG-HDR-006")
    assert api.severity == "low"


@pytest.mark.parametrize("security", [
    "{ xframe: { enable: false }, csp: { enable: true, policy: { 'frame-ancestors': \"'self'\" } } }",
    "{ xframe: { ignore: [ '/hello', '/world/:id' ] } }",  # the iframe fixture
    "{ xframe: { value: undefined } }",  # iframe-novalue: egg-security falls back to SAMEORIGIN
])
def test_xframe_near_misses(tmp_path, security):
    app = app_with(tmp_path, security, files=VIEWS)
    assert findings(app, "EGG-HDR-006") == [] and findings(app, "EGG-HDR-007") == []


def test_xframe_allow_from_is_ignored_by_browsers(tmp_path):  # the iframe-allowfrom fixture
    [f] = findings(app_with(tmp_path, "{ xframe: { value: 'ALLOW-FROM http://www.domain.com' } }"), "EGG-HDR-007")
    assert f.severity == "medium" and "obsolete" in f.message and f.location.line == 2
    assert findings(app_with(tmp_path / "d", "{ xframe: { value: 'deny' } }"), "EGG-HDR-007") == []


# ---- EGG-HDR-008 nosniff -----------------------------------------------------------------------------
def test_nosniff_off_and_near_miss(tmp_path):
    [f] = findings(app_with(tmp_path, "{ nosniff: { enable: false } }"), "EGG-HDR-008")
    assert (f.severity, f.confidence, f.cwe) == ("low", "high", 693)
    assert findings(app_with(tmp_path / "ok", "{ nosniff: { enable: true } }"), "EGG-HDR-008") == []


# ---- EGG-HDR-009 / 010 Referrer-Policy -------------------------------------------------------------
def test_referrer_policy_enabled_but_not_in_default_middleware(tmp_path):
    [f] = findings(app_with(tmp_path, "{ referrerPolicy: { enable: true, value: 'no-referrer' } }"), "EGG-HDR-009")
    assert (f.severity, f.cwe, f.config_key) == ("low", 200, "security.referrerPolicy.enable")
    assert "silently" in f.message


def test_referrer_policy_array_form_in_egg4(tmp_path):
    app = app_with(tmp_path, "{ referrerPolicy: { enable: true }, defaultMiddleware: [ 'csrf', 'xframe' ] }",
                   egg="^4.0.0")
    [f] = findings(app, "EGG-HDR-009")
    assert "string form" in f.message


@pytest.mark.parametrize("security", [
    "{ referrerPolicy: { enable: true, value: 'no-referrer' }, defaultMiddleware: "
    "'csrf,hsts,methodnoallow,noopen,nosniff,csp,xssProtection,xframe,dta,referrerPolicy' }",
    "{ referrerPolicy: { enable: false } }",
])
def test_referrer_policy_near_misses(tmp_path, security):
    assert findings(app_with(tmp_path, security), "EGG-HDR-009") == []
    assert findings(app_with(tmp_path, security), "EGG-HDR-010") == []


@pytest.mark.parametrize("value,words", [("'unsafe-url'", "full URL"), ("undefined", "default value"),
                                          ("'nope'", "throws")])
def test_referrer_policy_weak_value(tmp_path, value, words):  # the referrer fixture uses the default value
    security = f"{{ referrerPolicy: {{ enable: true, value: {value} }}, defaultMiddleware: 'referrerPolicy,csrf' }}"
    [f] = findings(app_with(tmp_path, security), "EGG-HDR-010")
    assert words in f.message


# ---- EGG-HDR-011 X-XSS-Protection --------------------------------------------------------------------
def test_xss_protection_default_is_info_and_zero_is_quiet(tmp_path):
    [f] = findings(app_with(tmp_path), "EGG-HDR-011")
    assert (f.severity, f.confidence) == ("info", "medium") and "Egg's default" in f.message
    assert findings(app_with(tmp_path / "z", "{ xssProtection: { value: 0 } }"), "EGG-HDR-011") == []  # xss-close-zero
    assert findings(app_with(tmp_path / "c", "{ xssProtection: { enable: false } }"), "EGG-HDR-011") == []


# ---- EGG-HDR-012 Permissions-Policy ------------------------------------------------------------------
def test_permissions_policy_only_for_html_apps(tmp_path):
    [f] = findings(app_with(tmp_path, files=VIEWS), "EGG-HDR-012")
    assert f.severity == "info" and f.cwe == 693
    assert findings(app_with(tmp_path / "api"), "EGG-HDR-012") == []


# ---- EGG-HDR-013 removed in code ---------------------------------------------------------------------
def test_headers_removed_in_code(tmp_path):  # the security-override-controller fixture
    router = """module.exports = app => {
  app.get('/', async ctx => {
    delete ctx.response.header['Strict-Transport-Security'];
    ctx.securityOptions.xframe = { enable: false };
    ctx.remove('X-Content-Type-Options');
  });
};"""
    got = findings(app_with(tmp_path, files={"app/router.js": router}), "EGG-HDR-013")
    assert [(f.location.path, f.location.line) for f in got] == [("app/router.js", 3), ("app/router.js", 4),
                                                                ("app/router.js", 5)]
    assert all(f.severity == "low" for f in got)


def test_headers_set_in_code_are_not_removals(tmp_path):
    code = "module.exports = () => async (ctx, next) => { await next(); ctx.set('X-Frame-Options', 'DENY'); };"
    assert findings(app_with(tmp_path, files={"app/middleware/x.js": code}), "EGG-HDR-013") == []


# ---- EGG-HDR-014 match --------------------------------------------------------------------------------
def test_header_limited_by_match(tmp_path):  # utils-check-if-pass6
    [f] = findings(app_with(tmp_path, "{ xframe: { match: [ '/match1', '/match2' ] } }"), "EGG-HDR-014")
    assert f.config_key == "security.xframe.match" and "'/match1'" in f.message
    assert findings(app_with(tmp_path / "i", "{ xframe: { ignore: [ '/embed' ] } }"), "EGG-HDR-014") == []
