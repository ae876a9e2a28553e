"""Plugins (strategy 2): enabled but unused, dev-only in production, unmaintained, unjustified,
security switched off, unknown surface, packages the deployment will not have, implicit re-enabling.

The audit itself (inventory, usage, justification) is built by `eggshield.plugins`; these rules
only judge it. Their pages link the least-privilege checklist in docs/plugins.md.
"""

from __future__ import annotations

from eggshield.checks.context import DEV_ENVS, CheckContext
from eggshield.checks.registry import rule
from eggshield.js.values import Loc
from eggshield.plugins import audit_for
from eggshield.plugins.model import UNKNOWN, UNUSED, PluginRow
from eggshield.plugins.usage import config_evidence
from eggshield.plugins.versions import declared_range, has_node_modules, installed_dir

GUIDE = "docs/plugins.md (least-privilege checklist for Egg plugins)"
EGG_PLUGINS = "https://www.eggjs.org/basics/plugin"
CWE_1164 = "https://cwe.mitre.org/data/definitions/1164.html"

# What an unused plugin costs, by who chose it: an app's own choice weighs more than a framework default.
_UNUSED_SEVERITY = {("app", "middleware"): "medium", ("app", "resource"): "low", ("app", "api"): "low",
                    ("framework", "middleware"): "low", ("framework", "resource"): "info",
                    ("framework", "api"): "info"}


def _plugin_file(ctx: CheckContext) -> str:
    return _plugin_path(ctx)[0]


def _plugin_path(ctx: CheckContext) -> tuple[str, bool]:
    """The app's main plugin file (relative) and whether it exists."""
    files = ctx.project.plugin_files
    target = files.get("default") or files.get("legacy")
    if target is not None:
        return ctx.project.rel(target), True
    base = ctx.project.config_dir or (ctx.project.root / "config")
    ext = ".ts" if ctx.project.language == "ts" else ".js"
    return ctx.project.rel(base / f"plugin{ext}"), False


def _where(ctx: CheckContext, row: PluginRow) -> Loc:
    """The app's entry for the plugin, or the plugin file where the app would switch it off."""
    loc = row.entry.source
    if loc is not None and not loc.default:
        return loc
    path, exists = _plugin_path(ctx)
    return Loc(path, 1 if exists else None)


def _disable_fix(ctx: CheckContext, row: PluginRow) -> str:
    file = _plugin_file(ctx)
    if row.entry.framework_default or row.origin.kind != "app":
        return (f"Switch it off in {file} (the package ships with egg, so the entry can stay):\n\n"
                f"```js\n// {file}\nexports.{row.name} = false;\n```")
    package = row.entry.package or row.entry.path or row.name
    return (f"Remove the `{row.name}` entry from {row.origin.loc.path if row.origin.loc else file} and the "
            f"package from package.json (`npm uninstall {package}`). Do not leave `{{ enable: false }}` behind "
            f"without the package: Egg 3 and 4 resolve every listed plugin's package even when it is disabled "
            f"and refuse to start when it is missing.")


def _rows(ctx: CheckContext):
    return audit_for(ctx).rows.values()


@rule(id="EGG-PLG-001", title="Plugin enabled but never used", strategy=2, severity="low", cwe=1164,
      confidence="high", references=(EGG_PLUGINS, CWE_1164, GUIDE))
def unused_plugin(ctx: CheckContext):
    """## What
    A plugin is enabled in the scanned env, but nothing in the app uses it: no code reaches what it
    adds (`app.mysql`, `ctx.validate`, `app.jwt`, ...), no config makes it act (`cors.origin`,
    `jwt.enable`), no file it loads or serves exists (`app/io`, `app/schedule`, `app/public`,
    templates for a view engine the config maps), and no enabled plugin depends on it. Each plugin's
    usage rule is written in `data/plugin_surfaces.toml` and shown by `eggshield plugins PATH`.

    Severity follows what the unused plugin costs: medium for an app-chosen plugin that runs code on
    every request or opens an endpoint (cors, passport, socket.io), low for one that opens
    connections at start (mysql, redis) or only adds methods, info/low for framework defaults.
    Confidence is high when the plugin's surface is known, medium when it was read from the
    installed package or some sources did not parse.

    ## Why it matters
    Every enabled plugin is code that loads, reads config, may open connections or answer requests:
    attack surface and upgrade work with no benefit (seed strategy 2, least privilege).

    ## How to fix
    Switch it off, or remove it. For a framework default:

    ```js
    // config/plugin.js
    exports.jsonp = false;
    ```

    For a plugin the app added, delete its entry and `npm uninstall` the package. Keep the entry and
    the package together: Egg resolves the package of every listed plugin, even one with
    `enable: false`, and will not start if it is missing. If the plugin is used in a way eggshield
    cannot see, record why in a comment next to the entry or in `.eggshield.toml`
    (`[plugins.<name>] why = "..."`). Checklist: docs/plugins.md.

    ## Not reported
    Plugins that work without any call (onerror, security, logrotator, watcher, tracer, monitoring
    agents, plugins that install their own middleware), plugins another enabled plugin depends on,
    plugins off in the scanned env, and plugins whose usage cannot be judged (EGG-PLG-006).
    """
    for row in _rows(ctx):
        if not row.enabled or row.usage.state != UNUSED:
            continue
        chooser = "framework" if row.entry.framework_default or row.origin.kind != "app" else "app"
        cost = row.spec.cost if row.spec else "api"
        severity = _UNUSED_SEVERITY[(chooser, cost)]
        what = row.spec.what if row.spec else "plugin"
        yield ctx.finding(
            "EGG-PLG-001", key=f"plugin.{row.name}", loc=_where(ctx, row), severity=severity,
            confidence=row.usage.confidence,
            message=f"Plugin '{row.name}' ({row.package_label}) is enabled in env '{ctx.env}' but the app never "
                    f"uses it: {row.usage.reason or 'no use found'}.",
            evidence=f"{row.name}: {what}; enabled by {row.origin}",
            fix=_disable_fix(ctx, row))


@rule(id="EGG-PLG-002", title="Development-only plugin enabled in production", strategy=2, severity="high",
      cwe=489, references=(EGG_PLUGINS, "https://cwe.mitre.org/data/definitions/489.html", GUIDE))
def dev_plugin_in_prod(ctx: CheckContext):
    """## What
    A plugin meant for development is on in the scanned (non-local) env: egg-development (reload,
    `/__loader_trace__`), egg-logview (serves log files at `/__logs`), egg-webpack and its flavours
    (a webpack dev server in the agent), debugging proxies, egg-mock, or egg-swagger-doc with its
    public API description. Egg keeps most of them off outside `local` by their package `env` list;
    this fires when `plugin.js` overrides that list, enables them in `plugin.prod.js`, or the package
    sets no env limit.

    ## Why it matters
    These plugins expose internals to whoever reaches the server: log files with tokens and user
    data, file paths and load timelines, every route and parameter (CWE-489, active debug code).

    ## How to fix
    Enable them only where they belong, in `config/plugin.local.js`:

    ```js
    // config/plugin.local.js
    exports.logview = { enable: true, package: 'egg-logview' };
    ```

    and keep the package in devDependencies. For swagger-doc in production, set
    `config.swaggerdoc = { enable: false }` in `config/config.prod.js` or put it behind authentication.

    ## Not reported
    The same plugins in `local`/`unittest`, and plugins whose package env list keeps them off.
    """
    if ctx.env in DEV_ENVS:
        return
    for row in _rows(ctx):
        spec = row.spec
        if not row.enabled or spec is None or not spec.dev_only:
            continue
        if spec.dev_only_unless and config_evidence((spec.dev_only_unless,), ctx.config):
            continue
        yield ctx.finding(
            "EGG-PLG-002", key=f"plugin.{row.name}", loc=_where(ctx, row),
            message=f"Development plugin '{row.name}' ({row.package_label}) is enabled in env '{ctx.env}': "
                    f"{spec.dev_only}.",
            evidence=f"{row.name} enabled by {row.origin}" + (f"; env list {row.entry.env}" if row.entry.env else ""),
            fix=f"Move the entry to config/plugin.local.js (and the package to devDependencies):\n\n```js\n"
                f"// config/plugin.local.js\nexports.{row.name} = {{ enable: true, package: "
                f"'{row.entry.package or spec.packages[0]}' }};\n```")


@rule(id="EGG-PLG-003", title="Deprecated or unmaintained plugin package", strategy=2, severity="low", cwe=1104,
      confidence="medium", references=("https://cwe.mitre.org/data/definitions/1104.html", GUIDE))
def unmaintained_plugin(ctx: CheckContext):
    """## What
    A plugin the app chose is deprecated, superseded by a successor package, or unmaintained: its
    source repository had no commit for years (`data/plugin_surfaces.toml` names the date and the
    repository for each plugin, and the date the data was checked). Offline, the data file decides;
    npm's own `deprecated` field is not read by scans yet.

    ## Why it matters
    An unmaintained plugin gets no fixes for the vulnerabilities of its own code or of the
    dependency ranges it pins, and often blocks upgrading Egg itself (seed strategies 1 and 2).

    ## How to fix
    Move to the successor (e.g. `egg-redis` → `@eggjs/redis`), replace the plugin with a maintained
    library used directly, or, if it is still needed as is, record why in `.eggshield.toml`:

    ```toml
    [plugins.jwt]
    why = "token auth for the mobile API; replacement planned (JIRA-123)"
    ```

    and suppress this rule for it by a baseline.

    ## Not reported
    Framework defaults (they follow the egg version), plugins off in the scanned env, and plugins
    whose status the data file does not know.
    """
    severities = {"deprecated": "medium", "unmaintained": "low", "superseded": "info"}
    for row in _rows(ctx):
        spec = row.spec
        if not row.enabled or spec is None or row.origin.kind != "app" or spec.status not in severities:
            continue
        if row.entry.package and spec.packages and row.entry.package not in spec.packages[:1] \
                and spec.status == "superseded":
            continue  # already on the successor
        yield ctx.finding(
            "EGG-PLG-003", key=f"plugin.{row.name}", loc=_where(ctx, row), severity=severities[spec.status],
            message=f"Plugin '{row.name}' ({row.package_label}) is {spec.status}: {spec.status_note}.",
            evidence=f"source: {spec.status_source} (checked {audit_for(ctx).knowledge_checked})",
            fix="Replace it with a maintained successor or the underlying library, or record why it stays "
                f"(`[plugins.{row.name}] why = \"...\"` in .eggshield.toml). Checklist: docs/plugins.md.")


@rule(id="EGG-PLG-004", title="Plugin enabled without a recorded justification", strategy=2, severity="info",
      cwe=1164, references=(CWE_1164, GUIDE))
def unjustified_plugin(ctx: CheckContext):
    """## What
    The app enables a plugin (an entry in `config/plugin*.js`) and nothing records why: no comment
    next to the entry and no `[plugins.<name>] why = "..."` in `.eggshield.toml`. Commented-out code,
    generator markers and boilerplate such as `// had enabled by egg` do not count.

    Info by default; make it a policy by raising its severity in `.eggshield.toml`:

    ```toml
    [severity]
    "EGG-PLG-004" = "medium"   # fails CI at the default fail_on
    ```

    ## Why it matters
    Seed strategy 2 asks for a documented reason for every enabled plugin, so that a later review
    can tell a needed plugin from a leftover without reading the whole code base.

    ## How to fix
    Write the reason next to the entry:

    ```js
    // config/plugin.js
    // orders and users live in MySQL (app/service/*)
    exports.mysql = { enable: true, package: 'egg-mysql' };
    ```

    or in `.eggshield.toml`:

    ```toml
    [plugins.mysql]
    why = "orders and users live in MySQL"
    ```

    ## Not reported
    Framework defaults the app does not mention, and plugins off in the scanned env.
    """
    for row in _rows(ctx):
        if not row.enabled or row.origin.kind != "app" or row.justification is not None:
            continue
        yield ctx.finding(
            "EGG-PLG-004", key=f"plugin.{row.name}", loc=_where(ctx, row),
            message=f"Plugin '{row.name}' is enabled at {row.origin.loc} with no recorded reason.",
            evidence=f"{row.name}: {row.spec.what if row.spec else row.package_label}",
            fix=f"Add a comment above the entry (`// why {row.name} is needed`) or `[plugins.{row.name}] why = "
                "\"...\"` to .eggshield.toml.")


@rule(id="EGG-PLG-005", title="Security plugin disabled", strategy=2, severity="high", cwe=693,
      references=("https://www.eggjs.org/core/security", "https://cwe.mitre.org/data/definitions/693.html", GUIDE))
def security_plugin_disabled(ctx: CheckContext):
    """## What
    `security: false` (or `{ enable: false }`) in a plugin file switches egg-security off as a whole in
    the scanned env: CSRF checks, X-Frame-Options, X-Content-Type-Options, X-Download-Options, HSTS,
    CSP, the safe redirect, `ctx.isSafeDomain`, `ctx.safeCurl` SSRF protection and the escaping
    helpers. The CSRF part is also reported as EGG-CSRF-001; this finding is the plugin-level view,
    reported once per app.

    ## Why it matters
    A single line removes every protection Egg ships by default (CWE-693, protection mechanism
    failure), and plugins that rely on it (egg-view-nunjucks' CSRF field and CSP nonce, jsonp's
    CSRF check, egg-cors' domain white list) silently lose their safety checks.

    ## How to fix
    Remove the entry and switch off only the sub-protection you must:

    ```js
    // config/config.default.js
    config.security = {
      csrf: { ignore: ctx => ctx.path.startsWith('/api/') && !!ctx.get('authorization') },
      xframe: { enable: false }, // only if the app must be framed
    };
    ```

    ## Not reported
    The plugin switched off only in `config/plugin.local.js` when scanning `prod`.
    """
    for row in _rows(ctx):
        if row.name != "security" or row.enabled:
            continue
        yield ctx.finding(
            "EGG-PLG-005", key="plugin.security", loc=_where(ctx, row),
            message=f"The security plugin is disabled in env '{ctx.env}': no CSRF check, no security headers, "
                    "no safe redirect or SSRF protection (the CSRF part is also reported as EGG-CSRF-001).",
            evidence=f"security: enable=false ({row.origin})",
            fix="Remove `security: false` from the plugin file and switch off only the sub-protection you "
                "must, e.g. `config.security = { xframe: { enable: false } }`.")


@rule(id="EGG-PLG-006", title="Plugin usage cannot be judged (unknown surface or files out of reach)", strategy=2, severity="info",
      cwe=1164, confidence="low", references=(EGG_PLUGINS, GUIDE))
def unknown_surface(ctx: CheckContext):
    """## What
    An enabled plugin is neither in eggshield's knowledge base (`data/plugin_surfaces.toml`) nor
    installed where eggshield could read what it adds (`node_modules/<package>` or the local plugin
    directory), so whether the app uses it cannot be judged.

    ## Why it matters
    An unjudged plugin is a blind spot in the least-privilege review (seed strategy 2).

    ## How to fix
    Run eggshield where dependencies are installed (`npm ci` first), so the plugin's `app/extend`,
    `app.js` and `config/config.default.js` can be read, or record why the plugin is on:

    ```toml
    # .eggshield.toml
    [plugins.doraUploadFile]
    why = "upload widgets of the admin UI"
    ```

    ## Not reported
    Plugins with a recorded justification, and plugins off in the scanned env.
    """
    for row in _rows(ctx):
        if not row.enabled or row.usage.state != UNKNOWN or row.justification is not None:
            continue
        yield ctx.finding(
            "EGG-PLG-006", key=f"plugin.{row.name}", loc=_where(ctx, row),
            message=f"Cannot tell whether plugin '{row.name}' ({row.package_label}) is used: {row.usage.reason}.",
            evidence=f"{row.name} enabled by {row.origin}",
            fix="Install dependencies before scanning, or record why it is on "
                f"(`[plugins.{row.name}] why = \"...\"` in .eggshield.toml).")


def _declared(package: str, project) -> tuple[str | None, str | None]:
    """The range and section the app (or a workspace root above it) declares `package` in."""
    spec, section = declared_range(package, project.pkg)
    if spec is not None:
        return spec, section
    import json

    stop = project.lockfile.parent if project.lockfile is not None else project.root
    for base in project.root.parents:
        if not base.is_relative_to(stop):
            break
        try:
            pkg = json.loads((base / "package.json").read_text("utf-8"))
        except (OSError, ValueError):
            continue
        spec, section = declared_range(package, pkg if isinstance(pkg, dict) else {})
        if spec is not None:
            return spec, section
    return None, None


@rule(id="EGG-PLG-007", title="Plugin entry names a package the deployment will not have", strategy=2,
      severity="medium", cwe=1164, references=(EGG_PLUGINS, GUIDE))
def missing_plugin_package(ctx: CheckContext):
    """## What
    A plugin file lists a plugin whose package Egg cannot find: not installed in node_modules (when
    dependencies are installed), declared only in devDependencies (production installs such as
    `npm ci --omit=dev` leave it out), not declared at all, or a `path:` directory that does not exist.
    Egg 3 and Egg 4 resolve the package of **every** entry of the plugin files they read, including
    `enable: false` entries and entries whose `env` list excludes the running env, and refuse to
    start when one is missing (`Can not find plugin egg-x` / `Cannot find module 'egg-x/package.json'`,
    verified by starting egg 3.34.0 and 4.0.10).

    ## Why it matters
    Disabling a plugin by `enable: false` and uninstalling its package, or keeping a dev plugin in
    `plugin.js` with `env: ['local']` and the package in devDependencies, takes production down at
    the next deploy.

    ## How to fix
    Put development plugins in `config/plugin.local.js` (Egg reads it only in local), remove entries
    of plugins you uninstalled, and declare production plugins in `dependencies`:

    ```js
    // config/plugin.local.js
    exports.webpack = { enable: true, package: 'egg-webpack' };
    ```

    ## Not reported
    Framework default entries (their packages come with egg), entries in plugin files Egg does not
    read in the scanned env, and packages declared in a workspace root's dependencies.
    """
    project = ctx.project
    installed = has_node_modules(project.root)
    for row in _rows(ctx):
        entry = row.entry
        if row.origin.kind != "app":
            continue
        if entry.path and not entry.package:
            if row.plugin_dir is None:
                yield ctx.finding(
                    "EGG-PLG-007", key=f"plugin.{row.name}", loc=_where(ctx, row), severity="high",
                    message=f"Plugin '{row.name}' points at path {entry.path}, which does not exist: Egg will "
                            "not start.", evidence=f"path: {entry.path}",
                    fix="Fix the path or remove the entry.")
            continue
        package = entry.package
        if not package or entry.framework_default:
            continue
        if entry.path and row.plugin_dir is not None:
            continue  # `path` wins over `package` in egg-core
        state = "enabled" if row.enabled else "disabled"
        if installed:
            if installed_dir(package, project.root) is None:
                yield ctx.finding(
                    "EGG-PLG-007", key=f"plugin.{row.name}", loc=_where(ctx, row), severity="high",
                    message=f"Plugin '{row.name}' ({state} in env '{ctx.env}') names package {package}, which is "
                            "not installed: Egg resolves every listed plugin and will not start.",
                    evidence=f"{package} missing from node_modules",
                    fix=f"`npm install {package}`, or remove the `{row.name}` entry if the plugin is not needed.")
            continue
        spec_range, section = _declared(package, project)
        if section in ("dependencies", "optionalDependencies", "peerDependencies"):
            continue
        where = "only in devDependencies" if section == "devDependencies" else "nowhere in package.json"
        yield ctx.finding(
            "EGG-PLG-007", key=f"plugin.{row.name}", loc=_where(ctx, row),
            confidence="medium" if section is None else "high",
            message=f"Plugin '{row.name}' ({state} in env '{ctx.env}') names package {package}, declared {where}: "
                    "a production install will not have it, and Egg refuses to start when a listed plugin's "
                    "package is missing, even a disabled one.",
            evidence=f"{package}: " + (f"devDependencies {spec_range}" if section else "not declared"),
            fix=(f"Move the entry to config/plugin.local.js if it is for development, or declare {package} in "
                 "dependencies."))


@rule(id="EGG-PLG-008", title="Disabled plugin switched back on by a dependency", strategy=2, severity="low",
      cwe=1164, references=(EGG_PLUGINS, GUIDE))
def implicitly_enabled(ctx: CheckContext):
    """## What
    The app disables a plugin, but an enabled plugin depends on it, so Egg enables it again at start
    and only logs `Following plugins will be enabled implicitly that is disabled by application`.
    Example: `schedule: false` while logrotator (which needs schedule) stays on.

    ## Why it matters
    The app believes a plugin is off that runs in production; the least-privilege review is wrong.

    ## How to fix
    Disable the dependent plugin too, or drop the `false` entry so the config says what runs:

    ```js
    // config/plugin.js
    exports.logrotator = false; // logs go to stdout, rotated by the platform
    exports.schedule = false;
    ```

    ## Not reported
    Plugins the app never disabled.
    """
    for row in _rows(ctx):
        if not (row.enabled and row.entry.implicit):
            continue
        loc = row.entry.source
        yield ctx.finding(
            "EGG-PLG-008", key=f"plugin.{row.name}", loc=loc if loc is not None and not loc.default else _where(ctx, row),
            message=f"Plugin '{row.name}' is disabled by the app but Egg enables it again in env '{ctx.env}': "
                    f"required by {', '.join(row.origin.required_by) or 'an enabled plugin'}.",
            evidence=f"{row.name}: enabled implicitly",
            fix=f"Disable {', '.join(row.origin.required_by) or 'the plugins that need it'} as well, or remove "
                f"the `{row.name}: false` entry.")
