"""The CSRF matrix's verdicts on a live server (probe, strategy 5)."""

from __future__ import annotations

from eggshield.checks.probe_context import ProbeContext
from eggshield.checks.registry import rule

CSRF_DOC = "https://www.eggjs.org/core/security#csrf"
OWASP = "https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html"

FIXES = {
    "security.csrf.enable": """// config/config.default.js
config.security = {
  csrf: { enable: true }, // exempt only header-authenticated APIs, with ignore: ctx => ...
};""",
    "security.csrf.supportedRequests": """// config/config.default.js — every state-changing method (Egg's default)
config.security = {
  csrf: { supportedRequests: [{ path: /^\\//, methods: [ 'POST', 'PATCH', 'DELETE', 'PUT', 'CONNECT' ] }] },
};""",
    "security.csrf.ignoreJSON": """// config/config.default.js — JSON requests are checked like any other
config.security = { csrf: { ignoreJSON: false } };""",
    "security.csrf.useSession": """// config/config.default.js — bind the secret to something the attacker cannot set
config.security = {
  csrf: { cookieOptions: { signed: true } }, // csrfToken.sig, checked with config.keys
  // or keep it server side: csrf: { useSession: true } (front ends then read ctx.csrf from the page)
};""",
    "security.csrf.ignore": """// config/config.default.js — exempt narrowly, and only requests that do not authenticate by cookie
config.security = {
  csrf: { ignore: ctx => ctx.path.startsWith('/api/') && !!ctx.get('authorization') },
};""",
    "security.csrf.type": """// config/config.default.js — check the token (and, if wanted, also the referer)
config.security = { csrf: { type: 'ctoken' } }; // or 'all'; never 'referer' alone or 'any'""",
    "plugin.security": """// config/plugin.js — do not disable the security plugin; switch off single protections instead
// exports.security = false;   <- remove""",
}


def _fix_key(cause: str, case_name: str) -> str:
    if "plugin" in cause:
        return "plugin.security"
    if "supportedRequests" in cause:
        return "security.csrf.supportedRequests"
    if "ignoreJSON" in cause:
        return "security.csrf.ignoreJSON"
    if "type =" in cause:
        return "security.csrf.type"
    if "ignore" in cause or "match" in cause or "exempt" in cause:
        return "security.csrf.ignore"
    if case_name == "forged-double-submit":
        return "security.csrf.useSession"
    return "security.csrf.enable"


@rule(id="EGG-CSRF-100", title="Cross-site request accepted without a valid CSRF token", strategy=5, severity="high",
      cwe=352, kind="probe", references=(CSRF_DOC, OWASP, "https://cwe.mitre.org/data/definitions/352.html"))
def attack_accepted(ctx: ProbeContext):
    """## What
    With --allow-unsafe-methods the probe replays what a cross-site page can send to the app's
    state-changing routes — the user's cookies with no token, a wrong token, another session's token,
    a cross-site Origin/Referer, a JSON body, a `text/plain` form, a POST overridden to another method
    with `_method` — and expects Egg's 403 (`missing csrf token` / `invalid csrf token`). This rule
    fires for each kind of request that was not refused, with the config that lets it through
    (from --project, or inferred from which requests were refused).

    ## Why it matters
    Any page the user visits can make the app act as the user: change a password, post, pay (seed
    strategy 5: "verify that requests are blocked").

    ## How to fix
    Depends on the cause shown: CSRF switched off (`security.csrf.enable`), a method left out of
    `security.csrf.supportedRequests`, `ignoreJSON`, an `ignore`/`match` too wide, `type: 'referer'` or
    `'any'`. The fix snippet targets that cause.

    ## Not reported
    Requests answered 403; cases that could not be run (no unsafe methods allowed, budget spent).
    """
    groups: dict[str, list] = {}  # one finding per cause (or per kind of request when no cause is known)
    for case in ctx.result.csrf.cases:
        if case.passed_attack and case.name != "forged-double-submit":
            groups.setdefault(case.cause or f"case:{case.name}", []).append(case)
    for group_key, cases in groups.items():
        first = cases[0]
        cause = "" if group_key.startswith("case:") else group_key
        names = sorted({c.name for c in cases})
        routes = sorted({f"{c.method if not c.override else 'POST→' + c.override} {c.path}" for c in cases})
        key = _fix_key(cause, first.name)
        confidence = "high" if any(c.confidence == "high" for c in cases) else "medium"
        ex = first.exchange
        what = (f"CSRF attack '{first.name}' ({first.title})" if len(names) == 1
                else f"{len(names)} kinds of CSRF attack ({', '.join(names)})")
        yield ctx.finding("EGG-CSRF-100", url=ex.url if ex is not None else ctx.result.url, key=key,
                          confidence=confidence,
                          message=f"{what} not refused on {', '.join(routes)}."
                                  + (f" Cause: {cause}." if cause else "") + ctx.where(key),
                          evidence="\n".join(f"{c.method} {c.path}" + (f" _method={c.override}" if c.override else "")
                                             + f" ({c.name}) expected 403, got {c.status}"
                                             + (f" ({c.message})" if c.message else "") for c in cases[:16]),
                          fix=FIXES[key])


@rule(id="EGG-CSRF-101", title="CSRF token accepted against a cookie the client chose (double submit)", strategy=5,
      severity="low", cwe=352, confidence="medium", kind="probe",
      references=(CSRF_DOC, OWASP + "#alternative-using-a-double-submit-cookie-pattern"))
def forged_double_submit(ctx: ProbeContext):
    """## What
    A request carrying a `csrfToken` cookie and an `x-csrf-token` header with the same value, both
    made up by the probe, was accepted. Egg's default `ctoken` check compares the token with an
    unsigned cookie (`useSession: false`, `cookieOptions.signed: false`): the naive double-submit
    pattern.

    ## Why it matters
    Whoever can set a cookie for the app's domain — a sibling subdomain under other control, a
    network attacker on any plain-http page of the domain (no HSTS with includeSubDomains) — can plant
    a known secret and then forge requests with it. OWASP asks for a signed or session-bound token.

    ## How to fix
    `config.security = { csrf: { cookieOptions: { signed: true } } }` (the cookie gets a `.sig` made
    with `config.keys`), or `csrf: { useSession: true }` to keep the secret in the session.

    ## Not reported
    Servers that refuse the forged pair (signed cookie or session-bound secret).
    """
    for case in ctx.result.csrf.cases:
        if case.name == "forged-double-submit" and case.passed_attack:
            ex = case.exchange
            yield ctx.finding("EGG-CSRF-101", url=ex.url if ex is not None else ctx.result.url,
                              key="security.csrf.cookieOptions.signed",
                              message=f"{case.method} {case.path} accepted a CSRF cookie and token the client made up "
                                      f"(answered {case.status})." + (f" Cause: {case.cause}." if case.cause else ""),
                              evidence=f"{case.method} {case.path} with a made-up {ctx.result.csrf.cookie_name} cookie "
                                       f"and the same value in the {ctx.result.csrf.header_name} header "
                                       f"-> {case.status}",
                              fix=FIXES["security.csrf.useSession"])
            return
