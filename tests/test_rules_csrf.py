"""EGG-CSRF-002..010: each fires on the misconfiguration it names and stays quiet on its near misses.

Fixture apps are written with appfactory; what each one configures mirrors an app of the
eggjs/egg-security test catalogue (named in the test) or a pattern seen in real Egg apps.
"""

from __future__ import annotations

import pytest

import appfactory
from appfactory import make_app
from appfactory import rule_findings as findings
from eggshield.pipeline import scan

D, PROD, LOCAL, PLUGIN = appfactory.D, appfactory.PROD, appfactory.LOCAL, appfactory.PLUGIN
ROUTER = "app/router.js"
KEYS = appfactory.KEYS

ROUTES = """module.exports = app => {
  const { router, controller } = app;
  router.get('/', controller.home.index);
  router.post('/login', controller.user.login);
  router.post('/post/create', controller.post.create);
  router.put('/post/:id', controller.post.update);
  router.delete('/post/:id', controller.post.destroy);
  router.post('/api/user', controller.api.user);
  router.post('/api/order', controller.api.order);
  router.post('/webhook/stripe', controller.hook.stripe);
};
"""




def app_with(tmp_path, security: str = "", *, files: dict | None = None, egg: str = "^3.17.0", router=ROUTES):
    body = {D: KEYS + (f"exports.security = {security};\n" if security else "")}
    if router:
        body[ROUTER] = router
    body.update(files or {})
    return make_app(tmp_path, body, egg=egg)


# ---- EGG-CSRF-002 ignoreJSON ---------------------------------------------------------------------
def test_ignore_json_fires_like_the_csrf_ignorejson_fixture(tmp_path):
    [f] = findings(app_with(tmp_path, "{ csrf: { ignoreJSON: true } }"), "EGG-CSRF-002")
    assert (f.severity, f.confidence, f.cwe, f.strategy) == ("medium", "high", 352, 5)
    assert f.config_key == "security.csrf.ignoreJSON" and (f.location.path, f.location.line) == (D, 2)


def test_ignore_json_with_credentialed_cors_is_high(tmp_path):
    app = app_with(tmp_path, "{ csrf: { ignoreJSON: true } }",
                   files={PLUGIN: "exports.cors = { enable: true, package: 'egg-cors' };",
                          PROD: "exports.cors = { origin: '*', credentials: true };"})
    [f] = findings(app, "EGG-CSRF-002")
    assert f.severity == "high" and "credentials" in f.message


@pytest.mark.parametrize("files", [
    {D: KEYS + "exports.security = { csrf: { ignoreJSON: false } };"},
    {LOCAL: "exports.security = { csrf: { ignoreJSON: true } };"},  # dev only
    {D: KEYS + "exports.security = { csrf: { ignoreJSON: true } };",
     PROD: "exports.security = { csrf: { ignoreJSON: false } };"},
    {D: KEYS + "exports.security = { csrf: { enable: false, ignoreJSON: true } };"},  # CSRF-001 says it
])
def test_ignore_json_near_misses(tmp_path, files):
    assert findings(make_app(tmp_path, files), "EGG-CSRF-002") == []


def test_ignore_json_only_in_local_is_low_when_scanning_local(tmp_path):
    app = make_app(tmp_path, {D: KEYS, LOCAL: "exports.security = { csrf: { ignoreJSON: true } };"})
    [f] = findings(app, "EGG-CSRF-002", env="local")
    assert f.severity == "low" and f.env == "local"


def test_ignore_json_from_env_var_is_needs_review(tmp_path):
    [f] = findings(app_with(tmp_path, "{ csrf: { ignoreJSON: process.env.IGNORE_JSON === '1' } }"), "EGG-CSRF-002")
    assert (f.severity, f.confidence) == ("low", "low") and "Needs review" in f.message


# ---- EGG-CSRF-003 ignore / match -----------------------------------------------------------------
@pytest.mark.parametrize("pattern", ["'/'", "/^\\//", "/.*/", "['/api', /^\\//]", "'/(.*)'", "() => true"])
def test_ignore_that_covers_every_path_is_high(tmp_path, pattern):
    [f] = findings(app_with(tmp_path, f"{{ csrf: {{ ignore: {pattern} }} }}"), "EGG-CSRF-003")
    assert (f.severity, f.confidence) == ("high", "high") and "every path" in f.message


def test_ignore_that_covers_all_declared_state_changing_routes_is_high(tmp_path):
    router = "module.exports = app => { app.router.post('/api/a', 'x.a'); app.router.del('/api/b/:id', 'x.b'); };"
    [f] = findings(app_with(tmp_path, "{ csrf: { ignore: '/api' } }", router=router), "EGG-CSRF-003")
    assert (f.severity, f.confidence) == ("high", "medium") and "all 2 state-changing routes" in f.message


@pytest.mark.parametrize("pattern,shown", [
    ("/^\\/api\\//", "everything under `/api`"),  # the csrf/csrf-multiple fixtures
    ("'/api'", "everything under `/api`"),
    ("/api/", "unanchored"),
])
def test_ignore_of_a_broad_prefix_is_medium_and_names_the_routes(tmp_path, pattern, shown):
    [f] = findings(app_with(tmp_path, f"{{ csrf: {{ ignore: {pattern} }} }}"), "EGG-CSRF-003")
    assert (f.severity, f.confidence) == ("medium", "medium")
    assert shown in f.message and "POST /api/user (app/router.js:8)" in f.message
    assert f.config_key == "security.csrf.ignore" and f.location.path == D


def test_ignore_function_is_needs_review_at_its_source(tmp_path):
    app = app_with(tmp_path, "{\n  csrf: {\n    ignore: [ ctx => !!ctx.get('ignore-csrf') ],\n  },\n}")
    [f] = findings(app, "EGG-CSRF-003")
    assert (f.severity, f.confidence) == ("low", "low") and "Needs review" in f.message
    assert (f.location.path, f.location.line) == (D, 4)  # the function itself


@pytest.mark.parametrize("security", [
    "{ csrf: { ignore: '/webhook/stripe' } }",
    "{ csrf: { ignore: [ /^\\/webhook\\/stripe$/, '/api/callback/alipay' ] } }",
    "{ csrf: { match: /^\\// } }",
    "{ csrf: { match: [ '/login', '/post', '/api', '/webhook' ] } }",  # covers every declared route
    "{ csrf: { ignore: '' } }",  # empty: egg-path-matching treats it as unset
])
def test_narrow_exemptions_do_not_fire(tmp_path, security):
    assert findings(app_with(tmp_path, security), "EGG-CSRF-003") == []


def test_match_that_leaves_routes_unchecked(tmp_path):
    [f] = findings(app_with(tmp_path, "{ csrf: { match: '/admin' } }"), "EGG-CSRF-003")
    assert f.config_key == "security.csrf.match" and f.severity == "high"  # checks none of them
    [g] = findings(app_with(tmp_path / "b", "{ csrf: { match: '/post' } }"), "EGG-CSRF-003")
    assert g.severity == "medium" and "4 of 7" in g.message and "/login" in g.message


def test_ignore_from_config_local_is_not_a_prod_problem(tmp_path):
    app = app_with(tmp_path, files={LOCAL: "exports.security = { csrf: { ignore: '/' } };"})
    assert findings(app, "EGG-CSRF-003") == []


# ---- EGG-CSRF-004 referer ------------------------------------------------------------------------
def test_referer_type_with_empty_whitelist_is_low(tmp_path):  # the csrf-empty-referer fixture
    [f] = findings(app_with(tmp_path, "{ csrf: { type: 'referer', refererWhiteList: [] } }"), "EGG-CSRF-004")
    assert (f.severity, f.confidence) == ("low", "medium") and "sub-domains" in f.message


@pytest.mark.parametrize("kind,entry", [("referer", "'*'"), ("any", "'com'"), ("referer", "'.github.io'"),
                                        ("any", "'*.com'")])
def test_referer_whitelist_that_admits_anyone_is_high(tmp_path, kind, entry):
    app = app_with(tmp_path, f"{{ csrf: {{ type: '{kind}', refererWhiteList: [ 'example.com', {entry} ] }} }}")
    [f] = findings(app, "EGG-CSRF-004")
    assert f.severity == "high" and f.config_key == "security.csrf.refererWhiteList"


@pytest.mark.parametrize("security", [
    "{ csrf: { type: 'ctoken' } }",
    "{ csrf: { type: 'all', refererWhiteList: [ '*' ] } }",  # a token is still required
    "{ csrf: { type: 'any', refererWhiteList: [ 'admin.example.com', '*.example.com' ] } }",
])
def test_referer_near_misses(tmp_path, security):
    assert findings(app_with(tmp_path, security), "EGG-CSRF-004") == []


# ---- EGG-CSRF-005 supportedRequests ---------------------------------------------------------------
def test_supported_requests_without_post_on_most_paths_is_high(tmp_path):  # csrf-supported-override-default
    security = "{ csrf: { supportedRequests: [ { path: /^\\/api\\/foo/, methods: ['PUT'] }, " \
               "{ path: /^\\/api\\//, methods: ['POST', 'PUT'] } ] } }"
    [f] = findings(app_with(tmp_path, security), "EGG-CSRF-005")
    assert (f.severity, f.confidence) == ("high", "high")
    assert "POST on /login (app/router.js:4)" in f.message and "/api/user" not in f.message.split("POST on")[1].split(";")[0]


def test_lowercase_methods_never_match(tmp_path):
    [f] = findings(app_with(tmp_path, "{ csrf: { supportedRequests: [ { path: /^\\//, methods: ['post', 'PUT', "
                                      "'PATCH', 'DELETE'] } ] } }"), "EGG-CSRF-005")
    assert f.severity == "high" and "lower-case post" in f.message


def test_dropping_only_put_and_delete_is_low(tmp_path):
    [f] = findings(app_with(tmp_path, "{ csrf: { supportedRequests: [ { path: /^\\//, methods: ['POST', 'PATCH'] } ] } }"),
                   "EGG-CSRF-005")
    assert f.severity == "low" and "PUT" in f.message and "DELETE" in f.message and "preflight" in f.message


def test_empty_supported_requests_checks_nothing(tmp_path):
    [f] = findings(app_with(tmp_path, "{ csrf: { supportedRequests: [] } }"), "EGG-CSRF-005")
    assert f.severity == "high" and "no request" in f.message


@pytest.mark.parametrize("security", [
    "{ csrf: { supportedRequests: [ { path: /^\\//, methods: ['POST', 'PATCH', 'DELETE', 'PUT', 'CONNECT', 'GET'] } ] } }",
    "{ csrf: { supportedRequests: [ { path: /^\\//, methods: ['POST', 'PATCH', 'DELETE', 'PUT'] } ] } }",
    "{ csrf: {} }",  # Egg's default
])
def test_supported_requests_near_misses(tmp_path, security):
    assert findings(app_with(tmp_path, security), "EGG-CSRF-005") == []


def test_dropped_method_no_route_uses_is_not_reported(tmp_path):
    router = "module.exports = app => { app.router.post('/a', 'x.a'); app.router.post('/b', 'x.b'); };"
    security = "{ csrf: { supportedRequests: [ { path: /^\\//, methods: ['POST'] } ] } }"
    assert findings(app_with(tmp_path, security, router=router), "EGG-CSRF-005") == []


# ---- EGG-CSRF-006 useSession ----------------------------------------------------------------------
LOGIN = """module.exports = class { async login() { const { ctx } = this;
  ctx.session.user = await ctx.service.user.check(ctx.request.body);
  ctx.body = { ok: true }; } };"""


def test_session_auth_with_cookie_secret_is_low(tmp_path):
    [f] = findings(app_with(tmp_path, files={"app/controller/user.js": LOGIN}), "EGG-CSRF-006")
    assert (f.severity, f.confidence) == ("low", "medium") and "app/controller/user.js:2" in f.message
    assert f.config_key == "security.csrf.useSession" and f.location.path == D


@pytest.mark.parametrize("files", [
    {"app/controller/user.js": LOGIN, D: KEYS + "exports.security = { csrf: { useSession: true } };"},
    {"app/controller/user.js": "module.exports = class { async x() { this.ctx.session.theme = 'dark'; } };"},
    {"app/controller/user.js": LOGIN, D: KEYS + "exports.security = { csrf: { type: 'referer' } };"},
])
def test_use_session_near_misses(tmp_path, files):
    assert findings(make_app(tmp_path, {D: KEYS, ROUTER: ROUTES, **files}), "EGG-CSRF-006") == []


# ---- EGG-CSRF-007 cookie options -------------------------------------------------------------------
def test_string_cookie_domain_is_reported(tmp_path):  # the csrf-string-cookiedomain fixture
    [f] = findings(app_with(tmp_path, "{ csrf: { cookieDomain: '.string.com' } }"), "EGG-CSRF-007")
    assert f.severity == "low" and "`.string.com`" in f.message and f.config_key == "security.csrf.cookieDomain"


def test_cookie_domain_function_is_needs_review_at_its_source(tmp_path):  # the ctoken fixture
    app = app_with(tmp_path, "{ csrf: {\n  cookieDomain(ctx) {\n    return '.' + ctx.hostname; } } }")
    [f] = findings(app, "EGG-CSRF-007")
    assert f.confidence == "low" and (f.location.path, f.location.line) == (D, 3)


def test_insecure_and_samesite_none_cookie_options(tmp_path):
    app = app_with(tmp_path, "{ csrf: { cookieOptions: { secure: false, sameSite: 'None' } } }")
    keys = sorted(f.config_key for f in findings(app, "EGG-CSRF-007"))
    assert keys == ["security.csrf.cookieOptions.sameSite", "security.csrf.cookieOptions.secure"]


@pytest.mark.parametrize("security", [
    "{ csrf: { cookieOptions: { httpOnly: true } } }",  # csrf-cookieOptions: stronger, not weaker
    "{ csrf: { cookieOptions: { signed: true } } }",  # csrf-cookieOptions-signed
    "{ csrf: { cookieOptions: { sameSite: 'lax', secure: true } } }",
    "{ csrf: { useSession: true, cookieDomain: '.example.com' } }",  # no CSRF cookie at all
])
def test_cookie_option_near_misses(tmp_path, security):
    assert findings(app_with(tmp_path, security), "EGG-CSRF-007") == []


# ---- EGG-CSRF-008 / 009 JSONP -----------------------------------------------------------------------
JSONP_ROUTER = """module.exports = app => {
  app.get('/default', app.jsonp(), 'jsonp.index');
  app.get('/csrf', app.jsonp({ csrf: true }), 'jsonp.index');
  app.get('/referrer/subdomain', app.jsonp({ whiteList: '.test.com' }), 'jsonp.index');
  app.get('/referrer/regexp', app.jsonp({ whiteList: [ /test\\.com/ ] }), 'jsonp.index');
  app.get('/referrer/anchored', app.jsonp({ whiteList: /^https?:\\/\\/test\\.com\\// }), 'jsonp.index');
  app.get('/dyn', app.jsonp(opts), 'jsonp.index');
};
"""


def test_jsonp_endpoints_without_checks(tmp_path):  # routes of egg-jsonp's own jsonp-test fixture
    app = app_with(tmp_path, router=JSONP_ROUTER)
    found = findings(app, "EGG-CSRF-008")
    firm = [f for f in found if f.severity == "high"]
    review = [f for f in found if f.severity == "low"]
    assert [(f.location.path, f.location.line) for f in firm] == [(ROUTER, 2)]
    assert [(f.location.line, f.confidence) for f in review] == [(7, "low")]


def test_jsonp_csrf_option_does_nothing_when_csrf_is_off(tmp_path):
    app = app_with(tmp_path, "{ csrf: { enable: false } }", router="module.exports = app => { "
                   "app.get('/x', app.jsonp({ csrf: true }), 'j.x'); };")
    [f] = findings(app, "EGG-CSRF-008")
    assert "no effect" in f.message


@pytest.mark.parametrize("files", [
    {D: KEYS + "exports.jsonp = { whiteList: [ '.example.com' ] };"},  # config.jsonp covers every call
    {D: KEYS + "exports.jsonp = { csrf: true };"},
    {PLUGIN: "exports.jsonp = false;"},
])
def test_jsonp_near_misses(tmp_path, files):
    app = make_app(tmp_path, {ROUTER: "module.exports = app => { app.get('/x', app.jsonp(), 'j.x'); };", **files})
    assert findings(app, "EGG-CSRF-008") == []


def test_jsonp_loose_whitelist_entries(tmp_path):
    [f] = findings(app_with(tmp_path, router=JSONP_ROUTER), "EGG-CSRF-009")
    assert f.location.line == 5 and "/test\\.com/" in f.message  # unanchored; the anchored one passes
    app = make_app(tmp_path / "b", {D: KEYS + "exports.jsonp = { whiteList: [ '.com', /^https:\\/\\/a\\.example\\.com/ ] };",
                                    ROUTER: "module.exports = app => { app.get('/x', app.jsonp(), 'j.x'); };"})
    [g] = findings(app, "EGG-CSRF-009")
    assert "'.com'" in g.message and "a\\.example\\.com" in g.message and g.location.path == D


def test_jsonp_tight_whitelist_is_quiet(tmp_path):
    app = make_app(tmp_path, {D: KEYS + "exports.jsonp = { whiteList: [ '.example.com', "
                                        "/^https:\\/\\/a\\.example\\.com\\// ] };",
                              ROUTER: "module.exports = app => { app.get('/x', app.jsonp(), 'j.x'); };"})
    assert findings(app, "EGG-CSRF-009") == []


# ---- EGG-CSRF-010 rotation --------------------------------------------------------------------------
def test_login_without_rotation_is_low(tmp_path):
    [f] = findings(app_with(tmp_path, files={"app/controller/user.js": LOGIN}), "EGG-CSRF-010")
    assert (f.severity, f.confidence) == ("low", "low") and (f.location.path, f.location.line) == (
        "app/controller/user.js", 2)


def test_login_with_rotation_is_quiet(tmp_path):
    rotated = LOGIN.replace("ctx.body = { ok: true };", "ctx.rotateCsrfSecret(); ctx.body = { ok: true };")
    assert findings(app_with(tmp_path, files={"app/controller/user.js": rotated}), "EGG-CSRF-010") == []


# ---- every rule: egg 4 apps and the security plugin switched off ------------------------------------
def test_rules_read_egg4_apps_too(tmp_path):
    app = app_with(tmp_path, "{ csrf: { ignoreJSON: true, ignore: '/' } }", egg="^4.0.0")
    assert [f.rule_id for f in findings(app, "EGG-CSRF-002")] == ["EGG-CSRF-002"]
    assert findings(app, "EGG-CSRF-003")[0].severity == "high"


def test_security_plugin_off_is_reported_once_by_csrf_001(tmp_path):
    app = app_with(tmp_path, "{ csrf: { ignoreJSON: true, ignore: '/' } }", files={PLUGIN: "exports.security = false;"})
    ids = {f.rule_id for f in scan(app).report.findings if f.rule_id.startswith("EGG-CSRF")}
    assert ids == {"EGG-CSRF-001"}


# ---- bad input: odd values never crash a rule, unknowns are at most low-confidence ---------------------
@pytest.mark.parametrize("security", [
    "{ csrf: { supportedRequests: [ { path: '/api', methods: 'POST' } ] } }",  # not a RegExp: Egg would throw
    "{ csrf: { supportedRequests: process.env.SR } }",
    "{ csrf: { ignore: [ 42, null, /(?<=a+)b/, /[^]/ ] } }",  # unsupported members, JS-only regex syntax
    "{ csrf: { ignore: /(a+)+$/ } }",  # catastrophic backtracking on long paths
    "{ csrf: { type: process.env.CSRF_TYPE, refererWhiteList: 'x.com' } }",
    "{ csrf: { cookieOptions: 'nope', cookieDomain: 7 } }",
    "{ csp: { enable: true, policy: { 'script-src': [ 1, true, null ], 'default-src': process.env.CSP } } }",
    "{ hsts: { enable: true, maxAge: 'abc' }, xframe: { value: 3 }, referrerPolicy: { enable: 1, value: [] } }",
    "{ defaultMiddleware: 7 }",
    "{ xssProtection: { value: process.env.X } }",
])
def test_odd_values_give_no_check_failure_and_only_low_confidence_guesses(tmp_path, security):
    router = "module.exports = app => { app.router.post('/" + "a" * 5000 + "!', 'x.y'); };"
    result = scan(app_with(tmp_path, security, router=router))
    assert not [p for p in result.report.problems if "check EGG-" in p.message]
    for f in result.report.findings:
        if f.rule_id.startswith(("EGG-CSRF", "EGG-HDR")) and "Needs review" in f.message:
            assert (f.severity, f.confidence) == ("low", "low"), f
