"""Open redirects: `ctx.redirect` with request input while `security.domainWhiteList` is empty.

egg-security replaces `ctx.redirect` with a checked version: relative paths pass, absolute URLs
pass only for hosts in `security.domainWhiteList`, and **with an empty list every http(s) URL
passes** (egg-facts §5). `ctx.unsafeRedirect` is Koa's original and never checks.
"""

from __future__ import annotations

from eggshield.checks._code_flow import Flow
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
from eggshield.js.values import Unknown

FIX = """List the hosts the app may redirect to, and keep user-chosen targets relative:

```js
// config/config.default.js
config.security = {
  domainWhiteList: [ '.example.com' ], // also used by egg-cors and helper.shtml
};
```
```js
// controller: only same-site paths from the query
const next = ctx.query.next || '/';
ctx.redirect(next.startsWith('/') && !next.startsWith('//') ? next : '/');
```"""


def redirect_calls(ctx: CheckContext):
    """(hit, flow, leading input) for every `ctx.redirect`/`ctx.unsafeRedirect` whose target starts with request input."""
    for hit in calls_by_property(ctx.sources, "redirect", "unsafeRedirect"):
        if not is_ctx_expr(hit.receiver) or not hit.args:
            continue
        fn = enclosing_function(hit.node)
        flow = Flow(fn)
        lead = flow.leading(hit.args[0])
        if lead is not None:
            yield hit, flow, lead


@rule(id="EGG-CFG-032", title="Open redirect: redirect target from the request with an empty domainWhiteList",
      strategy=4, severity="medium", cwe=601,
      references=("https://www.eggjs.org/core/security#redirect",
                  "https://cheatsheetseries.owasp.org/cheatsheets/Unvalidated_Redirects_and_Forwards_Cheat_Sheet.html",
                  "https://cwe.mitre.org/data/definitions/601.html"))
def open_redirect(ctx: CheckContext):
    """## What
    A controller or middleware calls `ctx.redirect(x)` where the start of `x` comes from the request
    (`ctx.query`, `ctx.request.body`, `ctx.params`, a decorated `@HTTPQuery()` parameter, a header,
    or a local variable holding one), and in the scanned env:

    * `security.domainWhiteList` is empty (Egg's default), so egg-security lets every `http(s)` URL
      through; or
    * the security plugin is disabled, so `ctx.redirect` is Koa's unchecked one; or
    * the call is `ctx.unsafeRedirect`, which never checks.

    Targets that start with a fixed path or host (`'/user/' + id`, `` `https://x.com/?q=${q}` ``) are
    not reported. A redirect to the `Referer` header is low; a target the function appears to check
    first (`if (!next.startsWith('/'))`, `ctx.isSafeDomain(...)`) is low confidence.

    ## Why it matters
    `https://app.example.com/login?next=https://evil.example` sends users from a trusted link to a
    phishing page, and OAuth-style callbacks that append a token leak it to the attacker (CWE-601).
    Seed strategy 4: `domainWhiteList` is the built-in protection and is off until filled.

    ## How to fix
    {fix}

    ## Not reported
    Redirect targets with a fixed start; a non-empty `domainWhiteList` (for `ctx.redirect`);
    `router.redirect`/`app.redirect` (static routes).
    """
    security_on = ctx.config.plugin_enabled("security")
    whitelist = ctx.config.get("security.domainWhiteList")
    for hit, flow, lead in redirect_calls(ctx):
        unsafe = hit.name == "unsafeRedirect"
        where = loc_of(ctx.project, hit.path, hit.node)
        if not unsafe and security_on:
            if isinstance(whitelist, Unknown):
                yield ctx.finding("EGG-CFG-032", key="security.domainWhiteList", loc=where, severity="low",
                                  confidence="low",
                                  message=f"Needs review: `{snippet(hit.node, 70)}` redirects to request input "
                                          f"({lead.expr}); whether that is an open redirect depends on "
                                          f"`security.domainWhiteList` ({whitelist.reason}).",
                                  evidence=snippet(hit.node), fix=FIX)
                continue
            if isinstance(whitelist, list) and whitelist:
                continue
        why = ("`ctx.unsafeRedirect` never checks the target" if unsafe else
               "the security plugin is disabled, so `ctx.redirect` does not check the target" if not security_on else
               f"`security.domainWhiteList` is empty in env '{ctx.env}', so any http(s) URL is allowed")
        guard = flow.guard(hit.args[0])
        severity, confidence = ("low", "medium") if lead.is_header else ("medium", None)
        note = ""
        if guard:
            severity, confidence = "low", "low"
            note = f" The function checks `{guard}` first: review whether that rejects absolute URLs."
        yield ctx.finding(
            "EGG-CFG-032", key="security.domainWhiteList", loc=where, severity=severity, confidence=confidence,
            message=f"`{snippet(hit.node, 70)}` redirects to {lead.expr} from the request and {why}: an open "
                    f"redirect.{note}",
            evidence=f"{snippet(hit.node)}; security.domainWhiteList = {js(whitelist) if isinstance(whitelist, list) else '<not set>'}" if security_on
            else f"{snippet(hit.node)}; plugin security disabled",
            fix=FIX)


open_redirect.__doc__ = open_redirect.__doc__.replace("{fix}", FIX.replace("\n", "\n    "))
