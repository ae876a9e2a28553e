"""CORS answers of a live server to a foreign Origin (probe, strategy 4)."""

from __future__ import annotations

from eggshield.checks.probe_context import ProbeContext
from eggshield.checks.registry import rule
from eggshield.probe import headers as h
from eggshield.probe import model as m

CORS_DOC = "https://github.com/eggjs/egg-cors"
CORS_FIX = """// config/config.default.js — name the origins; never reflect the request's Origin
config.cors = {
  origin: ctx => {
    const allowed = [ 'https://app.example.com', 'https://admin.example.com' ];
    const origin = ctx.get('origin');
    return allowed.includes(origin) ? origin : '';
  },
  credentials: true, // only if those origins need cookies
};
// or leave `origin` unset and list the hosts in config.security.domainWhiteList (egg-cors then checks them)"""


def _url(ctx: ProbeContext, case: str) -> str:
    e = ctx.result.first(case)
    return e.url if e is not None else ctx.result.url


@rule(id="EGG-CFG-104", title="CORS reflects any Origin", strategy=4, severity="high", cwe=942, kind="probe",
      references=(CORS_DOC, "https://portswigger.net/web-security/cors",
                  "https://cwe.mitre.org/data/definitions/942.html"))
def reflected_origin(ctx: ProbeContext):
    """## What
    A request with `Origin: https://evil.example` (or a preflight from it) is answered with
    `Access-Control-Allow-Origin: https://evil.example`: the server allows whatever origin asks. With
    `Access-Control-Allow-Credentials: true` as well, any site can read the app's responses with the
    user's cookies. A typical cause is `config.cors.origin = ctx => ctx.get('origin')`.

    ## Why it matters
    With credentials this is a full cross-site read (account data, CSRF tokens in responses), and
    CSRF protection no longer helps: the attacker page can read the token first. Without credentials
    it exposes whatever the server answers to anonymous requests from any site.

    ## How to fix
    Return the Origin only when it is in a list you own, or leave `cors.origin` unset and fill
    `security.domainWhiteList` (egg-cors then reflects only those hosts).

    ## Not reported
    `Access-Control-Allow-Origin: *` without credentials (public content, by design).
    """
    v = h.cors_facts(ctx.result)
    if not (v.evil_reflected or v.preflight_reflected):
        return
    case = m.CORS_EVIL if v.evil_reflected else m.CORS_PREFLIGHT
    extra = ""
    if v.preflight_reflected:
        extra = f" The preflight allows methods {v.preflight_methods or '?'} and headers {v.preflight_headers or '-'}."
    yield ctx.finding("EGG-CFG-104", url=_url(ctx, case), key="cors.origin", severity="high" if v.credentials else "low",
                      message="CORS allows the foreign origin https://evil.example"
                              + (" with credentials: any site can read responses as the logged-in user." if v.credentials
                                 else " (without credentials).") + extra + ctx.where("cors.origin"),
                      evidence="\n".join(v.evidence), fix=CORS_FIX)


@rule(id="EGG-CFG-105", title="CORS allows the `null` origin", strategy=4, severity="high", cwe=942, kind="probe",
      references=(CORS_DOC, "https://portswigger.net/web-security/cors#whitelisted-null-origin-value"))
def null_origin(ctx: ProbeContext):
    """## What
    `Origin: null` is answered with `Access-Control-Allow-Origin: null`. Sandboxed iframes, `data:`
    and `file:` pages send `null`, so any site can produce it.

    ## Why it matters
    Allowing `null` is allowing everyone; with credentials, every site can read responses as the user.

    ## How to fix
    Never put `null` in an allow list, and never reflect the request's Origin.

    ## Not reported
    Servers that do not answer a `null` origin with CORS headers.
    """
    v = h.cors_facts(ctx.result)
    if v.null_allowed:
        yield ctx.finding("EGG-CFG-105", url=_url(ctx, m.CORS_NULL), key="cors.origin",
                          severity="high" if v.credentials else "low",
                          message="CORS allows Origin: null" + (" with credentials." if v.credentials else "."),
                          evidence="\n".join(x for x in v.evidence if "Origin: null" in x), fix=CORS_FIX)


@rule(id="EGG-CFG-106", title="CORS wildcard origin together with credentials", strategy=4, severity="medium",
      cwe=942, kind="probe", references=(CORS_DOC, "https://developer.mozilla.org/en-US/docs/Web/HTTP/CORS/Errors/CORSNotSupportingCredentials"))
def wildcard_credentials(ctx: ProbeContext):
    """## What
    A response carries `Access-Control-Allow-Origin: *` and `Access-Control-Allow-Credentials: true`.

    ## Why it matters
    Browsers refuse this combination, so credentialed front ends break — and the usual "fix" people
    reach for next is reflecting the Origin, which opens the app to every site (EGG-CFG-104). The
    Observatory counts it as universal access (-50).

    ## How to fix
    Public data: `*` without credentials. Credentialed use: a list of origins (see the fix snippet).

    ## Not reported
    `*` without credentials.
    """
    v = h.cors_facts(ctx.result)
    if v.wildcard and v.credentials:
        yield ctx.finding("EGG-CFG-106", url=_url(ctx, m.CORS_EVIL), key="cors.credentials",
                          message="Access-Control-Allow-Origin: * is sent with Access-Control-Allow-Credentials: true.",
                          evidence="\n".join(v.evidence), fix=CORS_FIX)
