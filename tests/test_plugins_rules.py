"""EGG-PLG-001 … 008 through `scan`: each fires where it must and stays quiet on its near misses."""

from __future__ import annotations

import json

import pytest

from appfactory import make_app
from eggshield.checks.registry import REGISTRY, all_rules
from plugin_helpers import findings, plugin_js

KEYS = "exports.keys = process.env.EGG_KEYS;\n"


def app(tmp_path, files, **kw):
    return make_app(tmp_path, {"config/config.default.js": KEYS, **files}, **kw)


# ---- EGG-PLG-001 unused ----------------------------------------------------------------------------
def test_unused_app_plugin_fires_at_its_entry(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(redis="{ enable: true, package: 'egg-redis' }")},
               pkg={"dependencies": {"egg": "^3.17.0", "egg-redis": "^2.6.0"}})
    [f] = [f for f in findings(root, "EGG-PLG-001") if f.config_key == "plugin.redis"]
    assert (f.severity, f.confidence, f.cwe, f.strategy) == ("low", "high", 1164, 2)
    assert (f.location.path, f.location.line) == ("config/plugin.js", 2)
    assert "npm uninstall egg-redis" in f.fix and "refuse to start" in f.fix


def test_unused_app_middleware_plugin_is_medium(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(cors="{ enable: true, package: 'egg-cors' }")})
    [f] = [f for f in findings(root, "EGG-PLG-001") if f.config_key == "plugin.cors"]
    assert f.severity == "medium"


def test_unused_framework_default_points_at_plugin_file_and_says_false(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(static="false")})
    found = {f.config_key: f for f in findings(root, "EGG-PLG-001")}
    assert {"plugin.jsonp", "plugin.i18n", "plugin.multipart", "plugin.session", "plugin.view"} <= set(found)
    assert "plugin.static" not in found  # off already
    jsonp = found["plugin.jsonp"]
    assert jsonp.severity == "info" and jsonp.location.path == "config/plugin.js" and jsonp.location.line == 1
    assert "exports.jsonp = false;" in jsonp.fix
    assert found["plugin.i18n"].severity == "low"  # middleware on every request


def test_used_plugins_do_not_fire(tmp_path):
    root = app(tmp_path, {
        "config/plugin.js": plugin_js(redis="{ enable: true, package: 'egg-redis' }"),
        "app/service/cache.js": "module.exports = app => class extends app.Service { get(k) { return this.app.redis.get(k); } };\n",
    })
    assert not [f for f in findings(root, "EGG-PLG-001") if f.config_key == "plugin.redis"]


def test_unused_in_local_is_capped_low(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(cors="{ enable: true, package: 'egg-cors' }")})
    [f] = [f for f in findings(root, "EGG-PLG-001", env="local") if f.config_key == "plugin.cors"]
    assert f.severity == "low" and f.env == "local"


# ---- EGG-PLG-002 dev-only in prod ------------------------------------------------------------------
def test_logview_forced_into_prod_fires(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(logview="{ enable: true, package: 'egg-logview', env: ['prod'] }")})
    [f] = findings(root, "EGG-PLG-002")
    assert (f.severity, f.cwe, f.config_key) == ("high", 489, "plugin.logview")
    assert "config/plugin.local.js" in f.fix


def test_development_forced_into_prod_fires(tmp_path):
    root = app(tmp_path, {"config/plugin.prod.js": plugin_js(development="{ enable: true, env: ['prod'] }")})
    [f] = findings(root, "EGG-PLG-002")
    assert f.location.path == "config/plugin.prod.js"


@pytest.mark.parametrize("files", [
    {"config/plugin.js": plugin_js(logview="{ enable: true, package: 'egg-logview' }")},  # package env list
    {"config/plugin.local.js": plugin_js(webpack="{ enable: true, package: 'egg-webpack' }")},  # local only
    {"config/plugin.js": plugin_js(swaggerdoc="{ enable: true, package: 'egg-swagger-doc' }"),
     "config/config.prod.js": "exports.swaggerdoc = { enable: false };\n"},
])
def test_dev_plugins_kept_out_of_prod_do_not_fire(tmp_path, files):
    assert findings(app(tmp_path, files), "EGG-PLG-002") == []


def test_swagger_doc_in_prod_fires(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(swaggerdoc="{ enable: true, package: 'egg-swagger-doc' }")})
    [f] = findings(root, "EGG-PLG-002")
    assert "swagger" in f.message


def test_dev_plugins_not_reported_when_scanning_local(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(logview="{ enable: true, package: 'egg-logview', env: ['local', 'prod'] }")})
    assert findings(root, "EGG-PLG-002", env="local") == []


# ---- EGG-PLG-003 unmaintained ----------------------------------------------------------------------
def test_unmaintained_app_plugin_fires_with_its_source(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(jwt="{ enable: true, package: 'egg-jwt' }")})
    [f] = findings(root, "EGG-PLG-003")
    assert (f.severity, f.cwe) == ("low", 1104)
    assert "2019-11-19" in f.message and "github.com/eggjs/egg-jwt" in f.evidence


def test_superseded_is_info_and_successor_is_quiet(tmp_path):
    old = app(tmp_path / "a", {"config/plugin.js": plugin_js(redis="{ enable: true, package: 'egg-redis' }")})
    new = app(tmp_path / "b", {"config/plugin.js": plugin_js(redis="{ enable: true, package: '@eggjs/redis' }")})
    [f] = findings(old, "EGG-PLG-003")
    assert f.severity == "info" and "@eggjs/redis" in f.message
    assert findings(new, "EGG-PLG-003") == []


def test_framework_defaults_and_disabled_plugins_are_not_judged_for_maintenance(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(jwt="{ enable: false, package: 'egg-jwt' }")})
    assert findings(root, "EGG-PLG-003") == []


# ---- EGG-PLG-004 no justification ------------------------------------------------------------------
def test_unjustified_entry_fires_info(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(mysql="{ enable: true, package: 'egg-mysql' }")})
    [f] = findings(root, "EGG-PLG-004")
    assert (f.severity, f.location.line) == ("info", 2)


def test_comment_or_toml_justifies(tmp_path):
    commented = app(tmp_path / "a", {"config/plugin.js": "// orders live in MySQL\n"
                                     "exports.mysql = { enable: true, package: 'egg-mysql' };\n"})
    tomled = app(tmp_path / "b", {"config/plugin.js": plugin_js(mysql="{ enable: true, package: 'egg-mysql' }"),
                                  ".eggshield.toml": "[plugins.mysql]\nwhy = \"orders live in MySQL\"\n"})
    assert findings(commented, "EGG-PLG-004") == []
    assert findings(tomled, "EGG-PLG-004") == []


def test_boilerplate_comment_does_not_justify(tmp_path):
    root = app(tmp_path, {"config/plugin.js": "// had enabled by egg\n// exports.static = true;\n"
                                               "exports.mysql = { enable: true, package: 'egg-mysql' };\n"})
    assert len(findings(root, "EGG-PLG-004")) == 1


def test_justification_policy_can_raise_severity(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(mysql="{ enable: true, package: 'egg-mysql' }"),
                          ".eggshield.toml": "[severity]\n\"EGG-PLG-004\" = \"medium\"\n"})
    [f] = findings(root, "EGG-PLG-004")
    assert f.severity == "medium"


# ---- EGG-PLG-005 security plugin off -----------------------------------------------------------------
def test_security_plugin_disabled_is_reported_once_with_cross_reference(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(security="false")})
    [f] = findings(root, "EGG-PLG-005")
    assert (f.severity, f.cwe, f.config_key) == ("high", 693, "plugin.security")
    assert "EGG-CSRF-001" in f.message and (f.location.path, f.location.line) == ("config/plugin.js", 2)
    assert len(findings(root, "EGG-CSRF-001")) == 1  # the CSRF view stays where it was


@pytest.mark.parametrize("files", [
    {"config/plugin.local.js": plugin_js(security="false")},
    {"config/config.default.js": KEYS + "exports.security = { csrf: { enable: false } };\n"},
])
def test_security_plugin_on_does_not_fire(tmp_path, files):
    assert findings(app(tmp_path, files), "EGG-PLG-005") == []


# ---- EGG-PLG-006 unknown surface ---------------------------------------------------------------------
def test_unknown_plugin_not_installed_is_info(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(acme="{ enable: true, package: 'egg-acme-thing' }")})
    [f] = findings(root, "EGG-PLG-006")
    assert (f.severity, f.confidence) == ("info", "low") and "unknown surface" in f.message
    assert not [x for x in findings(root, "EGG-PLG-001") if x.config_key == "plugin.acme"]


def test_unknown_plugin_installed_gets_a_derived_surface(tmp_path):
    root = app(tmp_path, {
        "config/plugin.js": plugin_js(acme="{ enable: true, package: 'egg-acme-thing' }"),
        "node_modules/egg-acme-thing/package.json": json.dumps({"name": "egg-acme-thing", "version": "1.2.3",
                                                                "eggPlugin": {"name": "acme"}}),
        "node_modules/egg-acme-thing/app/extend/application.js": "module.exports = { get acme() { return 1; } };\n",
    })
    assert findings(root, "EGG-PLG-006") == []
    [f] = [x for x in findings(root, "EGG-PLG-001") if x.config_key == "plugin.acme"]
    assert f.confidence == "medium" and "egg-acme-thing@1.2.3" in f.message


def test_justified_unknown_plugin_is_quiet(tmp_path):
    root = app(tmp_path, {"config/plugin.js": "// uploads for the admin UI\n"
                                               "exports.acme = { enable: true, package: 'egg-acme-thing' };\n"})
    assert findings(root, "EGG-PLG-006") == []


# ---- EGG-PLG-007 missing package -----------------------------------------------------------------------
def test_disabled_dev_plugin_from_dev_dependencies_fires(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(webpack="{ enable: true, package: 'egg-webpack', env: ['local'] }")},
               pkg={"devDependencies": {"egg-webpack": "^5.0.0"}})
    [f] = findings(root, "EGG-PLG-007")
    assert "only in devDependencies" in f.message and "disabled" in f.message and f.confidence == "high"


def test_undeclared_package_fires_medium_confidence(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(nunjucks="{ enable: false, package: 'egg-view-nunjucks' }")})
    [f] = findings(root, "EGG-PLG-007")
    assert f.confidence == "medium" and "nowhere in package.json" in f.message


def test_missing_from_installed_node_modules_is_high(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(nunjucks="{ enable: false, package: 'egg-view-nunjucks' }"),
                          "node_modules/egg/package.json": '{"name": "egg", "version": "3.34.0"}'},
               pkg={"dependencies": {"egg": "^3.17.0", "egg-view-nunjucks": "^2.3.0"}})
    [f] = findings(root, "EGG-PLG-007")
    assert f.severity == "high" and "not installed" in f.message


@pytest.mark.parametrize("files,pkg", [
    ({"config/plugin.js": plugin_js(mysql="{ enable: true, package: 'egg-mysql' }")},
     {"dependencies": {"egg": "^3.17.0", "egg-mysql": "^5.0.0"}}),
    ({"config/plugin.local.js": plugin_js(webpack="{ enable: true, package: 'egg-webpack' }")},
     {"devDependencies": {"egg-webpack": "^5.0.0"}}),
    ({"config/plugin.js": plugin_js(static="false", jsonp="{ enable: false }")}, None),
])
def test_declared_or_framework_packages_do_not_fire(tmp_path, files, pkg):
    assert findings(app(tmp_path, files, pkg=pkg), "EGG-PLG-007") == []


def test_missing_local_plugin_path_fires_high(tmp_path):
    root = app(tmp_path, {"config/plugin.js": "const path = require('path');\n"
                                               "exports.ads = { enable: true, path: path.join(__dirname, '../lib/plugin/ads') };\n"})
    [f] = findings(root, "EGG-PLG-007")
    assert f.severity == "high" and "does not exist" in f.message


# ---- EGG-PLG-008 implicit re-enable --------------------------------------------------------------------
def test_implicitly_reenabled_plugin_fires_at_the_disabling_entry(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(schedule="false")})
    [f] = findings(root, "EGG-PLG-008")
    assert (f.location.path, f.location.line, f.severity) == ("config/plugin.js", 2, "low")
    assert "logrotator" in f.message


def test_disabling_both_is_quiet(tmp_path):
    root = app(tmp_path, {"config/plugin.js": plugin_js(schedule="false", logrotator="false")})
    assert findings(root, "EGG-PLG-008") == []


# ---- pages ------------------------------------------------------------------------------------------------
def test_every_plugin_rule_has_a_full_page_linking_the_checklist():
    all_rules()
    ids = sorted(r for r in REGISTRY if r.startswith("EGG-PLG-"))
    assert ids == [f"EGG-PLG-{n:03d}" for n in range(1, 9)]
    for rule_id in ids:
        doc = REGISTRY[rule_id].doc
        for section in ("## What", "## Why it matters", "## How to fix", "## Not reported", "docs/plugins.md"):
            assert section in doc, (rule_id, section)
        assert "```" in doc, rule_id  # a concrete snippet
