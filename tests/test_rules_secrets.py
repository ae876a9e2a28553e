"""Secrets in config (EGG-CFG-040 … 043): literals, literal fallbacks, provider tokens, empty DB passwords.

Every firing fixture is paired with near misses (placeholders, env vars, values only a development
env sets), and every output format is checked for the secret in clear.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from appfactory import make_app
from appfactory import rule_findings as findings
from eggshield.checks.registry import REGISTRY, all_rules

D, PROD, LOCAL, UNIT = ("config/config.default.js", "config/config.prod.js", "config/config.local.js",
                        "config/config.unittest.js")
KEYS = "exports.keys = process.env.EGG_KEYS;\n"
# Token-shaped test values, built at run time so the repository holds no token-shaped literal.
AWS_ID = "AKIA" + "Q3EGHT4IXP7BLW2M"
GH_PAT = "ghp_" + "Zt7Qm2Xv9LpR4sWb8NcY1kHd6GfJa3Ue5Ti0"
PEM = "-----BEGIN RSA " + "PRIVATE KEY-----\\nMIIEowIBAAKCAQEA7Vq\\n-----END RSA PRIVATE KEY-----"




def app(tmp_path, files, **kw):
    return make_app(tmp_path, {D: KEYS, **files}, **kw)


# ---- EGG-CFG-040 ------------------------------------------------------------------------------
@pytest.mark.parametrize("source,key,clear,dump_note", [
    ("exports.mysql = { client: { user: 'shop', password: 'shop123' } };", "mysql.client.password", "shop123", False),
    ("exports.mysql = { client: { password: 123456 } };", "mysql.client.password", "123456", False),
    ("exports.dbs = [ { host: 'db1', password: 'Leak-in-array-9' } ];", "dbs[0].password", "Leak-in-array-9", True),
    ("exports.wechat = { token: 'wx-verify-token-77' };", "wechat.token", "wx-verify-token-77", True),
    ("exports.session_secret = 'node_club_secret';", "session_secret", "node_club_secret", False),
    ("exports.mail_opts = { auth: { user: 'club@126.com', pass: 'club' } };", "mail_opts.auth.pass", "club", False),
    ("exports.alinode = { appid: '83778', secret: '2e03f5c5d7a9826bb50737ed2832cafb4c3ca19b' };",
     "alinode.secret", "2e03f5c5d7a9826bb50737ed2832cafb4c3ca19b", False),
    ("exports.oss = { client: { accessKeySecret: 'q8ZrT1vXw3YbN5mK7pL9sD2f' } };", "oss.client.accessKeySecret",
     "q8ZrT1vXw3YbN5mK7pL9sD2f", False),
])
def test_literal_secret_fires_high_masked(tmp_path, source, key, clear, dump_note):
    root = app(tmp_path, {D: KEYS + source})
    [f] = findings(root, "EGG-CFG-040")
    assert (f.severity, f.cwe, f.strategy, f.config_key, f.env) == ("high", 798, 4, key, "prod")
    assert (f.location.path, f.location.line) == (D, 2)
    assert clear not in f.evidence and clear not in f.message and clear not in f.fix
    assert f"({len(clear)} chars)" in f.evidence
    assert ("writes it in clear" in f.message) is dump_note


@pytest.mark.parametrize("source", [
    "exports.mysql = { client: { password: '' } };",
    "exports.mysql = { client: { password: 'xxx' } };",
    "exports.jwt = { secret: 'your-secret' };",
    "exports.jwt = { secret: '${JWT_SECRET}' };",
    "exports.mysql = { client: { password: '<your password>' } };",
    "exports.passportWeibo = { key: 'a', secret: 'b' };",
    "exports.github = { client_secret: 'The client secret you received from GitHub for your OAuth App.' };",
    "exports.jwt = { secret: process.env.JWT_SECRET };",
    "exports.mysql = { client: { password: require('./secret').db() } };",
    "exports.passportLocal = { usernameField: 'name', passwordField: 'pass' };",
    "exports.auth = { tokenHeader: 'authorization', tokenExpiresIn: '7d', accessKeyId: 'abc123def' };",
    "exports.security = { csrf: { cookieName: 'csrfToken', headerName: 'x-csrf-token' } };",
    "exports.keys = 'demo_1513765449219_5858';",  # EGG-CFG-001's, not reported twice
])
def test_literal_secret_near_misses(tmp_path, source):
    assert findings(app(tmp_path, {D: source if source.startswith("exports.keys") else KEYS + source}),
                    "EGG-CFG-040") == []


def test_default_secret_under_an_unset_prod_env_var_is_a_fallback_not_a_literal(tmp_path):
    # egg-beehive: config.prod reads JwtSecret, config.default holds the literal Egg keeps when it is undefined
    root = app(tmp_path, {D: KEYS + "exports.jwt = { secret: 'Great4-M-dev-only' };",
                          PROD: "exports.jwt = { secret: process.env.JWT_SECRET };"})
    assert findings(root, "EGG-CFG-040") == []
    [f] = findings(root, "EGG-CFG-041")
    assert (f.severity, f.location.path) == ("medium", PROD) and "earlier config file" in f.message
    [local] = findings(root, "EGG-CFG-040", env="local")  # still committed, and used in local
    assert local.severity == "low" and local.env == "local"


def test_secret_only_in_config_local_is_at_most_low(tmp_path):
    root = app(tmp_path, {LOCAL: "exports.mysql = { client: { password: '123123' } };",
                          UNIT: "exports.redis = { client: { password: '123123' } };"})
    assert findings(root, "EGG-CFG-040") == []
    assert [f.severity for f in findings(root, "EGG-CFG-040", env="local")] == ["low"]
    assert [f.severity for f in findings(root, "EGG-CFG-040", env="unittest")] == ["low"]


def test_typescript_config_and_helper_files(tmp_path):
    root = app(tmp_path, {"config/config.default.ts":
                          "import { EggAppConfig } from 'egg';\nexport default () => {\n"
                          "  const config = {} as EggAppConfig;\n  config.coreDB = { password: 'sandbox' };\n"
                          "  return config;\n};\n"}, pkg={"egg": {"typescript": True}})
    [f] = findings(root, "EGG-CFG-040")
    assert (f.location.path, f.location.line, f.config_key) == ("config/config.default.ts", 4, "coreDB.password")


# ---- EGG-CFG-041 ------------------------------------------------------------------------------
@pytest.mark.parametrize("source,severity", [
    ("exports.jwt = { secret: process.env.JWT_SECRET || 'JWT_SECRET' };", "medium"),  # tegg-cnode
    ("exports.mysql = { client: { password: process.env.MYSQL_PASSWORD || 'shop123' } };", "medium"),
    ("exports.passportGithub = { secret: process.env.GH_SECRET || 'test' };", "medium"),
    ("exports.passportYuque = { secret: process.env.YUQUE_SECRET || 'j' };", "low"),  # placeholder, not signing
    ("exports.session = { secretKey: process.env.S ?? 'x' };", "medium"),  # placeholder, but it signs sessions
])
def test_literal_fallback_fires(tmp_path, source, severity):
    [f] = findings(app(tmp_path, {D: KEYS + source}), "EGG-CFG-041")
    assert (f.severity, f.confidence, f.cwe) == (severity, "medium", 798)
    assert f.location.line == 2 and "process.env." in f.evidence
    fallback = source.split("'")[-2]
    assert f"'{fallback}'" not in f.evidence


@pytest.mark.parametrize("files", [
    {D: KEYS + "exports.redis = { client: { password: process.env.REDIS_PASSWORD || '' } };"},
    {D: KEYS + "exports.jwt = { secret: process.env.JWT_SECRET };"},
    {D: KEYS + "exports.redis = { client: { host: process.env.REDIS_HOST || '127.0.0.1' } };"},
    {LOCAL: "exports.jwt = { secret: process.env.JWT_SECRET || 'dev-secret' };"},
])
def test_literal_fallback_near_misses(tmp_path, files):
    assert findings(app(tmp_path, files), "EGG-CFG-041") == []


# ---- EGG-CFG-042 ------------------------------------------------------------------------------
def test_provider_tokens_fire_with_provider_and_mask(tmp_path):
    root = app(tmp_path, {
        D: KEYS + f"exports.aws = {{ id: '{AWS_ID}' }};\nexports.github = {{ api: '{GH_PAT}' }};\n"
                  f"exports.sign = {{ pem: `{PEM}` }};\n",
        "app/service/deploy.js": f"module.exports = () => ({{ token: '{GH_PAT}' }});\n"})
    got = sorted((f.location.path, f.location.line, f.severity, f.message.split(" ")[0]) for f in
                 findings(root, "EGG-CFG-042"))
    assert got == [("app/service/deploy.js", 1, "high", "GitHub"), (D, 2, "medium", "AWS"), (D, 3, "high", "GitHub"),
                   (D, 4, "critical", "PEM")]
    for f in findings(root, "EGG-CFG-042"):
        assert AWS_ID not in f.evidence and GH_PAT not in f.evidence and "MIIEowIBAAKCAQEA7Vq" not in f.evidence
    assert findings(root, "EGG-CFG-040") == []  # reported once, with the provider's name


def test_token_in_config_local_is_reported_low_in_prod(tmp_path):
    root = app(tmp_path, {LOCAL: f"exports.github = {{ token: '{GH_PAT}' }};"})
    [f] = findings(root, "EGG-CFG-042")
    assert f.severity == "low" and "does not load" in f.message and f.location.path == LOCAL


def test_password_in_connection_url(tmp_path):
    root = app(tmp_path, {D: KEYS + "exports.mongoose = { url: 'mongodb://cnode:cnode-pw-42@127.0.0.1:27017/cnode' };"})
    [f] = findings(root, "EGG-CFG-042")
    assert f.evidence.startswith("mongodb://cnode:") and "cnode-pw-42" not in f.evidence
    assert f.evidence.endswith("@127.0.0.1:27017/cnode")


@pytest.mark.parametrize("literal", [
    "AKIAIOSFODNN7EXAMPLE",  # AWS's documentation key
    "AKIAAAAAAAAAAAAAAAAA",  # too regular to be a key
    "mysql://root:${DB_PASSWORD}@db:3306/app",
    "mongodb://127.0.0.1:27017/cnode",
    "ghp_" + "x" * 36,
])
def test_provider_token_near_misses(tmp_path, literal):
    assert findings(app(tmp_path, {D: KEYS + f"exports.thing = {{ value: '{literal}' }};"}), "EGG-CFG-042") == []


# ---- EGG-CFG-043 ------------------------------------------------------------------------------
def test_empty_datastore_password_in_prod_is_low(tmp_path):
    root = app(tmp_path, {D: KEYS + "exports.mysql = {\n  client: { host: 'db', user: 'root', password: '' },\n};"})
    [f] = findings(root, "EGG-CFG-043")
    assert (f.severity, f.confidence, f.config_key, f.location.line) == ("low", "medium", "mysql.client.password", 3)


@pytest.mark.parametrize("files,env", [
    ({D: KEYS + "exports.mysql = { client: { password: '' } };"}, "local"),
    ({D: KEYS + "exports.redis = { client: { password: process.env.REDIS_PASSWORD || '' } };"}, "prod"),
    ({D: KEYS + "exports.mysql = { client: { password: '' } };",
      PROD: "exports.mysql = { client: { password: process.env.MYSQL_PASSWORD } };"}, "prod"),
    ({D: KEYS + "exports.mail = { auth: { pass: '' } };"}, "prod"),  # not a datastore
])
def test_empty_datastore_password_near_misses(tmp_path, files, env):
    assert findings(app(tmp_path, files), "EGG-CFG-043", env=env) == []


# ---- every output format keeps secrets masked ---------------------------------------------------
@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "markdown"])
def test_no_output_format_prints_a_secret(tmp_path, fmt):
    secrets = ["Leak-in-array-9", "shop123-fallback", "cnode-pw-42", GH_PAT]
    root = app(tmp_path, {D: KEYS + "exports.dbs = [ { password: 'Leak-in-array-9' } ];\n"
                          "exports.mysql = { client: { password: process.env.P || 'shop123-fallback' } };\n"
                          "exports.mongoose = { url: 'mongodb://u:cnode-pw-42@db/x' };\n"
                          f"exports.gh = {{ token: '{GH_PAT}' }};\n"})
    result = subprocess.run([sys.executable, "-m", "eggshield", "scan", str(root), "--format", fmt],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    for rid in ("EGG-CFG-040", "EGG-CFG-041", "EGG-CFG-042"):
        assert rid in result.stdout
    for secret in secrets:
        assert secret not in result.stdout and secret not in result.stderr
    if fmt == "json":
        json.loads(result.stdout)


def test_rule_pages_have_every_section():
    all_rules()
    for rid in ("EGG-CFG-040", "EGG-CFG-041", "EGG-CFG-042", "EGG-CFG-043"):
        doc = REGISTRY[rid].doc
        for section in ("## What", "## Why it matters", "## How to fix", "```", "## Not reported", "## References"):
            assert section in doc, (rid, section)
