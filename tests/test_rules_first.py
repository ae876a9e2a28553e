"""EGG-CFG-001 (keys) and EGG-CSRF-001 (CSRF off): each fires where it must and stays quiet on near misses."""

from __future__ import annotations

import pytest

from appfactory import make_app
from appfactory import rule_findings as findings


# ---- EGG-CFG-001 ------------------------------------------------------------------------------
@pytest.mark.parametrize("source,severity", [
    ("config.keys = appInfo.name + '_1513765449219_5858';", "high"),  # egg-init boilerplate
    ("config.keys = '123456';", "high"),
    ("config.keys = appInfo.name;", "high"),
    ("config.keys = 'short-but-not-common';", "high"),
    ("config.keys = 'Zq3v8XbN1rT6yPu0wKeL5sHd9aGfJc2M7';", "medium"),  # long, but still committed
    ("config.keys = process.env.EGG_KEYS || 'fallback';", "high"),
])
def test_keys_literal_fires(tmp_path, source, severity):
    app = make_app(tmp_path, {"config/config.default.js":
                              f"module.exports = appInfo => {{ const config = exports = {{}};\n{source}\nreturn config; }};"})
    [f] = findings(app, "EGG-CFG-001")
    assert f.severity == severity and f.cwe == 321 and f.strategy == 4
    assert f.location.path == "config/config.default.js" and f.location.line == 2
    assert f.config_key == "keys" and f.env == "prod"
    assert "1513765449219" not in f.evidence and "fallback" not in f.evidence  # masked


@pytest.mark.parametrize("files", [
    {"config/config.default.js": "exports.keys = process.env.EGG_KEYS;"},
    {"config/config.default.js": "exports.keys = require('crypto').randomUUID();"},
])
def test_keys_near_misses_do_not_fire(tmp_path, files):
    assert findings(make_app(tmp_path, files), "EGG-CFG-001") == []


def test_env_var_in_prod_over_a_literal_default_still_fires(tmp_path):
    # unset EGG_KEYS is undefined, Egg's merge skips it, and the committed default is used
    app = make_app(tmp_path, {"config/config.default.js": "exports.keys = 'demo_1513765449219_5858';",
                              "config/config.prod.js": "exports.keys = process.env.EGG_KEYS;"})
    [f] = findings(app, "EGG-CFG-001")
    assert f.severity == "high" and "EGG_KEYS" in f.message and "1513765449219" not in f.evidence


def test_keys_only_in_local_is_not_a_prod_problem(tmp_path):
    app = make_app(tmp_path, {"config/config.local.js": "exports.keys = 'demo_1513765449219_5858';",
                              "config/config.prod.js": "exports.keys = process.env.EGG_KEYS;"})
    assert findings(app, "EGG-CFG-001") == []
    [local] = findings(app, "EGG-CFG-001", env="local")
    assert local.severity == "low" and local.env == "local"


def test_keys_missing_everywhere_is_low_confidence(tmp_path):
    app = make_app(tmp_path, {"config/config.default.js": "exports.security = {};"})
    [f] = findings(app, "EGG-CFG-001")
    assert (f.severity, f.confidence) == ("low", "low")


# ---- EGG-CSRF-001 -----------------------------------------------------------------------------
D, PROD, PLUGIN = "config/config.default.js", "config/config.prod.js", "config/plugin.js"


@pytest.mark.parametrize("files,key,where", [
    ({D: "exports.security = { csrf: { enable: false } };"}, "security.csrf.enable", D),
    ({D: "exports.security = { csrf: false };"}, "security.csrf", D),
    ({D: "exports.security = { defaultMiddleware: 'hsts,xframe' };"}, "security.defaultMiddleware", D),
    ({PLUGIN: "exports.security = false;"}, "plugin.security", PLUGIN),
    ({PLUGIN: "exports.security = { enable: false };"}, "plugin.security", PLUGIN),
    ({D: "exports.security = {csrf: {enable: true}};", PROD: "exports.security = { csrf: { enable: false } };"},
     "security.csrf.enable", PROD),
])
def test_csrf_off_fires(tmp_path, files, key, where):
    files = {D: "exports.keys = process.env.K;", **files}
    [f] = findings(make_app(tmp_path, files), "EGG-CSRF-001")
    assert f.config_key == key and f.cwe == 352 and f.strategy == 5
    assert (f.location.path, f.location.line) == (where, 1)
    assert f.severity == ("critical" if key == "plugin.security" else "high")


@pytest.mark.parametrize("files", [
    {},  # Egg's default: on
    {"config/config.local.js": "exports.security = { csrf: { enable: false } };"},
    {"config/config.default.js": "exports.security = { csrf: { enable: false } };",
     "config/config.prod.js": "exports.security = { csrf: { enable: true } };"},
    {"config/config.default.js": "exports.security = { csrf: { ignore: /^\\/api/ } };"},
])
def test_csrf_near_misses_do_not_fire(tmp_path, files):
    assert findings(make_app(tmp_path, {"config/config.prod.js": "", **files}), "EGG-CSRF-001") == []


def test_csrf_unknown_enable_is_needs_review(tmp_path):
    app = make_app(tmp_path, {"config/config.default.js": "exports.security = { csrf: { enable: process.env.CSRF === '1' } };"})
    [f] = findings(app, "EGG-CSRF-001")
    assert (f.severity, f.confidence) == ("low", "low") and "Needs review" in f.message
