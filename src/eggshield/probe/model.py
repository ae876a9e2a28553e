"""What a probe observed: the model the probe checks judge (they never send requests)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from eggshield.probe.client import Exchange

if TYPE_CHECKING:
    from eggshield.eggconfig.model import ResolvedConfig

#: Case ids (Exchange.case). Checks look exchanges up by these names.
ROOT = "root"
NOT_FOUND = "not-found"
NOT_FOUND_JSON = "not-found-json"
TRAVERSAL = "path-traversal"
LOADER_TRACE = "loader-trace"
CORS_EVIL = "cors-origin"
CORS_NULL = "cors-null-origin"
CORS_PREFLIGHT = "cors-preflight"
OPTIONS = "options"
ROUTE = "route"
ROUTE_WRONG_TYPE = "route-wrong-type"
TRACE = "trace"
TRACK = "track"
BAD_JSON = "malformed-json"
BAD_JSON_HTML = "malformed-json-html"
OVERSIZED = "oversized-body"
CSRF_SEED = "csrf-seed"
CSRF = "csrf"


@dataclass(frozen=True)
class Route:
    """A route the probe may request: from the app's router, from --route, or a default."""

    method: str  # GET, POST, ..., or ALL
    path: str  # Egg path pattern: /users/:id
    source: str = "router"  # "router" (file:line), "user" (--route), "default"
    file: str | None = None
    line: int | None = None

    @property
    def has_params(self) -> bool:
        return any(seg.startswith(":") or seg == "*" for seg in self.path.split("/"))

    def concrete(self, value: str = "1") -> str:
        """The path with every `:param` (and `*`) replaced by `value` (already URL-safe)."""
        segs = []
        for seg in self.path.split("/"):
            if seg.startswith(":"):
                seg = value + _param_suffix(seg)
            elif seg == "*":
                seg = value
            segs.append(seg)
        return "/".join(segs) or "/"

    def where(self) -> str:
        if self.file:
            return f"{self.file}:{self.line}" if self.line else self.file
        return self.source


def _param_suffix(seg: str) -> str:
    """`:id.json` keeps `.json`; `:id?`/`:id(\\d+)` lose their modifiers."""
    name = seg[1:]
    for i, ch in enumerate(name):
        if not (ch.isalnum() or ch == "_"):
            rest = name[i:]
            return rest if rest.startswith(".") else ""
    return ""


@dataclass
class CsrfCase:
    """One row of the CSRF matrix: an attack request and what the server did with it."""

    name: str  # no-token, wrong-token, ...
    title: str  # what the request is, in words
    method: str
    path: str
    expected: str  # "refused" (403) or "accepted" (the control)
    outcome: str = "not run"  # "refused", "accepted", "inconclusive", "not run"
    status: int | None = None
    message: str = ""  # the error message the server gave, when it said one
    cause: str = ""  # the config that explains an accepted attack, when known
    confidence: str = "high"
    override: str = ""  # the method a POST was overridden to (method-override case)
    exchange: Exchange | None = None

    @property
    def passed_attack(self) -> bool:
        return self.expected == "refused" and self.outcome == "accepted"

    def to_dict(self) -> dict:
        return {"case": self.name, "title": self.title, "method": self.method, "path": self.path,
                "expected": self.expected, "outcome": self.outcome, "status": self.status,
                "message": self.message, "cause": self.cause, "confidence": self.confidence,
                "override": self.override or None}


@dataclass
class CsrfFacts:
    """How the server handles CSRF, as far as the requests showed (and the config says)."""

    cookie_name: str = "csrfToken"
    header_name: str = "x-csrf-token"
    body_name: str = "_csrf"
    secret_seen: bool = False  # a CSRF cookie was issued
    signed: bool = False  # ... with a `.sig` companion
    cases: list[CsrfCase] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    ran: bool = False
    why_not: str = ""  # why the matrix did not run


@dataclass
class ProbeResult:
    url: str
    origin: str
    scheme: str
    host: str
    budget: int
    rate: float
    timeout: float
    allow_unsafe: bool
    exchanges: list[Exchange] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    csrf: CsrfFacts = field(default_factory=CsrfFacts)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (case, why)
    notes: list[str] = field(default_factory=list)
    config: ResolvedConfig | None = None  # from --project: to explain causes, never to guess
    project_label: str | None = None
    seconds: float = 0.0

    # -- lookups the checks use ----------------------------------------------------------------

    @property
    def https(self) -> bool:
        return self.scheme == "https"

    @property
    def loopback(self) -> bool:
        """The target is this machine: a developer's server more often than production."""
        host = self.host.strip("[]").lower()
        if host == "localhost" or host.endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    @property
    def requests_sent(self) -> int:
        return len(self.exchanges)

    def answered(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.ok]

    def cases(self, name: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.case == name and e.ok]

    def first(self, name: str) -> Exchange | None:
        found = self.cases(name)
        return found[0] if found else None

    @property
    def root(self) -> Exchange | None:
        """The response graded as "the page": the last hop of the root case (same-origin redirects followed)."""
        found = self.cases(ROOT)
        return found[-1] if found else None

    def error_responses(self) -> list[Exchange]:
        """Every answered request that came back 4xx/5xx, in order, one per (status, case)."""
        seen: set[tuple[int, str]] = set()
        out = []
        for e in self.answered():
            if e.status is not None and e.status >= 400 and (e.status, e.case) not in seen:
                seen.add((e.status, e.case))
                out.append(e)
        return out

    @property
    def looks_like_egg(self) -> bool:
        """Egg's fingerprints: `x-readtime` (meta middleware), `x-csp-nonce` (egg-security's CSP),
        the CSRF or EGG_SESS cookie, egg-security's CSRF refusal messages, or egg's notfound page."""
        cookie = self.csrf.cookie_name.lower() + "="
        for e in self.answered():
            if e.has_header("x-readtime") or e.has_header("x-csp-nonce"):
                return True
            if any(v.lower().startswith((cookie, "egg_sess=")) for v in e.header_values("set-cookie")):
                return True
            if e.status == 403 and ("missing csrf token" in e.text or "invalid csrf token" in e.text):
                return True
            if e.case == NOT_FOUND and e.status == 404 and e.text.strip() == "<h1>404 Not Found</h1>":
                return True
        return False

    def config_value(self, key: str):
        """The resolved config value (None without --project or when the app does not say)."""
        if self.config is None:
            return None
        from eggshield.eggconfig.model import MISSING

        value = self.config.get(key)
        return None if value is MISSING else value
