"""Configuration resolution: Egg's file order, merge rules, plugin list and framework defaults."""

from __future__ import annotations

import pytest

from appfactory import make_app
from eggshield.eggconfig import MISSING, resolve
from eggshield.js.values import Unknown
from eggshield.project.discover import discover


def resolved(root, env="prod", scope=""):
    return resolve(discover(root).projects[0], env=env, scope=scope)


def test_framework_defaults_come_with_their_package_as_provenance(tmp_path):
    app = make_app(tmp_path, {"config/config.default.js": "exports.keys = 'x';"})
    rc = resolved(app)
    assert rc.get("security.csrf.enable") is True
    assert rc.get("security.csrf.type") == "ctoken"
    loc = rc.loc("security.csrf.enable")
    assert loc.default and "security" in loc.path
    assert rc.get("bodyParser.jsonLimit") == "1mb"
    assert rc.set_by_app("keys") and rc.loc("keys").path == "config/config.default.js"


def test_env_file_overrides_default_and_local_never_reaches_prod(tmp_path):
    app = make_app(tmp_path, {
        "config/config.default.js": "module.exports = { logger: { level: 'INFO', dir: '/a' }, list: [1, 2, 3] };",
        "config/config.prod.js": "module.exports = { logger: { level: 'WARN' }, list: [9] };",
        "config/config.local.js": "module.exports = { security: { csrf: { enable: false } } };",
    })
    rc = resolved(app)
    assert rc.get("logger.level") == "WARN" and rc.get("logger.dir") == "/a"
    assert rc.get("list") == [9]  # arrays replace, never concatenate
    assert rc.get("security.csrf.enable") is True
    assert rc.files == ["config/config.default.js", "config/config.prod.js"]
    local = resolved(app, env="local")
    assert local.get("security.csrf.enable") is False
    assert local.get("logger.level") == "INFO"


def test_framework_env_layer_comes_after_app_default(tmp_path):
    # egg-static's config.prod sets maxAge after the app's config.default (Egg's order), so the app's
    # default-file value loses in prod.
    app = make_app(tmp_path, {"config/config.default.js": "exports.static = { maxAge: 0 };"})
    assert resolved(app).get("static.maxAge") == 31536000
    assert resolved(app, env="local").get("static.maxAge") == 0


def test_null_overwrites_and_undefined_is_skipped(tmp_path):
    app = make_app(tmp_path, {"config/config.default.js":
                              "exports.security = { csrf: { enable: undefined, cookieDomain: null } };"})
    rc = resolved(app)
    assert rc.get("security.csrf.enable") is True
    assert rc.get("security.csrf.cookieDomain") is None


def test_scope_files_follow_egg_order(tmp_path):
    app = make_app(tmp_path, {
        "config/config.default.js": "exports.a = 'default';",
        "config/config.aliyun.js": "exports.a = 'scope'; exports.b = 'scope';",
        "config/config.prod.js": "exports.a = 'prod';",
        "config/config.aliyun_prod.js": "exports.b = 'scope_env';",
    })
    rc = resolved(app, scope="aliyun")
    assert rc.get("a") == "prod" and rc.get("b") == "scope_env"
    assert resolved(app).get("b") is MISSING


def test_legacy_config_js_used_only_without_config_default(tmp_path):
    app = make_app(tmp_path, {"config/config.js": "exports.keys = 'legacy';"})
    assert resolved(app).get("keys") == "legacy"


def test_plugins_disabled_env_limited_and_implicitly_enabled(tmp_path):
    app = make_app(tmp_path, {
        "config/config.default.js": "exports.keys = 'x';",
        "config/plugin.js": "exports.static = false;\nexports.schedule = { enable: false };\n"
                            "exports.i18n = { enable: true, env: ['local'] };",
    })
    rc = resolved(app)
    assert not rc.plugin_enabled("static")
    assert rc.plugins["static"].source.path == "config/plugin.js" and rc.plugins["static"].source.line == 1
    assert not rc.plugin_enabled("i18n")
    assert not rc.plugin_enabled("development")  # env: ['local'] in the framework
    assert rc.plugin_enabled("schedule") and rc.plugins["schedule"].implicit  # logrotator needs it
    assert any("enabled implicitly" in n and "schedule required by [logrotator]" in n for n in rc.notes)
    assert rc.get("static") is MISSING  # config of a disabled plugin is not loaded
    assert resolved(app, env="local").plugin_enabled("development")


def test_plugin_env_file_and_security_disabled(tmp_path):
    app = make_app(tmp_path, {"config/config.default.js": "exports.keys = 'x';",
                              "config/plugin.prod.js": "exports.security = false;"})
    assert not resolved(app).plugin_enabled("security")
    assert resolved(app).get("security") is MISSING
    assert resolved(app, env="local").plugin_enabled("security")


def test_egg4_session_default_has_no_encrypt(tmp_path):
    app = make_app(tmp_path, {"config/config.default.js": "exports.keys = 'x';"}, egg="^4.0.10")
    rc = resolved(app)
    assert rc.defaults_major == 4
    assert rc.get("session.encrypt") is MISSING
    assert rc.get("session.httpOnly") is True
    app3 = make_app(tmp_path / "e3", {"config/config.default.js": "exports.keys = 'x';"})
    assert resolved(app3).get("session.encrypt") is True


@pytest.mark.parametrize("egg,data", [("^2.3.0", 2), ("~0.1.0", 2), ("latest", 3)])
def test_defaults_file_follows_the_major(tmp_path, egg, data):
    app = make_app(tmp_path, {"config/config.default.js": "exports.keys = 'x';"}, egg=egg)
    assert resolved(app).defaults_major == data


def test_appinfo_root_is_unknown_in_prod_and_basedir_in_local(tmp_path):
    app = make_app(tmp_path, {"config/config.default.js": ""})
    assert isinstance(resolved(app).get("logger.dir"), Unknown)
    assert resolved(app, env="local").get("logger.dir") == f"{app.as_posix()}/logs/demo"


def test_broken_config_file_is_one_problem_and_the_rest_resolves(tmp_path):
    app = make_app(tmp_path, {"config/config.default.js": "exports.keys = 'x';",
                              "config/config.prod.js": "module.exports = {\n  a: ,\n};"})
    rc = resolved(app)
    assert rc.get("keys") == "x"
    assert [p.path for p in rc.problems] == ["config/config.prod.js"]
    assert "syntax error at line 2" in rc.problems[0].message


def test_app_plugin_defaults_from_node_modules_are_evaluated_statically(tmp_path):
    app = make_app(tmp_path, {
        "config/config.default.js": "exports.keys = 'x';\nexports.mysql = { client: { host: 'db' } };",
        "config/plugin.js": "exports.mysql = { enable: true, package: 'egg-mysql' };",
        "node_modules/egg-mysql/package.json": '{"name":"egg-mysql","version":"3.4.0","eggPlugin":{"name":"mysql"}}',
        "node_modules/egg-mysql/config/config.default.js":
            "module.exports = { mysql: { default: { database: null }, app: true, agent: false } };",
    })
    rc = resolved(app)
    assert rc.get("mysql.app") is True and rc.get("mysql.client.host") == "db"
    assert rc.loc("mysql.app").default and rc.loc("mysql.app").path.startswith("node_modules/egg-mysql")
    assert rc.plugins["mysql"].version == "3.4.0"


def test_env_var_without_fallback_keeps_the_earlier_literal_as_fallback(tmp_path):
    app = make_app(tmp_path, {"config/config.default.js": "exports.keys = 'my-hardcoded-key';",
                              "config/config.prod.js": "exports.keys = process.env.EGG_KEYS;"})
    keys = resolved(app).get("keys")
    assert isinstance(keys, Unknown) and keys.env_var == "EGG_KEYS" and keys.fallback == "my-hardcoded-key"


def test_env_default_reads_only_default_files(tmp_path):
    app = make_app(tmp_path, {"config/config.default.js": "exports.keys = 'a';", "config/config.prod.js": "exports.keys = 'b';"})
    rc = resolved(app, env="default")
    assert rc.get("keys") == "a" and rc.files == ["config/config.default.js"]


def test_upper_framework_defaults_and_plugins_are_read_statically(tmp_path):
    make_app(tmp_path / "yadan", {"config/config.default.js": "exports.keys = 'keys';\nexports.fw = { a: 1, b: 1 };",
                                  "config/config.prod.js": "exports.fw = { b: 2 };",
                                  "config/plugin.js": "exports.static = false;"}, name="yadan")
    app = make_app(tmp_path / "app", {"config/config.default.js": "exports.fw = { a: 'app' };"},
                   pkg={"egg": {"framework": "yadan"}, "dependencies": {"egg": "^3.0.0", "yadan": "file:../yadan"}})
    rc = resolved(app)
    assert rc.get("keys") == "keys" and rc.loc("keys").default
    assert rc.get("fw.a") == "app"  # the app's default file comes after the framework's
    assert rc.get("fw.b") == 2  # env layer: framework config.prod after every default file
    assert not rc.plugin_enabled("static")


def test_missing_upper_framework_is_a_note(tmp_path):
    app = make_app(tmp_path, {"config/config.default.js": ""}, pkg={"egg": {"framework": "nope-fw"}})
    assert any("'nope-fw' is not installed" in n for n in resolved(app).notes)


def test_uninstalled_known_plugin_keeps_its_package_env_list(tmp_path):
    # egg-logview's package.json limits it to local/default/test/unittest: not on in prod even if listed
    app = make_app(tmp_path, {"config/plugin.js": "exports.logview = { enable: true, package: 'egg-logview' };"})
    assert not resolved(app).plugin_enabled("logview")
    assert resolved(app, env="local").plugin_enabled("logview")
