"""Session cookie (egg-session / @eggjs/session on koa-session, cookies by egg-cookies): strategy 4.

Every rule judges the options the session middleware will really get in the scanned env: the app's
`config.session`, Egg's `config.cookies` defaults (egg-cookies spreads them under every cookie's
own options, so `cookies.sameSite`/`cookies.secure` reach the session cookie when `session` does
not set them) and the session plugin's defaults for the app's Egg major.
"""

from __future__ import annotations

from eggshield.checks._code_query import is_ctx_expr, js, loc_of, members_by_property, memo
from eggshield.checks.context import DEV_ENVS, CheckContext
from eggshield.checks.registry import rule
from eggshield.eggconfig.model import MISSING
from eggshield.js.values import UNDEFINED, Unknown

DAY = 86_400_000
WEEK = 7 * DAY
MONTH = 30 * DAY
SESSION_STORE_PLUGINS = ("sessionRedis", "sessionMongo", "sessionMongoose", "sessionMemcached")

REFS_COOKIE = ("https://www.eggjs.org/core/cookie-and-session",
               "https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html")

HARDENED = """```js
// config/config.prod.js (or config.default.js)
module.exports = () => ({
  proxy: true, // behind a TLS-terminating proxy that sets X-Forwarded-Proto
  session: {
    key: 'EGG_SESS',
    httpOnly: true,
    encrypt: true,    // explicit: egg 4.0.x drops the default
    secure: true,
    sameSite: 'lax',
    maxAge: 2 * 3600 * 1000, // 2 hours
    renew: true,      // active users stay logged in; idle sessions expire
  },
});
```"""


def _value(ctx: CheckContext, key: str):
    """The session option the cookie gets: `session.<key>`, else Egg's `cookies.<key>` default."""
    value = ctx.config.get(f"session.{key}")
    if value is MISSING or value is UNDEFINED:
        fallback = ctx.config.get(f"cookies.{key}")
        if fallback is not MISSING and fallback is not UNDEFINED:
            return fallback, f"cookies.{key}"
        return MISSING, f"session.{key}"
    return value, f"session.{key}"


def _session_on(ctx: CheckContext) -> bool:
    return ctx.config.plugin_enabled("session")


def session_use(ctx: CheckContext) -> str | None:
    """Why we think the app puts data in the session (it is only written once populated), or None."""
    return memo(ctx, "session_use", _session_use)


def _session_use(ctx: CheckContext) -> str | None:
    for hit in members_by_property(ctx.sources, "session"):
        if is_ctx_expr(hit.receiver):
            return f"`{hit.node.text.decode(errors='replace')}` at {loc_of(ctx.project, hit.path, hit.node)}"
    if ctx.config.plugin_enabled("passport"):
        return "egg-passport (stores the logged-in user in the session)"
    if ctx.config.get("security.csrf.useSession") is True:
        return "security.csrf.useSession (the CSRF secret lives in the session)"
    return None


def _session_store(ctx: CheckContext) -> str | None:
    """An external session store: the cookie then carries only a random id."""
    for name in SESSION_STORE_PLUGINS:
        if ctx.config.plugin_enabled(name):
            return f"plugin {name}"
    for hit in members_by_property(ctx.sources, "sessionStore"):
        parent = hit.node.parent
        if parent is not None and parent.type == "assignment_expression" and parent.child_by_field_name("left") == hit.node:
            return f"app.sessionStore set at {loc_of(ctx.project, hit.path, hit.node)}"
    return None


def _cap_if_unused(ctx: CheckContext, severity: str) -> tuple[str | None, str]:
    """Severity and a message suffix: a session nobody writes never sets the cookie, so a weak default
    is not worth a line (None: skip) and an explicit weakening is kept, at low."""
    if session_use(ctx) is not None:
        return severity, ""
    if severity in ("low", "info"):
        return None, ""
    return "low", " The code never reads or writes `ctx.session`, so no session cookie is sent today."


def _csrf_off(ctx: CheckContext) -> bool:
    if not ctx.config.plugin_enabled("security"):
        return True
    return ctx.config.get("security.csrf") is False or ctx.config.get("security.csrf.enable") is False


def _unknown(ctx: CheckContext, rule_id: str, key: str, value: Unknown, what: str):
    return ctx.finding(rule_id, key=key, severity="low", confidence="low",
                       message=f"Needs review: {what} depends on {value.reason}.",
                       evidence=f"{key} = <{value.reason}>", fix=HARDENED)


@rule(id="EGG-CFG-010", title="Session cookie readable by page scripts (httpOnly off)", strategy=4,
      severity="high", cwe=1004, references=(*REFS_COOKIE, "https://cwe.mitre.org/data/definitions/1004.html"))
def session_http_only(ctx: CheckContext):
    """## What
    `config.session.httpOnly` is `false` in the scanned env, so the `EGG_SESS` cookie is sent
    without the `HttpOnly` attribute and `document.cookie` can read it. Egg itself warns at startup:
    "please set `config.session.httpOnly` to true. It is very dangerous if session can read by
    client JavaScript."

    ## Why it matters
    The session cookie is the login. With HttpOnly off, one XSS anywhere on the origin (a comment,
    an uploaded SVG, a vulnerable front-end library) copies it to the attacker, who then *is* the
    user until the session expires. Seed strategy 4: harden the built-in session middleware.

    ## How to fix
    Remove the override (Egg's default is `true`) or set it explicitly:

    ```js
    // config/config.default.js
    config.session = { httpOnly: true };
    ```
    If front-end code needs to know whether the user is logged in, expose a separate, harmless
    cookie or an API call, never the session cookie itself.

    ## Not reported
    `httpOnly: false` set only in `config.local`/`config.unittest` when scanning `prod`; the
    session plugin disabled. When the code never touches `ctx.session` the finding is capped at low.
    """
    if not _session_on(ctx):
        return
    value = ctx.config.get("session.httpOnly")
    if isinstance(value, Unknown):
        yield _unknown(ctx, "EGG-CFG-010", "session.httpOnly", value, "whether the session cookie is HttpOnly")
        return
    if value is False or value == 0:
        severity, suffix = _cap_if_unused(ctx, "high")
        if severity is None:
            return
        yield ctx.finding(
            "EGG-CFG-010", key="session.httpOnly", severity=severity,
            message=f"The session cookie is sent without HttpOnly in env '{ctx.env}': any script on the page "
                    f"can read it and hijack the session.{suffix}",
            evidence=f"session.httpOnly = {str(value).lower()}",
            fix="Set `config.session.httpOnly = true` (Egg's default) and keep client-visible state in a "
                "separate cookie.")


@rule(id="EGG-CFG-011", title="Session cookie not encrypted (readable, or forgeable, by the client)", strategy=4,
      severity="medium", cwe=315, references=(*REFS_COOKIE, "https://cwe.mitre.org/data/definitions/315.html",
                                              "https://github.com/eggjs/session"))
def session_not_encrypted(ctx: CheckContext):
    """## What
    Egg keeps the whole session *inside* the `EGG_SESS` cookie unless an external store is set.
    egg-session (egg 1–3) encrypts it by default (aes-256-cbc under `keys`). This rule fires when
    the session cookie will not be encrypted in the scanned env:

    * `session.encrypt: false`;
    * **egg 4.0.x with no explicit `encrypt`**: @eggjs/session builds its default with koa-session's
      zod schema, which has no `encrypt` field and silently strips it, so Egg 4 sends a readable
      base64-JSON `EGG_SESS` cookie plus `EGG_SESS.sig` (verified on egg@4.0.10 / @eggjs/session@4.0.1;
      unchanged in 5.0.2-beta.9);
    * `signed: false` as well (high): the client can then *edit* its own session.

    ## Why it matters
    Whatever the app stores in the session (user id, roles, e-mail, OAuth tokens, CSRF secret) is
    readable by anyone holding the cookie: the user, a browser extension, a proxy log, a shared
    computer (CWE-315). Unsigned as well, the user can rewrite `userId` or `isAdmin` and become
    someone else. Seed strategy 4.

    ## How to fix
    ```js
    // config/config.default.js
    config.session = {
      encrypt: true, // required on egg 4.0.x, where the default is lost
      signed: true,
    };
    ```
    Or keep sessions server-side (`app.sessionStore = ...` in app.js, or egg-session-redis), so the
    cookie only carries a random id.

    ## Not reported
    Apps with an external session store (`app.sessionStore` assigned, or a session-store plugin
    enabled); the session plugin disabled; egg 4's default when the code never touches
    `ctx.session` (no session cookie is sent). An explicit `encrypt: false` in such an app is
    capped at low.
    """
    if not _session_on(ctx) or _session_store(ctx):
        return
    encrypt = ctx.config.get("session.encrypt")
    signed = ctx.config.get("session.signed")
    if isinstance(encrypt, Unknown):
        yield _unknown(ctx, "EGG-CFG-011", "session.encrypt", encrypt, "whether the session cookie is encrypted")
        return
    if encrypt is True or (isinstance(encrypt, int | float) and encrypt):
        return
    forgeable = signed is False or signed == 0
    egg = ctx.config.egg_version or (f"{ctx.config.egg_major}.x" if ctx.config.egg_major else "4.x")
    if encrypt is MISSING or encrypt is UNDEFINED:
        if session_use(ctx) is None and not forgeable:
            return  # egg 4's default on a cookie that is never sent
        why = (f"egg {egg}'s session plugin drops its own `encrypt: true` default (koa-session's zod schema "
               "strips it), so the session is stored as readable base64 JSON in the cookie")
        evidence = "session.encrypt: not set (the egg 4 default has none)"
        key = "session.encrypt"
    else:
        why = "`session.encrypt` is off, so the session is stored as readable base64 JSON in the cookie"
        evidence = f"session.encrypt = {str(encrypt).lower()}"
        key = "session.encrypt"
    if forgeable:
        why += ", and `signed: false` lets the client change it at will"
        evidence += "; session.signed = false"
        key = "session.signed" if ctx.config.set_by_app("session.signed") and not ctx.config.set_by_app(
            "session.encrypt") else key
    severity, suffix = _cap_if_unused(ctx, "high" if forgeable else "medium")
    if severity is None:
        return
    yield ctx.finding(
        "EGG-CFG-011", key=key, severity=severity,
        message=f"In env '{ctx.env}' {why}.{suffix}",
        evidence=evidence,
        fix="Set `config.session = { encrypt: true, signed: true }` explicitly (needed on egg 4.0.x), or move "
            "sessions server-side with `app.sessionStore`.")


@rule(id="EGG-CFG-012", title="Session cookie may be sent without Secure in production", strategy=4,
      severity="medium", cwe=614, references=(*REFS_COOKIE, "https://www.eggjs.org/core/deployment",
                                              "https://cwe.mitre.org/data/definitions/614.html"))
def session_not_secure(ctx: CheckContext):
    """## What
    Without an explicit `secure`, egg-cookies marks a cookie `Secure` only when the request it
    answers is HTTPS *as Egg sees it* (`ctx.secure`). Behind a TLS-terminating proxy (nginx, a
    load balancer, a PaaS router) Node sees plain HTTP, and Egg only believes `X-Forwarded-Proto`
    when `config.proxy = true`. This rule fires in non-development envs when:

    * `session.secure` (or Egg's `cookies.secure` default) is `false`: medium;
    * it is unset, `proxy` is off and Egg does not terminate TLS itself (`cluster.https`): low,
      "needs review", because whether TLS reaches Node depends on the deployment.

    ## Why it matters
    A session cookie without `Secure` is sent on any plain-HTTP request to the host (a typed-in
    `http://` URL, a downgraded link, a captive portal), where anyone on the network can copy it.
    Seed strategy 4.

    ## How to fix
    Behind a proxy, trust it and mark the cookie Secure:

    ```js
    // config/config.prod.js
    module.exports = () => ({
      proxy: true,               // the proxy sets X-Forwarded-Proto: https
      session: { secure: true },
    });
    ```
    Do not set `secure: true` without `proxy: true` behind a proxy: egg-cookies then refuses to send
    the cookie over what it thinks is HTTP ("Cannot send secure cookie over unencrypted connection").

    ## Not reported
    `local` and `unittest` envs (development over plain HTTP is normal); `proxy: true` or
    `cluster.https` without an explicit `secure: false`.
    """
    if not _session_on(ctx) or ctx.env in DEV_ENVS:
        return
    value, key = _value(ctx, "secure")
    if isinstance(value, Unknown):
        yield _unknown(ctx, "EGG-CFG-012", key, value, "whether the session cookie is Secure")
        return
    if value is True:
        return
    if value is not MISSING and value is not None and not value:
        severity, suffix = _cap_if_unused(ctx, "medium")
        if severity is None:
            return
        yield ctx.finding(
            "EGG-CFG-012", key=key, severity=severity,
            message=f"The session cookie is never marked Secure in env '{ctx.env}' (`{key} = false`): it is also "
                    f"sent over plain HTTP, where the network can read it.{suffix}",
            evidence=f"{key} = {str(value).lower()}", fix=HARDENED)
        return
    if value is MISSING or value is None:
        proxy = ctx.config.get("proxy")
        https = ctx.config.get("cluster.https")
        if proxy is True or (https not in (MISSING, None, False, UNDEFINED) and https != {}):
            return
        if session_use(ctx) is None:
            return
        yield ctx.finding(
            "EGG-CFG-012", key="session.secure", severity="low", confidence="low",
            message=f"Needs review: in env '{ctx.env}' no `session.secure` is set and `proxy` is off, so the session "
                    "cookie gets Secure only if Node itself serves HTTPS. Behind a TLS-terminating proxy it is "
                    "sent without Secure.",
            evidence=f"session.secure: not set; proxy = {js(proxy) if isinstance(proxy, bool) else '<not set>'}",
            fix=HARDENED)


@rule(id="EGG-CFG-013", title="Session cookie without SameSite (or SameSite=None)", strategy=4,
      severity="low", cwe=1275, references=(*REFS_COOKIE, "https://cwe.mitre.org/data/definitions/1275.html",
                                            "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Set-Cookie#samesitesamesite-value"))
def session_same_site(ctx: CheckContext):
    """## What
    koa-session sends no `SameSite` attribute unless `session.sameSite` (or Egg's
    `cookies.sameSite` default) is set. Fires when neither is set (low; medium when CSRF protection
    is also off in the env) or when it is `'none'` (medium; high with CSRF off).

    ## Why it matters
    Without SameSite the browser's own default decides whether the session rides along on requests
    from other sites: Chromium treats it as Lax (with a two-minute exception for top-level POSTs),
    other browsers have shipped different defaults. `SameSite=None` explicitly sends it on every
    cross-site request. Either way CSRF protection then rests on the CSRF token alone, and where
    that is off, on nothing (CWE-1275). Seed strategies 4 and 5.

    ## How to fix
    ```js
    // config/config.default.js
    config.session = { sameSite: 'lax' }; // 'strict' if no cross-site navigation must stay logged in
    // or for every cookie the app sets: config.cookies = { sameSite: 'lax' };
    ```

    ## Not reported
    `sameSite: 'lax'` or `'strict'` on `session` or on `cookies`; the session plugin disabled.
    """
    if not _session_on(ctx):
        return
    value, key = _value(ctx, "sameSite")
    if isinstance(value, Unknown):
        yield _unknown(ctx, "EGG-CFG-013", key, value, "the session cookie's SameSite attribute")
        return
    csrf_off = _csrf_off(ctx)
    label = str(value).lower() if isinstance(value, str) else None
    if label in ("lax", "strict"):
        return
    if label == "none":
        severity = "high" if csrf_off else "medium"
        what = "`SameSite=None`: browsers send the session cookie on every cross-site request"
    elif value is MISSING or value is None or value is False:
        severity = "medium" if csrf_off else "low"
        what = "no SameSite attribute: whether other sites' requests carry it is left to each browser's default"
    else:
        return
    if csrf_off:
        what += ", and CSRF protection is off in this env"
    if label != "none" and session_use(ctx) is None:
        return  # Egg's default on a cookie that is never sent
    severity, suffix = _cap_if_unused(ctx, severity)
    if severity is None:
        return
    yield ctx.finding(
        "EGG-CFG-013", key=key if value is not MISSING else "session.sameSite", severity=severity,
        message=f"The session cookie has {what}.{suffix}",
        evidence=f"{key} = {js(value)}" if value is not MISSING else "session.sameSite / cookies.sameSite: not set",
        fix="Set `config.session.sameSite = 'lax'` (or `config.cookies.sameSite = 'lax'` for every cookie).")


def _duration(ms: float) -> str:
    days = ms / DAY
    if days >= 1:
        return f"{days:g} day{'s' if days != 1 else ''}"
    return f"{ms / 3_600_000:g} hours"


def _max_age(ctx: CheckContext):
    value = ctx.config.get("session.maxAge")
    if isinstance(value, Unknown) and value.has_fallback:
        return value.fallback, True
    return value, False


@rule(id="EGG-CFG-014", title="Session lifetime long or never expiring", strategy=4, severity="medium", cwe=613,
      references=(*REFS_COOKIE, "https://cwe.mitre.org/data/definitions/613.html",
                  "https://github.com/koajs/session#options"))
def session_lifetime(ctx: CheckContext):
    """## What
    `session.maxAge` decides both the cookie's lifetime and the `_expire` time stored inside the
    session. Fires when it is `'session'` (medium: the browser drops the cookie on close, but the
    session itself has no expiry, so a copied cookie works forever), above 30 days (medium) or
    above 7 days (low). Egg's default is one day.

    ## Why it matters
    A stolen or forgotten session (shared computer, leaked log, XSS) stays usable for as long as
    `maxAge`; OWASP's session guidance asks for idle and absolute timeouts measured in hours for
    most applications (CWE-613). Seed strategy 4.

    ## How to fix
    Keep `maxAge` short and let active users renew:

    ```js
    // config/config.default.js
    config.session = { maxAge: 2 * 3600 * 1000, renew: true };
    ```
    For "remember me", issue a separate long-lived, server-side revocable token rather than a month-long session.

    ## Not reported
    `maxAge` up to 7 days; values only `config.local` sets when scanning `prod`; an unknown
    `maxAge` without a literal fallback.
    """
    if not _session_on(ctx):
        return
    value, from_fallback = _max_age(ctx)
    confidence = "low" if from_fallback else None
    if value == "session":
        severity, suffix = _cap_if_unused(ctx, "medium" if not from_fallback else "low")
        if severity is None:
            return
        yield ctx.finding(
            "EGG-CFG-014", key="session.maxAge", severity=severity, confidence=confidence,
            message="`session.maxAge = 'session'`: the session carries no expiry, so a copied cookie stays valid "
                    f"until the keys change (koa-session: 'this cookie will never expire').{suffix}",
            evidence="session.maxAge = 'session'", fix=HARDENED)
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= WEEK:
        return
    severity = "medium" if value > MONTH else "low"
    if from_fallback:
        severity = "low"
    severity, suffix = _cap_if_unused(ctx, severity)
    if severity is None:
        return
    yield ctx.finding(
        "EGG-CFG-014", key="session.maxAge", severity=severity, confidence=confidence,
        message=f"Sessions last {_duration(value)} in env '{ctx.env}'"
                + (" (the literal fallback of an environment variable)" if from_fallback else "")
                + f": a stolen or forgotten session stays usable that long.{suffix}",
        evidence=f"session.maxAge = {int(value)} ({_duration(value)})", fix=HARDENED)


@rule(id="EGG-CFG-015", title="Long sessions without renewal (no idle timeout)", strategy=4, severity="low",
      cwe=613, references=(*REFS_COOKIE, "https://github.com/koajs/session#options"))
def session_no_renew(ctx: CheckContext):
    """## What
    `session.maxAge` is above Egg's one-day default while neither `renew` nor `rolling` is on.
    A long `maxAge` is usually there so active users are not logged out; it then also keeps idle
    sessions alive for the whole period.

    ## Why it matters
    With `renew: true` koa-session re-issues the cookie when less than half of `maxAge` is left,
    so a short `maxAge` (hours) keeps active users logged in while abandoned sessions expire soon:
    the idle timeout OWASP asks for (CWE-613). Seed strategy 4.

    ## How to fix
    ```js
    // config/config.default.js
    config.session = { maxAge: 4 * 3600 * 1000, renew: true };
    ```

    ## Not reported
    `maxAge` of one day or less; `renew` or `rolling` on; unknown values.
    """
    if not _session_on(ctx):
        return
    value = ctx.config.get("session.maxAge")
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= DAY:
        return
    renew, rolling = ctx.config.get("session.renew"), ctx.config.get("session.rolling")
    if renew is True or rolling is True or isinstance(renew, Unknown) or isinstance(rolling, Unknown):
        return
    severity, suffix = _cap_if_unused(ctx, "low")
    if severity is None:
        return
    yield ctx.finding(
        "EGG-CFG-015", key="session.maxAge", severity=severity,
        message=f"Sessions last {_duration(value)} and are never renewed (`renew`/`rolling` off): an idle session "
                f"stays valid as long as an active one. A short maxAge with `renew: true` gives an idle timeout.{suffix}",
        evidence=f"session.maxAge = {int(value)}; session.renew = {js(renew) if renew is not MISSING else '<not set>'}",
        fix="`config.session = { maxAge: 4 * 3600 * 1000, renew: true }`")
