"""Header tests on the observed responses and the overall grade (data/header_grading.toml).

Each test returns one result key of the rubric (Observatory-compatible where the Observatory
has the test) plus the reasons; `grade()` turns the results into a score and a letter the same
way the Observatory does. The EGG-HDR rules read these results; nothing here sends requests.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from eggshield.probe import csp as csplib
from eggshield.probe.client import Exchange
from eggshield.probe.cookies import SetCookie, cookies_of
from eggshield.probe.model import CORS_EVIL, CORS_NULL, CORS_PREFLIGHT, ProbeResult

SIX_MONTHS = 15768000
#: Headers egg-security sets on a normal page and loses on a thrown error (egg-facts §7).
PROTECTIVE = ("x-frame-options", "x-content-type-options", "content-security-policy")
PRIVATE_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
UNSAFE_REFERRER = {"origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade"}
KNOWN_REFERRER = PRIVATE_REFERRER | UNSAFE_REFERRER
_VERSION = re.compile(r"\d+(\.\d+)+|/\d")


@cache
def rubric() -> dict:
    text = resources.files("eggshield.data").joinpath("header_grading.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@dataclass
class HeaderTest:
    test: str  # rubric test id
    result: str  # rubric result key
    value: str | None = None  # the header value judged (first 300 chars)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def spec(self) -> dict:
        return rubric()["tests"][self.test]["results"][self.result]

    @property
    def title(self) -> str:
        return rubric()["tests"][self.test]["title"]

    @property
    def modifier(self) -> int:
        return int(self.spec["modifier"])

    @property
    def observatory(self) -> int | None:
        return self.spec.get("observatory")

    @property
    def text(self) -> str:
        return self.spec["text"]

    def to_dict(self) -> dict:
        return {"test": self.test, "title": self.title, "result": self.result, "modifier": self.modifier,
                "observatory_modifier": self.observatory, "value": self.value, "problems": self.problems,
                "notes": self.notes}


@dataclass
class Grade:
    score: int
    grade: str
    tests: list[HeaderTest]
    graded_url: str | None

    def to_dict(self) -> dict:
        return {"score": self.score, "grade": self.grade, "graded_url": self.graded_url,
                "source": "MDN HTTP Observatory rubric (mdn/mdn-http-observatory src/grader/charts.js), "
                          "with the eggshield differences listed in data/header_grading.toml",
                "tests": [t.to_dict() for t in self.tests]}


# -- individual tests ---------------------------------------------------------------------------


def _short(value: str | None) -> str | None:
    return value if value is None or len(value) <= 300 else value[:297] + "..."


def judge_csp(resp: Exchange, https: bool) -> HeaderTest:
    enforced = resp.header_values("content-security-policy")
    if not enforced:
        report_only = resp.header("content-security-policy-report-only")
        t = HeaderTest("content-security-policy", "csp-not-implemented", _short(report_only))
        t.problems.append("no Content-Security-Policy header")
        if report_only:
            t.notes.append("only Content-Security-Policy-Report-Only is sent: it reports, it blocks nothing")
        return t
    verdict = csplib.judge(csplib.parse_all(enforced), https)
    return HeaderTest("content-security-policy", verdict.result, _short(", ".join(enforced)),
                      verdict.problems, verdict.notes)


def parse_hsts(value: str) -> tuple[int | None, bool, bool]:
    """(max-age or None when invalid, includeSubDomains, preload)."""
    max_age = None
    sub = pre = False
    for part in value.split(";"):
        key, _, val = part.strip().partition("=")
        key = key.strip().lower()
        if key == "max-age":
            val = val.strip().strip('"')
            max_age = int(val) if val.isdigit() else None
        elif key == "includesubdomains":
            sub = True
        elif key == "preload":
            pre = True
    return max_age, sub, pre


def judge_hsts(resp: Exchange, https: bool) -> HeaderTest:
    value = resp.header("strict-transport-security")
    if not https:
        t = HeaderTest("strict-transport-security", "hsts-not-applicable-http", _short(value))
        if value:
            t.notes.append("sent over http, where browsers ignore it; it takes effect on the https origin")
        return t
    if not value:
        return HeaderTest("strict-transport-security", "hsts-not-implemented", None,
                          ["no Strict-Transport-Security header on an https response"])
    max_age, sub, _ = parse_hsts(resp.header_values("strict-transport-security")[0])
    if max_age is None:
        return HeaderTest("strict-transport-security", "hsts-header-invalid", value, ["max-age missing or not a number"])
    t = HeaderTest("strict-transport-security", "hsts-implemented-max-age-at-least-six-months", value)
    if max_age < SIX_MONTHS:
        t.result = "hsts-implemented-max-age-less-than-six-months"
        t.problems.append(f"max-age={max_age} is under six months ({SIX_MONTHS})")
    if not sub:
        t.notes.append("no includeSubDomains: sibling subdomains can still be reached over http (cookie tossing)")
    return t


def frame_ancestors(resp: Exchange) -> list[str] | None:
    for policy in csplib.parse_all(resp.header_values("content-security-policy")):
        if "frame-ancestors" in policy.directives:
            return policy.directives["frame-ancestors"]
    return None


def judge_xfo(resp: Exchange) -> HeaderTest:
    value = resp.header("x-frame-options")
    ancestors = frame_ancestors(resp)
    if ancestors is not None and not (set(ancestors) & {"*", "http:", "https:"}):
        return HeaderTest("x-frame-options", "x-frame-options-implemented-via-csp",
                          "frame-ancestors " + " ".join(ancestors))
    if not value:
        t = HeaderTest("x-frame-options", "x-frame-options-not-implemented", None,
                       ["no X-Frame-Options header and no CSP frame-ancestors"])
        if ancestors is not None:
            t.problems.append(f"frame-ancestors allows any host ({' '.join(ancestors)})")
        return t
    norm = value.strip().upper()
    if norm in ("DENY", "SAMEORIGIN"):
        return HeaderTest("x-frame-options", "x-frame-options-sameorigin-or-deny", value)
    if norm.startswith("ALLOW-FROM"):
        return HeaderTest("x-frame-options", "x-frame-options-allow-from-origin", value,
                          notes=["ALLOW-FROM is ignored by current browsers: the page can be framed by anyone"])
    return HeaderTest("x-frame-options", "x-frame-options-header-invalid", value,
                      [f"X-Frame-Options {value!r} is not DENY or SAMEORIGIN, so browsers ignore it"])


def judge_nosniff(resp: Exchange) -> HeaderTest:
    value = resp.header("x-content-type-options")
    if not value:
        return HeaderTest("x-content-type-options", "x-content-type-options-not-implemented", None,
                          ["no X-Content-Type-Options header"])
    if value.strip().lower() != "nosniff":
        return HeaderTest("x-content-type-options", "x-content-type-options-header-invalid", value,
                          [f"value {value!r} is not nosniff"])
    return HeaderTest("x-content-type-options", "x-content-type-options-nosniff", value)


def judge_referrer(resp: Exchange) -> HeaderTest:
    value = resp.header("referrer-policy")
    if not value:
        return HeaderTest("referrer-policy", "referrer-policy-not-implemented")
    # the last recognized token wins (a fallback list, Referrer Policy §11.1)
    tokens = [t.strip().lower() for t in value.split(",") if t.strip().lower() in KNOWN_REFERRER]
    if not tokens:
        return HeaderTest("referrer-policy", "referrer-policy-header-invalid", value, [f"{value!r} is not a policy"])
    if tokens[-1] in UNSAFE_REFERRER:
        return HeaderTest("referrer-policy", "referrer-policy-unsafe", value,
                          [f"{tokens[-1]} sends full URLs (paths, query strings) to other sites"])
    return HeaderTest("referrer-policy", "referrer-policy-private", value)


def is_anticsrf(name: str, csrf_cookie: str) -> bool:
    low = name.lower()
    return low == csrf_cookie.lower() or "csrf" in low or "xsrf" in low


def is_session_cookie(c: SetCookie, csrf_cookie: str, session_key: str | None, all_names: set[str]) -> bool:
    """Egg's session cookie (EGG_SESS, or config.session.key), or a cookie that looks like one."""
    if is_anticsrf(c.name, csrf_cookie) or c.name.endswith(".sig"):
        return False
    if session_key and c.name == session_key:
        return True
    low = c.name.lower()
    return (low in ("egg_sess", "sessionid", "sid", "connect.sid", "koa.sess", "koa:sess")
            or "sess" in low or f"{c.name}.sig" in all_names)


def observed_cookies(result: ProbeResult) -> list[SetCookie]:
    """Each cookie name once (its first non-deleting line), from every answered response."""
    seen: dict[str, SetCookie] = {}
    for e in result.answered():
        for c in cookies_of(e.header_values("set-cookie")):
            if not c.deletes and c.name not in seen:
                seen[c.name] = c
    return list(seen.values())


def session_key(result: ProbeResult) -> str | None:
    key = result.config_value("session.key")
    return key if isinstance(key, str) else None


def judge_cookies(result: ProbeResult, hsts: bool) -> HeaderTest:
    cookies = observed_cookies(result)
    if not cookies:
        return HeaderTest("cookies", "cookies-not-found")
    names = {c.name for c in cookies}
    csrf_name = result.csrf.cookie_name
    skey = session_key(result)
    worst: list[tuple[int, str, str]] = []  # (modifier, result, problem)
    specs = rubric()["tests"]["cookies"]["results"]

    def bad(key: str, problem: str) -> None:
        worst.append((specs[key]["modifier"], key, problem))

    for c in cookies:
        if c.name.endswith(".sig"):
            continue
        session = is_session_cookie(c, csrf_name, skey, names)
        if c.same_site and c.same_site not in ("strict", "lax", "none"):
            bad("cookies-samesite-flag-invalid", f"{c.name}: SameSite={c.same_site}")
        if is_anticsrf(c.name, csrf_name) and not c.same_site:
            bad("cookies-anticsrf-without-samesite-flag", f"{c.name}: anti-CSRF cookie without SameSite")
        if session and not c.http_only:
            bad("cookies-session-without-httponly-flag", f"{c.name}: session cookie without HttpOnly")
        if result.https and not c.secure:
            if session:
                key = "cookies-session-without-secure-flag-but-protected-by-hsts" if hsts else "cookies-session-without-secure-flag"
            else:
                key = "cookies-without-secure-flag-but-protected-by-hsts" if hsts else "cookies-without-secure-flag"
            bad(key, f"{c.name}: no Secure flag")
    flags = "; ".join(f"{c.name}: {c.flags()}" for c in cookies)
    if worst:
        worst.sort()
        t = HeaderTest("cookies", worst[0][1], _short(flags))
        t.problems = [p for _, _, p in worst]
        return t
    if not result.https:
        return HeaderTest("cookies", "cookies-secure-not-applicable-http", _short(flags))
    if all(c.same_site for c in cookies if not c.name.endswith(".sig")):
        return HeaderTest("cookies", "cookies-secure-with-httponly-sessions-and-samesite", _short(flags))
    return HeaderTest("cookies", "cookies-secure-with-httponly-sessions", _short(flags))


@dataclass
class CorsVerdict:
    evil_reflected: bool = False
    null_allowed: bool = False
    wildcard: bool = False
    credentials: bool = False
    preflight_reflected: bool = False
    preflight_methods: str | None = None
    preflight_headers: str | None = None
    evidence: list[str] = field(default_factory=list)


def cors_facts(result: ProbeResult) -> CorsVerdict:
    v = CorsVerdict()
    for case in (CORS_EVIL, CORS_NULL, CORS_PREFLIGHT):
        for e in result.cases(case):
            acao = (e.header("access-control-allow-origin") or "").strip()
            acac = (e.header("access-control-allow-credentials") or "").strip().lower() == "true"
            sent = e.request_headers.get("Origin", "")
            if not acao:
                continue
            v.evidence.append(f"Origin: {sent} -> Access-Control-Allow-Origin: {acao}"
                              + ("; Access-Control-Allow-Credentials: true" if acac else ""))
            v.credentials = v.credentials or acac
            if acao == "*":
                v.wildcard = True
            elif case == CORS_NULL and acao.lower() == "null":
                v.null_allowed = True
            elif acao == sent and case in (CORS_EVIL, CORS_PREFLIGHT):
                if case == CORS_PREFLIGHT:
                    v.preflight_reflected = True
                    v.preflight_methods = e.header("access-control-allow-methods")
                    v.preflight_headers = e.header("access-control-allow-headers")
                else:
                    v.evil_reflected = True
    return v


def judge_cors(result: ProbeResult) -> HeaderTest:
    v = cors_facts(result)
    value = "; ".join(v.evidence) or None
    if (v.evil_reflected or v.null_allowed or v.preflight_reflected) and v.credentials:
        return HeaderTest("cross-origin-resource-sharing", "cross-origin-resource-sharing-implemented-with-universal-access",
                          _short(value), ["a foreign Origin is allowed together with credentials"])
    if v.wildcard and v.credentials:
        return HeaderTest("cross-origin-resource-sharing", "cross-origin-resource-sharing-implemented-with-universal-access",
                          _short(value), ["Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true"])
    if v.wildcard or v.evil_reflected or v.null_allowed or v.preflight_reflected:
        return HeaderTest("cross-origin-resource-sharing", "cross-origin-resource-sharing-implemented-with-public-access",
                          _short(value))
    if value:
        return HeaderTest("cross-origin-resource-sharing", "cross-origin-resource-sharing-implemented-with-restricted-access",
                          _short(value))
    return HeaderTest("cross-origin-resource-sharing", "cross-origin-resource-sharing-not-implemented")


def judge_corp(resp: Exchange) -> HeaderTest:
    value = resp.header("cross-origin-resource-policy")
    if not value:
        return HeaderTest("cross-origin-resource-policy", "cross-origin-resource-policy-not-implemented")
    key = {"same-origin": "cross-origin-resource-policy-implemented-with-same-origin",
           "same-site": "cross-origin-resource-policy-implemented-with-same-site",
           "cross-origin": "cross-origin-resource-policy-implemented-with-cross-origin"}.get(value.strip().lower())
    return HeaderTest("cross-origin-resource-policy", key or "cross-origin-resource-policy-header-invalid", value)


def rendered_by_app(e: Exchange) -> bool:
    """False for answers the app never saw: Node's own 400 for a request it cannot parse (TRACK)
    has no body and no Content-Type."""
    return bool(e.body) or e.has_header("content-type")


def missing_protective(resp: Exchange, page: Exchange) -> list[str]:
    """Protective headers the page carries that this error response lacks."""
    return [h for h in PROTECTIVE if page.has_header(h) and not resp.has_header(h)]


def judge_error_responses(result: ProbeResult, page: Exchange) -> HeaderTest:
    errors = [e for e in result.error_responses() if e is not page and rendered_by_app(e)]
    if not errors:
        return HeaderTest("error-responses", "error-responses-not-seen")
    dropped = []
    for e in errors:
        lost = missing_protective(e, page)
        if lost:
            dropped.append(f"{e.status} {e.method} {e.target} lacks {', '.join(lost)}")
    if dropped:
        return HeaderTest("error-responses", "error-responses-drop-headers", None, dropped)
    return HeaderTest("error-responses", "error-responses-keep-headers",
                      ", ".join(sorted({str(e.status) for e in errors})))


def judge_permissions(resp: Exchange) -> HeaderTest:
    value = resp.header("permissions-policy")
    return HeaderTest("permissions-policy", "permissions-policy-implemented" if value else "permissions-policy-not-implemented",
                      _short(value))


def judge_coop(resp: Exchange) -> HeaderTest:
    value = resp.header("cross-origin-opener-policy")
    return HeaderTest("cross-origin-opener-policy",
                      "cross-origin-opener-policy-implemented" if value else "cross-origin-opener-policy-not-implemented",
                      _short(value))


def disclosure(result: ProbeResult) -> dict[str, str]:
    """Product/version/timing headers seen on any response: {header: first value}."""
    found: dict[str, str] = {}
    for e in result.answered():
        for name in ("server", "x-powered-by", "x-readtime", "x-aspnet-version", "x-runtime"):
            value = e.header(name)
            if value and name not in found:
                if name == "server" and not _VERSION.search(value) and value.lower() not in ("egg", "koa"):
                    continue  # "Server: nginx" says little; a version says which CVEs apply
                found[name] = value
    return found


def judge_disclosure(result: ProbeResult) -> HeaderTest:
    found = disclosure(result)
    if not found:
        return HeaderTest("disclosure", "disclosure-none")
    return HeaderTest("disclosure", "disclosure-present", "; ".join(f"{k}: {v}" for k, v in found.items()),
                      [f"{k}: {v}" for k, v in found.items()])


# -- all together -------------------------------------------------------------------------------


def header_tests(result: ProbeResult) -> list[HeaderTest]:
    page = result.root
    if page is None:
        return []
    https = result.https
    hsts = judge_hsts(page, https)
    has_hsts = https and hsts.result.startswith("hsts-implemented")
    return [judge_csp(page, https), hsts, judge_xfo(page), judge_nosniff(page), judge_referrer(page),
            judge_cookies(result, has_hsts), judge_cors(result), judge_corp(page),
            judge_error_responses(result, page), judge_permissions(page), judge_coop(page), judge_disclosure(result)]


def grade(result: ProbeResult, tests: list[HeaderTest] | None = None) -> Grade | None:
    tests = header_tests(result) if tests is None else tests
    if not tests:
        return None
    r = rubric()
    penalties = sum(t.modifier for t in tests if t.modifier < 0)
    bonuses = sum(t.modifier for t in tests if t.modifier > 0)
    score = r["baseline"] + penalties
    if score >= r["extra_credit_minimum"]:
        score += bonuses
    score = max(score, 0)
    letter = next(g["grade"] for g in r["grades"] if score >= g["min"])
    page = result.root
    return Grade(score=score, grade=letter, tests=tests, graded_url=page.url if page else None)
