"""HTTP methods a live server accepts: TRACE/TRACK and what OPTIONS tells (probe, strategy 4)."""

from __future__ import annotations

from eggshield.checks.probe_context import ProbeContext
from eggshield.checks.registry import rule
from eggshield.probe import model as m

METHOD_FIX = """// config/config.default.js — Egg's default: TRACE and TRACK answer 405
config.security = { methodnoallow: { enable: true } };"""


@rule(id="EGG-CFG-107", title="TRACE/TRACK not refused", strategy=4, severity="low", cwe=693, kind="probe",
      references=("https://owasp.org/www-community/attacks/Cross_Site_Tracing", "https://www.eggjs.org/core/security"))
def trace(ctx: ProbeContext):
    """## What
    A `TRACE` (or `TRACK`) request was not answered 405 (or refused by the HTTP parser). egg-security's
    `methodnoallow` middleware refuses both by default, so it was switched off. When the body echoes
    the request (cookies included), severity is raised.

    ## Why it matters
    TRACE echoes requests, HttpOnly cookies included (Cross-Site Tracing); an app that lets it through
    to routes may also route it somewhere unexpected.

    ## How to fix
    `config.security = { methodnoallow: { enable: true } }` (Egg's default), or refuse them at the proxy.

    ## Not reported
    Without --allow-unsafe-methods (TRACE is not sent); 405, 501 or 400 answers.
    """
    for case in (m.TRACE, m.TRACK):
        e = ctx.result.first(case)
        if e is None or e.status in (400, 403, 405, 501):
            continue
        echoed = "eggshield-trace=1" in e.text
        yield ctx.finding("EGG-CFG-107", url=e.url, key="security.methodnoallow", severity="medium" if echoed else "low",
                          message=f"{e.method} {e.target} was answered {e.status} instead of 405"
                                  + (", echoing the request's cookie." if echoed else ".")
                                  + ctx.where("security.methodnoallow.enable"),
                          evidence=f"{e.method} {e.target} -> {e.status} {e.reason}", fix=METHOD_FIX)


@rule(id="EGG-CFG-108", title="OPTIONS lists the methods a path accepts", strategy=4, severity="info", cwe=200,
      kind="probe", references=("https://developer.mozilla.org/en-US/docs/Web/HTTP/Methods/OPTIONS",))
def options_disclosure(ctx: ProbeContext):
    """## What
    A plain `OPTIONS` request (no CORS preflight headers) is answered with an `Allow` header or
    `Access-Control-Allow-Methods` listing the methods. Egg answers 404 by default; a router's
    `allowedMethods()`, egg-cors or a proxy add it.

    ## Why it matters
    Little on its own: it maps which paths accept PUT/DELETE for the next request. Reported at info
    so the map is known.

    ## How to fix
    Drop `router.allowedMethods()` from custom routers, or answer OPTIONS only to CORS preflights.

    ## Not reported
    Answers to real CORS preflights (judged by the CORS rules).
    """
    e = ctx.result.first(m.OPTIONS)
    if e is None or e.status is None or e.status >= 400:
        return
    allow = e.header("allow") or e.header("access-control-allow-methods")
    if allow:
        yield ctx.finding("EGG-CFG-108", url=e.url, message=f"OPTIONS {e.target} lists the methods it accepts: {allow}.",
                          evidence=f"OPTIONS {e.target} -> {e.status}; Allow: {allow}",
                          fix="// answer OPTIONS only for CORS preflights; drop router.allowedMethods() if used")
