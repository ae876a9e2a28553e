"""Cross-origin resource sharing: egg-cors (on @koa/cors) and hand-written CORS headers.

@koa/cors (3.x and 5.x, used by egg-cors 2.x/3.x) answers `origin: '*'` with `credentials: true`
by reflecting the request's Origin, and egg-cors' own default `origin` reflects any Origin that
passes `ctx.isSafeDomain` (security.domainWhiteList), or every Origin when the security plugin is
off (`ctx.isSafeDomain` is then undefined). These are the cases where any site can read
authenticated responses.
"""

from __future__ import annotations

from eggshield.checks._code_flow import Flow
from eggshield.checks._code_functions import function_node, reflects_origin
from eggshield.checks._code_query import (
    calls_by_property,
    enclosing_function,
    is_ctx_expr,
    js,
    loc_of,
    snippet,
)
from eggshield.checks.context import CheckContext
from eggshield.checks.registry import rule
from eggshield.eggconfig.model import MISSING
from eggshield.js.parse import text
from eggshield.js.values import UNDEFINED, JSFunction, Unknown

REFS = ("https://github.com/eggjs/egg-cors", "https://github.com/koajs/cors#corsoptions",
        "https://cheatsheetseries.owasp.org/cheatsheets/HTML5_Security_Cheat_Sheet.html#cross-origin-resource-sharing",
        "https://cwe.mitre.org/data/definitions/942.html")

FIX = """Allow a fixed list of origins and nothing else:

```js
// config/config.default.js
const ALLOWED = new Set([ 'https://app.example.com', 'https://admin.example.com' ]);
config.cors = {
  origin: ctx => (ALLOWED.has(ctx.get('origin')) ? ctx.get('origin') : ''),
  credentials: true,
};
```
Or leave `origin` unset and list the front-end hosts in `config.security.domainWhiteList`:
egg-cors then reflects only those."""


def _credentials(ctx: CheckContext):
    """True / False / 'maybe' (a function or an unknown value)."""
    value = ctx.config.get("cors.credentials")
    if value is True or (isinstance(value, int | float | str) and not isinstance(value, bool) and value):
        return True  # @koa/cors takes `!!credentials`: 1 and even the string 'false' mean true
    if isinstance(value, JSFunction | Unknown):
        return "maybe"
    return False


def _wildcard_domain_list(ctx: CheckContext) -> str | None:
    value = ctx.config.get("security.domainWhiteList")
    if isinstance(value, list):
        for entry in value:
            if isinstance(entry, str) and entry.strip() in ("*", "*.*", "**"):
                return entry
    return None


@rule(id="EGG-CFG-030", title="CORS lets any origin read responses with credentials", strategy=4, severity="high",
      cwe=942, references=REFS)
def cors_any_origin(ctx: CheckContext):
    """## What
    Fires, when the egg-cors plugin is enabled, if its configuration lets *any* web site make
    credentialed requests (cookies) and read the answers:

    * `cors.origin: '*'` with `credentials: true`: @koa/cors then reflects the request's Origin;
    * an `origin` function that returns the request's `Origin` header without comparing it with
      anything (judged on its syntax tree, never run);
    * no `origin` while the security plugin is disabled or `security.domainWhiteList` contains
      `'*'`: egg-cors' default reflects every Origin.

    The same shapes *without* credentials are reported at low: any site can read the app's public
    responses (and anything it serves to clients on an internal network).

    ## Why it matters
    With credentials allowed for every origin, a page on any site the user visits can call the API
    *as the user* and read the results: profile data, tokens, CSRF tokens, then act on them
    (CWE-942). Seed strategy 4.

    ## How to fix
    {fix}

    ## Not reported
    An `origin` function that compares the Origin with a list, a Set, a pattern or
    `ctx.isSafeDomain`; a fixed origin string; egg-cors' default origin with a real
    `domainWhiteList`; the cors plugin disabled.
    """
    if not ctx.config.plugin_enabled("cors"):
        return
    origin = ctx.config.get("cors.origin")
    creds = _credentials(ctx)
    what = None
    loc = None
    if isinstance(origin, str) and origin.strip() == "*":
        what = "`cors.origin = '*'`" + (" with `credentials: true` (@koa/cors then reflects the request's Origin)"
                                         if creds else "")
        key = "cors.origin"
    elif isinstance(origin, JSFunction):
        node = function_node(origin)
        reflected = reflects_origin(node) if node is not None else None
        if reflected is None:
            return
        what = f"the `cors.origin` function returns `{reflected}` unchecked"
        key = "cors.origin"
    elif origin in (MISSING, None, UNDEFINED, "", False):
        # the fix is an explicit origin: point at the app's cors settings (or the list that opens them up)
        loc = ctx.config.loc("cors.credentials") if ctx.config.set_by_app("cors.credentials") else ctx.config.loc("cors")
        if not ctx.config.plugin_enabled("security"):
            what = "no `cors.origin` while the security plugin is off: egg-cors then reflects every Origin"
        elif _wildcard_domain_list(ctx):
            what = (f"no `cors.origin` and `security.domainWhiteList` contains '{_wildcard_domain_list(ctx)}': "
                    "egg-cors then reflects every Origin")
            loc = ctx.config.loc("security.domainWhiteList")
        else:
            return
        key = "cors.origin"
    elif isinstance(origin, Unknown):
        if creds:
            yield ctx.finding("EGG-CFG-030", key="cors.origin", severity="low", confidence="low",
                              message=f"Needs review: with credentials allowed, which origins CORS trusts depends on "
                                      f"{origin.reason}.",
                              evidence=f"cors.origin = <{origin.reason}>", fix=FIX)
        return
    else:
        return
    if creds is True:
        severity, confidence, tail = "high", None, "any web site can send the user's cookies and read the answers."
    elif creds == "maybe":
        severity, confidence, tail = "medium", "low", "whether cookies are allowed is decided at run time (`credentials`)."
    else:
        severity, confidence, tail = "low", "medium", ("any web site can read the responses (no cookies: fine for "
                                                       "public data, not for anything reachable only from inside).")
    yield ctx.finding("EGG-CFG-030", key=key, loc=loc, severity=severity, confidence=confidence,
                      message=f"CORS in env '{ctx.env}': {what}; {tail}",
                      evidence=f"cors.origin = {_show(origin)}; cors.credentials = {_show(ctx.config.get('cors.credentials'))}",
                      fix=FIX)


cors_any_origin.__doc__ = cors_any_origin.__doc__.replace("{fix}", FIX.replace("\n", "\n    "))


def _show(value) -> str:
    if value is MISSING or value is UNDEFINED:
        return "<not set>"
    if isinstance(value, JSFunction):
        return " ".join(value.source.split())[:90] or "<function>"
    if isinstance(value, Unknown):
        return f"<{value.reason}>"
    return js(value)


ACAO = "access-control-allow-origin"
ACAC = "access-control-allow-credentials"


def _header_sets(ctx: CheckContext):
    """(hit, header name lowercased, value node) for `ctx.set(name, value)` / `ctx.set({...})` calls."""
    for hit in calls_by_property(ctx.sources, "set", "append", "setHeader"):
        receiver = hit.receiver
        if receiver is None:
            continue
        is_res = text(receiver).endswith(("res", "response")) or is_ctx_expr(receiver)
        if not is_res:
            continue
        args = hit.args
        if len(args) >= 2 and args[0].type == "string":
            yield hit, text(args[0])[1:-1].lower(), args[1]
        elif len(args) == 1 and args[0].type == "object":
            for pair in args[0].named_children:
                if pair.type != "pair":
                    continue
                key = pair.child_by_field_name("key")
                name = text(key).strip("'\"").lower() if key is not None else ""
                yield hit, name, pair.child_by_field_name("value")


@rule(id="EGG-CFG-031", title="Hand-written CORS headers allow any origin", strategy=4, severity="high", cwe=942,
      confidence="medium", references=REFS)
def cors_manual_headers(ctx: CheckContext):
    """## What
    Middleware or controllers that set `Access-Control-Allow-Origin` themselves
    (`ctx.set('Access-Control-Allow-Origin', ...)`, `ctx.set({ ... })`, `ctx.res.setHeader`):

    * to the request's `Origin` header (reflected) while the same function or file also sends
      `Access-Control-Allow-Credentials: true`: high;
    * reflected without credentials, or `'*'`: low, since any site can then read those responses
      without cookies.

    ## Why it matters
    Reflecting the Origin together with `Allow-Credentials: true` lets every web site read
    authenticated responses as the user (CWE-942). `'*'` is fine for public data and wrong for
    anything only reachable from inside a network or authenticated by IP. Seed strategy 4.

    ## How to fix
    Use egg-cors with an explicit allowlist instead of setting headers by hand:

    {fix}

    ## Not reported
    A header set to a fixed origin, a config value, or a value chosen after comparing the Origin
    with a list.
    """
    by_fn: dict[int, dict] = {}
    for hit, name, value in _header_sets(ctx):
        if name not in (ACAO, ACAC) or value is None:
            continue
        fn = enclosing_function(hit.node)
        entry = by_fn.setdefault(fn.id if fn is not None else -hash(hit.path), {"fn": fn, "acao": [], "creds": False,
                                                                              "path": hit.path})
        if name == ACAC:
            if text(value).strip("'\"").lower() == "true":
                entry["creds"] = True
            continue
        entry["acao"].append((hit, value))
    files_with_creds = {e["path"] for e in by_fn.values() if e["creds"]}
    for entry in by_fn.values():
        for hit, value in entry["acao"]:
            fn = entry["fn"]
            flow = Flow(fn) if fn is not None else Flow(None)
            lead = flow.leading(value)
            reflected = lead is not None and lead.kind == "header" and "origin" in lead.expr.lower()
            wildcard = value.type == "string" and text(value)[1:-1].strip() == "*"
            if reflected and flow.guard(value):
                continue
            creds = entry["creds"] or hit.path in files_with_creds
            where = loc_of(ctx.project, hit.path, hit.node)
            if reflected and creds:
                yield ctx.finding(
                    "EGG-CFG-031", loc=where, severity="high",
                    message="The response reflects the request's Origin in Access-Control-Allow-Origin and allows "
                            "credentials: any web site can read authenticated responses as the user.",
                    evidence=snippet(hit.node), fix=FIX)
            elif reflected or wildcard:
                yield ctx.finding(
                    "EGG-CFG-031", loc=where, severity="low",
                    message=("Access-Control-Allow-Origin is set to '*'" if wildcard else
                             "Access-Control-Allow-Origin reflects the request's Origin")
                            + " by hand: any web site can read these responses (without cookies)."
                            + (" Browsers reject '*' together with Allow-Credentials, so credentialed calls fail "
                               "rather than leak." if wildcard and creds else ""),
                    evidence=snippet(hit.node), fix=FIX)


cors_manual_headers.__doc__ = cors_manual_headers.__doc__.replace("{fix}", FIX.replace("\n", "\n    "))
