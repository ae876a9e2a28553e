"""CSRF protection (egg-security `security.csrf`, egg-jsonp): off, bypassable or weakened.

Each rule judges what egg-security@3.8 / @eggjs/security@4.0 will really do with the resolved
config (see `egg_security` and docs/csrf.md), reading the app's routes and code where the answer
depends on them. Rules other than EGG-CSRF-001 stay silent when CSRF is off: 001 says it once.
"""

from __future__ import annotations

import json
import re

from eggshield.checks import _path_matching as pathmatch
from eggshield.checks._app_facts import CodeFacts, facts_for
from eggshield.checks._egg_security import sub_state
from eggshield.checks._knowledge import load, public_suffixes
from eggshield.checks.context import CheckContext
from eggshield.checks.registry import rule
from eggshield.eggconfig.model import MISSING
from eggshield.js.values import UNDEFINED, JSFunction, JSRegExp, Unknown, to_json

FIX = """Keep CSRF on and exempt only what must be, e.g. token-authenticated API routes:

```js
// config/config.default.js
config.security = {
  csrf: {
    enable: true,
    // only if /api is authenticated by a header token, never by cookies:
    ignore: ctx => ctx.path.startsWith('/api/') && !!ctx.get('authorization'),
  },
};
```
Front ends send the token from the `csrfToken` cookie in the `x-csrf-token` header."""


@rule(id="EGG-CSRF-001", title="CSRF protection switched off", strategy=5, severity="high", cwe=352,
      references=("https://www.eggjs.org/core/security#csrf",
                  "https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html",
                  "https://cwe.mitre.org/data/definitions/352.html"))
def csrf_disabled(ctx: CheckContext):
    """## What
    Egg's security plugin checks a CSRF token on every POST, PUT, PATCH, DELETE and CONNECT. This
    rule fires when, in the scanned env, that check is off: `security.csrf.enable = false`, the
    shorthand `security.csrf = false`, `csrf` removed from `security.defaultMiddleware`, or the whole
    `security` plugin disabled in `config/plugin.js`.

    ## Why it matters
    With the check off, any site a logged-in user visits can submit forms and requests to the app
    with the user's cookies: changing passwords, moving money, posting content (seed strategy 5).
    Apps often switch CSRF off to make an API work, and leave cookie-authenticated pages exposed.

    ## How to fix
    Turn it back on and exempt narrowly (`ignore`/`match`) only routes that do not authenticate with
    cookies; send the token from the `csrfToken` cookie in the `x-csrf-token` header from front ends.

    ```js
    // config/config.default.js
    config.security = {
      csrf: {
        enable: true,
        ignore: ctx => ctx.path.startsWith('/api/') && !!ctx.get('authorization'),
      },
    };
    ```

    ## Not reported
    CSRF switched off only in `config.local`/`config.unittest` when scanning `prod`.
    """
    security = ctx.config.plugins.get("security")
    if security is not None and not security.enable:
        yield ctx.finding(
            "EGG-CSRF-001", key="plugin.security", loc=security.source,
            message="The security plugin is disabled: no CSRF check (and no xframe, nosniff, safe redirect, ...).",
            evidence=f"plugin security: enable=false ({security.origin})",
            fix="Remove `security: false` / `{ enable: false }` from config/plugin.js and switch off only the "
                "sub-protections you must, e.g. `config.security = { xframe: { enable: false } }`.",
            severity="critical")
        return
    csrf = ctx.config.get("security.csrf")
    if csrf is False:
        yield ctx.finding("EGG-CSRF-001", key="security.csrf",
                          message="`security.csrf = false` switches CSRF protection off.",
                          evidence="security.csrf = false", fix=FIX)
        return
    enable = ctx.config.get("security.csrf.enable")
    if enable is False:  # egg-security skips a middleware only on `enable === false`
        yield ctx.finding("EGG-CSRF-001", key="security.csrf.enable",
                          message=f"CSRF protection is switched off for env '{ctx.env}'.",
                          evidence="security.csrf.enable = false", fix=FIX)
        return
    if isinstance(enable, Unknown):
        yield ctx.finding("EGG-CSRF-001", key="security.csrf.enable", severity="low", confidence="low",
                          message=f"Needs review: whether CSRF protection is on depends on {enable.reason}.",
                          evidence=f"security.csrf.enable = {enable.reason}", fix=FIX)
        return
    middleware = ctx.config.get("security.defaultMiddleware")
    names = middleware.split(",") if isinstance(middleware, str) else middleware if isinstance(middleware, list) else None
    if names is not None and middleware is not MISSING and "csrf" not in [str(n).strip() for n in names]:
        yield ctx.finding("EGG-CSRF-001", key="security.defaultMiddleware",
                          message="`csrf` is missing from `security.defaultMiddleware`, so the CSRF check never runs.",
                          evidence=f"security.defaultMiddleware = {middleware!r}", fix=FIX)


# ---- shared ------------------------------------------------------------------------------------
REFS = ("https://www.eggjs.org/core/security#csrf",
        "https://github.com/eggjs/security#csrf",
        "https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html",
        "https://cwe.mitre.org/data/definitions/352.html")
TOKEN_TYPES = ("ctoken", "all", "any")
MAX_LISTED = 5


def _csrf_on(ctx: CheckContext) -> dict | None:
    """The csrf options when the CSRF middleware really runs (EGG-CSRF-001 speaks otherwise)."""
    if not sub_state(ctx, "csrf", paths=False).on:
        return None
    opt = ctx.config.get("security.csrf")
    return opt if isinstance(opt, dict) else None


def _listed(items: list[str]) -> str:
    head = ", ".join(items[:MAX_LISTED])
    return head + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def _route_names(routes) -> list[str]:
    return [f"{r.method} {r.path} ({r.loc})" for r in routes]


def _segments(prefix: str) -> int:
    parts = [p for p in prefix.split("/") if p]
    return len([p for p in parts if not re.fullmatch(r"v\d+(\.\d+)?", p, re.IGNORECASE)])


# ---- EGG-CSRF-002 ------------------------------------------------------------------------------
@rule(id="EGG-CSRF-002", title="CSRF check skipped for JSON requests (ignoreJSON)", strategy=5, severity="medium",
      cwe=352, references=REFS)
def csrf_ignore_json(ctx: CheckContext):
    """## What
    `security.csrf.ignoreJSON: true` makes egg-security skip the CSRF check for every request whose
    `Content-Type` is JSON (`application/json`, `*+json`). egg-security itself deprecates the
    option: it logs "`ignoreJSON` is not safe now, please disable it" at startup.

    ## Why it matters
    The option rests on the belief that another site cannot send a JSON body with the user's
    cookies. That holds only while no CORS policy admits the attacker's origin (a permissive
    `cors` plugin, a reflected `Origin`) and no browser or plugin quirk sends such a request
    without a preflight; when it fails, every JSON endpoint is forgeable (seed strategy 5).
    Severity is high when the `cors` plugin is on with `credentials: true`.

    ## How to fix
    Remove the option and send the token from the front end, which costs one header:

    ```js
    // config/config.default.js
    config.security = { csrf: { ignoreJSON: false } }; // or delete the line: false is the default
    ```
    ```js
    // front end: the csrfToken cookie is readable by design
    fetch('/api/x', { method: 'POST', headers: { 'x-csrf-token': getCookie('csrfToken'),
      'content-type': 'application/json' }, body: JSON.stringify(data) });
    ```

    ## Not reported
    `ignoreJSON` set only in `config.local`/`config.unittest` when scanning `prod`; apps whose CSRF
    check is off altogether (EGG-CSRF-001 reports that).
    """
    opt = _csrf_on(ctx)
    if opt is None:
        return
    value = opt.get("ignoreJSON", MISSING)
    key = "security.csrf.ignoreJSON"
    if isinstance(value, Unknown):
        yield ctx.finding("EGG-CSRF-002", key=key, severity="low", confidence="low",
                          message=f"Needs review: whether JSON requests skip the CSRF check depends on {value.reason}.",
                          evidence=f"{key} = {value.reason}", fix="Set `ignoreJSON: false` (the default).")
        return
    if not value or value is MISSING:
        return
    cors_credentials = ctx.config.plugin_enabled("cors") and ctx.config.get("cors.credentials") is True
    message = "`ignoreJSON: true` skips the CSRF check for every JSON request"
    if cors_credentials:
        message += ", and the cors plugin is on with `credentials: true`: any origin its policy admits can send them"
    yield ctx.finding("EGG-CSRF-002", key=key, severity="high" if cors_credentials else "medium",
                      message=message + ".", evidence=f"{key} = true" + ("; cors.credentials = true" if cors_credentials else ""),
                      fix="Delete `ignoreJSON` (default false) and send the `csrfToken` cookie's value in the "
                          "`x-csrf-token` header from the front end.")


# ---- EGG-CSRF-003 ------------------------------------------------------------------------------
@rule(id="EGG-CSRF-003", title="CSRF check exempts too much (ignore/match)", strategy=5, severity="high", cwe=352,
      references=REFS)
def csrf_broad_exemption(ctx: CheckContext):
    """## What
    `security.csrf.ignore` exempts the paths it matches from the CSRF check; `security.csrf.match`
    limits the check to the paths it matches (egg-security uses `match` when both are set). Patterns
    are judged with egg-path-matching's semantics: a string is a path-to-regexp prefix (`'/api'`
    covers `/api` and everything below it), a RegExp is tested against `ctx.path` (unanchored unless
    it starts with `^`), an array matches when any member does. This rule fires when:

    - the exemption covers every path (`ignore: '/'`, `/^\\//`, `/.*/`): CSRF is effectively off (high);
    - it covers every state-changing route the router declares (high), or `match` leaves some of
      them unchecked (medium; high when it checks none of them);
    - it exempts a broad prefix (`'/api'`, `/^\\/api\\//`, an unanchored `/api/`) or three or more
      state-changing routes (medium);
    - a member is a function, or a value only known at runtime: eggshield cannot judge it and says
      "needs review" at low confidence, pointing at the function's source.

    ## Why it matters
    An exempted route that authenticates by cookie is as forgeable as with CSRF switched off
    (seed strategy 5: exempt "only API endpoints that are genuinely stateless"). A broad prefix
    tends to grow: routes added under `/api` later are exempt without anyone deciding it.

    ## How to fix
    Exempt exact routes that do not use cookie authentication (webhooks, token-authenticated API),
    or decide per request:

    ```js
    config.security = {
      csrf: {
        ignore: [ '/webhook/stripe', '/webhook/github' ],
        // or: ignore: ctx => ctx.path.startsWith('/api/') && !!ctx.get('authorization'),
      },
    };
    ```

    ## Not reported
    Narrow exemptions (one or two exact routes), exemptions set only in `config.local`, and
    `match` patterns that still cover every state-changing route.
    """
    opt = _csrf_on(ctx)
    if opt is None:
        return
    facts = facts_for(ctx)
    if opt.get("match"):
        yield from _judge_match(ctx, opt["match"], facts)
    elif opt.get("ignore"):
        yield from _judge_ignore(ctx, opt["ignore"], facts)


def _unjudged(ctx: CheckContext, key: str, patterns: list[pathmatch.Pattern], verb: str):
    for p in patterns:
        if p.judged:
            continue
        where = p.function.loc if p.function is not None else None
        yield ctx.finding(
            "EGG-CSRF-003", key=key, loc=where, severity="low", confidence="low",
            message=f"Needs review: `{key}` holds {p.unknown}, so eggshield cannot tell which "
                    f"state-changing routes it {verb}.",
            evidence=f"{key}: {p.source}",
            fix="Make sure the function exempts only requests that carry no cookie authentication "
                "(e.g. `ctx => ctx.path.startsWith('/api/') && !!ctx.get('authorization')`).")


def _judge_ignore(ctx: CheckContext, value, facts: CodeFacts):
    key = "security.csrf.ignore"
    patterns = pathmatch.compile_patterns(value)
    judged = [p for p in patterns if p.judged]
    evidence = f"{key} = " + ", ".join(p.source for p in patterns)
    if judged and pathmatch.covers_every_path(judged):
        yield ctx.finding("EGG-CSRF-003", key=key, confidence="high",
                          message="`security.csrf.ignore` matches every path: the CSRF check never runs.",
                          evidence=evidence, fix=FIX)
        return
    routes = facts.state_changing_routes
    samples = [(r, pathmatch.route_sample(r.path)) for r in routes]
    covered = [r for r, s in samples if any(p.matches(s) for p in judged)]
    if len(routes) >= 2 and len(covered) == len(routes):
        yield ctx.finding("EGG-CSRF-003", key=key, confidence="medium",
                          message=f"`security.csrf.ignore` exempts all {len(routes)} state-changing routes the "
                                  "router declares: " + _listed(_route_names(covered)) + ".",
                          evidence=evidence, fix=FIX)
        return
    broad = []
    for p in judged:
        hit = [r for r, s in samples if p.matches(s)]
        why = _broadness(p)
        if why or len(hit) >= 3:
            detail = why or "a prefix"
            if hit:
                detail += f"; exempts {len(hit)} state-changing route(s): " + _listed(_route_names(hit))
            broad.append(f"{p.source} ({detail})")
    if broad:
        yield ctx.finding(
            "EGG-CSRF-003", key=key, severity="medium", confidence="medium",
            message="`security.csrf.ignore` exempts broad path prefixes from the CSRF check: " + "; ".join(broad)
                    + ". Every route under them, now or added later, must authenticate without cookies.",
            evidence=evidence, fix=FIX)
    yield from _unjudged(ctx, key, patterns, "exempts from the CSRF check")


def _broadness(p: pathmatch.Pattern) -> str:
    prefix = pathmatch.literal_prefix(p)
    if prefix is None:  # unanchored RegExp: matches its text anywhere in the path
        anchored = pathmatch.compile_member(JSRegExp("^" + p.regex.pattern)) if p.regex is not None else None
        inner = pathmatch.literal_prefix(anchored) if anchored is not None and anchored.regex is not None else None
        if inner is not None and _segments(inner) <= 1:
            return f"unanchored: matches `{inner}` anywhere in a path"
        return ""
    if pathmatch.subtree_of(p, prefix) and _segments(prefix) <= 1:
        return f"everything under `{prefix.rstrip('/') or '/'}`"
    return ""


def _judge_match(ctx: CheckContext, value, facts: CodeFacts):
    key = "security.csrf.match"
    patterns = pathmatch.compile_patterns(value)
    if any(not p.judged for p in patterns):
        yield from _unjudged(ctx, key, patterns, "leaves unchecked")
        return
    if pathmatch.covers_every_path(patterns):
        return
    evidence = f"{key} = " + ", ".join(p.source for p in patterns)
    routes = facts.state_changing_routes
    unchecked = [r for r in routes if not any(p.matches(pathmatch.route_sample(r.path)) for p in patterns)]
    if routes and not unchecked:
        return
    if not routes:
        yield ctx.finding("EGG-CSRF-003", key=key, severity="medium", confidence="low",
                          message="`security.csrf.match` limits the CSRF check to paths matching "
                                  + ", ".join(p.source for p in patterns)
                                  + "; every other path is unchecked (eggshield found no routes to compare).",
                          evidence=evidence, fix=FIX)
        return
    severity = "high" if len(unchecked) == len(routes) else "medium"
    yield ctx.finding("EGG-CSRF-003", key=key, severity=severity, confidence="medium",
                      message=f"`security.csrf.match` leaves {len(unchecked)} of {len(routes)} state-changing routes "
                              "without a CSRF check: " + _listed(_route_names(unchecked)) + ".",
                      evidence=evidence, fix=FIX)


# ---- EGG-CSRF-004 ------------------------------------------------------------------------------
@rule(id="EGG-CSRF-004", title="CSRF check relies on the Referer header alone or on a broad whitelist",
      strategy=5, severity="low", confidence="medium", cwe=352, references=REFS)
def csrf_referer_only(ctx: CheckContext):
    """## What
    With `security.csrf.type: 'referer'` egg-security checks no token; a request passes when the
    host of its `Referer` (egg-security 3.8+: or `Origin`) header matches `refererWhiteList` plus
    the request's own `Host`, with `isSafeDomain` semantics (an entry `example.com` admits every
    sub-domain; an entry with `*` is a glob). With `type: 'any'` a request passes if either the
    token or the referer check passes. This rule fires when:

    - `type` is `'referer'`: no token at all, and every sub-domain of the app's host passes; with an
      empty `refererWhiteList` this is a same-site check, not a bypass (low);
    - `type` is `'referer'` or `'any'` and `refererWhiteList` holds an entry that admits anyone:
      `*`, a bare top-level label (`com`), a glob over one (`*.com`), or a public suffix where
      anyone can register a host (`github.io`, `co.uk`, `herokuapp.com`) (high).

    ## Why it matters
    A Referer check is a weaker second line: any page on a sub-domain (user content, an old
    marketing site, a sub-domain takeover) can forge requests, and a whitelist entry that covers
    a public suffix lets every site on the internet pass (seed strategy 5).

    ## How to fix
    Prefer tokens (`type: 'ctoken'`, the default) or require both (`type: 'all'`), and whitelist
    exact hosts:

    ```js
    config.security = {
      csrf: { type: 'all', refererWhiteList: [ 'admin.example.com' ] },
    };
    ```

    ## Not reported
    `type: 'ctoken'` (the default) and `type: 'all'`, where a token is still required whatever the
    whitelist holds; an unknown `type` (Egg refuses to start).
    """
    opt = _csrf_on(ctx)
    if opt is None:
        return
    kind = opt.get("type", "ctoken")
    key = "security.csrf.type"
    if isinstance(kind, Unknown):
        yield ctx.finding("EGG-CSRF-004", key=key, severity="low", confidence="low",
                          message=f"Needs review: the CSRF check type depends on {kind.reason}.",
                          evidence=f"{key} = {kind.reason}", fix=FIX)
        return
    if kind not in ("referer", "any"):
        return
    white = opt.get("refererWhiteList", [])
    wkey = "security.csrf.refererWhiteList"
    if isinstance(white, Unknown):
        yield ctx.finding("EGG-CSRF-004", key=wkey, severity="low", confidence="low",
                          message=f"Needs review: the CSRF referer whitelist depends on {white.reason}.",
                          evidence=f"{wkey} = {white.reason}", fix=FIX)
        return
    entries = [w for w in white if isinstance(w, str)] if isinstance(white, list) else []
    broad = [w for w in entries if _admits_anyone(w)]
    if broad:
        yield ctx.finding(
            "EGG-CSRF-004", key=wkey, severity="high", confidence="high",
            message=f"`security.csrf.refererWhiteList` admits any site ({', '.join(map(repr, broad))}) and "
                    f"`type: '{kind}'` lets a request pass on its Referer alone: the CSRF check is bypassable.",
            evidence=f"{key} = '{kind}'; {wkey} = {entries!r}",
            fix="List exact hosts you control, e.g. `refererWhiteList: [ 'admin.example.com' ]`, and prefer "
                "`type: 'ctoken'` or `'all'`.")
        return
    if kind == "referer":
        scope = ("the request's own host and its sub-domains" if not entries
                 else "the request's own host, " + ", ".join(entries) + " and their sub-domains")
        yield ctx.finding(
            "EGG-CSRF-004", key=key,
            message=f"`type: 'referer'` checks no CSRF token, only that the Referer/Origin host is {scope}; "
                    "any page on such a sub-domain can forge requests.",
            evidence=f"{key} = 'referer'; {wkey} = {entries!r}",
            fix="Use `type: 'ctoken'` (the default) or `type: 'all'` (token and referer).")


def _admits_anyone(entry: str) -> bool:
    rule_ = entry.strip().lower()
    if "*" in rule_:
        rest = rule_.replace("*", "").strip(".")
        return not rest or "." not in rest or rest in public_suffixes()
    host = rule_.lstrip(".")
    return bool(host) and ("." not in host or host in public_suffixes())


# ---- EGG-CSRF-005 ------------------------------------------------------------------------------
@rule(id="EGG-CSRF-005", title="CSRF check does not cover all state-changing methods (supportedRequests)",
      strategy=5, severity="high", cwe=352, references=REFS)
def csrf_supported_requests(ctx: CheckContext):
    """## What
    `security.csrf.supportedRequests` lists which `{ path: RegExp, methods: [...] }` the CSRF check
    applies to; Egg's default is `[{ path: /^\\//, methods: ['POST', 'PATCH', 'DELETE', 'PUT',
    'CONNECT'] }]`. An app's array replaces the default entirely. The middleware compares
    `ctx.method` (upper case) with `methods.includes(...)`, so a lower-case `'post'` never matches.
    This rule fires when, on some paths, a method is left out:

    - POST (what every cross-site HTML form sends) unchecked anywhere: high;
    - PUT/PATCH/DELETE unchecked: low, because another origin can send them only through a CORS
      preflight the app accepts (or a method-override middleware); when the router is known, only
      methods some route uses are reported;
    - an empty array: nothing is checked (high).

    ## Why it matters
    A method dropped from the list is a method the CSRF check silently stops protecting, on
    every route, including routes added later (seed strategy 5).

    ## How to fix
    Keep Egg's default (delete the option) or extend it; never narrow it:

    ```js
    config.security = {
      csrf: {
        supportedRequests: [
          { path: /^\\//, methods: [ 'POST', 'PATCH', 'DELETE', 'PUT', 'CONNECT' ] },
        ],
      },
    };
    ```

    ## Not reported
    Lists that still cover POST, PUT, PATCH and DELETE on every path (adding GET is stricter, not
    weaker); CONNECT (no Egg route can serve it).
    """
    opt = _csrf_on(ctx)
    if opt is None:
        return
    key = "security.csrf.supportedRequests"
    value = opt.get("supportedRequests", MISSING)
    if value is MISSING:
        return
    if isinstance(value, Unknown) or not isinstance(value, list) or not all(
            isinstance(r, dict) and isinstance(r.get("path"), JSRegExp) and isinstance(r.get("methods"), list)
            for r in value):
        yield ctx.finding("EGG-CSRF-005", key=key, severity="low", confidence="low",
                          message="Needs review: eggshield cannot evaluate `supportedRequests` statically.",
                          evidence=f"{key} = {value.reason if isinstance(value, Unknown) else _short(value)}",
                          fix=SUPPORTED_FIX)
        return
    rules = [(pathmatch.js_regex(r["path"]), [m for m in r["methods"] if isinstance(m, str)], r) for r in value]
    if any(rx is None for rx, _, _ in rules):
        yield ctx.finding("EGG-CSRF-005", key=key, severity="low", confidence="low",
                          message="Needs review: a `supportedRequests` path is a RegExp eggshield cannot evaluate.",
                          evidence=f"{key} = {_short(value)}", fix=SUPPORTED_FIX)
        return
    evidence = f"{key} = " + _short(value)
    if not rules:
        yield ctx.finding("EGG-CSRF-005", key=key, message="`supportedRequests` is empty: the CSRF check covers no request.",
                          evidence=evidence, fix=SUPPORTED_FIX)
        return
    lower = sorted({m for _, methods, _ in rules for m in methods if m != m.upper()})

    def checked(method: str, path: str) -> bool:
        return any(rx.search(path) and method in methods for rx, methods, _ in rules)

    facts = facts_for(ctx)
    routes = facts.state_changing_routes
    gaps: dict[str, list[str]] = {}
    knowledge = load("csrf")["supported_requests"]
    # CONNECT is in Egg's default list, but no Egg route can serve it
    for method in [m for m in knowledge["default_methods"] if m != "CONNECT"]:
        probe_gap = [p for p in pathmatch.PROBE_PATHS if not checked(method, p)]
        route_gap = [r for r in routes if r.method in (method, "ALL")
                     and not checked(method, pathmatch.route_sample(r.path))]
        if route_gap:
            gaps[method] = [f"{r.path} ({r.loc})" for r in route_gap]
        elif probe_gap and not (routes and facts.routes_complete):
            gaps[method] = [] if len(probe_gap) == len(pathmatch.PROBE_PATHS) else probe_gap
    if not gaps:
        return
    note = f" (lower-case {', '.join(lower)} never match: Egg compares with the upper-case method)" if lower else ""
    parts = []
    for method, where in gaps.items():
        parts.append(f"{method} " + ("on every path" if not where else "on " + _listed(where)))
    forgeable = any(m in knowledge["form_methods"] for m in gaps)  # what a plain cross-site form sends
    yield ctx.finding(
        "EGG-CSRF-005", key=key, severity="high" if forgeable else "low",
        confidence="high" if forgeable else "medium",
        message="The CSRF check skips " + "; ".join(parts) + note + "."
                + ("" if forgeable else " Other origins can send these methods only through a CORS preflight "
                   "the app accepts, or a method-override middleware."),
        evidence=evidence, fix=SUPPORTED_FIX)


SUPPORTED_FIX = ("Delete `supportedRequests` to keep Egg's default, or list every state-changing method on "
                 "every path: `supportedRequests: [{ path: /^\\//, methods: ['POST', 'PATCH', 'DELETE', 'PUT', "
                 "'CONNECT'] }]`.")


def _short(value, limit: int = 160) -> str:
    text_ = json.dumps(to_json(value), ensure_ascii=False) if not isinstance(value, str) else value
    return text_ if len(text_) <= limit else text_[: limit - 1] + "…"


# ---- EGG-CSRF-006 ------------------------------------------------------------------------------
@rule(id="EGG-CSRF-006", title="CSRF secret kept in a cookie while the session authenticates users",
      strategy=5, severity="low", confidence="medium", cwe=352, references=REFS)
def csrf_use_session(ctx: CheckContext):
    """## What
    By default (`security.csrf.useSession: false`) egg-security keeps the CSRF secret in a plain,
    unsigned cookie (`csrfToken`) and accepts a request whose token equals that cookie (double
    submit). With `useSession: true` the secret lives in the session instead. This rule fires when
    the secret is in a cookie while the app's code keeps the logged-in user in the session
    (`ctx.session.user = ...`, `ctx.session.userId`, egg-passport's `ctx.login()`).

    ## Why it matters
    A double-submit cookie is only as strong as the browser's cookie isolation: anyone who can
    write a cookie for the app's domain (a sibling sub-domain, an HTTP man-in-the-middle on a
    non-HSTS host, cookie tossing) can plant a secret of their choice and then forge requests
    carrying the matching token. A secret stored in the signed/encrypted session cannot be planted
    and is bound to the login (seed strategy 5). Low: the attack needs that foothold first.

    ## How to fix
    ```js
    config.security = { csrf: { useSession: true } }; // needs the session plugin (on by default)
    ```
    and rotate the secret at login with `ctx.rotateCsrfSecret()`.

    ## Not reported
    Apps whose code shows no session-based login, `type: 'referer'` (no secret), and apps with
    `useSession: true`.
    """
    opt = _csrf_on(ctx)
    if opt is None or opt.get("type", "ctoken") not in TOKEN_TYPES:
        return
    if opt.get("useSession") is True or isinstance(opt.get("useSession"), Unknown):
        return
    if not ctx.config.plugin_enabled("session"):
        return
    facts = facts_for(ctx)
    evidence_locs = facts.session_auth or facts.session_login
    passport = ctx.config.plugin_enabled("passport")
    if not evidence_locs and not passport:
        return
    where = str(evidence_locs[0]) if evidence_locs else "the passport plugin"
    yield ctx.finding(
        "EGG-CSRF-006", key="security.csrf.useSession",
        message=f"The session carries the logged-in user (e.g. {where}) but the CSRF secret is kept in an unsigned "
                "`csrfToken` cookie, which anyone able to write a cookie for the domain can plant.",
        evidence=f"security.csrf.useSession = false; session auth at {where}"
                 + (f" (+{len(evidence_locs) - 1} more)" if len(evidence_locs) > 1 else ""),
        fix="Set `config.security = { csrf: { useSession: true } }` and call `ctx.rotateCsrfSecret()` after login.")


# ---- EGG-CSRF-007 ------------------------------------------------------------------------------
@rule(id="EGG-CSRF-007", title="CSRF cookie options weaken the double-submit cookie", strategy=5, severity="low",
      confidence="medium", cwe=352, references=REFS)
def csrf_cookie_options(ctx: CheckContext):
    """## What
    egg-security sets the CSRF secret cookie with `{ signed: false, httpOnly: false, overwrite: true }`
    merged with `security.csrf.cookieOptions`, and `domain` from `security.csrf.cookieDomain`
    (egg-security `app/extend/context.js` `ensureCsrfSecret`). This rule fires on the options that
    make the secret easier to read or plant:

    - `cookieDomain` or `cookieOptions.domain` set: the secret is sent to, and can be overwritten
      by, every host under that domain (a function: needs review at low confidence);
    - `cookieOptions.secure: false`: the cookie is also sent over plain HTTP, where a
      man-in-the-middle reads or replaces it (by default Egg marks it Secure on HTTPS requests);
    - `cookieOptions.sameSite: 'none'`: opts out of the browsers' Lax default, which otherwise keeps
      the cookie off cross-site POSTs and so fails forged requests early.

    ## Why it matters
    The double-submit check passes when the token equals the cookie; whoever can read the cookie,
    or write one, can forge requests (seed strategy 5).

    ## How to fix
    ```js
    config.security = {
      csrf: {
        // cookieDomain: unset, so the cookie stays on the app's own host
        cookieOptions: { sameSite: 'lax' }, // signed: true also stops planted cookies
      },
    };
    ```
    Or keep the secret in the session: `csrf: { useSession: true }`.

    ## Not reported
    `httpOnly: true` and `signed: true`: both make the cookie stronger (httpOnly only stops front-end
    code from reading it for the header; forms using `ctx.csrf` keep working); `useSession: true`
    and `type: 'referer'`, where no CSRF cookie is set.
    """
    opt = _csrf_on(ctx)
    if opt is None or opt.get("type", "ctoken") not in TOKEN_TYPES or opt.get("useSession") is True:
        return
    cookie = opt.get("cookieOptions")
    cookie = cookie if isinstance(cookie, dict) else {}
    domain_key, domain = "security.csrf.cookieDomain", opt.get("cookieDomain", UNDEFINED)
    if cookie.get("domain") not in (None, UNDEFINED, MISSING, ""):
        domain_key, domain = "security.csrf.cookieOptions.domain", cookie["domain"]
    if isinstance(domain, JSFunction):
        yield ctx.finding("EGG-CSRF-007", key=domain_key, loc=domain.loc, confidence="low",
                          message=f"Needs review: the CSRF cookie's domain is computed by a function ({domain.loc}); if it "
                                  "returns a parent domain, every host under it can read or plant the CSRF secret.",
                          evidence=f"{domain_key} = function at {domain.loc}", fix=COOKIE_FIX)
    elif isinstance(domain, Unknown):
        yield ctx.finding("EGG-CSRF-007", key=domain_key, confidence="low",
                          message=f"Needs review: the CSRF cookie's domain depends on {domain.reason}.",
                          evidence=f"{domain_key} = {domain.reason}", fix=COOKIE_FIX)
    elif isinstance(domain, str) and domain:
        yield ctx.finding("EGG-CSRF-007", key=domain_key,
                          message=f"The CSRF secret cookie is scoped to `{domain}`: every host under it receives the "
                                  "secret and can overwrite it, so any of them can forge requests.",
                          evidence=f"{domain_key} = {domain!r}", fix=COOKIE_FIX)
    secure = cookie.get("secure", UNDEFINED)
    if secure is False:
        yield ctx.finding("EGG-CSRF-007", key="security.csrf.cookieOptions.secure",
                          message="`cookieOptions.secure: false` sends the CSRF secret over plain HTTP too, where a "
                                  "man-in-the-middle can read or replace it.",
                          evidence="security.csrf.cookieOptions.secure = false", fix=COOKIE_FIX)
    same_site = cookie.get("sameSite", UNDEFINED)
    if isinstance(same_site, str) and same_site.lower() == "none":
        yield ctx.finding("EGG-CSRF-007", key="security.csrf.cookieOptions.sameSite",
                          message="`cookieOptions.sameSite: 'none'` sends the CSRF secret on cross-site requests, "
                                  "giving up the browsers' Lax default as a second line of defence.",
                          evidence=f"security.csrf.cookieOptions.sameSite = {same_site!r}", fix=COOKIE_FIX)


COOKIE_FIX = ("Leave `cookieDomain`/`cookieOptions.domain` unset, keep `secure` at its default and use "
              "`sameSite: 'lax'` (or `signed: true`), e.g. `config.security = { csrf: { cookieOptions: "
              "{ sameSite: 'lax' } } }`; or store the secret in the session with `useSession: true`.")


# ---- EGG-CSRF-008 / 009: JSONP -------------------------------------------------------------------
JSONP_REFS = ("https://github.com/eggjs/egg-jsonp#readme", "https://www.eggjs.org/basics/router#jsonp",
              "https://cwe.mitre.org/data/definitions/352.html")


def _jsonp_options(ctx: CheckContext, call) -> tuple[object, object]:
    base = ctx.config.get("jsonp")
    base = base if isinstance(base, dict) else {}
    csrf = call.csrf if call.csrf is not UNDEFINED else base.get("csrf", False)
    white = call.white_list if call.white_list is not UNDEFINED else base.get("whiteList", UNDEFINED)
    return csrf, white


def _security_csrf_usable(ctx: CheckContext) -> bool:
    """egg-jsonp's own test: security plugin on and `security.csrf.enable !== false`."""
    if not ctx.config.plugin_enabled("security"):
        return False
    csrf = ctx.config.get("security.csrf")
    return bool(csrf) and (not isinstance(csrf, dict) or csrf.get("enable") is not False)


@rule(id="EGG-CSRF-008", title="JSONP endpoint with neither CSRF nor referrer check", strategy=5, severity="high",
      confidence="medium", cwe=352, references=JSONP_REFS)
def jsonp_unchecked(ctx: CheckContext):
    """## What
    `app.jsonp()` (egg-jsonp) wraps a route's response in a callback so that any page can load it
    with a `<script>` tag. Its options (each call's own, over `config.jsonp`) offer two guards:
    `csrf: true` (a valid CSRF token in the query) and `whiteList` (allowed Referer hosts or
    RegExps). Both are off by default, and egg-jsonp then logs "SECURITY WARNING!! csrf check and
    referrer check are both closed!". This rule fires for each `app.jsonp(...)` call where both
    are off in the scanned env (`csrf: true` counts only while the security plugin and its CSRF
    check are on, as egg-jsonp tests).

    ## Why it matters
    The browser sends the user's cookies with the script request, so any site can read what the
    endpoint returns for the logged-in user: profile data, tokens, messages (JSON hijacking;
    seed strategy 5).

    ## How to fix
    ```js
    // config/config.default.js: for every app.jsonp()
    config.jsonp = { whiteList: [ '.example.com' ], csrf: true };
    // or per route
    router.get('/api/user.jsonp', app.jsonp({ whiteList: /^https:\\/\\/www\\.example\\.com\\//) }), ...);
    ```

    ## Not reported
    Apps that never call `app.jsonp()`, calls whose options name a `whiteList` or `csrf: true`, and
    (needs review, low confidence) options eggshield cannot evaluate.
    """
    if not ctx.config.plugin_enabled("jsonp"):
        return
    for call in facts_for(ctx).jsonp_calls:
        csrf, white = _jsonp_options(ctx, call)
        if isinstance(csrf, Unknown) or isinstance(white, Unknown):
            reason = csrf.reason if isinstance(csrf, Unknown) else white.reason
            yield ctx.finding("EGG-CSRF-008", key="jsonp", loc=call.loc, severity="low", confidence="low",
                              message=f"Needs review: whether this JSONP endpoint checks CSRF or the referrer depends "
                                      f"on {reason}.", evidence=f"app.jsonp(...) at {call.loc}", fix=JSONP_FIX)
            continue
        csrf_on = bool(csrf) and _security_csrf_usable(ctx)
        if csrf_on or _truthy(white):
            continue
        why = "" if not csrf else " (`csrf: true` has no effect while the security plugin's CSRF check is off)"
        yield ctx.finding("EGG-CSRF-008", key="jsonp", loc=call.loc,
                          message="This JSONP endpoint has neither a CSRF nor a referrer check: any site can load it "
                                  "with the user's cookies and read the response" + why + ".",
                          evidence=f"app.jsonp() at {call.loc}: csrf={_js(csrf)}, whiteList={_js(white)}",
                          fix=JSONP_FIX)


JSONP_FIX = ("Give every app.jsonp() a referrer whitelist or a CSRF check, e.g. `config.jsonp = { whiteList: "
             "[ '.example.com' ] }` or `app.jsonp({ csrf: true })`.")


def _truthy(value) -> bool:
    if value is UNDEFINED or value is MISSING or value is None or value is False:
        return False
    return not (isinstance(value, str | int | float) and not value)


def _js(value) -> str:
    if value is UNDEFINED or value is MISSING:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, JSRegExp):
        return str(value)
    return repr(value) if not isinstance(value, list) else "[" + ", ".join(_js(v) for v in value) + "]"


@rule(id="EGG-CSRF-009", title="JSONP referrer whitelist admits other sites", strategy=5, severity="high",
      confidence="medium", cwe=352, references=JSONP_REFS)
def jsonp_loose_whitelist(ctx: CheckContext):
    """## What
    egg-jsonp's `whiteList` admits a request when its `Referer` matches an entry: a string starting
    with `.` matches that domain and its sub-domains, another string the exact hostname, a RegExp
    is tested against the **whole Referer URL**. This rule fires when an entry admits sites the
    app does not own:

    - a RegExp that is not anchored to the scheme and host (`/example\\.com/` matches
      `https://evil.test/?example.com`; `/^https?:\\/\\/example\\.com/` matches
      `https://example.com.evil.test/`);
    - a string that is a public suffix or top-level label (`.com`, `.github.io`).

    ## Why it matters
    The whitelist is the endpoint's only guard unless `csrf: true`; an entry the attacker's page
    can satisfy makes the JSONP response readable by that page (seed strategy 5).

    ## How to fix
    Anchor RegExps to scheme, host and the following `/`, or use host strings:

    ```js
    config.jsonp = { whiteList: [ '.example.com', /^https:\\/\\/partner\\.example\\.org\\// ] };
    ```

    ## Not reported
    Anchored RegExps ending the host with `/`, `:` or `$`; host strings of domains that are not
    public suffixes.
    """
    if not ctx.config.plugin_enabled("jsonp"):
        return
    seen: set[str] = set()
    for call in facts_for(ctx).jsonp_calls:
        _, white = _jsonp_options(ctx, call)
        if isinstance(white, Unknown) or not _truthy(white):
            continue
        items = white if isinstance(white, list) else [white]
        loose = [w for w in items if _loose_referrer_entry(w)]
        label = ", ".join(_js(w) for w in loose)
        if not loose or label in seen and call.white_list is UNDEFINED:
            continue
        seen.add(label)
        from_config = call.white_list is UNDEFINED
        yield ctx.finding(
            "EGG-CSRF-009", key="jsonp.whiteList", loc=None if from_config else call.loc,
            message=f"The JSONP referrer whitelist entry {label} also matches Referers of sites the app does not own"
                    + (" (from config.jsonp, used by app.jsonp() at " + str(call.loc) + ")" if from_config else "")
                    + ".",
            evidence=f"whiteList = {_js(white)}", fix=JSONP_FIX)


_PROBE_HOST = re.compile(r"((?:[a-z0-9-]+\\?\.)+[a-z]{2,})", re.IGNORECASE)


def _loose_referrer_entry(entry) -> bool:
    if isinstance(entry, str):
        host = entry.lower()
        return host.startswith(".") and ("." not in host[1:] or host[1:] in public_suffixes())
    if not isinstance(entry, JSRegExp):
        return False
    rx = pathmatch.js_regex(entry)
    m = _PROBE_HOST.search(entry.pattern[:500])
    if rx is None or m is None:
        return False
    host = m.group(1).replace("\\.", ".")
    attacks = (f"https://evil.invalid/?r={host}", f"https://evil.invalid/{host}/",
               f"https://{host}.evil.invalid/", f"https://evil{host}/", f"https://evil.invalid/https://{host}/")
    return any(rx.search(a) for a in attacks)


# ---- EGG-CSRF-010 ------------------------------------------------------------------------------
@rule(id="EGG-CSRF-010", title="CSRF secret not rotated at login", strategy=5, severity="low", confidence="low",
      cwe=352, references=REFS)
def csrf_not_rotated(ctx: CheckContext):
    """## What
    egg-security's `ctx.rotateCsrfSecret()` replaces the CSRF secret; Egg's documentation says it
    "must" be called when a user logs in. This rule fires when the app's code logs users in through
    the session (`ctx.session.user = ...`, `ctx.login(user)`) and never calls `rotateCsrfSecret`.

    ## Why it matters
    A secret that survives login can have been read or planted before it (on a shared computer,
    through a sibling sub-domain): the attacker then holds a valid token for the logged-in session
    (seed strategy 5). Low, and low confidence: the login is recognised by naming conventions.

    ## How to fix
    ```js
    async login() {
      const { ctx } = this;
      // ... verify the password ...
      ctx.session.user = user;
      ctx.rotateCsrfSecret();
    }
    ```

    ## Not reported
    Apps that call `rotateCsrfSecret()` anywhere, apps with no session-based login in code, and
    `type: 'referer'` (no secret).
    """
    opt = _csrf_on(ctx)
    if opt is None or opt.get("type", "ctoken") not in TOKEN_TYPES:
        return
    facts = facts_for(ctx)
    if not facts.session_login or facts.rotates_csrf:
        return
    first = facts.session_login[0]
    yield ctx.finding("EGG-CSRF-010", loc=first,
                      message="Users are logged in through the session here, but the app never calls "
                              "`ctx.rotateCsrfSecret()`: a CSRF secret set before login stays valid after it.",
                      evidence=f"session login at {first}"
                               + (f" (+{len(facts.session_login) - 1} more)" if len(facts.session_login) > 1 else ""),
                      fix="Call `ctx.rotateCsrfSecret()` right after a successful login.")

