"""Cookies a live server sets: session and CSRF cookie flags, readable sessions (probe, strategy 4)."""

from __future__ import annotations

from eggshield.checks.probe_context import ProbeContext
from eggshield.checks.registry import rule
from eggshield.masking import mask_secret
from eggshield.probe import headers as h
from eggshield.probe.cookies import SetCookie, decode_readable

SESSION_DOC = "https://www.eggjs.org/core/cookie-and-session"


def _classified(ctx: ProbeContext) -> tuple[list[SetCookie], list[SetCookie], set[str]]:
    """(session cookies, anti-CSRF cookies, all names) among the cookies the server set."""
    cookies = h.observed_cookies(ctx.result)
    names = {c.name for c in cookies}
    skey = h.session_key(ctx.result)
    csrf_name = ctx.result.csrf.cookie_name
    sessions = [c for c in cookies if h.is_session_cookie(c, csrf_name, skey, names)]
    csrf = [c for c in cookies if h.is_anticsrf(c.name, csrf_name) and not c.name.endswith(".sig")]
    return sessions, csrf, names


def _url(ctx: ProbeContext, name: str) -> str:
    for e in ctx.result.answered():
        if any(v.split("=", 1)[0].strip() == name for v in e.header_values("set-cookie")):
            return e.url
    return ctx.result.url


@rule(id="EGG-CFG-100", title="Session cookie readable by page scripts (no HttpOnly)", strategy=4, severity="medium",
      cwe=1004, kind="probe", references=(SESSION_DOC, "https://cwe.mitre.org/data/definitions/1004.html"))
def session_httponly(ctx: ProbeContext):
    """## What
    The session cookie (`EGG_SESS`, or `config.session.key`) is set without `HttpOnly`. Egg's default
    is `httpOnly: true`, so the app switched it off.

    ## Why it matters
    Any script that runs in the page (one XSS) can read the cookie and send the session away
    (the Observatory takes 30 points for it).

    ## How to fix
    `config.session = { httpOnly: true }` (Egg's default) — and for cookies set by hand,
    `ctx.cookies.set(name, value, { httpOnly: true })`.

    ## Not reported
    The `csrfToken` cookie: front ends must read it to send the token, so Egg sets it without
    HttpOnly on purpose.
    """
    sessions, _, _ = _classified(ctx)
    for c in sessions:
        if not c.http_only:
            yield ctx.finding("EGG-CFG-100", url=_url(ctx, c.name), key="session.httpOnly",
                              message=f"Session cookie {c.name} is set without HttpOnly: one XSS reads it."
                                      + ctx.where("session.httpOnly"),
                              evidence=f"Set-Cookie: {c.name}=…; {c.flags()}",
                              fix="// config/config.default.js\nconfig.session = { httpOnly: true }; // Egg's default")


@rule(id="EGG-CFG-101", title="Cookie sent without Secure over https", strategy=4, severity="medium", cwe=614,
      kind="probe", references=(SESSION_DOC, "https://cwe.mitre.org/data/definitions/614.html"))
def secure_flag(ctx: ProbeContext):
    """## What
    Probed over https, the session or CSRF cookie comes without the `Secure` flag. egg-cookies sets
    Secure only when the request itself is https (`ctx.secure`); behind a TLS-terminating proxy that
    is false unless `config.proxy = true` lets Egg trust `X-Forwarded-Proto`.

    ## Why it matters
    A cookie without Secure is also sent on any plain-http request to the host, where a network
    attacker reads it.

    ## How to fix
    Behind a proxy that sets `X-Forwarded-Proto`, `config.proxy = true`; or force it:
    `config.session = { secure: true }` (then plain-http requests can no longer set the session).

    ## Not reported
    Targets probed over http: egg-cookies refuses to set Secure cookies there, so the flag cannot be
    judged — probe the https URL.
    """
    if not ctx.result.https:
        return
    sessions, csrf, _ = _classified(ctx)
    for c in [*sessions, *csrf]:
        if not c.secure:
            is_session = c in sessions
            yield ctx.finding("EGG-CFG-101", url=_url(ctx, c.name), key="session.secure" if is_session else "proxy",
                              severity="medium" if is_session else "low",
                              message=f"{'Session' if is_session else 'CSRF'} cookie {c.name} is set over https without Secure.",
                              evidence=f"Set-Cookie: {c.name}=…; {c.flags()}",
                              fix="// config/config.prod.js — behind a proxy that sets X-Forwarded-Proto\n"
                                  "config.proxy = true;\n// or force it for the session cookie\n"
                                  "config.session = { secure: true };")


@rule(id="EGG-CFG-102", title="Session or CSRF cookie without SameSite", strategy=4, severity="low", cwe=1275,
      kind="probe", references=(SESSION_DOC, "https://cwe.mitre.org/data/definitions/1275.html"))
def same_site(ctx: ProbeContext):
    """## What
    The session cookie or Egg's `csrfToken` cookie has no `SameSite` attribute (or an invalid one).
    Neither egg-session nor egg-security sets it by default.

    ## Why it matters
    `SameSite=Lax` keeps browsers from sending the cookie with cross-site POSTs: a second wall against
    CSRF behind the token check, and a wall for routes the check exempts. Browsers that do not
    default to Lax (Safari, Firefox) send it everywhere.

    ## How to fix
    ```js
    config.session = { sameSite: 'lax' };
    config.security = { csrf: { cookieOptions: { sameSite: 'lax' } } };
    ```

    ## Not reported
    Other cookies the app sets for its own purposes.
    """
    sessions, csrf, _ = _classified(ctx)
    for c in [*sessions, *csrf]:
        if c.same_site in ("strict", "lax", "none"):
            continue
        is_session = c in sessions
        key = "session.sameSite" if is_session else "security.csrf.cookieOptions.sameSite"
        fix = ("config.session = { sameSite: 'lax' };" if is_session
               else "config.security = { csrf: { cookieOptions: { sameSite: 'lax' } } };")
        yield ctx.finding("EGG-CFG-102", url=_url(ctx, c.name), key=key,
                          message=f"{'Session' if is_session else 'CSRF'} cookie {c.name} has "
                                  f"{'an invalid SameSite' if c.same_site else 'no SameSite'}: browsers send it with cross-site requests.",
                          evidence=f"Set-Cookie: {c.name}=…; {c.flags()}", fix="// config/config.default.js\n" + fix)


@rule(id="EGG-CFG-103", title="Session cookie content readable by the client", strategy=4, severity="medium",
      cwe=315, kind="probe", references=(SESSION_DOC, "https://github.com/koajs/session#options",
                                         "https://cwe.mitre.org/data/definitions/315.html"))
def readable_session(ctx: ProbeContext):
    """## What
    The session cookie's value is base64 JSON that anyone holding the cookie can decode: the session
    is stored in clear on the client. This is egg 4's default (@eggjs/session@4 drops `encrypt`,
    egg-facts §2); egg 3 encrypts unless `session.encrypt = false`. Without a `.sig` companion it is
    not even signed, so a client can write its own session.

    ## Why it matters
    Whatever the app keeps in the session (user id, role, flags) is visible to the user and to
    anything that reads the cookie; unsigned, it can be forged outright.

    ## How to fix
    `config.session = { encrypt: true }` (explicitly, on egg 4), keep `signed: true`, and keep secrets
    out of the session; or store sessions server side (egg-session-redis, `app.sessionStore`).

    ## Not reported
    Opaque (encrypted) session cookies.
    """
    sessions, _, names = _classified(ctx)
    for c in sessions:
        doc = decode_readable(c.value)
        if doc is None:
            continue
        signed = f"{c.name}.sig" in names
        shown = ", ".join(f"{k}={mask_secret(str(v)) if k != '_expire' else v}" for k, v in list(doc.items())[:8])
        yield ctx.finding("EGG-CFG-103", url=_url(ctx, c.name), key="session.encrypt",
                          severity="medium" if signed else "high",
                          message=f"Session cookie {c.name} is base64 JSON that decodes to {sorted(doc)[:8]}"
                                  + ("" if signed else "; it has no .sig, so a client can also forge it") + "."
                                  + ctx.where("session.encrypt"),
                          evidence=f"{c.name} decodes to {{{shown}}}" + ("" if signed else f" (no {c.name}.sig)"),
                          fix="// config/config.default.js\nconfig.session = { encrypt: true, signed: true };")
