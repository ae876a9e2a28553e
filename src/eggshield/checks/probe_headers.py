"""Security headers seen on a live server (probe): the page and its error responses (strategy 6)."""

from __future__ import annotations

from eggshield.checks.probe_context import ProbeContext
from eggshield.checks.registry import rule
from eggshield.probe import headers as h

MDN = "https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring"
EGG_SECURITY = "https://www.eggjs.org/core/security"

CSP_FIX = """// config/config.prod.js (or config.default.js)
config.security = {
  csp: {
    enable: true,
    policy: {
      'default-src': "'self'",
      'script-src': "'self'", // egg-security appends a per-request nonce: <script nonce="{{ctx.nonce}}">
      'object-src': "'none'",
      'base-uri': "'self'",
      'form-action': "'self'",
      'frame-ancestors': "'self'",
    },
  },
};"""

HSTS_FIX = """// config/config.prod.js
config.security = {
  hsts: { enable: true, maxAge: 31536000, includeSubdomains: true },
};
// egg-security's own config.local.js switches hsts off in env local, whatever the app says."""

XFO_FIX = """// config/config.default.js
config.security = {
  xframe: { enable: true, value: 'SAMEORIGIN' }, // or 'DENY'; ALLOW-FROM is ignored by browsers
  // stronger, and what browsers prefer when both are present:
  csp: { enable: true, policy: { 'frame-ancestors': "'self'" } },
};"""

NOSNIFF_FIX = """// config/config.default.js
config.security = {
  nosniff: { enable: true }, // Egg's default: something switched it off
};"""

REFERRER_FIX = """// config/config.default.js
config.security = {
  // referrerPolicy is in no default list: add it, or the option does nothing. Use the string
  // form: @eggjs/security 4's array form only accepts the nine default names.
  defaultMiddleware: 'csrf,hsts,methodnoallow,noopen,nosniff,csp,xssProtection,xframe,dta,referrerPolicy',
  referrerPolicy: { enable: true, value: 'strict-origin-when-cross-origin' },
};"""

EXTRA_HEADERS_FIX = """// app/middleware/extra_headers.js — egg-security has no option for these headers
module.exports = () => async function extraHeaders(ctx, next) {
  ctx.set({
%s
  });
  await next();
};
// config/config.default.js
config.middleware = [ 'extraHeaders' ];"""


def _page_url(ctx: ProbeContext) -> str:
    page = ctx.result.root
    return page.url if page is not None else ctx.result.url


def _evidence(t: h.HeaderTest) -> str:
    lines = [f"{t.title}: {t.value if t.value is not None else '(not sent)'}"]
    lines += [f"- {p}" for p in t.problems]
    lines += [f"note: {n}" for n in t.notes]
    return "\n".join(lines)


@rule(id="EGG-HDR-100", title="No Content-Security-Policy on the page", strategy=6, severity="medium", cwe=693,
      kind="probe", references=(MDN, f"{EGG_SECURITY}#csp", "https://cwe.mitre.org/data/definitions/693.html"))
def csp_missing(ctx: ProbeContext):
    """## What
    The probed page was answered without a `Content-Security-Policy` header (a
    `Content-Security-Policy-Report-Only` header alone does not count: it blocks nothing).
    Egg ships CSP switched off (`security.csp.enable = false`).

    ## Why it matters
    CSP is the second line against XSS: with a policy that allows scripts only from the app's
    origin (and egg-security's per-request nonce), an injected `<script>` does not run
    (seed strategy 6). The Observatory takes 25 points for a missing policy.

    ## How to fix
    Switch `security.csp` on with a policy, e.g.:

    ```js
    config.security = {
      csp: { enable: true, policy: { 'default-src': "'self'", 'script-src': "'self'", 'object-src': "'none'",
                                     'base-uri': "'self'", 'frame-ancestors': "'self'" } },
    };
    ```
    Templates use `ctx.nonce` on inline scripts.

    ## Not reported
    A page that sends a policy (judged by EGG-HDR-101 instead).
    """
    t = ctx.test("content-security-policy")
    if t is not None and t.result == "csp-not-implemented":
        yield ctx.finding("EGG-HDR-100", url=_page_url(ctx), key="security.csp",
                          message="The page has no Content-Security-Policy: injected scripts would run."
                                  + ctx.where("security.csp.enable"),
                          evidence=_evidence(t), fix=CSP_FIX)


@rule(id="EGG-HDR-101", title="Content-Security-Policy allows what it should block", strategy=6, severity="medium",
      cwe=693, kind="probe", references=(MDN, "https://csp-evaluator.withgoogle.com/", f"{EGG_SECURITY}#csp"))
def csp_weak(ctx: ProbeContext):
    """## What
    The page's CSP, parsed directive by directive, still lets scripts in: `'unsafe-inline'` (without a
    nonce or hash), `data:` or any host (`*`, `https:`) in the effective `script-src`; `script-src` or
    `object-src` not restricted at all; `'unsafe-eval'`; http sources on an https site. The verdict
    uses the MDN HTTP Observatory's definitions so the grade compares.

    ## Why it matters
    A policy with these holes stops no real XSS: `https:` or `*` lets an attacker load a script from
    any host, `'unsafe-eval'` re-opens `eval` sinks.

    ## How to fix
    Tighten `security.csp.policy`: scripts from `'self'` (egg-security adds the nonce), `object-src
    'none'`, no `'unsafe-eval'`, no wildcards. `'unsafe-inline'` next to the nonce egg-security adds is
    harmless (browsers ignore it) and is not reported.

    ## Not reported
    `'unsafe-inline'` in `style-src` only; `'unsafe-inline'` in `script-src` together with a nonce or hash.
    """
    t = ctx.test("content-security-policy")
    if t is None or t.result not in ("csp-implemented-with-unsafe-inline", "csp-implemented-with-unsafe-eval",
                                     "csp-implemented-with-insecure-scheme", "csp-header-invalid"):
        return
    severity = "low" if t.result == "csp-implemented-with-unsafe-eval" else "medium"
    yield ctx.finding("EGG-HDR-101", url=_page_url(ctx), key="security.csp.policy", severity=severity,
                      message="The Content-Security-Policy does not stop injected scripts: "
                              + "; ".join(t.problems) + "." + ctx.where("security.csp.policy"),
                      evidence=_evidence(t), fix=CSP_FIX)


@rule(id="EGG-HDR-102", title="HTTPS page without a strong Strict-Transport-Security", strategy=6, severity="medium",
      cwe=319, kind="probe", references=(MDN, f"{EGG_SECURITY}#hsts", "https://hstspreload.org/"))
def hsts(ctx: ProbeContext):
    """## What
    Probed over https, the page has no `Strict-Transport-Security` header, an unreadable one, or a
    `max-age` under six months. Egg ships HSTS off (`security.hsts.enable = false`), and
    egg-security's own `config.local.js` switches it off again in env `local`.

    ## Why it matters
    Without HSTS the first request of a visit can go over plain http, where a network attacker strips
    TLS and reads the session cookie (seed strategy 6, "man-in-the-middle").

    ## How to fix
    `config.security = { hsts: { enable: true, maxAge: 31536000, includeSubdomains: true } }` in the
    production config (note egg-security spells it `includeSubdomains`).

    ## Not reported
    Targets probed over http: browsers ignore HSTS there, and Egg apps are often probed on the http
    port behind a TLS proxy. Probe the https URL to judge HSTS. (The Observatory gives -20 for that
    case; eggshield's grade documents the difference.)
    """
    t = ctx.test("strict-transport-security")
    if t is None or t.result in ("hsts-not-applicable-http", "hsts-implemented-max-age-at-least-six-months"):
        return
    severity = "low" if t.result == "hsts-implemented-max-age-less-than-six-months" else "medium"
    yield ctx.finding("EGG-HDR-102", url=_page_url(ctx), key="security.hsts", severity=severity,
                      message=f"HSTS: {t.text}." + ctx.where("security.hsts.enable"), evidence=_evidence(t),
                      fix=HSTS_FIX)


@rule(id="EGG-HDR-103", title="Page can be framed by other sites (clickjacking)", strategy=6, severity="medium",
      cwe=1021, kind="probe", references=(MDN, f"{EGG_SECURITY}#xframe", "https://cwe.mitre.org/data/definitions/1021.html"))
def framing(ctx: ProbeContext):
    """## What
    Neither a valid `X-Frame-Options` (DENY or SAMEORIGIN) nor a CSP `frame-ancestors` directive
    protects the page: the header is missing (`security.xframe.enable = false`), carries a value browsers
    ignore (`ALLOWALL`, a typo), or uses `ALLOW-FROM`, which current browsers no longer honour.

    ## Why it matters
    Another site can load the page in an invisible frame and trick the user into clicking its buttons
    (seed strategy 6, "clickjacking").

    ## How to fix
    Keep Egg's default `security.xframe = { enable: true, value: 'SAMEORIGIN' }` (or `DENY`), and/or add
    `frame-ancestors 'self'` to the CSP policy.

    ## Not reported
    Pages protected by `frame-ancestors` without any wildcard source.
    """
    t = ctx.test("x-frame-options")
    if t is None or t.result not in ("x-frame-options-not-implemented", "x-frame-options-header-invalid",
                                     "x-frame-options-allow-from-origin"):
        return
    msg = {"x-frame-options-not-implemented": "No X-Frame-Options and no CSP frame-ancestors: any site can frame the page.",
           "x-frame-options-header-invalid": f"X-Frame-Options {t.value!r} is not a value browsers know, so framing is allowed.",
           "x-frame-options-allow-from-origin": "X-Frame-Options ALLOW-FROM is ignored by current browsers: any site can frame the page."}[t.result]
    yield ctx.finding("EGG-HDR-103", url=_page_url(ctx), key="security.xframe",
                      message=msg + ctx.where("security.xframe.enable") + ctx.where("security.xframe.value"),
                      evidence=_evidence(t), fix=XFO_FIX)


@rule(id="EGG-HDR-104", title="X-Content-Type-Options: nosniff missing", strategy=6, severity="low", cwe=693,
      kind="probe", references=(MDN, f"{EGG_SECURITY}#nosniff"))
def nosniff(ctx: ProbeContext):
    """## What
    The page comes without `X-Content-Type-Options: nosniff`. Egg sends it by default, so something
    switched `security.nosniff` off (or a proxy strips it).

    ## Why it matters
    Browsers may then guess a response's type, and run an uploaded or reflected text as script or
    HTML (seed strategy 6, "MIME sniffing").

    ## How to fix
    `config.security = { nosniff: { enable: true } }` (Egg's default).

    ## Not reported
    Redirects (egg-security skips nosniff on 3xx on purpose).
    """
    t = ctx.test("x-content-type-options")
    page = ctx.result.root
    if t is None or page is None or (page.status or 0) // 100 == 3:
        return
    if t.result != "x-content-type-options-nosniff":
        yield ctx.finding("EGG-HDR-104", url=page.url, key="security.nosniff",
                          message="The page is sent without X-Content-Type-Options: nosniff."
                                  + ctx.where("security.nosniff.enable"), evidence=_evidence(t), fix=NOSNIFF_FIX)


@rule(id="EGG-HDR-105", title="Referrer-Policy leaks full URLs to other sites", strategy=6, severity="low", cwe=200,
      kind="probe", references=(MDN, f"{EGG_SECURITY}#referrerpolicy"))
def referrer(ctx: ProbeContext):
    """## What
    The page sets `Referrer-Policy` to `unsafe-url`, `no-referrer-when-downgrade`, `origin-when-cross-origin`
    or `origin`, or to a value browsers do not recognize.

    ## Why it matters
    With these values every link and subresource request tells other sites the full URL (paths, query
    strings with ids or tokens) the user came from (seed strategy 6, "information leakage").

    ## How to fix
    egg-security has a `referrerPolicy` middleware but lists it in no default: add it to
    `security.defaultMiddleware` and give it `strict-origin-when-cross-origin` (or `no-referrer`).

    ## Not reported
    A page without the header: browsers then default to `strict-origin-when-cross-origin` (the
    Observatory scores that 0 too). It shows in the grade table.
    """
    t = ctx.test("referrer-policy")
    if t is not None and t.result in ("referrer-policy-unsafe", "referrer-policy-header-invalid"):
        yield ctx.finding("EGG-HDR-105", url=_page_url(ctx), key="security.referrerPolicy",
                          message=f"Referrer-Policy {t.value!r}: " + "; ".join(t.problems) + "."
                                  + ctx.where("security.referrerPolicy.value"),
                          evidence=_evidence(t), fix=REFERRER_FIX)


@rule(id="EGG-HDR-106", title="No Permissions-Policy", strategy=6, severity="info", cwe=693, kind="probe",
      references=("https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Permissions-Policy",))
def permissions_policy(ctx: ProbeContext):
    """## What
    The page does not say which powerful browser features (camera, microphone, geolocation, payment,
    ...) it and the frames it embeds may use. egg-security has no option for this header.

    ## Why it matters
    A script injected into the page, or a third-party frame, can then ask for any of them; the
    header is cheap defence in depth (seed strategy 6 lists it among the headers to configure).

    ## How to fix
    Send it from a small app middleware, e.g. `Permissions-Policy: camera=(), microphone=(), geolocation=()`.

    ## Not reported
    Pages that send any Permissions-Policy (its contents are not judged).
    """
    t = ctx.test("permissions-policy")
    if t is not None and t.result == "permissions-policy-not-implemented":
        yield ctx.finding("EGG-HDR-106", url=_page_url(ctx), message="The page sends no Permissions-Policy.",
                          evidence=_evidence(t),
                          fix=EXTRA_HEADERS_FIX % "    'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',")


@rule(id="EGG-HDR-107", title="No Cross-Origin-Opener-Policy / Cross-Origin-Resource-Policy", strategy=6,
      severity="info", cwe=693, kind="probe",
      references=("https://developer.mozilla.org/en-US/docs/Web/HTTP/Cross-Origin_Resource_Policy",
                  "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Cross-Origin-Opener-Policy"))
def isolation(ctx: ProbeContext):
    """## What
    The page sends neither `Cross-Origin-Opener-Policy` nor `Cross-Origin-Resource-Policy` (one
    missing is listed too). egg-security sets neither.

    ## Why it matters
    COOP keeps a page opened by another site from holding a reference to this window (cross-window
    attacks, XS-Leaks); CORP keeps other sites from embedding the app's responses (Spectre-style
    leaks). The Observatory gives CORP `same-origin`/`same-site` a 10-point bonus.

    ## How to fix
    From an app middleware: `Cross-Origin-Opener-Policy: same-origin` and
    `Cross-Origin-Resource-Policy: same-origin` (or `same-site` when sibling subdomains embed them).

    ## Not reported
    Headers that are present, whatever their value.
    """
    missing = []
    coop, corp = ctx.test("cross-origin-opener-policy"), ctx.test("cross-origin-resource-policy")
    if coop is not None and coop.result.endswith("not-implemented"):
        missing.append("Cross-Origin-Opener-Policy")
    if corp is not None and corp.result.endswith("not-implemented"):
        missing.append("Cross-Origin-Resource-Policy")
    if missing:
        lines = "\n".join(f"    '{name}': 'same-origin'," for name in missing)
        yield ctx.finding("EGG-HDR-107", url=_page_url(ctx), message=f"The page sends no {' and no '.join(missing)}.",
                          evidence="not sent: " + ", ".join(missing), fix=EXTRA_HEADERS_FIX % lines)


@rule(id="EGG-HDR-108", title="Headers disclose the product, its version or handling time", strategy=6,
      severity="low", cwe=200, kind="probe", references=("https://cwe.mitre.org/data/definitions/200.html",))
def disclosure(ctx: ProbeContext):
    """## What
    Responses carry `X-Powered-By`, a `Server` header with a version, or Egg's `x-readtime` (the
    `meta` core middleware adds it to every response, with the handling time in ms).

    ## Why it matters
    They tell an attacker which framework and version to look up advisories for, and `x-readtime`
    is a timing oracle (how long a login or lookup took). Small on their own, free to remove.

    ## How to fix
    `x-readtime`: `config.meta = { enable: false }`. `X-Powered-By`: remove the code or proxy rule
    that adds it. `Server` with a version: the proxy's setting (nginx `server_tokens off;`).

    ## Not reported
    `Server` without a version (`nginx`).
    """
    found = h.disclosure(ctx.result)
    if not found:
        return
    fixes = []
    if "x-readtime" in found:
        fixes.append("// config/config.prod.js — Egg's meta middleware sets x-readtime\nconfig.meta = { enable: false };")
    if "x-powered-by" in found:
        fixes.append("// remove whatever sets X-Powered-By (an app middleware: ctx.set('X-Powered-By', ...),\n"
                     "// or the proxy in front: nginx `proxy_hide_header X-Powered-By;`)")
    if "server" in found:
        fixes.append("// the proxy in front: nginx `server_tokens off;`")
    others = [k for k in found if k not in ("x-readtime", "x-powered-by", "server")]
    if others:
        fixes.append(f"// remove {', '.join(others)} where they are set")
    only_readtime = set(found) == {"x-readtime"}
    yield ctx.finding("EGG-HDR-108", url=_page_url(ctx), key="meta" if "x-readtime" in found else None,
                      severity="info" if only_readtime else "low",
                      message="Responses disclose " + ", ".join(f"{k}: {v}" for k, v in found.items()) + ".",
                      evidence="\n".join(f"{k}: {v}" for k, v in found.items()), fix="\n\n".join(fixes))


def _error_fix(ctx: ProbeContext, lost: dict[str, str]) -> str:
    lines = ",\n".join(f"    '{k}': {v!r}" for k, v in lost.items())
    return f"""// app.js — in front of egg-security, so thrown errors (403, 405, 400, 500) keep the headers
module.exports = app => {{
  app.config.coreMiddleware.unshift('errorPageHeaders');
}};
// (egg 4 class boot: configWillLoad() {{ this.app.config.coreMiddleware.unshift('errorPageHeaders'); }})

// app/middleware/error_page_headers.js — set before next(): kept when a later middleware throws;
// on normal pages egg-security overwrites them with its own values
module.exports = () => async function errorPageHeaders(ctx, next) {{
  ctx.set({{
{lines},
  }});
  await next();
}};"""


def _strip_nonce(csp: str) -> str:
    return " ".join(tok for tok in csp.split(" ") if not tok.startswith("'nonce-")).replace(" ;", ";")


@rule(id="EGG-HDR-109", title="Error responses lose the page's security headers", strategy=6, severity="low",
      cwe=693, kind="probe", references=(f"{EGG_SECURITY}", "https://github.com/eggjs/egg-security"))
def error_responses(ctx: ProbeContext):
    """## What
    The page carries X-Frame-Options / X-Content-Type-Options / Content-Security-Policy, but error
    responses of the same server (403 from the CSRF check, 405 for TRACE, 400 for a traversal path,
    500 from a throwing controller) come back without them.

    ## Why it matters
    egg-security sets these headers *after* `await next()`, so a thrown error skips them: every error
    page of an Egg app is frameable and sniffable, including the development error page that prints
    request headers and cookies (egg-facts §7). Seed strategy 7 asks error handling not to weaken the
    app; strategy 6 asks for headers on every response.

    ## How to fix
    Set the same headers in a middleware that runs *before* egg-security and sets them before calling
    `next()` (a core middleware added from app.js, as egg-cors does), so errors keep them; a proxy in
    front can also add them with nginx `add_header ... always;`.

    ## Not reported
    404 pages (Egg's notfound middleware does not throw, so they keep the headers), headers the page
    itself lacks (reported by their own rules).
    """
    page = ctx.result.root
    if page is None:
        return
    lost_by: list[str] = []
    lost: dict[str, str] = {}
    first_url = None
    for e in ctx.result.error_responses():
        if e is page or not h.rendered_by_app(e):
            continue
        missing = h.missing_protective(e, page)
        if missing:
            first_url = first_url or e.url
            lost_by.append(f"{e.status} {e.method} {e.target} lacks {', '.join(missing)}")
            for name in missing:
                value = page.header(name) or ""
                lost[name] = _strip_nonce(value) if name == "content-security-policy" else value
    if lost_by:
        statuses = sorted({line.split(" ", 1)[0] for line in lost_by})
        yield ctx.finding("EGG-HDR-109", url=first_url or page.url,
                          message=f"{len(lost_by)} error response(s) ({', '.join(statuses)}) come without "
                                  f"{', '.join(sorted(lost))}, which the page has.",
                          evidence="\n".join(lost_by[:12]), fix=_error_fix(ctx, lost))
