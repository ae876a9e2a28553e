"""Secure error handling (strategy 7): what an error shows the client, and which env production really runs.

Egg's onerror plugin already hides stacks in every env except `local`/`unittest` (egg-facts §2);
these rules find what undoes that: custom handlers that send `err.stack`/`err.message`, a
production start that resolves to `local`, the development plugin outside local, app debug flags.
"""

from __future__ import annotations

import re

import tree_sitter as ts

from eggshield.checks._code_query import members_by_property
from eggshield.checks._completeness import config_fully_read
from eggshield.checks._deployment_env import dev_env_starts
from eggshield.checks._error_leaks import (
    DESCRIBE,
    STACK,
    Leak,
    catch_handlers,
    find_leaks,
    function_at,
    function_params,
)
from eggshield.checks.context import DEV_ENVS, CheckContext
from eggshield.checks.registry import rule
from eggshield.eggconfig.model import MISSING
from eggshield.js.parse import text
from eggshield.js.values import JSArray, JSFunction, JSObject, Loc

ONERROR_REFS = ("https://www.eggjs.org/core/error-handling",
                "https://github.com/eggjs/egg-onerror",
                "https://cheatsheetseries.owasp.org/cheatsheets/Error_Handling_Cheat_Sheet.html",
                "https://cwe.mitre.org/data/definitions/209.html")
HANDLERS = ("all", "html", "json", "text", "js")


def _snippet(node: ts.Node, limit: int = 140) -> str:
    s = " ".join(text(node).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _leak_severity(leak: Leak) -> tuple[str, str]:
    return ("high", "high") if leak.worst == STACK else ("medium", "medium")


def _what(leak: Leak) -> str:
    return " and ".join(DESCRIBE[k].split(" (")[0] for k in sorted(leak.kinds, key=lambda k: list(DESCRIBE).index(k)))


def _trees_by_rel(ctx: CheckContext) -> dict[str, ts.Tree]:
    return {ctx.project.rel(path): tree for path, tree in ctx.sources.items()}


# ---- EGG-ERR-001 ------------------------------------------------------------------------------
ONERROR_FIX = """Answer clients with a generic message for server errors and keep the details in the log
(Egg's onerror already logs every error before calling your handler):

```js
// config/config.default.js
config.onerror = {
  json(err, ctx) {
    const status = err.status || 500;
    ctx.status = status;
    ctx.body = { message: status < 500 && err.expose ? err.message : 'Internal Server Error' };
  },
};
```"""


@rule(id="EGG-ERR-001", title="Custom onerror handler sends error details to the client", strategy=7,
      severity="high", cwe=209, references=ONERROR_REFS)
def onerror_handler_leak(ctx: CheckContext):
    """## What
    A custom `config.onerror.all/html/json/text/js` handler (a function in a config file) puts the
    error's stack, raw message or the error object itself into `ctx.body`, e.g.
    `json(err, ctx) { ctx.body = { message: err.message } }`. The handler's source is read from the
    config file's syntax tree, never run; local variables and the guards of Egg's own docs
    (`status < 500`, `err.expose`, `env === 'prod'`) are followed. High for a stack trace, medium for
    a message or the error object (the message of a 4xx is often meant for the user; of a 5xx it is
    a SQL error, a file path, an internal host name).

    ## Why it matters
    Egg's default handler hides all of this outside `local`/`unittest`; a custom handler replaces it
    in every env, production included. Stack traces and driver messages tell an attacker the file
    layout, library versions and queries to aim at (seed strategy 7, secure error handling).

    ## How to fix
    Send a generic message for server errors; keep details in the log (onerror already logs them):

    ```js
    // config/config.default.js
    config.onerror = {
      json(err, ctx) {
        const status = err.status || 500;
        ctx.status = status;
        ctx.body = { message: status < 500 && err.expose ? err.message : 'Internal Server Error' };
      },
    };
    ```

    ## Not reported
    Handlers set only in `config.local`/`config.unittest` when scanning `prod`; details sent only
    inside a branch for client errors (`status < 500`, `err.expose`) or for development envs; error
    properties meant for clients (`status`, `code`, `errors`).
    """
    onerror = ctx.config.get("onerror")
    if not isinstance(onerror, JSObject) or not ctx.config.plugin_enabled("onerror"):
        return
    trees = _trees_by_rel(ctx)
    for name in HANDLERS:
        fn = onerror.get(name)
        if not isinstance(fn, JSFunction) or fn.loc.default:
            continue
        node = None
        tree = trees.get(fn.loc.path)
        if tree is not None and fn.loc.line:
            node = function_at(tree, fn.loc.line, fn.loc.column)
        if node is None and fn.impl is not None:
            node = fn.impl[0]  # defined in a helper file the scan did not parse on its own
        if node is None:
            continue
        params = function_params(node)
        body = node.child_by_field_name("body")
        if not params or not params[0] or body is None:
            continue
        for leak in find_leaks(body, {params[0]}):
            severity, confidence = _leak_severity(leak)
            loc = Loc(fn.loc.path, leak.line, leak.sink.start_point[1] + 1)
            yield ctx.finding(
                "EGG-ERR-001", key=f"onerror.{name}", loc=loc, severity=severity, confidence=confidence,
                message=f"The custom `onerror.{name}` handler sends {_what(leak)} to the client in env "
                        f"'{ctx.env}' (it replaces Egg's handler, which hides them outside local/unittest).",
                evidence=_snippet(leak.sink), fix=ONERROR_FIX)


# ---- EGG-ERR-002 ------------------------------------------------------------------------------
MIDDLEWARE_FIX = """Log the error and answer with a generic message for server errors (Egg's documented pattern):

```js
// app/middleware/error_handler.js
module.exports = () => async function errorHandler(ctx, next) {
  try {
    await next();
  } catch (err) {
    ctx.app.emit('error', err, ctx); // logged by onerror with the stack
    const status = err.status || 500;
    ctx.status = status;
    ctx.body = { error: status === 500 && ctx.app.config.env === 'prod' ? 'Internal Server Error' : err.message };
  }
};
```"""


def middleware_name(stem: str) -> str:
    """egg-core's middleware property name: `error_handler` / `error-handler` → `errorHandler`."""
    name = re.sub(r"[_-]([a-zA-Z0-9])", lambda m: m.group(1).upper(), stem)
    return name[:1].lower() + name[1:]


def _mounted(ctx: CheckContext, name: str) -> str | None:
    """How the middleware is mounted in this env, or None."""
    for key in ("middleware", "coreMiddleware"):
        listed = ctx.config.get(key)
        if isinstance(listed, JSArray | list) and name in [str(x) for x in listed]:
            where = ctx.config.loc(key)
            return f"listed in `config.{key}`" + (f" ({where})" if where and not where.default else "")
    for hit in members_by_property(ctx.sources, name):
        receiver = hit.receiver
        if receiver is not None and re.search(r"middlewares?$", text(receiver)):
            return f"used at {ctx.project.rel(hit.path)}:{hit.line}"
    return None


@rule(id="EGG-ERR-002", title="Error-handling middleware sends error details to the client", strategy=7,
      severity="high", cwe=209, references=(
          "https://www.eggjs.org/tutorials/restful#unified-error-handling", *ONERROR_REFS))
def middleware_error_leak(ctx: CheckContext):
    """## What
    A middleware under `app/middleware/` catches errors (`try { await next() } catch (err) {…}`, or
    `.catch(err => …)`) and puts `err.stack`, `err.message`, driver fields (`err.sql`) or the error
    object into `ctx.body`/`this.body`. Local variables, destructuring and the guards of Egg's own
    docs (`status === 500 && env === 'prod' ? 'Internal Server Error' : err.message`) are followed.
    High for a stack trace, medium for a message or the error object; low (needs review) when the
    middleware is not mounted in the scanned env (`config.middleware`, the router).

    ## Why it matters
    The middleware answers before Egg's onerror ever sees the error, so Egg's production hiding of
    stacks and 5xx messages never applies: stack traces, SQL errors and internal paths reach every
    client (seed strategy 7).

    ## How to fix
    Emit the error for logging and send a generic message for server errors:

    ```js
    } catch (err) {
      ctx.app.emit('error', err, ctx); // onerror logs it, with the stack
      const status = err.status || 500;
      ctx.status = status;
      ctx.body = { error: status >= 500 ? 'Internal Server Error' : err.message };
    }
    ```

    ## Not reported
    Details sent only in branches for client errors (`status < 500`, `err.expose`) or for
    development envs; `ctx.throw(500, err.message)` (Egg hides 5xx messages itself); errors that are
    only logged.
    """
    trees = {p: ctx.sources[p] for p in ctx.project.middleware_files if p in ctx.sources}
    for path, tree in trees.items():
        name = middleware_name(path.stem)
        mounted = _mounted(ctx, name)
        disabled = ctx.config.get(f"{name}.enable") is False
        for names, body in catch_handlers(tree.root_node):
            for leak in find_leaks(body, names):
                severity, confidence = _leak_severity(leak)
                state = ""
                if disabled or mounted is None:
                    severity, confidence = "low", "low"
                    state = (f" It is switched off in env '{ctx.env}' (`{name}.enable: false`)" if disabled else
                             f" It is not mounted in env '{ctx.env}' (not in `config.middleware` or the router "
                             "as far as eggshield can see)") + "; it leaks once it runs."
                else:
                    state = f" It is {mounted}."
                loc = Loc(ctx.project.rel(path), leak.line, leak.sink.start_point[1] + 1)
                yield ctx.finding(
                    "EGG-ERR-002", loc=loc, severity=severity, confidence=confidence,
                    message=f"Middleware `{name}` sends {_what(leak)} to the client; it answers before Egg's "
                            "onerror, so Egg's production hiding does not apply." + state,
                    evidence=_snippet(leak.sink), fix=MIDDLEWARE_FIX)


# ---- EGG-ERR-003 ------------------------------------------------------------------------------
@rule(id="EGG-ERR-003", title="No custom error page for server errors (onerror.errorPageUrl)", strategy=7,
      severity="info", cwe=209, references=ONERROR_REFS)
def error_page_missing(ctx: CheckContext):
    """## What
    The app renders HTML (a view engine is configured) and `onerror.errorPageUrl` is not set, nor a
    custom `onerror.html`/`onerror.all` handler, for a production env.

    ## Why it matters
    Nothing leaks: in production Egg answers a 5xx browser request with a bare
    `<h2>Internal Server Error, real status: 500</h2>` (a 4xx with `<h2>404 Not Found</h2>`). But
    users see an unbranded dead end with no way back, and teams tend to "fix" that by writing
    their own handler, which is where stacks start leaking (EGG-ERR-001). A static error page that
    Egg redirects to (`errorPageUrl?real_status=500`) is the safe way to a friendly page (seed
    strategy 7).

    ## How to fix
    ```js
    // config/config.prod.js
    config.onerror = { errorPageUrl: '/50x.html' }; // served by egg-static from app/public/50x.html
    ```
    The page must not itself depend on what failed (no database, no session).

    ## Not reported
    API-only apps (no view engine configured), development envs, apps with their own HTML handler.
    """
    if not config_fully_read(ctx):
        return
    if ctx.env in DEV_ENVS or not ctx.config.plugin_enabled("onerror"):
        return
    engine = ctx.config.get("view.defaultViewEngine")
    mapping = ctx.config.get("view.mapping")
    if not engine and not (isinstance(mapping, dict) and mapping):
        return
    onerror = ctx.config.get("onerror")
    if isinstance(onerror, JSObject) and any(isinstance(onerror.get(h), JSFunction) for h in ("html", "all")):
        return
    url = ctx.config.get("onerror.errorPageUrl")
    if url not in (MISSING, "", None):
        return
    yield ctx.finding(
        "EGG-ERR-003", key="onerror.errorPageUrl",
        message=f"No `onerror.errorPageUrl` in env '{ctx.env}': browsers that hit a server error get Egg's bare "
                "`<h2>Internal Server Error, real status: 500</h2>` (no details leak, but no way back either).",
        evidence="onerror.errorPageUrl = ''",
        fix="Serve a static error page and let Egg redirect to it:\n\n```js\n// config/config.prod.js\n"
            "config.onerror = { errorPageUrl: '/50x.html' };\n```")


# ---- EGG-ERR-004 ------------------------------------------------------------------------------
@rule(id="EGG-ERR-004", title="Production start runs Egg in a development env (local/unittest)", strategy=7,
      severity="high", cwe=489, references=(
          "https://www.eggjs.org/basics/env", "https://www.eggjs.org/core/deployment",
          "https://cwe.mitre.org/data/definitions/489.html"))
def production_runs_local(ctx: CheckContext):
    """## What
    Something that starts the app for production makes Egg's env `local` or `unittest`: a committed
    `config/env` file containing `local` (Egg reads it before EGG_SERVER_ENV and NODE_ENV), a
    `start`/`prod`/`docker` script with `--env=local`, `EGG_SERVER_ENV=local` or `egg-bin dev`, or a
    Dockerfile/Procfile/compose file that does the same.

    ## Why it matters
    In `local`, Egg's onerror answers every error with a full debug page: the stack, the request
    headers and cookies, and the app's configuration; `config.local.js` is loaded instead of
    `config.prod.js`, so production hardening silently disappears; the development plugin watches
    files and serves `/__loader_trace__`; logs go to the app directory. `unittest` prints stacks too.
    Seed strategy 7: never run development settings in production.

    ## How to fix
    Delete `config/env` from the repository (add it to `.gitignore`), start with egg-scripts, which
    runs `prod` by default, and name the env explicitly where you deploy:

    ```json
    { "scripts": { "start": "egg-scripts start --daemon --env=prod", "dev": "egg-bin dev" } }
    ```

    ## Not reported
    `dev`/`debug`/`test` scripts and `docker-compose.dev.yml`-style files meant for developers;
    scans of a development env (`--env local`).
    """
    if ctx.env in DEV_ENVS:
        return
    for start in dev_env_starts(ctx.project):
        yield ctx.finding(
            "EGG-ERR-004", loc=Loc(start.path, start.line), confidence=start.confidence,
            message=f"Production would run in env '{start.env}': {start.how}. Egg then serves full error pages "
                    "(stack, headers, cookies, config) and loads config.local instead of config.prod.",
            evidence=start.evidence,
            fix="Remove `config/env` from the repository (and list it in .gitignore), start production with "
                "`egg-scripts start --env=prod` (or EGG_SERVER_ENV=prod), keep `egg-bin dev` for the `dev` script.")


# ---- EGG-ERR-005 ------------------------------------------------------------------------------
@rule(id="EGG-ERR-005", title="Development plugin enabled outside local", strategy=7, severity="medium",
      cwe=489, references=("https://github.com/eggjs/egg-development", "https://www.eggjs.org/basics/plugin",
                           "https://cwe.mitre.org/data/definitions/489.html"))
def development_plugin_outside_local(ctx: CheckContext):
    """## What
    The `development` plugin (egg-development / @eggjs/development) is enabled in the scanned env.
    Egg enables it only for `local` (its `env: ['local']`); an app that widens that list, or a
    plugin file for another env that turns it on, brings it to production.

    ## Why it matters
    It is a developer tool: it serves `/__loader_trace__` (the loader's timing data: every file,
    plugin and path of the app) and reloads workers when files change. Neither belongs in
    production (seed strategy 7: debug features off in production).

    ## How to fix
    ```js
    // config/plugin.js: leave Egg's default, or say it explicitly
    exports.development = { enable: true, env: [ 'local' ] };
    ```

    ## Not reported
    Egg's default (local only), development envs.
    """
    if ctx.env in DEV_ENVS:
        return
    entry = ctx.config.plugins.get("development")
    if entry is None or not entry.enable:
        return
    yield ctx.finding(
        "EGG-ERR-005", key="plugin.development", loc=entry.source,
        message=f"The development plugin is enabled in env '{ctx.env}' (env list {entry.env or 'all envs'}, set at "
                f"{entry.origin}): it serves /__loader_trace__ and watches files for reloads.",
        evidence=f"plugin development: enable=true, env={entry.env or []}",
        fix="In config/plugin.js keep `development: { enable: true, env: ['local'] }` (Egg's default), or remove "
            "the entry that widens it.")


# ---- EGG-ERR-006 ------------------------------------------------------------------------------
DEBUG_FLAGS = ("debug", "isDebug", "devMode", "dev", "isDev", "debugMode")


def _truthy(value) -> bool:
    return value is True or value == 1 or (isinstance(value, str) and value.lower() in ("true", "1", "on", "yes"))


def _nested_debug(obj: JSObject, prefix: str):
    for key, value in obj.items():
        dotted = f"{prefix}.{key}"
        loc = obj.locs.get(key)
        if isinstance(value, JSObject):
            yield from _nested_debug(value, dotted)
        elif key == "debug" and _truthy(value) and loc is not None and not loc.default:
            yield dotted, value, loc


@rule(id="EGG-ERR-006", title="Debug flag on in a production env (needs review)", strategy=7, severity="low",
      cwe=489, confidence="low", references=("https://cwe.mitre.org/data/definitions/489.html",
                                             "https://www.eggjs.org/basics/config"))
def debug_flag_on(ctx: CheckContext):
    """## What
    A debug switch is on in the config of a production env: an app-defined top-level flag
    (`config.debug = true`, `isDebug`, `devMode`, …) or a plugin's `debug: true` (a database
    driver's `mysql.client.debug`, `mongoose.options.debug`). Egg itself ignores `config.debug`: what
    it does depends on the app, so the finding lists where the code reads it and asks for a review.

    ## Why it matters
    App debug flags tend to switch off what production needs and switch on what it must not have:
    in cnodejs/egg-cnode, `debug: true` in config.default disables sending e-mails and the RSS cache
    and mounts a LESS compiler; elsewhere they enable mock logins or verbose errors. Driver debug
    modes print every packet or query (with its values) to stdout. Seed strategy 7.

    ## How to fix
    Default the flag to off and turn it on only where it belongs:

    ```js
    // config/config.default.js
    config.debug = false;
    // config/config.local.js
    config.debug = true;
    ```

    ## Not reported
    Flags set only in `config.local`/`config.unittest`, development envs, flags that are off.
    """
    if ctx.env in DEV_ENVS:
        return
    for flag in DEBUG_FLAGS:
        value = ctx.config.get(flag)
        loc = ctx.config.loc(flag)
        if value is MISSING or not _truthy(value) or loc is None or loc.default:
            continue
        uses = []
        config_files = set(ctx.project.config_files.values())
        for hit in members_by_property(ctx.sources, flag):
            if hit.path in config_files:
                continue
            receiver = hit.receiver
            if receiver is not None and re.search(r"(^|\.)config$", text(receiver)):
                uses.append(f"{ctx.project.rel(hit.path)}:{hit.line}")
        read = (f" The app reads it at {', '.join(uses[:6])}{' …' if len(uses) > 6 else ''}: review what it switches "
                "there." if uses else " eggshield found no code reading it.")
        yield ctx.finding(
            "EGG-ERR-006", key=flag, loc=loc,
            message=f"`config.{flag}` is {value!r} in env '{ctx.env}'. Egg itself ignores it; the app decides what "
                    "it does." + read,
            evidence=f"{flag} = {value!r}",
            fix=f"Set `config.{flag} = false` in config/config.default.js and turn it on in config/config.local.js "
                "only.")
    for top, section in ctx.config.config.items():
        if top == "development" or not isinstance(section, JSObject):
            continue
        for dotted, value, loc in _nested_debug(section, top):
            yield ctx.finding(
                "EGG-ERR-006", key=dotted, loc=loc,
                message=f"`{dotted}` is on in env '{ctx.env}': library debug modes print queries, packets or "
                        "connection details to stdout/logs.",
                evidence=f"{dotted} = {value!r}",
                fix=f"Remove `{dotted}` from the production config (set it in config/config.local.js if needed).")
