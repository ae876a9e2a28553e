"""CORS, open redirect and SSRF rules EGG-CFG-030..033, plus the quality bar: a hardened app has no
finding at medium or above in this whole range."""

from __future__ import annotations

import pytest

import appfactory
from appfactory import make_app
from appfactory import rule_findings as findings
from eggshield.finding import SEVERITY_RANK
from eggshield.pipeline import scan

D, PROD, LOCAL, PLUGIN = appfactory.D, appfactory.PROD, appfactory.LOCAL, appfactory.PLUGIN
CORS_PLUGIN = "exports.cors = { enable: true, package: 'egg-cors' };\n"
HOME = "app/controller/home.js"


def app_with(tmp_path, files, *, egg="^3.17.0", pkg=None):
    return make_app(tmp_path, {D: "exports.keys = process.env.EGG_KEYS;\n", **files}, egg=egg, pkg=pkg)




def cfg(line: str) -> str:
    return f"exports.keys = process.env.EGG_KEYS;\n{line}\n"


def controller(body: str) -> str:
    return ("module.exports = app => class extends app.Controller {\n"
            f"  async index() {{\n    const {{ ctx }} = this;\n    {body}\n  }}\n}};\n")


# ---- EGG-CFG-030 egg-cors ------------------------------------------------------------------------
CNPMCORE_ORIGIN = """import type { Context, EggAppConfig } from 'egg';
export default () => {
  const config = {} as EggAppConfig;
  config.cors = {
    // allow all domains
    origin: (ctx: Context): string => {
      return ctx.get('Origin');
    },
    credentials: true,
  };
  return config;
};
"""


@pytest.mark.parametrize("files,severity,line", [
    ({D: cfg("exports.cors = { origin: '*', credentials: true };")}, "high", 2),
    ({D: cfg("exports.cors = { origin: ctx => ctx.get('origin'), credentials: true };")}, "high", 2),
    ({D: cfg("exports.cors = { origin(ctx) { const o = ctx.request.header.origin; if (!o) return ''; return o; },"
             " credentials: true };")}, "high", 2),
    ({D: cfg("exports.cors = { credentials: true };"), PLUGIN: CORS_PLUGIN + "exports.security = false;\n"}, "high", 2),
    ({D: cfg("exports.cors = { credentials: true };\nexports.security = { domainWhiteList: ['*'] };")}, "high", 3),
    ({D: cfg("exports.cors = { origin: '*' };")}, "low", 2),  # egg-nuxt-blog: any origin, no cookies
])
def test_cors_any_origin_fires(tmp_path, files, severity, line):
    files = {PLUGIN: CORS_PLUGIN, **files}
    [f] = findings(app_with(tmp_path, files), "EGG-CFG-030")
    assert (f.severity, f.cwe, f.location.path, f.location.line) == (severity, 942, D, line)


def test_cors_reflecting_origin_function_in_typescript_like_cnpmcore(tmp_path):
    app = make_app(tmp_path, {"config/config.default.ts": CNPMCORE_ORIGIN, PLUGIN: CORS_PLUGIN, "tsconfig.json": "{}"},
                   egg="^3.17.0", pkg={"egg": {"typescript": True}})
    [f] = findings(app, "EGG-CFG-030")
    assert f.severity == "high" and "ctx.get('Origin')" in f.message and f.location.line == 6


@pytest.mark.parametrize("files", [
    {D: cfg("exports.cors = { credentials: true };")},  # egg-cors default: only domainWhiteList hosts
    {D: cfg("exports.cors = { origin: 'https://app.example.com', credentials: true };")},
    {D: cfg("const ok = new Set(['https://a.example.com']);\n"
            "exports.cors = { origin: ctx => ok.has(ctx.get('origin')) ? ctx.get('origin') : '', credentials: true };")},
    {D: cfg("exports.cors = { origin: ctx => { const o = ctx.get('origin'); return o.endsWith('.example.com') ? o : ''; },"
            " credentials: true };")},
    {D: cfg("exports.cors = { origin: '*', credentials: true };"), PLUGIN: "exports.cors = false;"},
    {LOCAL: "exports.cors = { origin: '*', credentials: true };"},
])
def test_cors_near_misses(tmp_path, files):
    files = {PLUGIN: CORS_PLUGIN, **files}
    assert findings(app_with(tmp_path, files), "EGG-CFG-030") == []


def test_cors_origin_from_env_with_credentials_is_needs_review(tmp_path):
    files = {PLUGIN: CORS_PLUGIN, D: cfg("exports.cors = { origin: process.env.CORS_ORIGIN, credentials: true };")}
    [f] = findings(app_with(tmp_path, files), "EGG-CFG-030")
    assert (f.severity, f.confidence) == ("low", "low")


# ---- EGG-CFG-031 hand-written CORS headers -------------------------------------------------------
DORA_CROSS_HEADER = """module.exports = options => {
  return async function crossHeader(ctx, next) {
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.set('Access-Control-Allow-Methods', 'PUT, POST, GET, DELETE, OPTIONS');
    await next();
  };
};
"""
REFLECT_WITH_CREDS = """module.exports = () => async (ctx, next) => {
  ctx.set({
    'Access-Control-Allow-Origin': ctx.request.header.origin || '*',
    'Access-Control-Allow-Credentials': 'true',
  });
  await next();
};
"""
MW = "app/middleware/cross.js"


def test_hand_written_wildcard_is_low(tmp_path):
    [f] = findings(app_with(tmp_path, {MW: DORA_CROSS_HEADER}), "EGG-CFG-031")
    assert (f.severity, f.location.path, f.location.line) == ("low", MW, 3)


def test_hand_written_reflection_with_credentials_is_high(tmp_path):
    [f] = findings(app_with(tmp_path, {MW: REFLECT_WITH_CREDS}), "EGG-CFG-031")
    assert (f.severity, f.location.line, f.cwe) == ("high", 2, 942)


@pytest.mark.parametrize("body", [
    "ctx.set('Access-Control-Allow-Origin', 'https://app.example.com');",
    "ctx.set('Access-Control-Allow-Origin', this.config.frontOrigin);",
    "const o = ctx.get('origin'); if (['https://a.example.com'].includes(o)) "
    "{ ctx.set('Access-Control-Allow-Origin', o); ctx.set('Access-Control-Allow-Credentials', 'true'); }",
])
def test_hand_written_header_near_misses(tmp_path, body):
    assert findings(app_with(tmp_path, {HOME: controller(body)}), "EGG-CFG-031") == []


# ---- EGG-CFG-032 open redirect --------------------------------------------------------------------
@pytest.mark.parametrize("body,severity", [
    ("ctx.redirect(ctx.query.next || '/');", "medium"),
    ("const { url } = ctx.request.body; ctx.redirect(url);", "medium"),
    ("const target = `${ctx.params.to}?from=app`; ctx.redirect(target);", "medium"),
    ("ctx.redirect(ctx.get('referer') || '/');", "low"),
    ("const u = ctx.query.u; if (ctx.isSafeDomain(new URL(u).hostname)) ctx.redirect(u);", "low"),
])
def test_open_redirect_fires(tmp_path, body, severity):
    [f] = findings(app_with(tmp_path, {HOME: controller(body)}), "EGG-CFG-032")
    assert (f.severity, f.cwe, f.config_key) == (severity, 601, "security.domainWhiteList")
    assert (f.location.path, f.location.line) == (HOME, 4)


def test_open_redirect_through_a_tegg_query_parameter(tmp_path):
    src = """import { HTTPController, HTTPMethod, HTTPQuery, Context, EggContext } from '@eggjs/tegg';
@HTTPController({ path: '/oauth' })
export class OAuthController {
  @HTTPMethod({ method: 'GET', path: '/callback' })
  async callback(@Context() ctx: EggContext, @HTTPQuery() callbackUrl: string) {
    const redirectUri = new URL(decodeURIComponent(callbackUrl));
    redirectUri.searchParams.set('token', 'jwt');
    ctx.redirect(redirectUri.toString());
  }
}
"""
    app = app_with(tmp_path, {"app/controller/OAuthController.ts": src, "tsconfig.json": "{}"})
    [f] = findings(app, "EGG-CFG-032")
    assert f.location.line == 8 and "@HTTPQuery() callbackUrl" in f.message


@pytest.mark.parametrize("files", [
    {HOME: controller("ctx.redirect('/user/' + ctx.params.id);")},
    {HOME: controller("ctx.redirect(`https://www.google.com/search?q=site:example.com+${ctx.query.q}`);")},
    {HOME: controller("ctx.redirect(ctx.query.next);"),
     D: cfg("exports.security = { domainWhiteList: ['.example.com'] };")},
    {HOME: controller("ctx.redirect(this.config.loginUrl);")},
    {"app/router.js": "module.exports = app => { app.router.redirect('/', '/home'); };"},
])
def test_open_redirect_near_misses(tmp_path, files):
    assert findings(app_with(tmp_path, files), "EGG-CFG-032") == []


def test_unsafe_redirect_fires_even_with_a_whitelist(tmp_path):
    files = {HOME: controller("ctx.unsafeRedirect(ctx.query.next);"),
             D: cfg("exports.security = { domainWhiteList: ['.example.com'] };")}
    [f] = findings(app_with(tmp_path, files), "EGG-CFG-032")
    assert "unsafeRedirect" in f.message and f.severity == "medium"


def test_whitelist_set_only_for_local_does_not_protect_prod(tmp_path):
    files = {HOME: controller("ctx.redirect(ctx.query.next);"),
             LOCAL: "exports.security = { domainWhiteList: ['localhost'] };"}
    app = app_with(tmp_path, files)
    assert [f.severity for f in findings(app, "EGG-CFG-032")] == ["medium"]
    assert findings(app, "EGG-CFG-032", env="local") == []


def test_redirect_with_security_plugin_off(tmp_path):
    files = {HOME: controller("ctx.redirect(ctx.query.next);"), PLUGIN: "exports.security = false;",
             D: cfg("exports.security = { domainWhiteList: ['.example.com'] };")}
    [f] = findings(app_with(tmp_path, files), "EGG-CFG-032")
    assert "security plugin is disabled" in f.message


def test_redirect_with_unknown_whitelist_is_needs_review(tmp_path):
    files = {HOME: controller("ctx.redirect(ctx.query.next);"),
             D: cfg("exports.security = { domainWhiteList: process.env.DOMAINS.split(',') };")}
    [f] = findings(app_with(tmp_path, files), "EGG-CFG-032")
    assert (f.severity, f.confidence) == ("low", "low")


# ---- EGG-CFG-033 SSRF -----------------------------------------------------------------------------
SSRF_ON = cfg("exports.security = { ssrf: { ipBlackList: ['10.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16'] } };")


@pytest.mark.parametrize("body,files", [
    ("await ctx.curl(ctx.query.url);", {}),
    ("const { target } = ctx.request.body; await ctx.httpclient.request(target, { timeout: 3000 });", {}),
    ("await ctx.safeCurl(ctx.query.url);", {}),  # safeCurl without security.ssrf falls back to curl
    ("await this.app.curl(`${ctx.query.base}/v1/items`);", {}),
    ("await ctx.curl(ctx.query.url);", {D: SSRF_ON}),  # the ssrf filter only protects safeCurl
])
def test_ssrf_fires(tmp_path, body, files):
    [f] = findings(app_with(tmp_path, {HOME: controller(body), **files}), "EGG-CFG-033")
    assert (f.severity, f.cwe, f.config_key, f.location.line) == ("high", 918, "security.ssrf", 4)


@pytest.mark.parametrize("files", [
    {HOME: controller("await ctx.safeCurl(ctx.query.url);"), D: SSRF_ON},
    {HOME: controller("await ctx.curl(`https://api.example.com/users/${ctx.params.id}`);")},
    {HOME: controller("await ctx.curl(this.config.api + '/items?q=' + ctx.query.q);")},
    # a service method that nothing calls with request input
    {"app/service/fetcher.js": "module.exports = app => class extends app.Service {\n"
                               "  async get(url) { return this.ctx.curl(url); }\n};\n"},
])
def test_ssrf_near_misses(tmp_path, files):
    assert findings(app_with(tmp_path, files), "EGG-CFG-033") == []


FETCHER = ("module.exports = app => class extends app.Service {\n"
           "  async get(url, opts = {}) {\n    return this.ctx.curl(url, { timeout: 3000, ...opts });\n  }\n};\n")


@pytest.mark.parametrize("service,call", [
    ("app/service/fetcher.js", "await ctx.service.fetcher.get(ctx.query.url);"),
    ("app/service/remote/hacker_news.js", "await this.service.remote.hackerNews.get(ctx.request.body.feed);"),
    ("app/service/fetcher.js", "const { service } = ctx; const u = ctx.query.u; await service.fetcher.get(u);"),
])
def test_ssrf_through_a_service_method(tmp_path, service, call):
    [f] = findings(app_with(tmp_path, {service: FETCHER, HOME: controller(call)}), "EGG-CFG-033")
    assert (f.location.path, f.location.line, f.severity) == (service, 3, "high")
    assert "app/controller/home.js:4" in f.message


@pytest.mark.parametrize("call", [
    "await ctx.service.fetcher.get('https://api.example.com/feed');",
    "await ctx.service.fetcher.get(this.config.feedUrl, { data: ctx.query });",  # input only in the options
    "await ctx.service.other.get(ctx.query.url);",  # another service's `get`
])
def test_ssrf_through_a_service_near_misses(tmp_path, call):
    files = {"app/service/fetcher.js": FETCHER, HOME: controller(call),
             "app/service/other.js": "module.exports = app => class extends app.Service { async get(id) { return id; } };\n"}
    assert findings(app_with(tmp_path, files), "EGG-CFG-033") == []


def test_safe_curl_without_ssrf_config_is_a_low_note(tmp_path):
    [f] = findings(app_with(tmp_path, {HOME: controller("await ctx.safeCurl('https://api.example.com/ping');")}),
                   "EGG-CFG-033")
    assert (f.severity, f.confidence) == ("low", "medium") and "not configured" in f.message


def test_ssrf_config_from_env_is_needs_review(tmp_path):
    files = {HOME: controller("await ctx.safeCurl(ctx.query.url);"),
             D: cfg("exports.security = { ssrf: { ipBlackList: process.env.SSRF_BLACKLIST } };")}
    [f] = findings(app_with(tmp_path, files), "EGG-CFG-033")
    assert (f.severity, f.confidence) == ("low", "low")


# ---- bad input --------------------------------------------------------------------------------------
def test_hostile_sources_do_not_stop_the_checks(tmp_path):
    long_concat = "ctx.redirect(" + " + ".join(["ctx.query.a"] + ["'x'"] * 3000) + ");"
    files = {HOME: controller(long_concat),
             "app/controller/broken.js": "module.exports = app => { ctx.redirect(ctx.query.x ;",
             "app/controller/binary.js": "\x00\x01\x02 not js",
             D: cfg("exports.multipart = { whitelist: () => true };")}
    result = scan(app_with(tmp_path, files), env="prod")
    rules = {f.rule_id for f in result.report.findings}
    assert {"EGG-CFG-032", "EGG-CFG-023"} <= rules
    assert any("broken.js" in p.path for p in result.problems)
    assert not [p for p in result.problems if p.message.startswith("check ")]


# ---- quality bar: a hardened app ----------------------------------------------------------------------
HARDENED = {
    D: """'use strict';
module.exports = appInfo => {
  const config = exports = {};
  config.keys = process.env.EGG_KEYS;
  config.proxy = true;
  config.session = {
    httpOnly: true, encrypt: true, secure: true, sameSite: 'lax', maxAge: 2 * 3600 * 1000, renew: true,
  };
  config.security = {
    domainWhiteList: [ '.example.com' ],
    ssrf: { ipBlackList: [ '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '169.254.0.0/16' ] },
  };
  config.bodyParser = { jsonLimit: '1mb', formLimit: '1mb' };
  config.multipart = { whitelist: [ '.png', '.jpg', '.jpeg', '.pdf' ], fileSize: '10mb' };
  const allowed = new Set([ 'https://app.example.com' ]);
  config.cors = { origin: ctx => (allowed.has(ctx.get('origin')) ? ctx.get('origin') : ''), credentials: true };
  return config;
};
""",
    PLUGIN: CORS_PLUGIN,
    HOME: controller("ctx.session.user = 1;\n    await ctx.safeCurl(ctx.query.feed);\n    ctx.redirect(ctx.query.next);"),
    "app/controller/upload.js": """const fs = require('fs');
const path = require('path');
module.exports = app => class extends app.Controller {
  async upload() {
    const stream = await this.ctx.getFileStream();
    stream.pipe(fs.createWriteStream(path.join(this.config.baseDir, 'app/public', String(Date.now()))));
  }
};
""",
}


@pytest.mark.parametrize("egg", ["^3.17.0", "^4.0.10"])
def test_hardened_app_has_nothing_at_medium_or_above(tmp_path, egg):
    result = scan(app_with(tmp_path, HARDENED, egg=egg), env="prod")
    mine = [f for f in result.report.findings if "EGG-CFG-010" <= f.rule_id <= "EGG-CFG-039"]
    loud = [(f.rule_id, f.severity, f.message) for f in mine if SEVERITY_RANK[f.severity] >= SEVERITY_RANK["medium"]]
    assert loud == []
    assert not [p for p in result.problems if p.message.startswith("check ")]


def test_hardened_app_without_its_hardening_is_loud(tmp_path):
    """The hardened fixture is quiet because of its settings, not because the rules cannot see it."""
    weakened = dict(HARDENED)
    weakened[D] = (HARDENED[D].replace("encrypt: true", "encrypt: false").replace("[ '.example.com' ]", "[]")
                   .replace("ipBlackList: [", "ipBlackListOff: [").replace("whitelist: [ '.png', '.jpg', '.jpeg', '.pdf' ]",
                                                                               "fileExtensions: [ '.html' ]"))
    result = scan(app_with(tmp_path, weakened), env="prod")
    rules = {f.rule_id for f in result.report.findings if SEVERITY_RANK[f.severity] >= SEVERITY_RANK["medium"]}
    assert {"EGG-CFG-011", "EGG-CFG-024", "EGG-CFG-025", "EGG-CFG-032", "EGG-CFG-033"} <= rules


def test_rule_pages_have_every_section():
    from eggshield.checks.registry import REGISTRY, all_rules

    all_rules()
    for rid in ("EGG-CFG-030", "EGG-CFG-031", "EGG-CFG-032", "EGG-CFG-033"):
        doc = REGISTRY[rid].doc
        for section in ("## What", "## Why it matters", "## How to fix", "```", "## Not reported", "## References"):
            assert section in doc, (rid, section)
        assert "{fix}" not in doc


# ---- Egg is the oracle: what real egg 3 + egg-cors servers do with these settings ----------------------
RECORDINGS = __import__("pathlib").Path(__file__).parent / "fixtures" / "live-config-rules"
LIVE_CONTROLLER = """module.exports = app => class extends app.Controller {
  async ping() { this.ctx.body = 'pong-internal'; }
  async go() { this.ctx.redirect(this.ctx.query.next); }
  async fetch() {
    try {
      const res = await this.ctx.safeCurl(this.ctx.query.url, { dataType: 'text', timeout: 3000 });
      this.ctx.body = res.data;
    } catch (err) {
      this.ctx.status = 502;
      this.ctx.body = `${err.name}: ${err.message}`;
    }
  }
};
"""
LIVE_ROUTER = ("module.exports = app => {\n  const { router, controller } = app;\n"
               "  router.get('/ping', controller.home.ping);\n  router.get('/go', controller.home.go);\n"
               "  router.get('/fetch', controller.home.fetch);\n};\n")
LIVE_KEYS = "exports.keys = 'live-test-key-not-a-secret-0123456789';\n"
LIVE_OPEN = {D: LIVE_KEYS + "exports.cors = { origin: '*', credentials: true };\n",
             PLUGIN: CORS_PLUGIN, HOME: LIVE_CONTROLLER, "app/router.js": LIVE_ROUTER}
LIVE_HARDENED = {D: LIVE_KEYS + "const ok = new Set(['https://app.example.com']);\n"
                    "exports.cors = { origin: ctx => (ok.has(ctx.get('origin')) ? ctx.get('origin') : ''), credentials: true };\n"
                    "exports.security = { domainWhiteList: ['.example.com'], ssrf: { ipBlackList: ['127.0.0.0/8'] } };\n",
                 PLUGIN: CORS_PLUGIN, HOME: LIVE_CONTROLLER, "app/router.js": LIVE_ROUTER}
LIVE_PKG = {"dependencies": {"egg": "^3.17.0", "egg-cors": "^3.0.1"}}
EVIL = "https://evil.example"


def _live_requests():
    from eggrt.observe import Req

    return [Req("/ping", headers={"Origin": EVIL}),
            Req("/go?next=" + EVIL + "/phish", headers={"Accept": "application/json"}),
            Req("/fetch?url={base}%2Fping", headers={"Accept": "application/json"})]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from eggrt.observe import observe

    out = {}
    for name, files in (("open", LIVE_OPEN), ("hardened", LIVE_HARDENED)):
        app = make_app(tmp_path_factory.mktemp(name) / "app", files, name="live", pkg=LIVE_PKG)
        out[name] = (app, observe(app, _live_requests(), RECORDINGS / f"cors-redirect-ssrf-{name}.json"))
    return out


def test_real_egg_reflects_any_origin_with_credentials_and_we_say_so(live):
    app, (cors, _, _) = live["open"]
    assert cors.headers.get("access-control-allow-origin") == EVIL
    assert cors.headers.get("access-control-allow-credentials") == "true"
    assert [f.severity for f in findings(app, "EGG-CFG-030")] == ["high"]
    hardened_app, (cors_ok, _, _) = live["hardened"]
    assert "access-control-allow-origin" not in cors_ok.headers
    assert findings(hardened_app, "EGG-CFG-030") == []


def test_real_egg_redirects_anywhere_with_an_empty_domain_white_list_and_we_say_so(live):
    app, (_, go, _) = live["open"]
    assert go.status == 302 and go.headers["location"] == EVIL + "/phish"
    assert [f.location.line for f in findings(app, "EGG-CFG-032")] == [3]
    hardened_app, (_, blocked, _) = live["hardened"]
    assert blocked.headers.get("location", "") != EVIL + "/phish"  # NODE_ENV is not production here: a 500
    assert findings(hardened_app, "EGG-CFG-032") == []


def test_real_safe_curl_fetches_internal_addresses_without_ssrf_config_and_we_say_so(live):
    app, (_, _, fetched) = live["open"]
    assert fetched.status == 200 and fetched.body == "pong-internal"
    assert [f.severity for f in findings(app, "EGG-CFG-033")] == ["high"]
    hardened_app, (_, _, refused) = live["hardened"]
    assert refused.status == 502 and "pong-internal" not in refused.body
    assert "illegal" in refused.body.lower()  # refused by egg-security's address check, not some other failure
    assert findings(hardened_app, "EGG-CFG-033") == []
