"""Secure error handling (EGG-ERR-001 … 006): each rule fires where it must and stays quiet on near misses;
real Egg servers show that what the rules claim is what a client receives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import appfactory
from appfactory import make_app
from appfactory import rule_findings as findings
from eggshield.checks.registry import REGISTRY, all_rules
from eggshield.pipeline import scan

D, PROD, LOCAL, PLUGIN = appfactory.D, appfactory.PROD, appfactory.LOCAL, appfactory.PLUGIN
KEYS = appfactory.KEYS
RECORDINGS = Path(__file__).parent / "fixtures" / "live-config-rules"




def app(tmp_path, files, **kw):
    return make_app(tmp_path, {D: KEYS, **files}, **kw)


# ---- EGG-ERR-001 ------------------------------------------------------------------------------
def onerror(body: str) -> str:
    return KEYS + "exports.onerror = {\n" + body + "\n};\n"


@pytest.mark.parametrize("body,handler,severity,line", [
    ("  json(err, ctx) {\n    ctx.status = 200;\n    ctx.body = { success: false, message: err.message };\n  },",
     "json", "medium", 5),  # midwayjs/sandbox
    ("  all(err, ctx) {\n    ctx.body = err.stack;\n  },", "all", "high", 4),
    ("  html: function (err) {\n    this.body = '<pre>' + err.stack + '</pre>';\n  },", "html", "high", 4),
    ("  text: (err, ctx) => {\n    const { message } = err;\n    ctx.body = `failed: ${message}`;\n  },",
     "text", "medium", 5),
    ("  json(e, ctx) {\n    const body = { code: 500 };\n    body.detail = e.sql;\n    ctx.body = body;\n  },",
     "json", "medium", 6),
])
def test_onerror_handler_leak_fires(tmp_path, body, handler, severity, line):
    [f] = findings(app(tmp_path, {D: onerror(body)}), "EGG-ERR-001")
    assert (f.severity, f.cwe, f.strategy, f.config_key) == (severity, 209, 7, f"onerror.{handler}")
    assert (f.location.path, f.location.line) == (D, line)
    assert "body" in f.evidence


@pytest.mark.parametrize("files", [
    {D: onerror("  json(err, ctx) {\n    ctx.body = { message: err.expose ? err.message : 'Internal Server Error' };\n  },")},
    {D: onerror("  json(err, ctx) {\n    const status = err.status || 500;\n"
                "    ctx.body = { message: status < 500 ? err.message : 'Internal Server Error' };\n  },")},
    {D: onerror("  all(err, ctx) {\n    if (ctx.app.config.env === 'local') { ctx.body = err.stack; return; }\n"
                "    ctx.body = 'Internal Server Error';\n  },")},
    {D: onerror("  json(err, ctx) {\n    ctx.logger.error(err.stack);\n    ctx.body = { code: err.code, errors: err.errors };\n  },")},
    {LOCAL: "exports.onerror = { all(err, ctx) { ctx.body = err.stack; } };"},
    {D: onerror("  errorPageUrl: '/50x.html',")},
])
def test_onerror_handler_near_misses(tmp_path, files):
    assert findings(app(tmp_path, files), "EGG-ERR-001") == []


def test_onerror_handler_in_typescript_config(tmp_path):
    root = app(tmp_path, {"config/config.default.ts":
                          "export default () => ({\n  onerror: {\n    json(err: Error, ctx: any) {\n"
                          "      ctx.body = { message: err.message };\n    },\n  },\n});\n"},
               pkg={"egg": {"typescript": True}})
    [f] = findings(root, "EGG-ERR-001")
    assert (f.location.path, f.location.line) == ("config/config.default.ts", 4)


def test_onerror_handler_only_in_local_is_low_in_local(tmp_path):
    root = app(tmp_path, {LOCAL: "exports.onerror = {\n  all(err, ctx) { ctx.body = err.stack; },\n};"})
    [f] = findings(root, "EGG-ERR-001", env="local")
    assert f.severity == "low" and f.env == "local"


# ---- EGG-ERR-002 ------------------------------------------------------------------------------
SHOP_HANDLER = ("module.exports = () => {\n  return async function errorHandler(ctx, next) {\n    try {\n"
                "      await next();\n    } catch (err) {\n      ctx.app.emit('error', err, ctx);\n"
                "      ctx.status = err.status || 500;\n      ctx.body = { error: err.message, stack: err.stack };\n"
                "    }\n  };\n};\n")
DOCS_HANDLER = ("module.exports = () => async function errorHandler(ctx, next) {\n  try {\n    await next();\n"
                "  } catch (err) {\n    ctx.app.emit('error', err, ctx);\n    const status = err.status || 500;\n"
                "    const error = status === 500 && ctx.app.config.env === 'prod' ? 'Internal Server Error' : err.message;\n"
                "    ctx.body = { error };\n    if (status === 422) { ctx.body.detail = err.errors; }\n"
                "    ctx.status = status;\n  }\n};\n")
MW = "app/middleware/error_handler.js"


def test_middleware_leak_fires_high_when_mounted(tmp_path):
    root = app(tmp_path, {D: KEYS + "exports.middleware = [ 'errorHandler' ];", MW: SHOP_HANDLER})
    [f] = findings(root, "EGG-ERR-002")
    assert (f.severity, f.confidence, f.cwe, f.location.path, f.location.line) == ("high", "high", 209, MW, 8)
    assert "config.middleware" in f.message and "stack trace" in f.message


def test_middleware_mounted_in_router_and_message_only_is_medium(tmp_path):
    root = app(tmp_path, {
        "app/middleware/api_error.js": "module.exports = () => async (ctx, next) => {\n  await next().catch(e => {\n"
                                       "    ctx.status = 500;\n    ctx.body = { msg: e.message };\n  });\n};\n",
        "app/router.js": "module.exports = app => {\n  app.router.get('/api', app.middleware.apiError(), 'home.index');\n};\n"})
    [f] = findings(root, "EGG-ERR-002")
    assert (f.severity, f.location.line) == ("medium", 4) and "app/router.js:2" in f.message


def test_middleware_not_mounted_or_disabled_is_low_needs_review(tmp_path):
    unmounted = app(tmp_path / "a", {MW: SHOP_HANDLER})
    [f] = findings(unmounted, "EGG-ERR-002")
    assert (f.severity, f.confidence) == ("low", "low") and "not mounted" in f.message
    disabled = app(tmp_path / "b", {D: KEYS + "exports.middleware = ['errorHandler'];\n"
                                             "exports.errorHandler = { enable: false };", MW: SHOP_HANDLER})
    [g] = findings(disabled, "EGG-ERR-002")
    assert (g.severity, g.confidence) == ("low", "low") and "switched off" in g.message


@pytest.mark.parametrize("source", [
    DOCS_HANDLER,  # Egg's documented pattern, as cnodejs/egg-cnode uses it
    "module.exports = () => async (ctx, next) => {\n  try { await next(); } catch (err) {\n"
    "    ctx.logger.error(err);\n    ctx.status = 500;\n    ctx.body = { message: 'Internal Server Error' };\n  }\n};\n",
    "module.exports = () => async (ctx, next) => {\n  try { await next(); } catch (err) {\n"
    "    ctx.throw(500, err.message);\n  }\n};\n",
    "module.exports = () => async (ctx, next) => {\n  try { await next(); } catch (err) {\n"
    "    if (err.status < 500) { ctx.body = { message: err.message }; return; }\n    throw err;\n  }\n};\n",
])
def test_middleware_near_misses(tmp_path, source):
    assert findings(app(tmp_path, {D: KEYS + "exports.middleware = ['errorHandler'];", MW: source}),
                    "EGG-ERR-002") == []


# ---- EGG-ERR-003 ------------------------------------------------------------------------------
VIEW = "exports.view = { defaultViewEngine: 'nunjucks', mapping: { '.html': 'nunjucks' } };\n"


def test_error_page_missing_is_info_for_html_apps(tmp_path):
    [f] = findings(app(tmp_path, {D: KEYS + VIEW}), "EGG-ERR-003")
    assert (f.severity, f.config_key, f.location.path) == ("info", "onerror.errorPageUrl", D)


@pytest.mark.parametrize("files,env", [
    ({D: KEYS + VIEW, PROD: "exports.onerror = { errorPageUrl: '/50x.html' };"}, "prod"),
    ({D: KEYS}, "prod"),  # API-only app: no HTML error pages
    ({D: KEYS + VIEW}, "local"),
    ({D: KEYS + VIEW + "exports.onerror = { html(err, ctx) { ctx.body = 'Oops'; } };"}, "prod"),
    ({D: KEYS + VIEW + "exports.broken = (;"}, "prod"),  # config unreadable: absence is a guess
])
def test_error_page_near_misses(tmp_path, files, env):
    assert findings(app(tmp_path, files), "EGG-ERR-003", env=env) == []


# ---- EGG-ERR-004 ------------------------------------------------------------------------------
def test_config_env_file_saying_local_fires_high(tmp_path):
    root = app(tmp_path, {"config/env": "local\n"})
    [f] = findings(root, "EGG-ERR-004")
    assert (f.severity, f.confidence, f.cwe, f.location.path, f.location.line) == ("high", "high", 489, "config/env", 1)
    assert "EGG_SERVER_ENV" in f.message


def test_config_env_file_in_gitignore_is_low_confidence(tmp_path):
    root = app(tmp_path, {"config/env": "local", ".gitignore": "node_modules\nconfig/env\n"})
    [f] = findings(root, "EGG-ERR-004")
    assert f.confidence == "low" and ".gitignore" in f.message


@pytest.mark.parametrize("scripts,name,line_has", [
    ({"start": "egg-bin dev"}, "package.json", '"start"'),
    ({"start": "egg-scripts start --daemon --env=local"}, "package.json", '"start"'),
    ({"start": "EGG_SERVER_ENV=local egg-scripts start"}, "package.json", '"start"'),
    ({"docker": "npm run dev", "dev": "egg-bin dev --sticky"}, "package.json", '"docker"'),
])
def test_start_scripts_in_local_fire(tmp_path, scripts, name, line_has):
    root = app(tmp_path, {}, pkg={"scripts": scripts})
    [f] = findings(root, "EGG-ERR-004")
    assert f.location.path == name and f.confidence == "medium" and f.severity == "high"
    line = (root / name).read_text().splitlines()[f.location.line - 1]
    assert line_has in line


def test_dockerfile_running_the_dev_server_fires(tmp_path):
    root = app(tmp_path, {"Dockerfile": "FROM node:18\n# CMD npm start\nCOPY . /app\nCMD BUILD_ENV=docker npm run dev\n"},
               pkg={"scripts": {"dev": "egg-bin dev"}})
    [f] = findings(root, "EGG-ERR-004")
    assert (f.location.path, f.location.line) == ("Dockerfile", 4) and "egg-bin dev" in f.message


@pytest.mark.parametrize("files,scripts,env", [
    ({"config/env": "prod"}, {}, "prod"),
    ({}, {"start": "egg-scripts start --daemon", "dev": "egg-bin dev", "debug": "egg-bin debug",
          "test": "EGG_SERVER_ENV=unittest egg-bin test"}, "prod"),
    ({"docker-compose.dev.yml": "services:\n  app:\n    command: npm run dev\n"}, {"dev": "egg-bin dev"}, "prod"),
    ({"config/env": "local"}, {}, "local"),
])
def test_deployment_env_near_misses(tmp_path, files, scripts, env):
    assert findings(app(tmp_path, files, pkg={"scripts": scripts}), "EGG-ERR-004", env=env) == []


# ---- EGG-ERR-005 ------------------------------------------------------------------------------
def test_development_plugin_widened_to_prod_fires(tmp_path):
    root = app(tmp_path, {PLUGIN: "exports.development = { enable: true, env: [ 'local', 'prod' ] };"})
    [f] = findings(root, "EGG-ERR-005")
    assert (f.severity, f.cwe, f.config_key, f.location.path, f.location.line) == (
        "medium", 489, "plugin.development", PLUGIN, 1)


@pytest.mark.parametrize("files", [{}, {PLUGIN: "exports.development = true;"},
                                   {PLUGIN: "exports.development = { enable: true, env: ['local'] };"}])
def test_development_plugin_near_misses(tmp_path, files):
    assert findings(app(tmp_path, files), "EGG-ERR-005") == []


# ---- EGG-ERR-006 ------------------------------------------------------------------------------
def test_app_debug_flag_is_low_needs_review_with_its_readers(tmp_path):
    root = app(tmp_path, {D: KEYS + "exports.debug = true;",
                          "app/service/mail.js": "module.exports = app => class extends app.Service {\n"
                                                 "  async send() {\n    if (this.config.debug) return;\n  }\n};\n"})
    [f] = findings(root, "EGG-ERR-006")
    assert (f.severity, f.confidence, f.config_key, f.location.line) == ("low", "low", "debug", 2)
    assert "app/service/mail.js:3" in f.message and "config/config.default.js:2" not in f.message


def test_driver_debug_mode_fires(tmp_path):
    [f] = findings(app(tmp_path, {D: KEYS + "exports.mysql = { client: { host: 'db', debug: true } };"}), "EGG-ERR-006")
    assert f.config_key == "mysql.client.debug"


@pytest.mark.parametrize("files", [
    {D: KEYS + "exports.debug = false;"},
    {LOCAL: "exports.debug = true;"},
    {D: KEYS + "exports.debug = true;", PROD: "exports.debug = false;"},
])
def test_debug_flag_near_misses(tmp_path, files):
    assert findings(app(tmp_path, files), "EGG-ERR-006") == []


def test_rule_pages_have_every_section():
    all_rules()
    for rid in ("EGG-ERR-001", "EGG-ERR-002", "EGG-ERR-003", "EGG-ERR-004", "EGG-ERR-005", "EGG-ERR-006"):
        doc = REGISTRY[rid].doc
        for section in ("## What", "## Why it matters", "## How to fix", "```", "## Not reported", "## References"):
            assert section in doc, (rid, section)


# ---- the quality bar: a fully hardened app --------------------------------------------------------
HARDENED = {  # every error, logging and secret setting done right (and the headers and session too)
    "config/config.default.js": """'use strict';

module.exports = appInfo => {
  const config = {};
  config.keys = process.env.EGG_KEYS;
  config.middleware = [ 'errorHandler' ];
  config.view = { defaultViewEngine: 'nunjucks', mapping: { '.html': 'nunjucks' } };
  config.onerror = {
    errorPageUrl: '/50x.html',
    json(err, ctx) {
      const status = err.status || 500;
      ctx.status = status;
      ctx.body = { message: status < 500 && err.expose ? err.message : 'Internal Server Error' };
    },
  };
  config.session = { logValue: false, secure: true, sameSite: 'lax', maxAge: 2 * 3600 * 1000, renew: true };
  config.proxy = true;
  config.security = {
    hsts: { enable: true, maxAge: 31536000, includeSubdomains: true },
    csp: {
      enable: true,
      policy: {
        'default-src': "'self'",
        'script-src': "'self'",
        'object-src': "'none'",
        'base-uri': "'self'",
        'frame-ancestors': "'none'",
      },
    },
    xssProtection: { value: '0' },
  };
  config.customLogger = { securityLogger: { file: 'security.log' } };
  config.mysql = { client: { host: process.env.MYSQL_HOST, user: 'app', password: process.env.MYSQL_PASSWORD } };
  config.jwt = { secret: process.env.JWT_SECRET };
  return config;
};
""",
    "config/config.prod.js": """'use strict';

exports.logger = { level: 'INFO', outputJSON: true };
exports.logrotator = { maxDays: 31 };
""",
    "config/config.local.js": """'use strict';

exports.logger = { level: 'DEBUG' };
exports.debug = true;
exports.mysql = { client: { host: '127.0.0.1', password: '' } };
exports.jwt = { secret: process.env.JWT_SECRET || 'local-dev-secret' };
""",
    "config/plugin.js": "'use strict';\n\nexports.nunjucks = { enable: true, package: 'egg-view-nunjucks' };\n",
    "app/middleware/error_handler.js": """'use strict';

module.exports = () => async function errorHandler(ctx, next) {
  try {
    await next();
  } catch (err) {
    ctx.app.emit('error', err, ctx);
    const status = err.status || 500;
    const error = status === 500 && ctx.app.config.env === 'prod' ? 'Internal Server Error' : err.message;
    ctx.body = { error };
    if (status === 422) ctx.body.detail = err.errors;
    ctx.status = status;
  }
};
""",
    "app/controller/home.js": """'use strict';

module.exports = app => class extends app.Controller {
  async login() {
    this.ctx.session.userId = 'u-1';
    this.ctx.getLogger('securityLogger').info('login user=%s ip=%s', 'u-1', this.ctx.ip);
    this.ctx.body = 'ok';
  }
};
""",
    "app/router.js": "'use strict';\n\nmodule.exports = app => {\n  app.router.post('/login', app.controller.home.login);\n};\n",
    "filebeat.yml": "filebeat.inputs:\n  - type: filestream\n    paths: [ '/home/app/logs/shop/*.json.log' ]\n",
}
HARDENED_PKG = {"scripts": {"start": "egg-scripts start --daemon --env=prod", "dev": "egg-bin dev"},
                "dependencies": {"egg": "^3.17.0", "egg-view-nunjucks": "^2.3.0", "egg-scripts": "^3.1.0"}}
MINE = ("EGG-ERR-", "EGG-LOG-0", "EGG-CFG-04")


def test_hardened_app_has_no_finding_at_medium_or_above(tmp_path):
    root = make_app(tmp_path / "shop", HARDENED, name="shop", pkg=HARDENED_PKG)
    result = scan(root)
    assert not result.problems, result.problems
    loud = [(f.rule_id, f.severity, str(f.location)) for f in result.report.findings
            if f.severity in ("critical", "high", "medium")]
    assert loud == []
    assert [f.rule_id for f in result.report.findings if f.rule_id.startswith(MINE)] == []
    # its development settings (DEBUG, debug flag, a local secret fallback) stay development findings
    local = [f for f in scan(root, env="local").report.findings if f.rule_id.startswith(MINE)]
    assert local and all(f.severity in ("low", "info") for f in local)


# ---- Egg is the oracle: what a real server sends -------------------------------------------------
SECRET_MSG = "ER_ACCESS_DENIED_ERROR for db-7.internal:3306"
BOOM = {"app/controller/home.js": "module.exports = app => class extends app.Controller {\n"
                                  f"  async boom() {{ throw new Error('{SECRET_MSG}'); }}\n}};\n",
        "app/router.js": "module.exports = app => {\n  app.router.get('/boom', app.controller.home.boom);\n"
                         "  app.router.get('/mw/boom', app.middleware.errorHandler(), app.controller.home.boom);\n};\n",
        D: "exports.keys = 'live-test-key-not-a-secret-0123456789';\n"}
JSON_ACCEPT = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def live_errors(tmp_path_factory):
    from eggrt.observe import Req, observe

    variants = {
        "leaky": {MW: SHOP_HANDLER, D: BOOM[D] + "exports.onerror = {\n  json(err, ctx) {\n    ctx.status = 200;\n"
                                                "    ctx.body = { success: false, message: err.message };\n  },\n};\n"},
        "hardened": {MW: DOCS_HANDLER},
        "envfile-local": {MW: DOCS_HANDLER, "config/env": "local\n"},
    }
    out = {}
    for name, extra in variants.items():
        root = make_app(tmp_path_factory.mktemp(name) / "app", {**BOOM, **extra}, name="live")
        reqs = [Req("/boom", headers=JSON_ACCEPT), Req("/mw/boom", headers=JSON_ACCEPT), Req("/boom")]
        out[name] = (root, observe(root, reqs, RECORDINGS / f"errors-{name}.json",
                                   env=None if "config/env" in extra else "prod"))
    return out


def test_custom_onerror_handler_really_sends_the_message_in_prod(live_errors):
    root, (handler, middleware, html) = live_errors["leaky"]
    assert handler.status == 200 and json.loads(handler.body)["message"] == SECRET_MSG
    assert [f.config_key for f in findings(root, "EGG-ERR-001")] == ["onerror.json"]
    _, (default, *_rest) = live_errors["hardened"]
    assert default.status == 500 and SECRET_MSG not in default.body  # Egg's own handler hides it
    assert findings(live_errors["hardened"][0], "EGG-ERR-001") == []


def test_error_middleware_really_sends_stack_and_docs_pattern_does_not(live_errors):
    root, (_, middleware, _html) = live_errors["leaky"]
    body = json.loads(middleware.body)
    assert body["error"] == SECRET_MSG and "at " in body["stack"] and "/app/controller/home.js" in body["stack"]
    assert [f.severity for f in findings(root, "EGG-ERR-002")] == ["high"]
    hardened_root, (_, safe, _html2) = live_errors["hardened"]
    assert safe.status == 500 and json.loads(safe.body) == {"error": "Internal Server Error"}
    assert findings(hardened_root, "EGG-ERR-002") == []


def test_config_env_local_really_serves_debug_pages(live_errors):
    root, (json_err, _mw, html) = live_errors["envfile-local"]
    body = json.loads(json_err.body)  # started with no --env: Egg read config/env
    assert json_err.status == 500 and body["message"] == SECRET_MSG and "/app/controller/home.js" in body["stack"]
    assert html.status == 500 and html.body.startswith("<!DOCTYPE html>")  # the full ErrorView debug page
    assert int(html.headers["content-length"]) > 20_000
    assert [f.location.path for f in findings(root, "EGG-ERR-004")] == ["config/env"]
    _, (_, _, prod_html) = live_errors["hardened"]
    assert prod_html.status == 500 and SECRET_MSG not in prod_html.body


# ---- bad input: one line per broken file, never a crashed check ----------------------------------
def test_broken_files_around_the_error_rules_cost_one_line_each(tmp_path):
    root = app(tmp_path, {D: KEYS + "exports.middleware = ['errorHandler', 'broken'];",
                          MW: SHOP_HANDLER,
                          "app/middleware/broken.js": "module.exports = () => async (ctx, next) => { try {\n",
                          "config/env": "",
                          "Procfile": "",
                          ".gitignore": ""})
    (root / "config" / "env").write_bytes(b"\xff\xfe\x00local\x00")
    (root / "Procfile").write_bytes(b"\x00\x01web: egg-bin dev\x00")
    (root / ".gitignore").write_bytes(b"\xff" * 10)
    result = scan(root)
    assert not [p for p in result.problems if p.message.startswith("check ")]
    assert [p.path for p in result.problems if "syntax error" in p.message] == ["app/middleware/broken.js"]
    assert [f.rule_id for f in result.report.findings if f.rule_id.startswith("EGG-ERR-00")] == [
        "EGG-ERR-002"]  # the readable middleware is still judged; the binary env file and Procfile are not read
