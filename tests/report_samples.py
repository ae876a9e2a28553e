"""Findings and reports shared by the report tests: one per strategy, every severity,
file/URL/package/log locations, and a secret a sloppy check forgot to mask."""

from __future__ import annotations

from eggshield.finding import Finding, InputProblem, Location
from eggshield.report import Report, RuleMeta, Target

LEAKED_KEY = "my_app_1513135333_4421"
LEAKED_TOKEN = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def f(rule_id, strategy, severity, cwe, location, message, **kw) -> Finding:
    kw.setdefault("confidence", "high")
    return Finding(rule_id=rule_id, strategy=strategy, severity=severity, cwe=cwe, location=location,
                   message=message, **kw)


def many_findings() -> list[Finding]:
    return [
        f("EGG-UPD-001", 1, "high", 1395, Location("package-lock.json", 120), "egg-security@2.4.0 has a known advisory.",
          package="egg-security@2.4.0", fix="npm install egg-security@^3.0.0"),
        f("EGG-UPD-002", 1, "low", 1104, Location("package.json"), "egg is two majors behind.", package="egg@2.3.0",
          confidence="medium"),
        f("EGG-PLG-001", 2, "info", 1164, Location("config/plugin.js", 4, 3), "Plugin view is enabled but never used.",
          config_key="plugin.view", env="prod", fix="exports.view = { enable: false };", confidence="low"),
        f("EGG-MW-001", 3, "critical", 89, Location("app/service/user.js", 17, 12),
          "SQL built from ctx.query.id reaches app.mysql.query.",
          evidence="app.mysql.query(`SELECT * FROM user WHERE id = ${ctx.query.id}`)",
          fix="app.mysql.query('SELECT * FROM user WHERE id = ?', [ctx.query.id])"),
        f("EGG-CFG-001", 4, "critical", 321, Location("config/config.default.js", 8, 3),
          "config.keys is hard-coded.", title="Hard-coded keys", config_key="keys", env="prod",
          evidence=f"config.keys = '{LEAKED_KEY}';", fix="config.keys = process.env.EGG_SERVER_KEYS;"),
        f("EGG-CSRF-001", 5, "high", 352, Location("config/config.prod.js", 12, 5),
          "CSRF protection is disabled in prod.", title="CSRF protection disabled",
          config_key="security.csrf.enable", env="prod", evidence="security: { csrf: { enable: false } }",
          fix="config.security = {\n  csrf: { enable: true },\n};"),
        f("EGG-HDR-002", 6, "medium", 1021, Location(url="http://127.0.0.1:7001/"),
          "Response has no X-Frame-Options header.", evidence="GET / -> 200, no x-frame-options",
          confidence="medium"),
        f("EGG-ERR-001", 7, "medium", 209, Location("app/controller/home.js", 30),
          "err.stack is sent to the client.", evidence="ctx.body = { error: err.stack };"),
        f("EGG-LOG-001", 8, "high", 532, Location("/var/log/my app/common-error.log", 3412),
          "A token is written to the log.", evidence=f"token={LEAKED_TOKEN} user=42"),
        f("EGG-LOG-002", 8, "low", 117, Location("logs/my-app/web.log", 7),
          "User input written to the log unescaped.", evidence="GET /?q=\x1b[31mred\x1b[0m"),
    ]


def rules() -> dict[str, RuleMeta]:
    return {
        "EGG-CSRF-001": RuleMeta("EGG-CSRF-001", "CSRF protection disabled", 5, "high", "high", 352,
                                 doc="Egg's CSRF defence is off.\n\n## Fix\n\nSet `security.csrf.enable` to `true`.",
                                 help_uri="https://eggjs.org/core/security#csrf"),
        "EGG-CFG-001": RuleMeta("EGG-CFG-001", "Hard-coded keys", 4, "critical", "high", 321,
                                doc="Cookie signing keys in source can be read by anyone with the repo."),
    }


def full_report() -> Report:
    return Report(
        findings=many_findings(),
        problems=[InputProblem("config/config.local.js", "unexpected token '}' at 3:1"),
                  InputProblem("logs/agent.log", "binary file skipped")],
        targets=[Target("my-app", 3, "3.17.5", "prod", "egg")],
        rules=rules(),
        suppressed_count=2,
        baseline_count=3,
        scan_root="/home/dev/my app",
    )
