"""CSRF protection (egg-security `security.csrf`)."""

from __future__ import annotations

from eggshield.checks.context import CheckContext
from eggshield.checks.registry import rule
from eggshield.eggconfig.model import MISSING
from eggshield.js.values import Unknown

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
    if enable is False or enable == 0:
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
