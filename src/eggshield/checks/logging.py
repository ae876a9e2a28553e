"""Secure logging (strategy 8): what reaches the log files, where they live, how long they stay.

Judged on what Egg's loggers will really do (egg-facts §2, §4): Egg downgrades `level: 'DEBUG'` to
INFO in env `prod` unless `allowDebugAtProd`, but not in any other env name and not for
`coreLogger`/`customLogger` levels of their own; console output stops after ready outside
local/unittest unless `disableConsoleAfterReady: false`; egg-logrotator deletes dated files after
`maxDays` (never when it is 0).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from eggshield.checks._code_query import is_ctx_expr, members_by_property
from eggshield.checks._completeness import config_fully_read
from eggshield.checks.context import DEV_ENVS, CheckContext
from eggshield.checks.registry import rule
from eggshield.finding import InputProblem
from eggshield.js.values import JSArray, JSFunction, JSObject, Loc, Unknown
from eggshield.project.files import read_text

LOGGER_REFS = ("https://www.eggjs.org/core/logger",
               "https://cheatsheetseries.owasp.org/cheatsheets/Logging_Cheat_Sheet.html")
VERBOSE = ("DEBUG", "ALL")


def _level(value) -> str | None:
    return value.upper() if isinstance(value, str) else None


# ---- EGG-LOG-001 ------------------------------------------------------------------------------
@rule(id="EGG-LOG-001", title="Debug logging reaches production log files", strategy=8, severity="medium",
      cwe=532, references=(*LOGGER_REFS, "https://cwe.mitre.org/data/definitions/532.html"))
def debug_level_in_prod(ctx: CheckContext):
    """## What
    A file logger writes DEBUG (or ALL) lines in a production env: `logger.level: 'DEBUG'` with
    `allowDebugAtProd: true`, `'ALL'`, `'DEBUG'` in an env not named exactly `prod` (Egg's downgrade
    to INFO only applies to `prod`), or a level of its own on `logger.coreLogger` or a
    `customLogger`, which Egg never downgrades. `logger.level: 'DEBUG'` alone in `prod` is reported
    as info: Egg silently writes INFO instead.

    ## Why it matters
    Debug lines are where request bodies, SQL with its parameters, tokens and personal data end up
    (`ctx.logger.debug('login', body)`). Log files are read by more people and systems than the
    database, and kept longer (seed strategy 8, secure logging).

    ## How to fix
    ```js
    // config/config.prod.js
    config.logger = { level: 'INFO', allowDebugAtProd: false };
    ```
    Turn DEBUG on for a short, deliberate investigation only, and on one host.

    ## Not reported
    Development envs; `level: 'DEBUG'` in `prod` without `allowDebugAtProd` (info only).
    """
    if ctx.env in DEV_ENVS:
        return
    level_raw = ctx.config.get("logger.level")
    level = _level(level_raw)
    allow = ctx.config.get("logger.allowDebugAtProd") is True
    downgraded = ctx.env == "prod" and level == "DEBUG" and not allow
    fix = ("```js\n// config/config.prod.js\nconfig.logger = { level: 'INFO', allowDebugAtProd: false };\n```")
    if level in VERBOSE and ctx.config.set_by_app("logger.level"):
        if downgraded:
            yield ctx.finding(
                "EGG-LOG-001", key="logger.level", severity="info", confidence="high",
                message="`logger.level` is 'DEBUG' but has no effect in env 'prod': Egg writes INFO unless "
                        "`allowDebugAtProd` is true (it does take effect under any other env name).",
                evidence="logger.level = 'DEBUG'; logger.allowDebugAtProd = false", fix=fix)
        else:
            why = ("`allowDebugAtProd: true` lets it through" if allow and level == "DEBUG" else
                   "Egg never downgrades 'ALL'" if level == "ALL" else
                   f"Egg only downgrades DEBUG in an env named exactly 'prod', not '{ctx.env}'")
            yield ctx.finding(
                "EGG-LOG-001", key="logger.level",
                message=f"The app and core loggers write {level} lines to the log files in env '{ctx.env}': {why}.",
                evidence=f"logger.level = {level_raw!r}; logger.allowDebugAtProd = {allow}", fix=fix)
    elif isinstance(level_raw, Unknown) and _level(level_raw.fallback) in VERBOSE:
        yield ctx.finding(
            "EGG-LOG-001", key="logger.level", severity="low", confidence="low",
            message=f"Needs review: `logger.level` comes from {level_raw.reason} and falls back to "
                    f"{level_raw.fallback!r} when that is unset.",
            evidence=f"logger.level = {level_raw.reason} || {level_raw.fallback!r}", fix=fix)
    own = [("logger.coreLogger", ctx.config.get("logger.coreLogger"))]
    custom = ctx.config.get("customLogger")
    if isinstance(custom, JSObject):
        own += [(f"customLogger.{name}", cfg) for name, cfg in custom.items()]
    for key, cfg in own:
        if not isinstance(cfg, JSObject) or _level(cfg.get("level")) not in VERBOSE:
            continue
        loc = cfg.locs.get("level")
        if loc is None or loc.default:
            continue
        yield ctx.finding(
            "EGG-LOG-001", key=f"{key}.level", loc=loc,
            message=f"`{key}` writes {cfg['level']} lines in env '{ctx.env}': Egg's production downgrade only "
                    "applies to `logger.level`, not to a logger's own level.",
            evidence=f"{key}.level = {cfg['level']!r}",
            fix=f"Remove `{key}.level` from the production config or set it to 'INFO'.")


# ---- EGG-LOG-002 ------------------------------------------------------------------------------
@rule(id="EGG-LOG-002", title="Debug output on the console in production", strategy=8, severity="medium",
      cwe=532, references=LOGGER_REFS)
def console_debug_in_prod(ctx: CheckContext):
    """## What
    `logger.consoleLevel` is DEBUG or ALL and `logger.disableConsoleAfterReady` is false in a
    production env, so every debug line goes to stdout for the life of the process.

    ## Why it matters
    Outside local/unittest Egg stops console logging once the app is ready; switching that off
    sends debug output to wherever stdout goes: container logs, `nohup.out`, process managers'
    files, CI output, usually with looser access control than the log directory (seed strategy 8).
    Egg's DEBUG downgrade in prod does not apply to `consoleLevel`.

    ## How to fix
    ```js
    // config/config.prod.js
    config.logger = { consoleLevel: 'INFO', disableConsoleAfterReady: true };
    ```

    ## Not reported
    Development envs; a verbose `consoleLevel` while `disableConsoleAfterReady` is on (Egg's
    production default), which only prints start-up lines.
    """
    if ctx.env in DEV_ENVS:
        return
    level = _level(ctx.config.get("logger.consoleLevel"))
    if level not in VERBOSE or ctx.config.get("logger.disableConsoleAfterReady") is not False:
        return
    if not (ctx.config.set_by_app("logger.consoleLevel") or ctx.config.set_by_app("logger.disableConsoleAfterReady")):
        return
    yield ctx.finding(
        "EGG-LOG-002", key="logger.consoleLevel",
        message=f"Console logging stays on after start-up in env '{ctx.env}' at level {level}: debug lines go to "
                "stdout (container logs, nohup.out) for the life of the process.",
        evidence=f"logger.consoleLevel = {level!r}; logger.disableConsoleAfterReady = false",
        fix="```js\n// config/config.prod.js\nconfig.logger = { consoleLevel: 'INFO', disableConsoleAfterReady: true };\n```")


# ---- EGG-LOG-003 ------------------------------------------------------------------------------
TEMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/private/tmp")


def _in_dir(path: str, parent: str) -> bool:
    path, parent = path.rstrip("/"), parent.rstrip("/")
    return path == parent or path.startswith(parent + "/")


def _public_dirs(ctx: CheckContext) -> list[str]:
    if not ctx.config.plugin_enabled("static"):
        return []
    d = ctx.config.get("static.dir")
    items = d if isinstance(d, JSArray | list) else [d]
    out = []
    for item in items:
        if isinstance(item, JSObject):
            item = item.get("dir")
        if isinstance(item, str) and item:
            out.append(item)
    return out


def _where(value, ctx: CheckContext) -> tuple[str, str] | None:
    """(severity, description) when a path is temporary or served over HTTP."""
    if isinstance(value, Unknown):
        return ("medium", "the system temp directory (`os.tmpdir()`)") if "tmpdir" in value.reason else None
    if not isinstance(value, str) or not value.startswith("/"):
        return None
    for public in _public_dirs(ctx):
        if _in_dir(value, public):
            return "high", f"the static directory {public}, which egg-static serves over HTTP"
    if _in_dir(value, ctx.project.root.as_posix()):
        return None  # under the app's own directory, wherever it is deployed
    for tmp in TEMP_DIRS:
        if _in_dir(value, tmp):
            return "medium", f"{tmp}, which every local user can read and write"
    return None


@rule(id="EGG-LOG-003", title="Log or run files in a world-readable, temporary or public directory", strategy=8,
      severity="medium", cwe=276, references=(
          *LOGGER_REFS, "https://cwe.mitre.org/data/definitions/276.html",
          "https://cwe.mitre.org/data/definitions/377.html"))
def log_dir_exposed(ctx: CheckContext):
    """## What
    `logger.dir`, a `customLogger`'s absolute `file`, or `rundir` (where Egg writes its config dump)
    points into `/tmp`, `/var/tmp`, `/dev/shm` or `os.tmpdir()` (medium), or into the directory
    egg-static serves (`app/public` by default: high, the logs are downloadable).

    ## Why it matters
    Egg creates log files with the process umask (usually 0644) and its directories with 0755:
    in a shared temp directory every local user reads them, can pre-create the path as a symlink
    to redirect writes, and the system's temp cleaner deletes the audit trail. Under the static
    directory anybody on the internet reads them. `run/application_config.json` holds the whole
    config, with secrets inside arrays in clear (egg-facts §1). Seed strategy 8: secure log storage
    and access control.

    ## How to fix
    Leave Egg's default (`~/logs/<app>` of the user running the app, outside the code) or use a
    dedicated directory owned by that user with mode 0750:

    ```js
    // config/config.prod.js
    config.logger = { dir: '/var/log/my-app' }; // chown app:app, chmod 750
    ```

    ## Not reported
    Development envs; relative paths and paths eggshield cannot evaluate (other than `os.tmpdir()`).
    """
    if ctx.env in DEV_ENVS:
        return
    targets: list[tuple[str, object, Loc | None]] = [
        ("logger.dir", ctx.config.get("logger.dir"), ctx.config.loc("logger.dir")),
        ("rundir", ctx.config.get("rundir"), ctx.config.loc("rundir")),
    ]
    custom = ctx.config.get("customLogger")
    if isinstance(custom, JSObject):
        for name, cfg in custom.items():
            if isinstance(cfg, JSObject):
                for field in ("file", "dir"):
                    if field in cfg:
                        targets.append((f"customLogger.{name}.{field}", cfg[field], cfg.locs.get(field)))
    for key, value, loc in targets:
        if loc is None or loc.default:
            continue
        found = _where(value, ctx)
        if found is None:
            continue
        severity, where = found
        what = "Egg's config dump (run/*.json)" if key == "rundir" else "log files"
        shown = value if isinstance(value, str) else f"<{value.reason}>"
        yield ctx.finding(
            "EGG-LOG-003", key=key, loc=loc, severity=severity,
            message=f"`{key}` puts {what} in {where} (env '{ctx.env}').",
            evidence=f"{key} = {shown!r}",
            fix="Use a directory owned by the app's user with mode 0750 outside the code and the static dir, e.g. "
                "`config.logger = { dir: '/var/log/<app>' }`, or keep Egg's default `~/logs/<app>`.")


# ---- EGG-LOG-004 ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Retention:
    max_days: int = 90
    min_days: int = 7
    source: str = "eggshield's default"


def retention_policy(ctx: CheckContext) -> Retention:
    """`[logging] max_retention_days` / `min_retention_days` from the app's .eggshield.toml."""
    path = ctx.project.root / ".eggshield.toml"
    if not path.is_file():
        return Retention()
    raw = read_text(path, ctx.project.scan_root, max_bytes=1_000_000)
    if isinstance(raw, InputProblem):
        return Retention()
    try:
        section = tomllib.loads(raw).get("logging", {})
    except tomllib.TOMLDecodeError:
        return Retention()  # the policy loader reports the broken file
    if not isinstance(section, dict):
        return Retention()
    hi, lo = section.get("max_retention_days", 90), section.get("min_retention_days", 7)
    if not (isinstance(hi, int) and isinstance(lo, int)) or isinstance(hi, bool) or isinstance(lo, bool):
        return Retention()
    return Retention(hi, lo, ".eggshield.toml [logging]")


@rule(id="EGG-LOG-004", title="Log rotation off or retention outside policy", strategy=8, severity="low", cwe=779,
      confidence="medium", references=("https://github.com/eggjs/egg-logrotator", *LOGGER_REFS,
                                       "https://cwe.mitre.org/data/definitions/779.html"))
def rotation_and_retention(ctx: CheckContext):
    """## What
    In a production env: the `logrotator` plugin is disabled; `logrotator.maxDays` is 0 (egg-logrotator
    then never deletes anything), above the retention policy's maximum (default 90 days), or below
    its minimum (default 7 days); or daily rotation is off (`disableRotateByDay: true`, egg 4), so
    no dated file is ever produced for the cleaner to delete.

    The policy is set per app in `.eggshield.toml`:

    ```toml
    [logging]
    max_retention_days = 180  # logs older than this must be gone (privacy, data minimisation)
    min_retention_days = 30   # logs younger than this must still be there (incident response)
    ```

    ## Why it matters
    Without rotation one file grows until the disk is full and logging (or the app) stops; without
    deletion, personal data in logs is kept forever; with a one-day retention an incident noticed
    next week has no trail, unless logs are shipped to a central store (seed strategy 8: rotation
    and retention tailored to security and compliance needs).

    ## How to fix
    ```js
    // config/plugin.js: keep Egg's default
    exports.logrotator = true;
    // config/config.prod.js
    config.logrotator = { maxDays: 31 };
    ```

    ## Not reported
    Development envs; Egg's defaults (rotation on, 31 days); values eggshield cannot evaluate.
    """
    if ctx.env in DEV_ENVS:
        return
    entry = ctx.config.plugins.get("logrotator")
    if entry is not None and not entry.enable:
        yield ctx.finding(
            "EGG-LOG-004", key="plugin.logrotator", loc=entry.source,
            message=f"The logrotator plugin is disabled in env '{ctx.env}': Egg's log files grow forever and are "
                    "never deleted, unless the host rotates them (logrotate with copytruncate).",
            evidence=f"plugin logrotator: enable=false ({entry.origin})",
            fix="Remove `logrotator: false` from config/plugin.js (Egg enables it by default).")
        return
    if entry is None:
        return
    policy = retention_policy(ctx)
    days = ctx.config.get("logrotator.maxDays")
    fix = f"```js\n// config/config.prod.js\nconfig.logrotator = {{ maxDays: {min(max(31, policy.min_days), policy.max_days)} }};\n```"
    if isinstance(days, int | float) and not isinstance(days, bool) and ctx.config.set_by_app("logrotator.maxDays"):
        if days <= 0:
            yield ctx.finding(
                "EGG-LOG-004", key="logrotator.maxDays",
                message=f"`logrotator.maxDays` is {days:g}: egg-logrotator's cleaner only runs for a positive value, "
                        "so rotated log files are never deleted.",
                evidence=f"logrotator.maxDays = {days:g}", fix=fix)
        elif days > policy.max_days:
            yield ctx.finding(
                "EGG-LOG-004", key="logrotator.maxDays",
                message=f"Logs are kept {days:g} days, longer than the retention maximum of {policy.max_days} "
                        f"days ({policy.source}).",
                evidence=f"logrotator.maxDays = {days:g}", fix=fix)
        elif days < policy.min_days:
            yield ctx.finding(
                "EGG-LOG-004", key="logrotator.maxDays",
                message=f"Logs are deleted after {days:g} day(s), sooner than the retention minimum of "
                        f"{policy.min_days} days ({policy.source}): an incident noticed later has no trail here "
                        "unless the logs are shipped elsewhere.",
                evidence=f"logrotator.maxDays = {days:g}", fix=fix)
    if ctx.config.get("logrotator.disableRotateByDay") is True and ctx.config.set_by_app("logrotator.disableRotateByDay"):
        yield ctx.finding(
            "EGG-LOG-004", key="logrotator.disableRotateByDay",
            message="Daily rotation is off: the cleaner only deletes dated files (`x.log.YYYY-MM-DD`), so files "
                    "not rotated by size or hour grow and stay forever.",
            evidence="logrotator.disableRotateByDay = true",
            fix="Remove `disableRotateByDay: true`, or list every log file in `filesRotateBySize`.")


# ---- EGG-LOG-005 ------------------------------------------------------------------------------
SECURITY_LOGGER = re.compile(r"secur|audit|auth|login|access|compliance", re.IGNORECASE)


@rule(id="EGG-LOG-005", title="No dedicated security or audit logger", strategy=8, severity="info", cwe=778,
      confidence="medium", references=(
          "https://www.eggjs.org/core/logger#custom-logger",
          "https://cheatsheetseries.owasp.org/cheatsheets/Logging_Cheat_Sheet.html#which-events-to-log"))
def no_security_logger(ctx: CheckContext):
    """## What
    No `customLogger` whose name or file says security, audit, auth, login or access exists in a
    production env.

    ## Why it matters
    Security events (logins and failures, permission denials, password and role changes, CSRF
    failures) then drown in the app log next to business messages, rotate with them, and cannot be
    given their own retention, access control or alerting. Seed strategy 8: configure logging to
    capture security-relevant events.

    ## How to fix
    ```js
    // config/config.default.js
    config.customLogger = {
      securityLogger: { file: 'security.log' }, // in logger.dir; rotated by logrotator
    };
    // in code: ctx.getLogger('securityLogger').info('login failed user=%s ip=%s', name, ctx.ip);
    ```
    Log who, what, when, from where and the outcome; never passwords or tokens.

    ## Not reported
    Development envs.
    """
    if not config_fully_read(ctx):
        return
    if ctx.env in DEV_ENVS:
        return
    custom = ctx.config.get("customLogger")
    if isinstance(custom, JSObject):
        for name, cfg in custom.items():
            file = cfg.get("file") if isinstance(cfg, JSObject) else None
            if SECURITY_LOGGER.search(name) or (isinstance(file, str) and SECURITY_LOGGER.search(file)):
                return
    yield ctx.finding(
        "EGG-LOG-005", key="customLogger",
        message="No security/audit logger is configured: security events share the app log, its retention and "
                "its readers.",
        fix="```js\n// config/config.default.js\nconfig.customLogger = { securityLogger: { file: 'security.log' } };\n"
            "```\nthen `ctx.getLogger('securityLogger').warn('login failed user=%s ip=%s', name, ctx.ip)`.")


# ---- EGG-LOG-006 ------------------------------------------------------------------------------
@cache
def _shippers() -> tuple[dict, ...]:
    raw = resources.files("eggshield.data").joinpath("log_shippers.toml").read_text("utf-8")
    return tuple(tomllib.loads(raw)["shipper"])


_DEPLOY_DIRS = ("", "deploy", "docker", ".docker", "ops", "k8s", "kubernetes", "helm", "logging")
_COMPOSE = re.compile(r"^(docker-)?compose[\w.-]*\.ya?ml$|\.ya?ml$")


def shipper_evidence(ctx: CheckContext) -> tuple[str, str] | None:
    """(shipper name, file that configures it) next to the app, or None."""
    roots = [ctx.project.root]
    if ctx.project.scan_root != ctx.project.root:
        roots.append(ctx.project.scan_root)
    for root in roots:
        for sub in _DEPLOY_DIRS:
            d = root / sub if sub else root
            if not d.is_dir():
                continue
            try:
                names = sorted(p.name for p in d.iterdir() if p.is_file())
            except OSError:
                continue
            for shipper in _shippers():
                for name in shipper["files"]:
                    if name in names:
                        return shipper["name"], ctx.project.rel(d / name)
            for name in names[:200]:
                if not _COMPOSE.search(name):
                    continue
                text = read_text(d / name, ctx.project.scan_root, max_bytes=500_000)
                if isinstance(text, InputProblem):
                    continue
                for shipper in _shippers():
                    if any(re.search(r"image:\s*['\"]?[\w./:-]*" + re.escape(img), text) for img in shipper["images"]):
                        return shipper["name"], ctx.project.rel(d / name)
    return None


@rule(id="EGG-LOG-006", title="Text log format while a log shipper collects the logs", strategy=8,
      severity="info", cwe=778, confidence="medium", references=(
          "https://www.eggjs.org/core/logger", "https://github.com/eggjs/egg-logger"))
def json_off_with_shipper(ctx: CheckContext):
    """## What
    The repository configures a log shipper that tails files into a central platform (Filebeat,
    Fluent Bit, Fluentd, Promtail, Alloy, Vector, Logstash, the Datadog Agent, Alibaba Cloud
    iLogtail: `data/log_shippers.toml` names the files and images looked for), while
    `logger.outputJSON` is off in a production env. eggshield only sees the shipper's config file or
    container image; whether it reads Egg's logs is for you to confirm.

    ## Why it matters
    Egg's text format spreads one error over many lines (message, stack, one line per property,
    `pid`, `hostname`): unless the shipper is set up for multi-line events, a stack trace arrives as
    dozens of unrelated events and alert rules on errors miss or double-count them. With
    `outputJSON: true` Egg writes a `.json.log` beside each log file, one event per line, fields
    intact. Seed strategy 8: centralised logging for aggregated analysis and monitoring.

    ## How to fix
    ```js
    // config/config.prod.js
    config.logger = { outputJSON: true }; // ship *.json.log; add outputJSONOnly: true to stop writing text too
    ```

    ## Not reported
    Development envs; apps without a shipper configuration in the repository.
    """
    if not config_fully_read(ctx):
        return
    if ctx.env in DEV_ENVS or ctx.config.get("logger.outputJSON") is True:
        return
    if isinstance(ctx.config.get("logger.outputJSON"), Unknown):
        return
    found = shipper_evidence(ctx)
    if found is None:
        return
    name, where = found
    yield ctx.finding(
        "EGG-LOG-006", key="logger.outputJSON",
        message=f"{name} is configured in {where}, but Egg writes text logs in env '{ctx.env}' (`outputJSON` is "
                "off): multi-line errors need multi-line parsing on the shipper, or JSON logs.",
        evidence=f"logger.outputJSON = false; shipper: {name} ({where})",
        fix="```js\n// config/config.prod.js\nconfig.logger = { outputJSON: true };\n```\nand point the shipper at "
            "the `*.json.log` files.")


# ---- EGG-LOG-007 ------------------------------------------------------------------------------
@rule(id="EGG-LOG-007", title="Session contents written to the log (session.logValue)", strategy=8,
      severity="low", cwe=532, confidence="medium", references=(
          "https://github.com/eggjs/egg-session#usage", "https://cwe.mitre.org/data/definitions/532.html"))
def session_value_logged(ctx: CheckContext):
    """## What
    The session plugin is on, the app stores data in `ctx.session`, and `session.logValue` is not
    `false` (Egg's default is `true`, in egg 3 and egg 4).

    ## Why it matters
    When a session cookie arrives expired (a replayed or long-kept cookie, clock skew) or fails a
    custom `valid()` check, egg-session logs a WARN line `[session][expired] key(EGG_SESS)
    value({...})` with the whole decoded session (user ids, roles, tokens, whatever the app keeps
    there) to `egg-web.log`. Seed strategy 8: keep sensitive data out of logs.

    ## How to fix
    ```js
    // config/config.default.js
    config.session = { logValue: false };
    ```

    ## Not reported
    Apps that never write to `ctx.session`; `logValue: false`.
    """
    if not ctx.config.plugin_enabled("session") or ctx.config.get("session.logValue") is False:
        return
    if isinstance(ctx.config.get("session.logValue"), Unknown):
        return
    stored = [h for h in members_by_property(ctx.sources, "session")
              if is_ctx_expr(h.receiver) and _assigned_under(h.node)]
    if not stored:
        return
    first = stored[0]
    yield ctx.finding(
        "EGG-LOG-007", key="session.logValue",
        message=f"The app keeps data in the session (e.g. {ctx.project.rel(first.path)}:{first.line}) and "
                "`session.logValue` is on: expired or invalid sessions are logged with their whole content to "
                "egg-web.log.",
        evidence=f"session.logValue = {ctx.config.get('session.logValue', 'true (default)')!r}",
        fix="```js\n// config/config.default.js\nconfig.session = { logValue: false };\n```")


def _assigned_under(node) -> bool:
    """`ctx.session.user = …` / `ctx.session = {…}`: the member is (part of) an assignment target."""
    child, parent = node, node.parent
    while parent is not None and parent.type in ("member_expression", "subscript_expression"):
        child, parent = parent, parent.parent
    if parent is None or parent.type not in ("assignment_expression", "augmented_assignment_expression") \
            or parent.child_by_field_name("left") != child:
        return False
    right = parent.child_by_field_name("right")
    return right is None or right.type not in ("null", "undefined")  # `ctx.session = null` logs out


# ---- EGG-LOG-008 ------------------------------------------------------------------------------
@rule(id="EGG-LOG-008", title="Log level too high to record security events", strategy=8, severity="low", cwe=778,
      references=(*LOGGER_REFS, "https://cwe.mitre.org/data/definitions/778.html"))
def level_drops_security_events(ctx: CheckContext):
    """## What
    `logger.level` is `'ERROR'` (low) or `'NONE'` (medium) in a production env.

    ## Why it matters
    Egg's onerror logs every 4xx (CSRF failures, 403s, rejected uploads, validation errors) at WARN
    and the security plugin logs blocked redirects at WARN (egg-facts §4): at ERROR those lines are
    gone, and with NONE the app leaves no trail at all. Seed strategy 8: capture security-relevant
    events.

    ## How to fix
    ```js
    // config/config.prod.js
    config.logger = { level: 'INFO' }; // or at least 'WARN'
    ```

    ## Not reported
    Development envs; `'WARN'`, `'INFO'`.
    """
    if ctx.env in DEV_ENVS or not ctx.config.set_by_app("logger.level"):
        return
    level = _level(ctx.config.get("logger.level"))
    if level not in ("ERROR", "NONE"):
        return
    yield ctx.finding(
        "EGG-LOG-008", key="logger.level", severity="medium" if level == "NONE" else "low",
        message=(f"`logger.level` is 'NONE' in env '{ctx.env}': the app writes no log at all." if level == "NONE" else
                 f"`logger.level` is 'ERROR' in env '{ctx.env}': the WARN lines Egg writes for CSRF failures, 403s "
                 "and other 4xx are dropped."),
        evidence=f"logger.level = {level!r}",
        fix="```js\n// config/config.prod.js\nconfig.logger = { level: 'INFO' };\n```")


# ---- EGG-LOG-009 ------------------------------------------------------------------------------
@rule(id="EGG-LOG-009", title="Errors filtered out of the log (onerror.appErrorFilter), needs review",
      strategy=8, severity="low", cwe=778, confidence="low", references=(
          "https://github.com/eggjs/egg-onerror#configuration", "https://cwe.mitre.org/data/definitions/778.html"))
def error_filter(ctx: CheckContext):
    """## What
    `onerror.appErrorFilter` is set: Egg's onerror skips logging every error for which it returns
    false.

    ## Why it matters
    Filters written to silence noisy errors tend to silence the interesting ones too (every 4xx,
    which includes CSRF and permission failures). Review what it drops. Seed strategy 8.

    ## How to fix
    Filter as narrowly as possible, and never security-relevant statuses:

    ```js
    // config/config.default.js
    config.onerror = { appErrorFilter: (err, ctx) => !(err.status === 404 && ctx.path.startsWith('/public/')) };
    ```

    ## Not reported
    Egg's default (`null`: every error is logged).
    """
    fn = ctx.config.get("onerror.appErrorFilter")
    if not isinstance(fn, JSFunction) or fn.loc.default or not ctx.config.plugin_enabled("onerror"):
        return
    src = " ".join(fn.source.split())
    yield ctx.finding(
        "EGG-LOG-009", key="onerror.appErrorFilter", loc=fn.loc,
        message="`onerror.appErrorFilter` drops some errors from the log; check it keeps 401/403/CSRF failures and "
                "all 5xx.",
        evidence=src if len(src) <= 160 else src[:159] + "…",
        fix="Return false only for errors you have decided not to keep (e.g. 404s under /public/).")
