"""Secure logging (EGG-LOG-001 … 009): each rule fires where it must and stays quiet on near misses; real
Egg apps show that what the rules claim reaches (or does not reach) the log files."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from pathlib import Path

import pytest

import appfactory
from appfactory import make_app
from appfactory import rule_findings as findings
from eggshield.checks.registry import REGISTRY, all_rules

D, PROD, LOCAL, PLUGIN = appfactory.D, appfactory.PROD, appfactory.LOCAL, appfactory.PLUGIN
KEYS = appfactory.KEYS
RECORDINGS = Path(__file__).parent / "fixtures" / "live-config-rules"




def app(tmp_path, files, **kw):
    return make_app(tmp_path, {D: KEYS, **files}, **kw)


# ---- EGG-LOG-001 ------------------------------------------------------------------------------
@pytest.mark.parametrize("files,env,key,why", [
    ({PROD: "exports.logger = { level: 'DEBUG', allowDebugAtProd: true };"}, "prod", "logger.level", "allowDebugAtProd"),
    ({PROD: "exports.logger = { level: 'ALL' };"}, "prod", "logger.level", "never downgrades 'ALL'"),
    ({D: KEYS + "exports.logger = { level: 'DEBUG' };"}, "staging", "logger.level", "not 'staging'"),
    ({D: KEYS + "exports.logger = { coreLogger: { level: 'DEBUG' } };"}, "prod", "logger.coreLogger.level", "own level"),
    ({D: KEYS + "exports.customLogger = { bizLogger: { file: 'biz.log', level: 'DEBUG' } };"}, "prod",
     "customLogger.bizLogger.level", "own level"),
])
def test_debug_reaching_prod_logs_fires_medium(tmp_path, files, env, key, why):
    [f] = findings(app(tmp_path, files), "EGG-LOG-001", env=env)
    assert (f.severity, f.cwe, f.strategy, f.config_key) == ("medium", 532, 8, key)
    assert why in f.message


def test_debug_without_allow_in_prod_is_info_only(tmp_path):
    [f] = findings(app(tmp_path, {PROD: "exports.logger = { level: 'DEBUG' };"}), "EGG-LOG-001")
    assert f.severity == "info" and "no effect" in f.message and f.location.path == PROD


def test_debug_level_from_env_var_is_needs_review(tmp_path):
    [f] = findings(app(tmp_path, {D: KEYS + "exports.logger = { level: process.env.LOG_LEVEL || 'DEBUG' };"}),
                   "EGG-LOG-001")
    assert (f.severity, f.confidence) == ("low", "low")


@pytest.mark.parametrize("files,env", [
    ({PROD: "exports.logger = { level: 'INFO', allowDebugAtProd: true };"}, "prod"),
    ({LOCAL: "exports.logger = { level: 'DEBUG', allowDebugAtProd: true };"}, "prod"),
    ({D: KEYS + "exports.logger = { level: 'DEBUG' };"}, "local"),
    ({D: KEYS + "exports.logger = { level: process.env.LOG_LEVEL };"}, "prod"),
])
def test_debug_level_near_misses(tmp_path, files, env):
    assert findings(app(tmp_path, files), "EGG-LOG-001", env=env) == []


# ---- EGG-LOG-002 ------------------------------------------------------------------------------
def test_console_debug_after_ready_fires(tmp_path):
    root = app(tmp_path, {PROD: "exports.logger = { consoleLevel: 'DEBUG', disableConsoleAfterReady: false };"})
    [f] = findings(root, "EGG-LOG-002")
    assert (f.severity, f.config_key, f.location.path) == ("medium", "logger.consoleLevel", PROD)


@pytest.mark.parametrize("files", [
    {PROD: "exports.logger = { consoleLevel: 'DEBUG' };"},  # Egg stops console output after ready
    {PROD: "exports.logger = { consoleLevel: 'INFO', disableConsoleAfterReady: false };"},
    {LOCAL: "exports.logger = { consoleLevel: 'DEBUG', disableConsoleAfterReady: false };"},
])
def test_console_debug_near_misses(tmp_path, files):
    assert findings(app(tmp_path, files), "EGG-LOG-002") == []


# ---- EGG-LOG-003 ------------------------------------------------------------------------------
@pytest.mark.parametrize("source,key,severity", [
    ("exports.logger = { dir: '/tmp/logs/demo' };", "logger.dir", "medium"),
    ("const os = require('os');\nexports.logger = { dir: require('path').join(os.tmpdir(), 'logs') };",
     "logger.dir", "medium"),
    ("exports.customLogger = { audit: { file: '/var/tmp/audit.log' } };", "customLogger.audit.file", "medium"),
    ("exports.rundir = '/dev/shm/run';", "rundir", "medium"),
    ("module.exports = appInfo => ({ logger: { dir: appInfo.baseDir + '/app/public/logs' } });", "logger.dir", "high"),
])
def test_log_dir_exposed_fires(tmp_path, source, key, severity):
    files = {PROD: source}
    [f] = findings(app(tmp_path, files), "EGG-LOG-003")
    assert (f.config_key, f.severity, f.cwe, f.location.path) == (key, severity, 276, PROD)


@pytest.mark.parametrize("files,env", [
    ({PROD: "exports.logger = { dir: '/var/log/demo' };"}, "prod"),
    ({PROD: "module.exports = appInfo => ({ logger: { dir: appInfo.baseDir + '/logs' } });"}, "prod"),
    ({PROD: "exports.logger = { dir: process.env.LOG_DIR };"}, "prod"),
    ({D: KEYS + "exports.logger = { dir: '/tmp/logs' };"}, "local"),
    ({}, "prod"),  # Egg's default: ~/logs/<app>
])
def test_log_dir_near_misses(tmp_path, files, env):
    assert findings(app(tmp_path, files), "EGG-LOG-003", env=env) == []


def test_log_dir_under_tmp_scan_root_is_judged_by_where_it_deploys(tmp_path):
    # the scanned checkout itself may live under /tmp; a dir relative to baseDir moves with the app
    root = app(Path("/tmp") / tmp_path.name / "app", {PROD: "module.exports = a => ({ logger: { dir: a.baseDir + '/logs' } });"})
    assert findings(root, "EGG-LOG-003") == []


# ---- EGG-LOG-004 ------------------------------------------------------------------------------
@pytest.mark.parametrize("files,key,needle", [
    ({PLUGIN: "exports.logrotator = false;"}, "plugin.logrotator", "grow forever"),
    ({PROD: "exports.logrotator = { maxDays: 0 };"}, "logrotator.maxDays", "never deleted"),
    ({PROD: "exports.logrotator = { maxDays: 365 };"}, "logrotator.maxDays", "maximum of 90"),
    ({PROD: "exports.logrotator = { maxDays: 1 };"}, "logrotator.maxDays", "minimum of 7"),  # cnpm/cnpmcore
    ({PROD: "exports.logrotator = { disableRotateByDay: true };"}, "logrotator.disableRotateByDay", "Daily rotation"),
])
def test_rotation_and_retention_fire_low(tmp_path, files, key, needle):
    [f] = findings(app(tmp_path, files), "EGG-LOG-004")
    assert (f.config_key, f.severity, f.cwe) == (key, "low", 779) and needle in f.message


def test_retention_policy_comes_from_eggshield_toml(tmp_path):
    root = app(tmp_path, {PROD: "exports.logrotator = { maxDays: 365 };",
                          ".eggshield.toml": "[logging]\nmax_retention_days = 400\nmin_retention_days = 30\n"})
    assert findings(root, "EGG-LOG-004") == []
    (root / ".eggshield.toml").write_text("[logging]\nmax_retention_days = 180\n")
    [f] = findings(root, "EGG-LOG-004")
    assert "maximum of 180" in f.message and ".eggshield.toml" in f.message


@pytest.mark.parametrize("files,env", [
    ({}, "prod"),  # Egg's default: rotation on, 31 days
    ({PROD: "exports.logrotator = { maxDays: 60 };"}, "prod"),
    ({PLUGIN: "exports.logrotator = false;"}, "local"),
    ({PROD: "exports.logrotator = { maxDays: Number(process.env.LOG_DAYS) };"}, "prod"),
])
def test_rotation_near_misses(tmp_path, files, env):
    assert findings(app(tmp_path, files), "EGG-LOG-004", env=env) == []


# ---- EGG-LOG-005 ------------------------------------------------------------------------------
def test_no_security_logger_is_info(tmp_path):
    [f] = findings(app(tmp_path, {}), "EGG-LOG-005")
    assert (f.severity, f.cwe, f.config_key) == ("info", 778, "customLogger")


@pytest.mark.parametrize("files,env", [
    ({D: KEYS + "exports.customLogger = { securityLogger: { file: 'security.log' } };"}, "prod"),
    ({D: KEYS + "exports.customLogger = { ops: { file: 'audit-trail.log' } };"}, "prod"),
    ({}, "local"),
])
def test_security_logger_near_misses(tmp_path, files, env):
    assert findings(app(tmp_path, files), "EGG-LOG-005", env=env) == []


# ---- EGG-LOG-006 ------------------------------------------------------------------------------
@pytest.mark.parametrize("extra,shipper", [
    ({"filebeat.yml": "filebeat.inputs:\n- type: filestream\n  paths: ['/root/logs/demo/*.log']\n"}, "Filebeat"),
    ({"docker-compose.yml": "services:\n  shipper:\n    image: grafana/promtail:2.9.0\n"}, "Promtail"),
    ({"deploy/fluent-bit.conf": "[INPUT]\n    Name tail\n"}, "Fluent Bit"),
])
def test_text_logs_with_a_shipper_is_info(tmp_path, extra, shipper):
    [f] = findings(app(tmp_path, extra), "EGG-LOG-006")
    assert f.severity == "info" and shipper in f.message and f.config_key == "logger.outputJSON"


@pytest.mark.parametrize("files", [
    {"filebeat.yml": "x: 1\n", PROD: "exports.logger = { outputJSON: true };"},
    {"docker-compose.yml": "services:\n  db:\n    image: mysql:8\n"},
    {},
])
def test_json_log_near_misses(tmp_path, files):
    assert findings(app(tmp_path, files), "EGG-LOG-006") == []


# ---- EGG-LOG-007 ------------------------------------------------------------------------------
LOGIN = {"app/controller/user.js": "module.exports = app => class extends app.Controller {\n"
                                   "  async login() {\n    this.ctx.session.userId = 'u-4242';\n    this.ctx.body = 'ok';\n"
                                   "  }\n  async logout() { this.ctx.session = null; this.ctx.body = 'bye'; }\n};\n"}


def test_session_values_logged_fires_low(tmp_path):
    [f] = findings(app(tmp_path, LOGIN), "EGG-LOG-007")
    assert (f.severity, f.cwe) == ("low", 532) and "app/controller/user.js:3" in f.message


@pytest.mark.parametrize("files", [
    {**LOGIN, D: KEYS + "exports.session = { logValue: false };"},
    {"app/controller/user.js": "module.exports = app => class extends app.Controller {\n"
                               "  async logout() { this.ctx.session = null; }\n};\n"},
    {D: KEYS + "exports.session = { maxAge: 3600000 };"},  # config.session is not the user's session
    {**LOGIN, PLUGIN: "exports.session = false;"},
])
def test_session_log_near_misses(tmp_path, files):
    assert findings(app(tmp_path, files), "EGG-LOG-007") == []


# ---- EGG-LOG-008 / 009 -------------------------------------------------------------------------
@pytest.mark.parametrize("level,severity", [("ERROR", "low"), ("NONE", "medium")])
def test_level_dropping_security_events(tmp_path, level, severity):
    [f] = findings(app(tmp_path, {PROD: f"exports.logger = {{ level: '{level}' }};"}), "EGG-LOG-008")
    assert (f.severity, f.cwe) == (severity, 778)


@pytest.mark.parametrize("files,env", [({PROD: "exports.logger = { level: 'WARN' };"}, "prod"),
                                       ({D: KEYS + "exports.logger = { level: 'NONE' };"}, "unittest"), ({}, "prod")])
def test_level_near_misses(tmp_path, files, env):
    assert findings(app(tmp_path, files), "EGG-LOG-008", env=env) == []


def test_error_filter_needs_review(tmp_path):
    root = app(tmp_path, {D: KEYS + "exports.onerror = {\n  appErrorFilter: (err) => err.status >= 500,\n};"})
    [f] = findings(root, "EGG-LOG-009")
    assert (f.severity, f.confidence, f.location.line) == ("low", "low", 3) and "err.status >= 500" in f.evidence
    assert findings(app(tmp_path / "b", {}), "EGG-LOG-009") == []


def test_rule_pages_have_every_section():
    all_rules()
    for rid in [f"EGG-LOG-00{i}" for i in range(1, 10)]:
        doc = REGISTRY[rid].doc
        for section in ("## What", "## Why it matters", "## How to fix", "```", "## Not reported", "## References"):
            assert section in doc, (rid, section)


# ---- Egg is the oracle: what a real app writes to its log files ----------------------------------
PROBE = {"app/controller/home.js": "module.exports = app => class extends app.Controller {\n"
                                   "  async index() {\n    const who = this.ctx.session.userId; // loads (and validates) the session\n"
                                   "    this.ctx.logger.debug('eggshield-probe-debug');\n"
                                   "    this.ctx.getLogger('probeLogger').debug('eggshield-probe-custom-debug');\n"
                                   "    this.ctx.logger.info('eggshield-probe-info');\n    this.ctx.body = { who };\n  }\n"
                                   "  async login() { this.ctx.session.userId = 'u-4242'; this.ctx.body = 'in'; }\n};\n",
         "app/router.js": "module.exports = app => {\n  app.router.get('/', app.controller.home.index);\n"
                          "  app.router.get('/login', app.controller.home.login);\n};\n",
         D: "exports.keys = 'live-test-key-not-a-secret-0123456789';\n"
            "exports.customLogger = { probeLogger: { file: 'probe.log', level: 'DEBUG' } };\n"
            "exports.session = { maxAge: 1500 };\n"}
LIVE_VARIANTS = {
    "downgraded": "exports.logger = { level: 'DEBUG' };\n",
    "allowed": "exports.logger = { level: 'DEBUG', allowDebugAtProd: true };\n",
}


def _observe_logs(root: Path, recording: Path) -> dict:
    """Start the app in prod, log in, wait past the session's maxAge, come back with the old cookie,
    stop (flushes the loggers) and report which probe lines reached which file."""
    import eggrt
    from eggrt.logserver import start_log_app

    try:
        live = start_log_app(root, 3, env="prod")
    except eggrt.RuntimeUnavailable as exc:
        if not exc.offline or not recording.is_file():
            raise
        return {**json.loads(recording.read_text()), "live": False}
    try:
        with urllib.request.urlopen(live.url + "/login", timeout=10) as res:
            cookie = "; ".join(h.split(";", 1)[0] for h in res.headers.get_all("Set-Cookie") or [])
        time.sleep(1.8)  # the session (maxAge 1.5 s) expires; the client still sends the cookie
        req = urllib.request.Request(live.url + "/", headers={"Cookie": cookie})
        urllib.request.urlopen(req, timeout=10).read()
        web = live.wait_for(f"{live.name}-web.log", "eggshield-probe-info")
        core = live.wait_for("egg-web.log", "[session][expired]")
    finally:
        live.stop()
        probe = (live.log_dir / "probe.log").read_text() if (live.log_dir / "probe.log").is_file() else ""
        live.cleanup()
    seen = {"app_debug": "eggshield-probe-debug" in web, "app_info": "eggshield-probe-info" in web,
            "custom_debug": "eggshield-probe-custom-debug" in probe,
            "session_value_logged": '"userId":"u-4242"' in core}
    if not recording.is_file() or os.environ.get("EGGSHIELD_RERECORD"):
        recording.write_text(json.dumps(seen, indent=2) + "\n")
    return {**seen, "live": True}


@pytest.fixture(scope="module")
def live_logs(tmp_path_factory):
    out = {}
    for name, extra in LIVE_VARIANTS.items():
        root = make_app(tmp_path_factory.mktemp(name) / "app", {**PROBE, PROD: extra}, name="live")
        out[name] = (root, _observe_logs(root, RECORDINGS / f"logging-{name}.json"))
    return out


def test_debug_in_prod_really_needs_allow_debug_at_prod(live_logs):
    root, seen = live_logs["downgraded"]
    assert seen["app_info"] and not seen["app_debug"]  # Egg wrote INFO, not DEBUG
    assert [f.severity for f in findings(root, "EGG-LOG-001") if f.config_key == "logger.level"] == ["info"]
    root, seen = live_logs["allowed"]
    assert seen["app_info"] and seen["app_debug"]
    assert [f.severity for f in findings(root, "EGG-LOG-001") if f.config_key == "logger.level"] == ["medium"]


def test_a_custom_logger_level_is_never_downgraded(live_logs):
    root, seen = live_logs["downgraded"]
    assert seen["custom_debug"]
    assert [f.config_key for f in findings(root, "EGG-LOG-001") if f.severity == "medium"] == [
        "customLogger.probeLogger.level"]


def test_expired_sessions_really_are_logged_with_their_content(live_logs):
    root, seen = live_logs["downgraded"]
    assert seen["session_value_logged"]
    assert [f.rule_id for f in findings(root, "EGG-LOG-007")] == ["EGG-LOG-007"]


@pytest.mark.parametrize("policy", [b"[logging\nmax_retention_days = 400\n", b"[logging]\nmax_retention_days = 'lots'\n",
                                    b"\xff\xfe\x00\x00", b"logging = 5\n"])
def test_broken_retention_policy_falls_back_to_the_default(tmp_path, policy):
    root = app(tmp_path, {PROD: "exports.logrotator = { maxDays: 365 };"})
    (root / ".eggshield.toml").write_bytes(policy)
    [f] = findings(root, "EGG-LOG-004")
    assert "maximum of 90 days (eggshield's default)" in f.message
