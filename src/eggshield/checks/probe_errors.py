"""What error responses of a live server give away (probe, strategy 7)."""

from __future__ import annotations

import re

from eggshield.checks.probe_context import ProbeContext
from eggshield.checks.registry import rule
from eggshield.probe import model as m
from eggshield.probe.disclosure import Disclosure, inspect

ONERROR = "https://www.eggjs.org/core/error-handling"

LEAK_FIX = """// Never send err.stack or err.message of a 5xx to clients; log it and answer generically.
// app/middleware/error_handler.js (config.middleware = [ 'errorHandler' ])
module.exports = () => async function errorHandler(ctx, next) {
  try {
    await next();
  } catch (err) {
    ctx.logger.error(err); // the details go to common-error.log
    const status = err.status || 500;
    ctx.status = status;
    ctx.body = { message: status >= 500 ? 'Internal Server Error' : err.expose ? err.message : 'Bad Request' };
  }
};
// and run the server in env prod (egg-scripts start, or EGG_SERVER_ENV=prod): only then does
// egg-onerror hide stacks itself."""

ENV_FIX = """# start the server in production mode: egg-scripts forces NODE_ENV=production (env prod)
npx egg-scripts start --daemon --title=my-app
# or, when starting another way:
EGG_SERVER_ENV=prod node server.js
# and delete config/env if it says "local" (the file wins over NODE_ENV)"""


def _inspected(ctx: ProbeContext) -> list[Disclosure]:
    """Every answered error response (and the wrong-type route requests), inspected once."""
    out = []
    for e in ctx.result.answered():
        if (e.status or 0) >= 400 or e.case == m.ROUTE_WRONG_TYPE:
            d = inspect(e)
            if d.leaks:
                out.append(d)
    return out


def _cached(ctx: ProbeContext) -> list[Disclosure]:
    cache = getattr(ctx, "_disclosures", None)
    if cache is None:
        cache = _inspected(ctx)
        ctx._disclosures = cache  # type: ignore[attr-defined]
    return cache


def _dev_signals(ctx: ProbeContext) -> list[str]:
    """Signs only env local gives: egg-onerror's development page, egg-development's loader trace.
    A JSON error with `stack` is not one on its own (an app can send err.stack in prod); it is
    listed as more evidence when a real sign is there."""
    signals = []
    for d in _cached(ctx):
        if "dev-page" in d.kinds():
            signals.append(f"{d.exchange.method} {d.exchange.target} → {d.exchange.status} with egg-onerror's "
                           "development error page (stack, request headers, cookies, config)")
            break
    trace = ctx.result.first(m.LOADER_TRACE)
    if trace is not None and trace.status == 200 and ('"name":"Load Config"' in trace.text
                                                      or '"name":"Process Start"' in trace.text):
        signals.append("GET /__loader_trace__ answers 200: egg-development, which runs only in env local")
    if signals:
        for d in _cached(ctx):
            if "json-stack" in d.kinds() and (d.exchange.status or 0) >= 500:
                signals.append(f"{d.exchange.method} {d.exchange.target} → {d.exchange.status} with a JSON error "
                               "carrying `stack`")
                break
    return signals


@rule(id="EGG-ERR-100", title="Error response discloses a stack trace or server internals", strategy=7,
      severity="medium", cwe=209, kind="probe",
      references=(ONERROR, "https://cwe.mitre.org/data/definitions/209.html"))
def stack_disclosure(ctx: ProbeContext):
    """## What
    An error response (unknown path, malformed JSON, oversized body, a route given a wrong-typed
    value, the traversal probe, a CSRF refusal) contains a stack trace (`at fn (/srv/app/...js:12:5)`),
    absolute server file paths, `node_modules` package names, or a JSON `stack` member.

    ## Why it matters
    These tell an attacker the code layout, the framework and library versions, and which input
    reached which line: reconnaissance for the next attack (seed strategy 7, "prevents information
    leakage").

    ## How to fix
    Run in env `prod` (egg-onerror then answers `<h2>Internal Server Error, real status: 500</h2>` /
    `{"message":"Internal Server Error"}`), and never put `err.stack` or internal messages in a
    response body yourself: log with `ctx.logger.error(err)` and answer generically.

    ## Not reported
    Egg's production error bodies; 4xx messages Egg writes for the client (`missing csrf token`);
    pages that are not errors.
    """
    leaky = [d for d in _cached(ctx) if d.kinds() & {"stack", "path", "module", "json-stack"}]
    dev_env = bool(_dev_signals(ctx))
    dev = [d for d in leaky if "dev-page" in d.kinds() or (dev_env and "json-stack" in d.kinds())]
    if dev:
        first = dev[0].exchange
        lines = [f"{d.exchange.status} {d.exchange.method} {d.exchange.target}" for d in dev[:12]]
        yield ctx.finding("EGG-ERR-100", url=first.url, severity="high",
                          message=f"{len(dev)} error response(s) show stack traces, file paths and module names "
                                  "(Egg's development error handling).",
                          evidence="\n".join(lines) + "\n" + _leak_lines(dev[0]), fix=LEAK_FIX)
    seen: set[tuple[str, str]] = set()
    for d in leaky:
        if d in dev:
            continue
        e = d.exchange
        key = (e.method, e.target.split("?", 1)[0])
        if key in seen:
            continue
        seen.add(key)
        kinds = sorted(k for k in d.kinds() if k in ("stack", "path", "module", "json-stack"))
        yield ctx.finding("EGG-ERR-100", url=e.url,
                          message=f"{e.status} for {e.method} {e.target} (Accept: {e.request_headers.get('Accept', '*/*')}) "
                                  f"shows {', '.join(kinds)} to the client.",
                          evidence=f"{e.status} {e.method} {e.target}\n{_leak_lines(d)}", fix=LEAK_FIX)


def _leak_lines(d: Disclosure) -> str:
    return "\n".join(f"- {leak.detail}" + (f": {leak.snippet}" if leak.snippet else "")
                     for leak in d.leaks if leak.kind != "sql")


@rule(id="EGG-ERR-101", title="Error response shows database errors or SQL", strategy=7, severity="medium", cwe=209,
      kind="probe", references=("https://cwe.mitre.org/data/definitions/209.html",
                                "https://owasp.org/www-community/Improper_Error_Handling"))
def sql_disclosure(ctx: ProbeContext):
    """## What
    An error response carries a database driver's error (`ER_PARSE_ERROR`, `You have an error in your
    SQL syntax`, `SQLITE_ERROR`, `SequelizeDatabaseError`, `ORA-00933`, `MongoServerError`) or a SQL
    statement. The probe provokes them with a quote in route parameters (`/users/1'"`).

    ## Why it matters
    A database error echoed to the client confirms that input reaches a query unescaped (often a
    SQL injection) and shows table and column names to build it with.

    ## How to fix
    Use parameterised queries (`app.mysql.query('... WHERE id = ?', [ id ])`, Sequelize replacements),
    validate route parameters (`ctx.validate({ id: 'id' }, ctx.params)`), and never forward
    `err.message` of a database error to the client (see EGG-ERR-100's handler).

    ## Not reported
    The same words in normal (non-error) pages.
    """
    seen: set[tuple[str, str]] = set()
    for d in _cached(ctx):
        e = d.exchange
        key = (e.method, e.target.split("?", 1)[0])
        if key in seen:
            continue
        for leak in d.leaks:
            if leak.kind == "sql":
                seen.add(key)
                yield ctx.finding("EGG-ERR-101", url=e.url,
                                  severity="high" if e.case == m.ROUTE_WRONG_TYPE else "medium",
                                  message=f"{e.status} for {e.method} {e.target} shows a {leak.detail} to the client"
                                          + (" after a quote in a route parameter: input likely reaches SQL unescaped"
                                             if e.case == m.ROUTE_WRONG_TYPE else "") + ".",
                                  evidence=leak.snippet[:400], fix=LEAK_FIX)
                break


@rule(id="EGG-ERR-102", title="Server runs Egg's development env (local)", strategy=7, severity="high", cwe=489,
      kind="probe", references=(ONERROR, "https://www.eggjs.org/basics/env",
                                "https://cwe.mitre.org/data/definitions/489.html"))
def local_env(ctx: ProbeContext):
    """## What
    The server answers like an Egg app in env `local`: errors render egg-onerror's development page
    (stack, source excerpts, request headers, cookies and a dump of the application config), JSON
    5xx errors carry `stack`, and egg-development's `/__loader_trace__` answers.

    ## Why it matters
    env `local` is for a developer's machine: besides the pages above it turns HSTS off, watches
    files, logs to the app dir. A server reachable by others in this env leaks its internals on the
    first error (seed strategy 7). It happens when an app is started with `egg-bin dev`, `node` and
    no `EGG_SERVER_ENV`/`NODE_ENV=production`, or with a `config/env` file that says `local`.

    ## How to fix
    Start it with `egg-scripts start` (forces env prod), or set `EGG_SERVER_ENV=prod`; remove a
    `config/env` that says `local`.

    ## Not reported
    Servers whose error pages are Egg's production ones. On a loopback target (a developer's own
    server) the finding is kept, at low severity.
    """
    signals = _dev_signals(ctx)
    if not signals:
        return
    loop = ctx.result.loopback
    yield ctx.finding("EGG-ERR-102", url=ctx.result.origin + "/", severity="low" if loop else "high",
                      message="The server runs in Egg's development env (local)"
                              + (" — fine on a developer's machine, never in production." if loop
                                 else ": every error shows stack traces, request cookies and the config."),
                      evidence="\n".join(signals), fix=ENV_FIX)


_PASSWD = re.compile(r"root:[^:\n]*:0:0:")


@rule(id="EGG-ERR-103", title="Path traversal request returns a system file", strategy=7, severity="critical",
      cwe=22, kind="probe", references=("https://cwe.mitre.org/data/definitions/22.html",
                                        "https://www.eggjs.org/core/security#dta"))
def traversal(ctx: ProbeContext):
    """## What
    `GET /..%2f..%2f..%2f..%2f..%2fetc%2fpasswd` came back with the content of `/etc/passwd`. Egg's
    `security.dta` middleware answers such paths with 400; this server did not.

    ## Why it matters
    Any file the process can read (config with secrets, keys) can be downloaded.

    ## How to fix
    Keep `security.dta` on (Egg's default), serve static files only through egg-static/koa-static-cache
    (>= 5.1.1, which refuses paths outside its dir), and never join a request value into a file path
    without `ctx.helper.spath()` or a `path.resolve` + prefix check.

    ## Not reported
    Any other answer to the probe (400, 404), which is what Egg gives by default.
    """
    e = ctx.result.first(m.TRAVERSAL)
    if e is not None and _PASSWD.search(e.text):
        yield ctx.finding("EGG-ERR-103", url=e.url, key="security.dta",
                          message=f"{e.status} for {e.target}: the response holds /etc/passwd.",
                          evidence=_PASSWD.search(e.text).group(0) + "…",
                          fix="config.security = { dta: { enable: true } }; // Egg's default")
