"""Security headers set by egg-security: HSTS, CSP, X-Frame-Options, nosniff, Referrer-Policy, X-XSS-Protection.

Each rule judges what the header middleware will send in the scanned env (`_egg_security.sub_state`:
plugin on, name in `defaultMiddleware`, enabled, not ignored on every path), with Egg's defaults
(HSTS and CSP are off unless the app turns them on). A header the app's own code sets (or helmet)
silences the "not sent" rules; grading knowledge that changes with browsers is in data/headers.toml.
"""

from __future__ import annotations

from eggshield.checks._app_facts import facts_for
from eggshield.checks._egg_security import SubState, middleware_list, plugin_off, sub_state
from eggshield.checks._knowledge import load
from eggshield.checks.context import DEV_ENVS, CheckContext
from eggshield.checks.registry import rule
from eggshield.eggconfig.model import MISSING
from eggshield.js.values import Unknown

REFS = ("https://www.eggjs.org/core/security",
        "https://github.com/eggjs/security#readme",
        "https://cheatsheetseries.owasp.org/cheatsheets/HTTP_Headers_Cheat_Sheet.html")
VIEW_PLUGINS = ("nunjucks", "ejs", "pug", "handlebars", "react", "vue", "art", "swig", "jade", "liquid", "xtpl")

HARDENED = """```js
// config/config.prod.js
module.exports = () => ({
  security: {
    hsts: { enable: true, maxAge: 365 * 24 * 3600, includeSubdomains: true },
    csp: {
      enable: true,
      policy: {
        'default-src': "'self'",
        'script-src': "'self'", // egg-security adds a per-request nonce ('x-csp-nonce', ctx.nonce)
        'object-src': "'none'",
        'base-uri': "'self'",
        'frame-ancestors': "'self'",
      },
    },
    xframe: { enable: true, value: 'SAMEORIGIN' },
    nosniff: { enable: true },
    xssProtection: { enable: true, value: '0' },
    referrerPolicy: { enable: true, value: 'strict-origin-when-cross-origin' },
    // referrerPolicy only runs when listed here (string form; egg 4's array form rejects it)
    defaultMiddleware: 'csrf,hsts,methodnoallow,noopen,nosniff,csp,xssProtection,xframe,dta,referrerPolicy',
  },
});
```"""


def _knowledge() -> dict:
    return load("headers")


def _set_by_code(ctx: CheckContext, header: str) -> str | None:
    """Where the app's own code (or helmet) sends `header`, if it does."""
    facts = facts_for(ctx)
    touches = facts.sets(header)
    if touches:
        return str(touches[0].loc)
    if facts.helmet and header in ("strict-transport-security", "content-security-policy", "x-frame-options",
                                   "x-content-type-options", "referrer-policy"):
        return f"helmet ({facts.helmet[0]})"
    return None


def _renders_html(ctx: CheckContext) -> bool:
    """Whether the app serves HTML pages (views), where CSP, framing and Permissions-Policy matter most."""
    if facts_for(ctx).renders:
        return True
    engine = ctx.config.get("view.defaultViewEngine")
    mapping = ctx.config.get("view.mapping")
    if (isinstance(engine, str) and engine) or (isinstance(mapping, dict) and mapping):
        return True
    for name, entry in ctx.config.plugins.items():
        package = entry.package or ""
        if entry.enable and (name in VIEW_PLUGINS or package.startswith(("egg-view-", "@eggjs/view-"))):
            return True
    return False


def _needs_review(ctx: CheckContext, rule_id: str, state: SubState, what: str):
    return ctx.finding(rule_id, key=state.key, loc=state.loc, severity="low", confidence="low",
                       message=f"Needs review: whether {what} is sent depends on runtime values ({state.reason}).",
                       evidence=state.reason, fix=HARDENED)


def _off_evidence(state: SubState) -> str:
    return state.reason + (" (Egg's default)" if state.default_off else "")


# ---- EGG-HDR-001 -------------------------------------------------------------------------------
@rule(id="EGG-HDR-001", title="Security plugin disabled: no security headers at all", strategy=6, severity="medium",
      cwe=693, references=REFS)
def security_plugin_disabled(ctx: CheckContext):
    """## What
    `security: false` (or `{ enable: false }`) in `config/plugin.js` removes egg-security, and with
    it every header it sets: X-Frame-Options, X-Content-Type-Options, X-Download-Options,
    X-XSS-Protection, and HSTS and CSP even where `config.security` turns them on; also TRACE
    blocking, path-traversal blocking (dta) and the safe `ctx.redirect`. Reported once here; the
    CSRF consequence is EGG-CSRF-001, and the other header rules stay silent.

    ## Why it matters
    Seed strategy 6: the app's pages can be framed (clickjacking), responses MIME-sniffed, and no
    HTTPS or content policy reaches the browser.

    ## How to fix
    Re-enable the plugin and switch off only what you must:

    ```js
    // config/plugin.js: delete `security: false`
    // config/config.default.js
    config.security = { csrf: { ignore: [ '/webhook' ] } };
    ```

    ## Not reported
    The plugin disabled only in `plugin.local.js` when scanning `prod`.
    """
    entry = plugin_off(ctx)
    if entry is None:
        return
    helmet = facts_for(ctx).helmet
    yield ctx.finding(
        "EGG-HDR-001", key="plugin.security", loc=entry.source,
        message="The security plugin is disabled: no X-Frame-Options, X-Content-Type-Options, HSTS or CSP from Egg"
                + (f"; helmet is imported at {helmet[0]}, check it sets them" if helmet else "") + ".",
        evidence=f"plugin security: enable=false ({entry.origin})",
        fix="Remove `security: false` from config/plugin.js and configure headers in `config.security`:\n\n" + HARDENED)


# ---- EGG-HDR-002 / 003: HSTS ---------------------------------------------------------------------
HSTS_REFS = ("https://www.eggjs.org/core/security#strict-transport-security",
             "https://cheatsheetseries.owasp.org/cheatsheets/HTTP_Strict_Transport_Security_Cheat_Sheet.html",
             "https://cwe.mitre.org/data/definitions/319.html")


@rule(id="EGG-HDR-002", title="HSTS not sent in production", strategy=6, severity="medium", confidence="medium",
      cwe=319, references=HSTS_REFS)
def hsts_off(ctx: CheckContext):
    """## What
    egg-security sends `Strict-Transport-Security` only when `security.hsts.enable` is true, and
    Egg's default is **false**. This rule fires when, in the scanned (production) env, HSTS is off:
    by default, explicitly, removed from `security.defaultMiddleware`, or ignored on every path.

    ## Why it matters
    Without HSTS a user who types the address or follows an `http://` link makes a first request
    in clear text; a network attacker can strip TLS from there on and read or change everything,
    cookies included (seed strategy 6). Medium with medium confidence: many Egg apps sit behind a
    TLS-terminating proxy or CDN (nginx, SLB, Cloudflare) that adds the header itself. If yours does,
    suppress this finding with that reason (`// eggshield-ignore EGG-HDR-002: nginx sets HSTS`).

    ## How to fix
    ```js
    // config/config.prod.js
    config.security = { hsts: { enable: true, maxAge: 365 * 24 * 3600, includeSubdomains: true } };
    ```

    ## Not reported
    Local and unittest envs (HSTS on `localhost` breaks other local apps); apps whose own code or
    helmet sets the header.
    """
    if ctx.env in DEV_ENVS:
        return
    state = sub_state(ctx, "hsts")
    if state.state in ("on", "plugin-off"):
        return
    if state.state == "unknown":
        yield _needs_review(ctx, "EGG-HDR-002", state, "HSTS")
        return
    if _set_by_code(ctx, "strict-transport-security"):
        return
    default = " (Egg's default)" if state.default_off else ""
    yield ctx.finding(
        "EGG-HDR-002", key=state.key, loc=state.loc,
        message=f"HSTS is off in env '{ctx.env}'{default}: browsers may reach the app over plain HTTP first. "
                "Unless a TLS-terminating proxy adds Strict-Transport-Security, turn it on.",
        evidence=_off_evidence(state),
        fix="```js\n// config/config.prod.js\nconfig.security = { hsts: { enable: true, maxAge: 365 * 24 * 3600, "
            "includeSubdomains: true } };\n```")


@rule(id="EGG-HDR-003", title="HSTS too short or without includeSubdomains", strategy=6, severity="low",
      confidence="medium", cwe=319, references=HSTS_REFS)
def hsts_weak(ctx: CheckContext):
    """## What
    With HSTS on, egg-security sends `max-age=<security.hsts.maxAge>` and adds `includeSubdomains`
    only when `security.hsts.includeSubdomains` is true (Egg's default: false). This rule fires when
    `maxAge` is below 180 days (the floor OWASP and Mozilla Observatory use; hstspreload.org asks
    for a year), `maxAge` is 0 (which tells browsers to forget HSTS: medium), or sub-domains are
    not included.

    ## Why it matters
    A short max-age lapses between visits, and a policy without sub-domains leaves
    `http://anything.example.com` open, where an attacker can set cookies for the parent domain
    (seed strategy 6).

    ## How to fix
    ```js
    config.security = { hsts: { enable: true, maxAge: 365 * 24 * 3600, includeSubdomains: true } };
    ```
    (egg-security has no `preload` option; add it in the proxy if you submit to the preload list.)

    ## Not reported
    HSTS off (EGG-HDR-002), local and unittest envs.
    """
    if ctx.env in DEV_ENVS or not sub_state(ctx, "hsts").on:
        return
    floor = _knowledge()["hsts"]["min_max_age"]
    key = "security.hsts.maxAge"
    age = ctx.config.get(key)
    if isinstance(age, str) and age.strip().isdigit():
        age = int(age)
    if isinstance(age, str) and age.strip():
        yield ctx.finding("EGG-HDR-003", key=key, severity="medium",
                          message=f"HSTS max-age {age!r} is not a number: browsers ignore the whole header.",
                          evidence=f"{key} = {age!r}", fix=f"Set `maxAge: 365 * 24 * 3600` (at least {floor}).")
    elif isinstance(age, Unknown):
        yield ctx.finding("EGG-HDR-003", key=key, confidence="low",
                          message=f"Needs review: HSTS max-age depends on {age.reason}.",
                          evidence=f"{key} = {age.reason}", fix=f"Use at least {floor} (180 days); a year is usual.")
    elif isinstance(age, int | float) and not isinstance(age, bool) and age < floor:
        zero = age <= 0
        yield ctx.finding(
            "EGG-HDR-003", key=key, severity="medium" if zero else "low",
            message=("`max-age=0` tells browsers to drop HSTS for this host." if zero else
                     f"HSTS max-age is {int(age)} s ({age / 86400:.1f} days), below 180 days: the policy lapses "
                     "between visits."),
            evidence=f"{key} = {age!r}", fix=f"Set `maxAge: 365 * 24 * 3600` (at least {floor})." )
    sub_key = "security.hsts.includeSubdomains"
    sub = ctx.config.get(sub_key)
    if isinstance(sub, Unknown):
        return
    if not sub:
        default = ctx.config.loc(sub_key)
        yield ctx.finding(
            "EGG-HDR-003", key=sub_key,
            message="HSTS does not include sub-domains" + (" (Egg's default)" if default is None or default.default
                                                           else "") + ": `http://<sub>.` hosts stay reachable in clear "
                    "text and can set cookies for the parent domain.",
            evidence=f"{sub_key} = {sub if sub is not MISSING else 'not set'}",
            fix="Add `includeSubdomains: true` once every sub-domain serves HTTPS.")


# ---- EGG-HDR-004 / 005: CSP -----------------------------------------------------------------------
CSP_REFS = ("https://www.eggjs.org/core/security#content-security-policy",
            "https://cheatsheetseries.owasp.org/cheatsheets/Content_Security_Policy_Cheat_Sheet.html",
            "https://csp-evaluator.withgoogle.com/",
            "https://cwe.mitre.org/data/definitions/693.html")
CSP_FIX = """```js
// config/config.prod.js
config.security = {
  csp: {
    enable: true,
    policy: {
      'default-src': "'self'",
      'script-src': "'self'", // egg-security appends 'nonce-<ctx.nonce>'; use it in <script nonce>
      'object-src': "'none'",
      'base-uri': "'self'",
      'frame-ancestors': "'self'",
    },
  },
};
```"""


@rule(id="EGG-HDR-004", title="Content-Security-Policy not enforced", strategy=6, severity="medium",
      confidence="medium", cwe=693, references=CSP_REFS)
def csp_off(ctx: CheckContext):
    """## What
    egg-security sends a `Content-Security-Policy` built from `security.csp.policy` only when
    `security.csp.enable` is true; Egg's default is **false** with an empty policy. This rule fires
    when, in the scanned env, no policy is enforced: CSP off (by default or explicitly, or not in
    `defaultMiddleware`), `reportOnly: true` (the browser only reports, low), or enabled with an
    empty policy (the header is sent empty). Medium for apps that render HTML views (a view plugin,
    `view.defaultViewEngine`, or `ctx.render()` in code), low for JSON-only APIs, where CSP
    protects far less.

    ## Why it matters
    CSP is the browser-side backstop for XSS: an injected `<script>` or inline handler does not
    run when the policy forbids it (seed strategy 6).

    ## How to fix
    Start in report-only mode if you must, then enforce:

    CSP_FIX_PLACEHOLDER

    ## Not reported
    Apps whose own code or helmet sets Content-Security-Policy.
    """
    state = sub_state(ctx, "csp")
    if state.state == "plugin-off":
        return
    if state.state == "unknown":
        yield _needs_review(ctx, "EGG-HDR-004", state, "a Content-Security-Policy")
        return
    html = _renders_html(ctx)
    kind = "the app renders HTML views" if html else "the app seems to serve JSON only"
    if state.state == "off":
        if _set_by_code(ctx, "content-security-policy"):
            return
        default = " (Egg's default)" if state.default_off else ""
        yield ctx.finding("EGG-HDR-004", key=state.key, loc=state.loc, severity="medium" if html else "low",
                          message=f"No Content-Security-Policy is sent{default}; {kind}.",
                          evidence=_off_evidence(state), fix=CSP_FIX)
        return
    report_only = ctx.config.get("security.csp.reportOnly")
    if isinstance(report_only, Unknown):
        yield ctx.finding("EGG-HDR-004", key="security.csp.reportOnly", severity="low", confidence="low",
                          message=f"Needs review: whether CSP is enforced depends on {report_only.reason}.",
                          evidence=f"security.csp.reportOnly = {report_only.reason}", fix=CSP_FIX)
        return
    if report_only and report_only is not MISSING:
        yield ctx.finding("EGG-HDR-004", key="security.csp.reportOnly", severity="low",
                          message="CSP is report-only (`Content-Security-Policy-Report-Only`): browsers report "
                                  "violations but block nothing.",
                          evidence="security.csp.reportOnly = true", fix="Drop `reportOnly` once reports are clean.")
        return
    policy = ctx.config.get("security.csp.policy")
    if isinstance(policy, dict) and not policy:
        yield ctx.finding("EGG-HDR-004", key="security.csp.policy", severity="medium" if html else "low",
                          message=f"CSP is enabled with an empty policy: the header is sent empty and restricts "
                                  f"nothing; {kind}.",
                          evidence="security.csp.policy = {}", fix=CSP_FIX)


csp_off.__doc__ = csp_off.__doc__.replace("CSP_FIX_PLACEHOLDER", CSP_FIX.replace("\n", "\n    "))


def csp_policy(ctx: CheckContext) -> dict[str, list[str]] | None:
    """The enforced policy as directive → source list, or None when CSP is not enforced."""
    if not sub_state(ctx, "csp").on:
        return None
    report_only = ctx.config.get("security.csp.reportOnly")
    if isinstance(report_only, Unknown) or (report_only and report_only is not MISSING):
        return None
    policy = ctx.config.get("security.csp.policy")
    if not isinstance(policy, dict):
        return None
    out: dict[str, list[str]] = {}
    for name, value in policy.items():
        values = value if isinstance(value, list) else [value]
        tokens: list[str] = []
        for v in values:
            if isinstance(v, str):
                tokens.extend(v.split())
            elif isinstance(v, bool):
                tokens.append(str(v).lower())
            else:
                tokens.append("<unknown>")
        out[str(name).lower()] = tokens
    return out


@rule(id="EGG-HDR-005", title="Content-Security-Policy too weak", strategy=6, severity="medium", cwe=693,
      references=CSP_REFS)
def csp_weak(ctx: CheckContext):
    """## What
    The enforced `security.csp.policy` (an object of directive → source or list of sources) is
    judged the way egg-security will send it. egg-security appends `'nonce-<random>'` to
    `script-src` on every response (unless a nonce is already there), and CSP Level 2+ browsers
    ignore `'unsafe-inline'` when a nonce is present, so `'unsafe-inline'` in `script-src` is
    harmless in Egg. This rule fires when:

    - no directive restricts scripts (neither `script-src` nor `default-src`) (medium);
    - inline script is allowed where no nonce is added: `'unsafe-inline'` in `default-src` without
      `script-src`, or in `script-src-elem`/`script-src-attr` (medium);
    - the script sources include `*` or a scheme-only source (`https:`, `http:`, `data:`), which any
      site can satisfy, unless `'strict-dynamic'` makes browsers ignore them (medium);
    - `'unsafe-eval'` in the script sources (low);
    - `object-src` is missing while `default-src` does not restrict plugins (low), or `base-uri` is
      missing (it has no fallback; an injected `<base>` re-targets relative script URLs) (low).

    ## Why it matters
    A policy any attacker script can satisfy gives no XSS protection, while looking like it does
    (seed strategy 6).

    ## How to fix
    CSP_FIX_PLACEHOLDER

    ## Not reported
    `'unsafe-inline'` in `script-src` (neutralised by egg-security's nonce); report-only or disabled
    CSP (EGG-HDR-004); `frame-ancestors` (judged with X-Frame-Options by EGG-HDR-006).
    """
    policy = csp_policy(ctx)
    if not policy:
        return
    knowledge = _knowledge()["csp"]
    unknown = [d for d, v in policy.items() if "<unknown>" in v]
    if unknown:
        yield ctx.finding("EGG-HDR-005", key="security.csp.policy", severity="low", confidence="low",
                          message="Needs review: CSP directives " + ", ".join(unknown) + " depend on runtime values.",
                          evidence="security.csp.policy." + ", ".join(unknown), fix=CSP_FIX)
    script_dir = "script-src" if "script-src" in policy else "default-src" if "default-src" in policy else None

    def weak(directive: str, message: str, severity: str, confidence: str = "high"):
        return ctx.finding("EGG-HDR-005", key=f"security.csp.policy.{directive}", severity=severity,
                           confidence=confidence, message=message,
                           evidence=f"{directive}: {' '.join(policy.get(directive, [])) or '(missing)'}", fix=CSP_FIX)

    if script_dir is None:
        yield ctx.finding("EGG-HDR-005", key="security.csp.policy",
                          message="The CSP has neither `script-src` nor `default-src`: scripts from anywhere run.",
                          evidence="directives: " + ", ".join(policy), fix=CSP_FIX)
    else:
        sources = [s.lower() for s in policy[script_dir]]
        if script_dir == "default-src" and "'unsafe-inline'" in sources:
            yield weak("default-src", "`default-src` allows `'unsafe-inline'` and there is no `script-src`, where "
                       "egg-security would add its nonce: inline scripts run.", "medium")
        loose = [s for s in sources if s in knowledge["scheme_only"] or s.startswith("*")
                 and s.count(".") <= 1 and not _is_own_wildcard(s)]
        if loose and "'strict-dynamic'" not in sources:
            yield weak(script_dir, f"`{script_dir}` allows {', '.join(loose)}: a script from any such origin runs, "
                       "so an attacker can host one.", "medium")
        if "'unsafe-eval'" in sources:
            yield weak(script_dir, f"`{script_dir}` allows `'unsafe-eval'`: injected strings reach eval().", "low")
    for directive in ("script-src-elem", "script-src-attr"):
        if "'unsafe-inline'" in [s.lower() for s in policy.get(directive, [])] and not any(
                s.lower().startswith(("'nonce-", "'sha")) for s in policy[directive]):
            yield weak(directive, f"`{directive}` allows `'unsafe-inline'` and egg-security adds no nonce there: "
                       "inline scripts run.", "medium")
    default = [s.lower() for s in policy.get("default-src", [])]
    permissive_default = not default or any(s in knowledge["scheme_only"] for s in default)
    why = {"object-src": "`<object>`/`<embed>` can load active content; use `'none'`",
           "base-uri": "an injected `<base href>` re-targets every relative script URL"}
    for directive in knowledge["required"]:
        if directive in policy:
            continue
        if directive in knowledge["falls_back"]:
            if permissive_default:
                yield weak(directive, f"The CSP sets no `{directive}` and `default-src` does not cover it: "
                           + why.get(directive, "it is unrestricted") + ".", "low", "medium")
        else:
            yield weak(directive, f"The CSP sets no `{directive}` (it does not fall back to `default-src`): "
                       + why.get(directive, "it is unrestricted") + ".", "low", "medium")


def _is_own_wildcard(source: str) -> bool:
    """`*.example.com` names a domain (fine); `*`, `*.com`, `https://*` do not."""
    host = source.split("://")[-1].lstrip("*.")
    return host.count(".") >= 1


csp_weak.__doc__ = csp_weak.__doc__.replace("CSP_FIX_PLACEHOLDER", CSP_FIX.replace("\n", "\n    "))


# ---- EGG-HDR-006 / 007: framing --------------------------------------------------------------------
FRAME_REFS = ("https://www.eggjs.org/core/security#x-frame-options",
              "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/X-Frame-Options",
              "https://cheatsheetseries.owasp.org/cheatsheets/Clickjacking_Defense_Cheat_Sheet.html",
              "https://cwe.mitre.org/data/definitions/1021.html")
FRAME_FIX = """Keep Egg's default (or `DENY`); to let named partners frame the app, use CSP `frame-ancestors`:

```js
config.security = {
  xframe: { enable: true, value: 'SAMEORIGIN' },
  csp: { enable: true, policy: { 'frame-ancestors': [ "'self'", 'https://partner.example.com' ] } },
};
```"""


def _frame_ancestors(ctx: CheckContext) -> bool:
    policy = csp_policy(ctx)
    return bool(policy and policy.get("frame-ancestors"))


@rule(id="EGG-HDR-006", title="No clickjacking protection (X-Frame-Options off, no frame-ancestors)", strategy=6,
      severity="medium", cwe=1021, references=FRAME_REFS)
def xframe_off(ctx: CheckContext):
    """## What
    egg-security sends `X-Frame-Options: SAMEORIGIN` by default. This rule fires when that header
    is off in the scanned env (`xframe.enable: false`, `xframe` dropped from `defaultMiddleware`,
    `ignore` matching every path) and no enforced CSP `frame-ancestors` replaces it. Low for apps
    that seem to serve JSON only (nothing to click in a frame).

    ## Why it matters
    Any site can load the app's pages in an invisible frame and trick a logged-in user into
    clicking its buttons (clickjacking; seed strategy 6).

    ## How to fix
    FRAME_FIX_PLACEHOLDER

    ## Not reported
    An `ignore` list of a few embeddable paths; apps whose code or helmet sets X-Frame-Options;
    an enforced CSP with `frame-ancestors`.
    """
    state = sub_state(ctx, "xframe")
    if state.state == "plugin-off" or state.on:
        return
    if state.state == "unknown":
        yield _needs_review(ctx, "EGG-HDR-006", state, "X-Frame-Options")
        return
    if _frame_ancestors(ctx) or _set_by_code(ctx, "x-frame-options"):
        return
    html = _renders_html(ctx)
    yield ctx.finding("EGG-HDR-006", key=state.key, loc=state.loc, severity="medium" if html else "low",
                      message="X-Frame-Options is off and no CSP `frame-ancestors` is enforced: any site can frame "
                              "the app's pages" + ("" if html else " (the app seems to serve JSON only)") + ".",
                      evidence=state.reason, fix=FRAME_FIX)


xframe_off.__doc__ = xframe_off.__doc__.replace("FRAME_FIX_PLACEHOLDER", FRAME_FIX.replace("\n", "\n    "))


@rule(id="EGG-HDR-007", title="X-Frame-Options value browsers ignore (ALLOW-FROM or invalid)", strategy=6,
      severity="medium", cwe=1021, references=FRAME_REFS)
def xframe_value(ctx: CheckContext):
    """## What
    egg-security sends `security.xframe.value` as is (an empty value falls back to `SAMEORIGIN`).
    Browsers honour only `DENY` and `SAMEORIGIN`; `ALLOW-FROM uri` is obsolete and current
    browsers ignore the whole header when they see it, as they do any other value. This rule fires
    on such a value unless an enforced CSP `frame-ancestors` covers framing.

    ## Why it matters
    The app believes it restricts framing while no browser enforces it: clickjacking stays open
    (seed strategy 6).

    ## How to fix
    FRAME_FIX_PLACEHOLDER

    ## Not reported
    `DENY`, `SAMEORIGIN` (any case), an empty value; X-Frame-Options off (EGG-HDR-006).
    """
    state = sub_state(ctx, "xframe")
    if not state.on:
        return
    key = "security.xframe.value"
    value = ctx.config.get(key)
    if isinstance(value, Unknown):
        yield ctx.finding("EGG-HDR-007", key=key, severity="low", confidence="low",
                          message=f"Needs review: the X-Frame-Options value depends on {value.reason}.",
                          evidence=f"{key} = {value.reason}", fix=FRAME_FIX)
        return
    if not value or value is MISSING or not isinstance(value, str):
        return
    knowledge = _knowledge()["xframe"]
    if value.strip().upper() in knowledge["valid"] or _frame_ancestors(ctx):
        return
    obsolete = value.strip().upper().startswith(knowledge["obsolete_prefix"])
    yield ctx.finding("EGG-HDR-007", key=key,
                      message=(f"`X-Frame-Options: {value}` uses the obsolete ALLOW-FROM, which current browsers ignore"
                               if obsolete else f"`X-Frame-Options: {value}` is not a value browsers understand")
                              + ": the page can be framed by any site.",
                      evidence=f"{key} = {value!r}", fix=FRAME_FIX)


xframe_value.__doc__ = xframe_value.__doc__.replace("FRAME_FIX_PLACEHOLDER", FRAME_FIX.replace("\n", "\n    "))


# ---- EGG-HDR-008: nosniff ------------------------------------------------------------------------
@rule(id="EGG-HDR-008", title="X-Content-Type-Options: nosniff switched off", strategy=6, severity="low", cwe=693,
      references=(*REFS, "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/X-Content-Type-Options"))
def nosniff_off(ctx: CheckContext):
    """## What
    egg-security sends `X-Content-Type-Options: nosniff` on every non-redirect response by default.
    This rule fires when it is off in the scanned env (`nosniff.enable: false`, dropped from
    `defaultMiddleware`, ignored on every path).

    ## Why it matters
    Without it, browsers may guess a response's type: an uploaded "image" or a JSON response that
    contains HTML can be rendered or executed as HTML/script (seed strategy 6: MIME sniffing, low).

    ## How to fix
    ```js
    config.security = { nosniff: { enable: true } }; // Egg's default: just remove the override
    ```

    ## Not reported
    Apps whose code or helmet sets the header.
    """
    state = sub_state(ctx, "nosniff")
    if state.state == "plugin-off" or state.on:
        return
    if state.state == "unknown":
        yield _needs_review(ctx, "EGG-HDR-008", state, "X-Content-Type-Options")
        return
    if _set_by_code(ctx, "x-content-type-options"):
        return
    yield ctx.finding("EGG-HDR-008", key=state.key, loc=state.loc,
                      message="`X-Content-Type-Options: nosniff` is off: browsers may sniff responses into HTML or "
                              "script.",
                      evidence=state.reason, fix="Remove the override; `security.nosniff.enable` is true by default.")


# ---- EGG-HDR-009 / 010: Referrer-Policy ----------------------------------------------------------
REFERRER_REFS = ("https://github.com/eggjs/security#referrerpolicy",
                 "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Referrer-Policy",
                 "https://cwe.mitre.org/data/definitions/200.html")


@rule(id="EGG-HDR-009", title="referrerPolicy enabled but never sent (not in defaultMiddleware)", strategy=6,
      severity="low", cwe=200, references=REFERRER_REFS)
def referrer_policy_not_registered(ctx: CheckContext):
    """## What
    egg-security runs only the sub-middlewares named in `security.defaultMiddleware`, and Egg's
    default list does **not** contain `referrerPolicy`. So `security.referrerPolicy: { enable: true }`
    alone does nothing: no header, no warning. This rule fires when it is enabled but not listed.
    In egg 4 (@eggjs/security 4) the array form of `defaultMiddleware` is validated against a fixed
    list without `referrerPolicy`; use the comma-separated string form to add it.

    ## Why it matters
    The team believes full URLs (paths, query strings with ids or tokens) no longer leak to other
    sites in the `Referer` header, while they do wherever the browser default is weaker (seed
    strategy 6). CWE-200: the leak is an exposure of URL data to third parties.

    ## How to fix
    ```js
    config.security = {
      defaultMiddleware: 'csrf,hsts,methodnoallow,noopen,nosniff,csp,xssProtection,xframe,dta,referrerPolicy',
      referrerPolicy: { enable: true, value: 'strict-origin-when-cross-origin' },
    };
    ```

    ## Not reported
    `referrerPolicy` listed in `defaultMiddleware`, or not enabled.
    """
    if plugin_off(ctx) is not None:
        return
    enable = ctx.config.get("security.referrerPolicy.enable")
    names = middleware_list(ctx)
    if not enable or isinstance(enable, Unknown) or isinstance(names, Unknown) or "referrerPolicy" in names:
        return
    raw = ctx.config.get("security.defaultMiddleware")
    array = isinstance(raw, list)
    yield ctx.finding(
        "EGG-HDR-009", key="security.referrerPolicy.enable",
        message="`security.referrerPolicy` is enabled but `referrerPolicy` is not in `security.defaultMiddleware`: "
                "egg-security silently sends no Referrer-Policy header"
                + (" (egg 4 rejects it in the array form: switch to the string form)" if array else "") + ".",
        evidence=f"security.defaultMiddleware = {raw if raw is not MISSING else 'default'!r}",
        fix="Add it to the list (string form): `defaultMiddleware: 'csrf,hsts,methodnoallow,noopen,nosniff,csp,"
            "xssProtection,xframe,dta,referrerPolicy'`.")


@rule(id="EGG-HDR-010", title="Referrer-Policy value leaks full URLs (or is invalid)", strategy=6, severity="low",
      cwe=200, references=REFERRER_REFS)
def referrer_policy_weak(ctx: CheckContext):
    """## What
    When the referrerPolicy middleware runs, it sends `security.referrerPolicy.value` (Egg's default
    value is `no-referrer-when-downgrade`). This rule fires when the value sends the full URL to
    other origins (`unsafe-url`, `no-referrer-when-downgrade`), or when egg-security does not
    accept it (it then throws on every response: 500s everywhere).

    ## Why it matters
    Full URLs leak paths and query strings (reset tokens, ids, search terms) to every third party
    a page links to or loads from (seed strategy 6). The browsers' own default today,
    `strict-origin-when-cross-origin`, sends only the origin cross-site.

    ## How to fix
    ```js
    config.security = { referrerPolicy: { enable: true, value: 'strict-origin-when-cross-origin' } };
    ```

    ## Not reported
    `no-referrer`, `same-origin`, `origin`, `strict-origin`, `strict-origin-when-cross-origin`,
    `origin-when-cross-origin`; a referrerPolicy that never runs (EGG-HDR-009).
    """
    state = sub_state(ctx, "referrerPolicy")
    if not state.on:
        return
    key = "security.referrerPolicy.value"
    value = ctx.config.get(key)
    knowledge = _knowledge()["referrer_policy"]
    if isinstance(value, Unknown):
        yield ctx.finding("EGG-HDR-010", key=key, confidence="low",
                          message=f"Needs review: the Referrer-Policy value depends on {value.reason}.",
                          evidence=f"{key} = {value.reason}", fix=f"Use `{knowledge['recommended']}`.")
        return
    if value is MISSING:
        return
    loc = ctx.config.loc(key)
    default = " (egg-security's default value)" if loc is None or loc.default else ""
    if value not in knowledge["accepted"]:
        yield ctx.finding("EGG-HDR-010", key=key,
                          message=f"egg-security does not accept Referrer-Policy {value!r}: it throws on every response.",
                          evidence=f"{key} = {value!r}", fix=f"Use `{knowledge['recommended']}`.")
    elif value in knowledge["leaky"]:
        yield ctx.finding("EGG-HDR-010", key=key,
                          message=f"`Referrer-Policy: {value}`{default} sends the full URL (path and query) to other "
                                  "origins.",
                          evidence=f"{key} = {value!r}", fix=f"Use `{knowledge['recommended']}`.")


# ---- EGG-HDR-011: X-XSS-Protection ------------------------------------------------------------------
@rule(id="EGG-HDR-011", title="X-XSS-Protection enables the legacy XSS filter (modern advice: 0)", strategy=6,
      severity="info", confidence="medium", cwe=693,
      references=(*REFS, "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/X-XSS-Protection"))
def xss_protection_legacy(ctx: CheckContext):
    """## What
    egg-security sends `X-XSS-Protection: 1; mode=block` by default. The XSS auditor this header
    controls was removed from Chrome (78) and Edge and never existed in Firefox; in the old
    browsers that still have it, the filter itself enabled cross-site information leaks. OWASP
    and MDN now advise `X-XSS-Protection: 0` (or no header) and a Content-Security-Policy. This
    rule fires (info) when the header is sent with any value other than `0`.

    ## Why it matters
    It gives no protection to today's users and a small risk to old ones; the real XSS backstop
    is CSP (seed strategy 6).

    ## How to fix
    ```js
    config.security = { xssProtection: { enable: true, value: '0' } };
    ```

    ## Not reported
    `value: '0'` or the header switched off.
    """
    state = sub_state(ctx, "xssProtection")
    if not state.on:
        return
    key = "security.xssProtection.value"
    value = ctx.config.get(key)
    if isinstance(value, Unknown) or value is MISSING:
        return
    if str(value).strip() in _knowledge()["xss_protection"]["recommended"]:
        return
    loc = ctx.config.loc(key)
    default = " (Egg's default)" if loc is None or loc.default else ""
    yield ctx.finding("EGG-HDR-011", key=key,
                      message=f"`X-XSS-Protection: {value}`{default} turns on a filter modern browsers removed and old "
                              "ones misused; send `0` and rely on CSP.",
                      evidence=f"{key} = {value!r}", fix="Set `config.security.xssProtection = { value: '0' }`.")


# ---- EGG-HDR-012: Permissions-Policy -----------------------------------------------------------------
@rule(id="EGG-HDR-012", title="No Permissions-Policy for HTML pages", strategy=6, severity="info", confidence="low",
      cwe=693, references=("https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Permissions-Policy",
                           "https://cheatsheetseries.owasp.org/cheatsheets/HTTP_Headers_Cheat_Sheet.html"))
def permissions_policy_missing(ctx: CheckContext):
    """## What
    egg-security has no option for `Permissions-Policy` (the header that tells the browser which
    powerful features — camera, microphone, geolocation, payment — a page and its frames may use).
    This rule fires (info) when the app renders HTML views and its code never sets the header.

    ## Why it matters
    Without it, an injected or third-party frame on the page may prompt for those features in the
    app's name (seed strategy 6 lists Permissions-Policy). CWE-693: a browser protection left
    unused.

    ## How to fix
    A small middleware (`app/middleware/permissions_policy.js`, added to `config.middleware`):

    ```js
    module.exports = () => async function permissionsPolicy(ctx, next) {
      await next();
      ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
    };
    ```

    ## Not reported
    JSON-only apps; apps whose code sets the header.
    """
    if plugin_off(ctx) is not None or not _renders_html(ctx) or facts_for(ctx).sets("permissions-policy"):
        return
    yield ctx.finding("EGG-HDR-012",
                      message="The app renders HTML but sends no Permissions-Policy (egg-security has no option for "
                              "it): frames and injected content may use camera, microphone, geolocation.",
                      fix="Add a middleware that sets `Permissions-Policy: camera=(), microphone=(), geolocation=()`.")


# ---- EGG-HDR-013: headers removed in code ------------------------------------------------------------
@rule(id="EGG-HDR-013", title="Security header removed or switched off in code", strategy=6, severity="low",
      cwe=693, references=REFS)
def header_removed_in_code(ctx: CheckContext):
    """## What
    Code can undo the configuration per request: `ctx.securityOptions.xframe = { enable: false }`,
    `ctx.remove('X-Frame-Options')`, `delete ctx.response.header['Strict-Transport-Security']`.
    This rule fires on each such place (up to five per app), with the line.

    ## Why it matters
    The config says the header is sent; on these routes it is not, and reviews of the config will
    not show it (seed strategy 6).

    ## How to fix
    Keep the exemption as narrow as the route needs and say why in a comment, or move it to config
    where reviews see it:

    ```js
    config.security = { xframe: { ignore: [ '/embed' ] } }; // instead of ctx.securityOptions in a controller
    ```

    ## Not reported
    Code that sets a header (that only makes the config rules quieter).
    """
    if plugin_off(ctx) is not None:
        return
    touches = sorted((t for t in facts_for(ctx).header_touches if t.action in ("remove", "off")),
                     key=lambda t: (t.loc.path, t.loc.line or 0, t.loc.column or 0))
    for t in touches[:5]:
        verb = "switches off" if t.action == "off" else "removes"
        yield ctx.finding("EGG-HDR-013", key=None, loc=t.loc,
                          message=f"This code {verb} `{t.header}` for the requests it handles.",
                          evidence=f"{t.header} {verb} at {t.loc}",
                          fix="Limit the exemption to the routes that need it, or express it in config "
                              "(`config.security.<name>.ignore`) where reviews see it.")


# ---- EGG-HDR-014: header limited to some paths ---------------------------------------------------------
@rule(id="EGG-HDR-014", title="Security header sent only on some paths (match)", strategy=6, severity="low",
      confidence="medium", cwe=693, references=REFS)
def header_limited_by_match(ctx: CheckContext):
    """## What
    `security.<name>.match` limits a header to the paths it matches; every other response goes
    without it. This rule fires for `csp`, `xframe` and `nosniff` when `match` does not cover every
    path (a function: needs review).

    ## Why it matters
    Protections that cover only the paths someone thought of leave new pages without them (seed
    strategy 6); an `ignore` list of exceptions is the safer shape.

    ## How to fix
    Turn the list around, naming the exceptions instead of the protected paths:

    ```js
    config.security = { xframe: { ignore: [ '/embed' ] } }; // not xframe: { match: [ '/admin' ] }
    ```

    ## Not reported
    `hsts` (browsers apply HSTS to the whole host from any response); `ignore` lists.
    """
    for name, header in (("csp", "Content-Security-Policy"), ("xframe", "X-Frame-Options"),
                         ("nosniff", "X-Content-Type-Options")):
        state = sub_state(ctx, name)
        if state.on and state.limited.startswith("only on"):
            yield ctx.finding("EGG-HDR-014", key=state.key, loc=state.loc,
                              message=f"{header} is sent {state.limited}; every other response goes without it.",
                              evidence=f"{state.key}: {state.limited}",
                              fix=f"Use `security.{name}.ignore` for the exceptions instead of `match`.")
