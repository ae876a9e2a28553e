"""The CSRF matrix: attack requests a cross-site page (or a cookie-tossing neighbour) could make,
each expected to be refused with 403, plus one control request that must pass.

How Egg decides (egg-facts §5): for POST/PATCH/DELETE/PUT/CONNECT (`supportedRequests`), the
`ctoken` check takes the token from `_csrf` (query/body) or `x-csrf-token` and compares it with
the secret in the `csrfToken` cookie (or the session with `useSession`). The control request
goes to a path no route answers, so a token that passes costs nothing but a 404; the attack
requests go to the app's own state-changing routes, which is why the matrix needs
--allow-unsafe-methods: a request the app fails to refuse runs its handler.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from eggshield.probe.client import BudgetExhausted, Exchange, PoliteClient
from eggshield.probe.cookies import CookieJar
from eggshield.probe.model import CSRF, CsrfCase, CsrfFacts, ProbeResult, Route

EVIL = "https://evil.example"
FORGED = "eggshieldForgedToken0123"  # 24 chars, the shape of a real secret
FORM = "application/x-www-form-urlencoded"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class CaseSpec:
    name: str
    title: str


ATTACKS = (
    CaseSpec("no-token", "the user's cookies, no token (a cross-site form post)"),
    CaseSpec("wrong-token", "the user's cookies and a wrong token"),
    CaseSpec("other-session-token", "the user's cookies and the token of another session"),
    CaseSpec("forged-double-submit", "a CSRF cookie and a matching token, both chosen by the attacker (cookie tossing)"),
    CaseSpec("cross-site-origin", "the user's cookies, Origin and Referer of another site, no token"),
    CaseSpec("json-no-token", "a JSON body with the user's cookies, no token"),
    CaseSpec("text-plain-no-token", "a text/plain body (a form with enctype=text/plain), no token"),
    CaseSpec("method-override", "POST overridden with _method / X-HTTP-Method-Override, no token"),
)
CONTROL = CaseSpec("valid-token", "the user's cookies and the token of the same session (control)")


def _message(ex: Exchange) -> str:
    try:
        doc = json.loads(ex.text)
    except ValueError:
        return ""
    return str(doc.get("message", ""))[:200] if isinstance(doc, dict) else ""


def _outcome(case: CsrfCase, ex: Exchange) -> None:
    case.exchange = ex
    case.status = ex.status
    if not ex.ok:
        case.outcome, case.message, case.confidence = "inconclusive", ex.error or "", "low"
        return
    case.message = _message(ex)
    if ex.status == 403:
        case.outcome = "refused"
        return
    if ex.status in (405, 501):
        # the server does not take this method here at all: nothing changed, nothing proven
        case.outcome, case.confidence = "inconclusive", "low"
        case.message = case.message or "the server does not accept this method here"
        return
    case.outcome = "accepted"
    # 2xx/3xx/404 can only come from past the CSRF check (Egg checks before routing); 400/401/5xx
    # may come from something that runs before it (a body parser, an auth middleware placed first)
    case.confidence = "high" if ex.status is not None and (ex.status < 400 or ex.status == 404) else "medium"


class Matrix:
    def __init__(self, client: PoliteClient, result: ProbeResult, jar_a: CookieJar, jar_b: CookieJar,
                 control_path: str):
        self.client = client
        self.result = result
        self.facts: CsrfFacts = result.csrf
        self.jar_a = jar_a
        self.jar_b = jar_b
        self.control_path = control_path
        self.secret_a = jar_a.values.get(self.facts.cookie_name)
        self.secret_b = jar_b.values.get(self.facts.cookie_name)

    def _send(self, spec: CaseSpec, method: str, path: str, *, cookie: str, headers: dict[str, str] | None = None,
              body: bytes = b"eggshield=probe", ctype: str = FORM, expected: str = "refused") -> CsrfCase:
        case = CsrfCase(spec.name, spec.title, method, path, expected)
        self.facts.cases.append(case)
        hdrs = {"Accept": "application/json", "Content-Type": ctype}
        if cookie:
            hdrs["Cookie"] = cookie
        hdrs.update(headers or {})
        ex = self.client.request(method, path, case=CSRF, headers=hdrs, body=body)
        _outcome(case, ex)
        return case

    def control(self) -> None:
        if not self.secret_a:
            self.facts.cases.append(CsrfCase(CONTROL.name, CONTROL.title, "POST", self.control_path, "accepted",
                                             "not run", message="no CSRF cookie was issued (secret kept in the "
                                             "session, or CSRF off): a valid token only comes from a rendered page"))
            return
        self._send(CONTROL, "POST", self.control_path, cookie=self.jar_a.header(),
                   headers={self.facts.header_name: self.secret_a}, expected="accepted")

    def attack(self, route: Route) -> None:
        method = route.method if route.method in UNSAFE else "POST"
        path = route.concrete("1")
        hname = self.facts.header_name
        cookie = self.jar_a.header()
        sig = f"{self.facts.cookie_name}.sig"
        for spec in ATTACKS:
            if spec.name == "no-token":
                self._send(spec, method, path, cookie=cookie)
            elif spec.name == "wrong-token":
                self._send(spec, method, path, cookie=cookie, headers={hname: "eggshield-wrong-token"})
            elif spec.name == "other-session-token":
                if self.secret_b and self.secret_b != self.secret_a:
                    self._send(spec, method, path, cookie=cookie, headers={hname: self.secret_b})
                else:
                    self._skip(spec, method, path, "no second CSRF cookie was issued to compare sessions")
            elif spec.name == "forged-double-submit":
                forged = self.jar_a.header(skip=(self.facts.cookie_name, sig), extra={self.facts.cookie_name: FORGED})
                self._send(spec, method, path, cookie=forged, headers={hname: FORGED})
            elif spec.name == "cross-site-origin":
                self._send(spec, method, path, cookie=cookie, headers={"Origin": EVIL, "Referer": EVIL + "/attack.html"})
            elif spec.name == "json-no-token":
                self._send(spec, method, path, cookie=cookie, body=b'{"eggshield":"probe"}', ctype="application/json")
            elif spec.name == "text-plain-no-token":
                self._send(spec, method, path, cookie=cookie, body=b"eggshield=probe", ctype="text/plain")
            elif spec.name == "method-override":
                target = method if method != "POST" else "DELETE"
                body = urlencode({"_method": target, "eggshield": "probe"}).encode()
                case = self._send(spec, "POST", path, cookie=cookie, body=body,
                                  headers={"X-HTTP-Method-Override": target})
                case.override = target
                case.title = f"POST overridden to {target} (_method / X-HTTP-Method-Override), no token"

    def _skip(self, spec: CaseSpec, method: str, path: str, why: str) -> None:
        self.facts.cases.append(CsrfCase(spec.name, spec.title, method, path, "refused", "not run", message=why))


def choose_routes(user: list[Route], router: list[Route], fallback: str, limit: int = 3) -> list[Route]:
    """State-changing routes to attack: --route values first, else the router's, else a path no
    route answers (Egg checks CSRF before routing, so even a 404 path shows the check)."""
    picked: list[Route] = []
    seen: set[tuple[str, str]] = set()
    for r in [*user, *router]:
        if r.source == "user" and r.method in ("GET", "HEAD", "OPTIONS"):
            continue
        if r.source == "router" and r.method not in (*UNSAFE, "ALL"):
            continue
        key = (r.method, r.concrete("1"))
        if key not in seen:
            seen.add(key)
            picked.append(r)
        if len(picked) >= limit:
            break
    return picked or [Route("POST", fallback, "default")]


def run_matrix(client: PoliteClient, result: ProbeResult, jar_a: CookieJar, jar_b: CookieJar,
               routes: list[Route], control_path: str) -> None:
    facts = result.csrf
    facts.routes = routes
    facts.secret_seen = bool(jar_a.values.get(facts.cookie_name))
    facts.signed = f"{facts.cookie_name}.sig" in jar_a.values
    m = Matrix(client, result, jar_a, jar_b, control_path)
    facts.ran = True
    try:
        m.control()
        for route in routes:
            m.attack(route)
    except BudgetExhausted:
        result.skipped.append((CSRF, "the request budget ran out during the CSRF matrix"))
    for case in facts.cases:
        if case.passed_attack:
            case.cause = explain(case, result)


# -- why an attack passed -------------------------------------------------------------------------


def _methods_checked(supported) -> list[str] | None:
    if not isinstance(supported, list):
        return None
    methods: list[str] = []
    for item in supported:
        if isinstance(item, dict) and isinstance(item.get("methods"), list):
            methods += [str(m).upper() for m in item["methods"]]
    return methods


def explain(case: CsrfCase, result: ProbeResult) -> str:
    """The configuration that lets this attack through: from --project when given, else inferred
    from how the other requests were answered."""
    cfg = result.config
    effective = case.override or case.method
    if cfg is not None:
        why = _config_cause(case, result, effective)
        if why:
            return why
    return _inferred_cause(case, result, effective)


def _config_cause(case: CsrfCase, result: ProbeResult, effective: str) -> str:
    cfg = result.config
    assert cfg is not None
    security = cfg.plugins.get("security")
    if security is not None and not security.enable:
        return "the security plugin is disabled in config/plugin.js, so nothing checks CSRF"
    csrf = result.config_value("security.csrf")
    if csrf is False or result.config_value("security.csrf.enable") is False:
        return "security.csrf.enable = false"
    middleware = result.config_value("security.defaultMiddleware")
    names = middleware.split(",") if isinstance(middleware, str) else middleware if isinstance(middleware, list) else None
    if names is not None and "csrf" not in [str(n).strip() for n in names]:
        return "`csrf` is missing from security.defaultMiddleware"
    methods = _methods_checked(result.config_value("security.csrf.supportedRequests"))
    if methods is not None and effective not in methods:
        return (f"security.csrf.supportedRequests checks only {', '.join(methods) or 'nothing'}: "
                f"{effective} requests are never checked")
    if case.name == "json-no-token" and result.config_value("security.csrf.ignoreJSON") is True:
        return "security.csrf.ignoreJSON = true skips every JSON request (deprecated and unsafe)"
    ctype = result.config_value("security.csrf.type")
    if case.name == "forged-double-submit" and result.config_value("security.csrf.useSession") is not True \
            and result.config_value("security.csrf.cookieOptions.signed") is not True:
        return ("the token is compared with the csrfToken cookie, which is neither signed nor kept in the "
                "session (security.csrf.useSession = false, cookieOptions.signed = false): a cookie the "
                "attacker sets (from a sibling subdomain or over http) plus the same token passes")
    if ctype == "referer" and case.name != "cross-site-origin":
        return "security.csrf.type = 'referer' checks only Referer/Origin, never a token"
    if ctype == "any":
        return "security.csrf.type = 'any' accepts a request that passes either the token or the referer check"
    for key in ("ignore", "match"):
        value = result.config_value(f"security.csrf.{key}")
        if value is not None:
            return f"security.csrf.{key} is set and may exempt {case.path}"
    return ""


def _inferred_cause(case: CsrfCase, result: ProbeResult, effective: str) -> str:
    cases = [c for c in result.csrf.cases if c.expected == "refused" and c.outcome in ("refused", "accepted")]
    same_route = [c for c in cases if c.path == case.path]
    baseline = next((c for c in same_route if c.name == "no-token"), None)
    if cases and all(c.outcome == "accepted" for c in cases):
        if not result.csrf.secret_seen:
            return ("no request was refused and no CSRF cookie was ever issued: the csrf check looks switched off "
                    "(security.csrf.enable = false, or the security plugin disabled)")
        return "no request was refused: the csrf check looks switched off for every route tried"
    if same_route and all(c.outcome == "accepted" for c in same_route):
        return (f"every attack on {case.method} {case.path} passed while other routes refused them: "
                f"{case.method} or this path is exempt (security.csrf.supportedRequests, ignore or match)")
    if baseline is not None and baseline.outcome == "refused":
        if case.name == "json-no-token":
            return "JSON bodies skip the check while form posts are refused: security.csrf.ignoreJSON = true"
        if case.name == "method-override":
            return (f"the request was refused as {case.method} but passed once overridden to {effective}: "
                    f"security.csrf.supportedRequests leaves {effective} out")
        if case.name == "forged-double-submit":
            return ("a CSRF cookie chosen by the client, sent with the same token, passes: the secret is an unsigned "
                    "cookie (set security.csrf.useSession = true or cookieOptions.signed = true)")
    return ""
