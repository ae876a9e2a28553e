"""Usage detection: every form real Egg apps use to reach a plugin, each with a near miss that must not count."""

from __future__ import annotations

import pytest

from plugin_helpers import audit_files, plugin_js

MYSQL = plugin_js(mysql="{ enable: true, package: 'egg-mysql' }")
SVC = "app/service/user.js"


def service(body: str) -> str:
    return ("'use strict';\nconst { Service } = require('egg');\nclass UserService extends Service {\n"
            f"  async find(id) {{\n    {body}\n  }}\n}}\nmodule.exports = UserService;\n")


@pytest.mark.parametrize("body", [
    "return this.app.mysql.query('select 1');",
    "return this.app.mysql.get('db1').query('select 1');",  # multi-client form
    "const { mysql } = this.app; return mysql.query('x');",
    "const { app: { mysql } } = this; return mysql.query('x');",
    "const { app } = this; return app.mysql.query('x');",
    "return this.ctx.app.mysql.query('x');",
    "return this.app['mysql'].query('x');",
    "const db = this.app.mysql; return db.query('x');",
])
def test_mysql_use_forms_count(tmp_path, body):
    audit = audit_files(tmp_path, {"config/plugin.js": MYSQL, SVC: service(body)})
    row = audit.rows["mysql"]
    assert row.usage.state == "used"
    assert row.usage.first.path == SVC and row.usage.first.line == 5


@pytest.mark.parametrize("body", [
    "return this.app.config.mysql.client.host;",  # reading its config is not using it
    "return this.app.get('/mysql', () => {});",  # app.get registers a route in Egg, it is no lookup
    "// this.app.mysql.query('x')\n    return 1;",  # a comment
    "return 'this.app.mysql';",  # a string
    "const { mysql } = this.config; return mysql;",  # destructured from config, not from app
    "return this.ctx.service.mysql.find();",  # an app service that happens to be called mysql
])
def test_mysql_near_misses_do_not_count(tmp_path, body):
    audit = audit_files(tmp_path, {"config/plugin.js": MYSQL, SVC: service(body)})
    row = audit.rows["mysql"]
    assert row.usage.state == "unused" and row.usage.confidence == "high"


def test_use_through_service_indirection_points_at_the_service(tmp_path):
    """The controller calls the service; the service reaches app.mysql: the evidence is the service line."""
    audit = audit_files(tmp_path, {
        "config/plugin.js": MYSQL,
        "app/controller/user.js": "module.exports = app => class extends app.Controller {\n"
                                  "  async show() { this.ctx.body = await this.ctx.service.user.find(1); }\n};\n",
        SVC: service("return this.app.mysql.get('users', { id });"),
    })
    assert str(audit.rows["mysql"].usage.first) == "app/service/user.js:5 (app.mysql)"


def test_typescript_forms(tmp_path):
    audit = audit_files(tmp_path, {
        "config/plugin.ts": "export default { redis: { enable: true, package: 'egg-redis' },\n"
                            "  validate: { enable: true, package: 'egg-validate' } };\n",
        "tsconfig.json": "{}",
        "app/service/cache.ts": "import { Service } from 'egg';\nexport default class Cache extends Service {\n"
                                "  async get(k: string) { return (this.app as any).redis.get(k); }\n}\n",
        "app/controller/home.ts": "import { Controller } from 'egg';\nexport default class Home extends Controller {\n"
                                  "  async index() { this.ctx!.validate({ id: 'int' }); }\n}\n",
    })
    assert audit.rows["redis"].usage.first.path == "app/service/cache.ts"
    assert audit.rows["validate"].usage.first.what == "ctx.validate"


def test_tegg_injection_counts(tmp_path):
    audit = audit_files(tmp_path, {
        "config/plugin.ts": "export default { redis: { enable: true, package: '@eggjs/redis' } };\n",
        "tsconfig.json": "{}",
        "app/infra/Cache.ts": "import { Inject, SingletonProto } from 'egg';\n@SingletonProto()\n"
                              "export class Cache {\n  @Inject()\n  private readonly redis: any;\n}\n",
    }, egg="^4.0.0")
    assert audit.rows["redis"].usage.state == "used"


def test_injection_of_another_name_does_not_count(tmp_path):
    audit = audit_files(tmp_path, {
        "config/plugin.ts": "export default { redis: { enable: true, package: '@eggjs/redis' } };\n",
        "tsconfig.json": "{}",
        "app/infra/Cache.ts": "import { Inject } from 'egg';\nexport class Cache {\n  @Inject()\n"
                              "  private readonly cacheService: any;\n}\n",
    }, egg="^4.0.0")
    assert audit.rows["redis"].usage.state == "unused"


@pytest.mark.parametrize("code,used", [
    ("const User = ctx.model.User; await User.findAll();", True),
    ("await this.ctx.model.User.findOne();", True),
    ("await ctx.service.user.list();", False),
])
def test_ctx_model_for_sequelize(tmp_path, code, used):
    audit = audit_files(tmp_path, {
        "config/plugin.js": plugin_js(sequelize="{ enable: true, package: 'egg-sequelize' }"),
        "app/controller/user.js": f"module.exports = {{ async list(ctx) {{ {code} }} }};\n",
    })
    assert (audit.rows["sequelize"].usage.state == "used") is used


def test_model_files_count_for_sequelize(tmp_path):
    audit = audit_files(tmp_path, {
        "config/plugin.js": plugin_js(sequelize="{ enable: true, package: 'egg-sequelize' }"),
        "app/model/user.js": "module.exports = app => app.model.define('user', {});\n",
    })
    assert audit.rows["sequelize"].usage.first.path == "app/model/user.js"


# ---- middleware-like plugins and the router ---------------------------------------------------------
@pytest.mark.parametrize("router,used", [
    ("router.get('/me', app.jwt, controller.user.me);", True),
    ("router.get('/me', app.middleware.jwt(), controller.user.me);", True),
    ("const { middleware } = app; router.get('/me', middleware.jwt(), controller.user.me);", True),
    ("router.get('/me', app.middleware.auth(), controller.user.me);", False),
])
def test_jwt_in_router(tmp_path, router, used):
    audit = audit_files(tmp_path, {
        "config/plugin.js": plugin_js(jwt="{ enable: true, package: 'egg-jwt' }"),
        "app/router.js": f"module.exports = app => {{ const {{ router, controller }} = app; {router} }};\n",
    })
    assert (audit.rows["jwt"].usage.state == "used") is used


def test_jwt_middleware_turned_on_by_config(tmp_path):
    audit = audit_files(tmp_path, {
        "config/plugin.js": plugin_js(jwt="{ enable: true, package: 'egg-jwt' }"),
        "config/config.default.js": "exports.jwt = { secret: process.env.JWT, enable: true, match: '/api' };\n",
    })
    assert audit.rows["jwt"].usage.first.what == "config jwt.enable = true"


def test_jwt_secret_alone_is_not_a_use(tmp_path):
    audit = audit_files(tmp_path, {
        "config/plugin.js": plugin_js(jwt="{ enable: true, package: 'egg-jwt' }"),
        "config/config.default.js": "exports.jwt = { secret: process.env.JWT };\n",
    })
    assert audit.rows["jwt"].usage.state == "unused"


def test_cors_used_through_config_or_domain_white_list(tmp_path):
    cors = plugin_js(cors="{ enable: true, package: 'egg-cors' }")
    by_origin = audit_files(tmp_path / "a", {"config/plugin.js": cors,
                                             "config/config.prod.js": "exports.cors = { origin: 'https://a.example' };\n"})
    by_list = audit_files(tmp_path / "b", {"config/plugin.js": cors, "config/config.default.js":
                                           "exports.security = { domainWhiteList: ['.example.com'] };\n"})
    empty = audit_files(tmp_path / "c", {"config/plugin.js": cors, "config/config.default.js":
                                         "exports.cors = {};\nexports.security = { domainWhiteList: [] };\n"})
    assert by_origin.rows["cors"].usage.state == "used"
    assert by_list.rows["cors"].usage.state == "used"
    assert empty.rows["cors"].usage.state == "unused"


# ---- view engines -------------------------------------------------------------------------------------
NUNJUCKS = plugin_js(nunjucks="{ enable: true, package: 'egg-view-nunjucks' }")


def test_view_engine_used_when_mapped_and_rendered(tmp_path):
    audit = audit_files(tmp_path, {
        "config/plugin.js": NUNJUCKS,
        "config/config.default.js": "exports.view = { mapping: { '.nj': 'nunjucks' } };\n",
        "app/controller/home.js": "exports.index = async ctx => { await ctx.render('home.nj'); };\n",
        "app/view/home.nj": "<h1>{{ title }}</h1>\n",
    })
    assert audit.rows["nunjucks"].usage.state == "used"
    assert audit.rows["view"].usage.state == "used"


def test_view_engine_with_templates_but_no_render_call_is_used_with_medium_confidence(tmp_path):
    audit = audit_files(tmp_path, {
        "config/plugin.js": NUNJUCKS,
        "config/config.default.js": "exports.view = { defaultViewEngine: 'nunjucks' };\n",
        "app/view/index.html": "<p>hi</p>\n",
    })
    usage = audit.rows["nunjucks"].usage
    assert usage.state == "used" and usage.confidence == "medium" and usage.first.path == "app/view/index.html"


def test_view_engine_never_mapped_is_unused(tmp_path):
    audit = audit_files(tmp_path, {
        "config/plugin.js": NUNJUCKS,
        "app/controller/home.js": "exports.index = async ctx => { await ctx.render('home.ejs'); };\n",
    })
    usage = audit.rows["nunjucks"].usage
    assert usage.state == "unused" and "never picks it" in usage.reason
    assert audit.rows["view"].usage.state == "used"  # ctx.render is egg-view's


def test_view_engine_named_in_render_string(tmp_path):
    audit = audit_files(tmp_path, {
        "config/plugin.js": NUNJUCKS,
        "app/service/mail.js": "module.exports = app => class extends app.Service {\n"
                               "  body(t) { return this.ctx.renderString(t, {}, { viewEngine: 'nunjucks' }); }\n};\n",
    })
    assert audit.rows["nunjucks"].usage.first.line == 2


# ---- framework defaults: reasoned rules -----------------------------------------------------------
def test_always_active_framework_plugins_are_never_unused(tmp_path):
    audit = audit_files(tmp_path, {"config/config.default.js": "exports.keys = 'x';\n"})
    for name in ("onerror", "security", "logrotator", "watcher"):
        assert audit.rows[name].usage.state == "active", name
    assert audit.rows["schedule"].usage.state == "required"  # logrotator needs it
    assert audit.rows["development"].enabled is False  # env local only


@pytest.mark.parametrize("code", ["ctx.session.user = 1;", "const { session } = ctx; session.x = 1;"])
def test_session_used_by_code(tmp_path, code):
    audit = audit_files(tmp_path, {"app/middleware/who.js": f"module.exports = () => async (ctx, next) => {{ {code} await next(); }};\n"})
    assert audit.rows["session"].usage.state == "used"


def test_cookies_are_egg_core_not_the_session_plugin(tmp_path):
    audit = audit_files(tmp_path, {"app/controller/a.js": "exports.a = async ctx => { ctx.cookies.set('a', 'b'); };\n"})
    assert audit.rows["session"].usage.state == "unused"


def test_session_required_by_passport(tmp_path):
    audit = audit_files(tmp_path, {"config/plugin.js": plugin_js(passport="{ enable: true, package: 'egg-passport' }")})
    assert audit.rows["session"].usage.state == "required"
    assert "passport" in audit.rows["session"].usage.reason


@pytest.mark.parametrize("files", [
    {"app/controller/a.js": "exports.a = async ctx => { ctx.body = ctx.__('Hello'); };\n"},
    {"app/controller/a.js": "exports.a = async ctx => { ctx.body = ctx.gettext('Hello'); };\n"},
    {"app/view/a.html": "<p>{{ __('Email') }}</p>\n"},
    {"config/locale/zh-CN.js": "module.exports = { Email: '邮箱' };\n"},
])
def test_i18n_reasoned_rule(tmp_path, files):
    assert audit_files(tmp_path, files).rows["i18n"].usage.state == "used"


def test_i18n_unused_when_nothing_translates(tmp_path):
    audit = audit_files(tmp_path, {"app/view/a.html": "<p>{{ title }}</p>\n",
                                   "app/controller/a.js": "exports.a = async ctx => { ctx.body = 'x'; };\n"})
    assert audit.rows["i18n"].usage.state == "unused"


def test_static_used_only_when_its_dir_has_files(tmp_path):
    with_files = audit_files(tmp_path / "a", {"app/public/app.css": "body{}\n"})
    without = audit_files(tmp_path / "b", {"config/config.default.js": "exports.keys = 'x';\n"})
    assert with_files.rows["static"].usage.state == "used"
    assert without.rows["static"].usage.state == "unused"


def test_static_dir_outside_the_app_is_unknown_not_unused(tmp_path):
    audit = audit_files(tmp_path / "app", {"config/config.default.js":
                                           "const path = require('path');\nmodule.exports = appInfo => ({ static: "
                                           "{ dir: path.join(appInfo.baseDir, '../shared/public') } });\n"})
    assert audit.rows["static"].usage.state == "unknown"


@pytest.mark.parametrize("router,used", [
    ("router.get('/api/list', app.jsonp(), controller.list);", True),
    ("router.get('/api/list', controller.list);", False),
])
def test_jsonp_only_when_mounted(tmp_path, router, used):
    audit = audit_files(tmp_path, {"app/router.js": f"module.exports = app => {{ const {{ router, controller }} = app; {router} }};\n"})
    assert (audit.rows["jsonp"].usage.state == "used") is used


@pytest.mark.parametrize("files,used", [
    ({"app/controller/u.js": "exports.u = async ctx => { const s = await ctx.getFileStream(); };\n"}, True),
    ({"app/controller/u.js": "exports.u = async ctx => { for await (const p of ctx.multipart()) {} };\n"}, True),
    ({"app/controller/u.js": "exports.u = async ctx => { const f = ctx.request.files[0]; };\n"}, True),
    ({"config/config.default.js": "exports.multipart = { mode: 'file' };\n"}, True),
    ({"config/config.default.js": "exports.multipart = { fileSize: '1mb' };\n"}, False),
    ({"app/controller/u.js": "exports.u = async ctx => { const b = ctx.request.body; };\n"}, False),
])
def test_multipart_reasoned_rule(tmp_path, files, used):
    assert (audit_files(tmp_path, files).rows["multipart"].usage.state == "used") is used


def test_schedule_files_and_logrotator(tmp_path):
    audit = audit_files(tmp_path, {
        "config/plugin.js": plugin_js(logrotator="false"),
        "app/schedule/cleanup.js": "module.exports = { schedule: { interval: '1h', type: 'worker' }, async task() {} };\n",
    })
    assert audit.rows["schedule"].usage.first.path == "app/schedule/cleanup.js"
    bare = audit_files(tmp_path / "b", {"config/plugin.js": plugin_js(logrotator="false")})
    assert bare.rows["schedule"].usage.state == "unused"


@pytest.mark.parametrize("files,used", [
    ({"app/io/controller/chat.js": "module.exports = app => class extends app.Controller {};\n"}, True),
    ({"app/router.js": "module.exports = app => { app.io.route('chat', app.io.controller.chat.ping); };\n"}, True),
    ({"app/router.js": "module.exports = app => { app.router.get('/', app.controller.home.index); };\n"}, False),
])
def test_socket_io(tmp_path, files, used):
    files = {"config/plugin.js": plugin_js(io="{ enable: true, package: 'egg-socket.io' }"), **files}
    assert (audit_files(tmp_path, files).rows["io"].usage.state == "used") is used


@pytest.mark.parametrize("router,used", [
    ("router.get('/passport/github', app.passport.authenticate('github'));", True),
    ("app.passport.mount('github');", True),
    ("app.passport.mount('weibo');", False),
])
def test_passport_strategy(tmp_path, router, used):
    audit = audit_files(tmp_path, {
        "config/plugin.js": plugin_js(passport="{ enable: true, package: 'egg-passport' }",
                                      passportGithub="{ enable: true, package: 'egg-passport-github' }"),
        "app/router.js": f"module.exports = app => {{ const {{ router }} = app; {router} }};\n",
    })
    assert (audit.rows["passportGithub"].usage.state == "used") is used
    assert audit.rows["passport"].usage.state == "used"  # app.passport is reached either way


def test_use_inside_the_plugins_own_directory_does_not_count(tmp_path):
    """A local plugin that reaches its own API is not the app using it."""
    audit = audit_files(tmp_path, {
        "config/plugin.js": "const path = require('path');\n"
                            "exports.audit = { enable: true, path: path.join(__dirname, '../lib/plugin/egg-audit') };\n",
        "lib/plugin/egg-audit/package.json": '{"name": "egg-audit", "eggPlugin": {"name": "audit"}}',
        "lib/plugin/egg-audit/app/extend/application.js": "module.exports = { get auditLog() { return 1; } };\n",
        "lib/plugin/egg-audit/app/extend/context.js": "module.exports = { audit() { return this.app.auditLog; } };\n",
    })
    row = audit.rows["audit"]
    assert row.spec.derived and row.usage.state == "unused" and row.usage.confidence == "medium"
    used = audit_files(tmp_path / "b", {
        "config/plugin.js": "const path = require('path');\n"
                            "exports.audit = { enable: true, path: path.join(__dirname, '../lib/plugin/egg-audit') };\n",
        "lib/plugin/egg-audit/package.json": '{"name": "egg-audit", "eggPlugin": {"name": "audit"}}',
        "lib/plugin/egg-audit/app/extend/context.js": "module.exports = { audit() { return 1; } };\n",
        "app/controller/a.js": "exports.a = async ctx => { ctx.audit(); };\n",
    })
    assert used.rows["audit"].usage.first.path == "app/controller/a.js"


def test_local_plugin_that_installs_middleware_is_active(tmp_path):
    audit = audit_files(tmp_path, {
        "config/plugin.js": "const path = require('path');\n"
                            "exports.ads = { enable: true, path: path.join(__dirname, '../lib/plugin/egg-ads') };\n",
        "lib/plugin/egg-ads/package.json": '{"name": "egg-ads", "eggPlugin": {"name": "ads"}}',
        "lib/plugin/egg-ads/app.js": "class Boot { constructor(app) { this.app = app; }\n"
                                     "  configWillLoad() { this.app.config.middleware.push('adsRouter'); } }\n"
                                     "module.exports = Boot;\n",
        "lib/plugin/egg-ads/app/middleware/ads_router.js": "module.exports = () => async (ctx, next) => next();\n",
    })
    usage = audit.rows["ads"].usage
    assert usage.state == "active" and usage.first.where == "lib/plugin/egg-ads/app.js:2"


def test_static_dir_the_app_sets_but_does_not_ship_is_unknown(tmp_path):
    """A build output (nuxt, webpack) is not in the source tree: not proof that static is unused."""
    audit = audit_files(tmp_path, {"config/config.default.js": "const path = require('path');\n"
                                   "module.exports = appInfo => ({ static: { dir: path.join(appInfo.baseDir, 'dist') } });\n"})
    usage = audit.rows["static"].usage
    assert usage.state == "unknown" and "config/config.default.js:2" in usage.reason


def test_tegg_controller_decorators(tmp_path):
    files = {"config/plugin.ts": "export default { tegg: { enable: true, package: '@eggjs/tegg-plugin' },\n"
                                 "  teggController: { enable: true, package: '@eggjs/tegg-controller-plugin' } };\n",
             "tsconfig.json": "{}"}
    used = audit_files(tmp_path / "a", {**files, "app/module/foo/Ctl.ts":
                                        "import { HTTPController } from '@eggjs/tegg';\n"
                                        "@HTTPController({ path: '/foo' })\nexport class Ctl {}\n"})
    unused = audit_files(tmp_path / "b", files)
    assert used.rows["teggController"].usage.state == "used"
    assert used.rows["tegg"].usage.state == "active"
    assert unused.rows["teggController"].usage.state == "unused"


def test_upper_framework_lowers_confidence_of_unused(tmp_path):
    audit = audit_files(tmp_path, {"config/config.default.js": "exports.keys = 'x';\n"},
                        pkg={"dependencies": {"egg": "^3.17.0", "my-framework": "^1.0.0"},
                             "egg": {"framework": "my-framework"}})
    usage = audit.rows["jsonp"].usage
    assert usage.state == "unused" and usage.confidence == "medium" and "my-framework" in usage.reason


def test_code_using_a_plugin_that_is_off_becomes_a_note(tmp_path):
    audit = audit_files(tmp_path, {"app/service/a.js": "module.exports = app => class extends app.Service {\n"
                                   "  q() { return this.app.mysql.query('x'); }\n};\n"})
    assert any(n.startswith("app/service/a.js:2 uses app.mysql") and "not enabled" in n for n in audit.notes)
    disabled = audit_files(tmp_path / "b", {"config/plugin.js": plugin_js(jsonp="false"),
                                            "app/router.js": "module.exports = app => { app.router.get('/x', app.jsonp(), 'a'); };\n"})
    assert any("uses app.jsonp" in n and "is disabled" in n for n in disabled.notes)
