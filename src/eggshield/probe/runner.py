"""The probe plan: which requests, in which order, within the budget.

Cheap, safe and most telling first (the page, an unknown path, CORS, the app's GET routes),
then — only with --allow-unsafe-methods — TRACE/TRACK, malformed and oversized bodies, and the
CSRF matrix. When the budget runs out the remaining cases are listed as skipped, never sent.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from eggshield.probe import model as m
from eggshield.probe.client import BudgetExhausted, Exchange, PoliteClient, ProbeError, UnsafeMethodRefused
from eggshield.probe.cookies import CookieJar
from eggshield.probe.csrf import EVIL, choose_routes, run_matrix
from eggshield.probe.model import ProbeResult, Route

if TYPE_CHECKING:
    from eggshield.eggconfig.model import ResolvedConfig

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8"
MAX_REDIRECTS = 3
#: Seconds the oversized-body request may wait: a server that reads the body instead of refusing
#: from Content-Length shows it by not answering; no need to wait the full --timeout for that.
OVERSIZE_WAIT = 3.0
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$", re.I)


@dataclass
class ProbeOptions:
    url: str
    budget: int = 150
    rate: float = 10.0
    timeout: float = 10.0
    allow_unsafe: bool = False
    user_routes: list[Route] = field(default_factory=list)
    router_routes: list[Route] = field(default_factory=list)
    config: ResolvedConfig | None = None
    project_label: str | None = None
    max_routes: int = 10  # GET routes requested as they are
    max_param_routes: int = 5  # GET routes with params, requested with a wrong-typed value


def _size_bytes(value) -> int | None:
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        match = _SIZE.match(value)
        if match:
            n = float(match.group(1))
            unit = (match.group(2) or "b").lower()
            return int(n * {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}[unit])
    return None


class _Run:
    def __init__(self, opts: ProbeOptions, on_request: Callable[[Exchange], None] | None):
        self.opts = opts
        self.client = PoliteClient(opts.url, budget=opts.budget, rate=opts.rate, timeout=opts.timeout,
                                   allow_unsafe=opts.allow_unsafe, on_request=on_request)
        c = self.client
        self.result = ProbeResult(url=opts.url, origin=c.origin, scheme=c.scheme, host=c.host, budget=opts.budget,
                                  rate=opts.rate, timeout=opts.timeout, allow_unsafe=opts.allow_unsafe,
                                  exchanges=c.exchanges, routes=[*opts.user_routes, *opts.router_routes],
                                  config=opts.config, project_label=opts.project_label)
        self._csrf_names()
        self.nonce = secrets.token_hex(4)
        self.missing_path = f"/eggshield-probe-{self.nonce}"
        self.jar_a = CookieJar()
        self.jar_b = CookieJar()

    def _csrf_names(self) -> None:
        facts = self.result.csrf
        name = self.result.config_value("security.csrf.cookieName")
        if isinstance(name, list) and name:
            name = name[0]
        if isinstance(name, str) and name:
            facts.cookie_name = name
        for attr, key in (("header_name", "headerName"), ("body_name", "bodyName")):
            value = self.result.config_value(f"security.csrf.{key}")
            if isinstance(value, str) and value:
                setattr(facts, attr, value)

    # -- helpers ---------------------------------------------------------------------------------

    def send(self, case: str, method: str, target: str, **kw) -> Exchange | None:
        """One request; None (and a skip line) when the method is not allowed."""
        try:
            return self.client.request(method, target, case=case, **kw)
        except UnsafeMethodRefused:
            self.result.skipped.append((case, f"{method} needs --allow-unsafe-methods"))
            return None

    def section(self, name: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except BudgetExhausted:
            self.result.skipped.append((name, f"request budget of {self.opts.budget} spent"))

    # -- sections --------------------------------------------------------------------------------

    def root(self) -> None:
        target = self.client.start_path
        for _hop in range(MAX_REDIRECTS + 1):
            ex = self.client.request("GET", target, case=m.ROOT, headers={"Accept": BROWSER_ACCEPT})
            if not ex.ok:
                raise ProbeError(f"cannot reach {self.opts.url}: {ex.error}")
            self.jar_a.update(ex.header_values("set-cookie"))
            location = ex.header("location")
            if not (300 <= (ex.status or 0) < 400 and location):
                return
            if not self.client.same_origin(location):
                self.result.notes.append(f"{ex.target} redirects to another origin ({location[:200]}); not followed: "
                                         "the probe only talks to the origin it was given")
                return
            target = self.client.target_of(location)
        self.result.notes.append(f"more than {MAX_REDIRECTS} redirects from {self.client.start_path}; graded the last one")

    def not_found(self) -> None:
        ex = self.send(m.NOT_FOUND, "GET", self.missing_path, headers={"Accept": BROWSER_ACCEPT})
        if ex is not None:
            self.jar_b.update(ex.header_values("set-cookie"))
        self.send(m.NOT_FOUND_JSON, "GET", self.missing_path + ".json", headers={"Accept": "application/json"})

    def traversal(self) -> None:
        self.send(m.TRAVERSAL, "GET", "/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd", headers={"Accept": BROWSER_ACCEPT})

    def loader_trace(self) -> None:
        # egg-development serves this page in env local only: a definite sign of a dev server
        self.send(m.LOADER_TRACE, "GET", "/__loader_trace__", headers={"Accept": BROWSER_ACCEPT})

    def cors(self) -> None:
        path = self.client.start_path
        self.send(m.CORS_EVIL, "GET", path, headers={"Origin": EVIL})
        self.send(m.CORS_NULL, "GET", path, headers={"Origin": "null"})
        unsafe = next((r for r in self.opts.router_routes if r.method in ("POST", "PUT", "PATCH", "DELETE")), None)
        target = unsafe.concrete("1") if unsafe else path
        self.send(m.CORS_PREFLIGHT, "OPTIONS", target,
                  headers={"Origin": EVIL, "Access-Control-Request-Method": "PUT",
                           "Access-Control-Request-Headers": "content-type,x-csrf-token"})

    def options(self) -> None:
        self.send(m.OPTIONS, "OPTIONS", self.client.start_path)

    def get_routes(self) -> list[Route]:
        out: list[Route] = []
        seen = {self.client.start_path}
        for r in self.result.routes:
            if r.method not in ("GET", "ALL", "ANY"):
                continue
            path = r.concrete("1")
            if path not in seen:
                seen.add(path)
                out.append(r)
        return out

    def routes(self) -> None:
        for r in self.get_routes()[: self.opts.max_routes]:
            ex = self.send(m.ROUTE, "GET", r.concrete("1"), headers={"Accept": BROWSER_ACCEPT})
            if ex is not None and ex.ok:
                self.jar_a.update(ex.header_values("set-cookie"))

    def wrong_types(self) -> None:
        with_params = [r for r in self.get_routes() if r.has_params][: self.opts.max_param_routes]
        for i, r in enumerate(with_params):
            # a quote and a double quote where an id is expected: what hand-built SQL chokes on
            target = r.concrete("1%27%22")
            self.send(m.ROUTE_WRONG_TYPE, "GET", target, headers={"Accept": "application/json"})
            if i == 0:
                self.send(m.ROUTE_WRONG_TYPE, "GET", target, headers={"Accept": BROWSER_ACCEPT})

    def methods(self) -> None:
        self.send(m.TRACE, "TRACE", self.client.start_path, headers={"Cookie": "eggshield-trace=1"})
        self.send(m.TRACK, "TRACK", self.client.start_path)

    def bodies(self) -> None:
        self.send(m.BAD_JSON, "POST", self.missing_path, body=b'{"eggshield":',
                  headers={"Content-Type": "application/json", "Accept": "application/json"})
        self.send(m.BAD_JSON_HTML, "POST", self.missing_path, body=b'{"eggshield":',
                  headers={"Content-Type": "application/json", "Accept": BROWSER_ACCEPT})
        limit = _size_bytes(self.result.config_value("bodyParser.jsonLimit")) or 1024 * 1024
        declared = limit * 2 + 1024
        saved = self.client.timeout
        self.client.timeout = min(saved, OVERSIZE_WAIT)
        try:
            self.send(m.OVERSIZED, "POST", self.missing_path, body=b'{"eggshield":"', declared_length=declared,
                      headers={"Content-Type": "application/json", "Accept": "application/json"})
        finally:
            self.client.timeout = saved

    def csrf(self) -> None:
        if not self.opts.allow_unsafe:
            self.result.csrf.why_not = "the CSRF matrix sends POST/PUT/PATCH/DELETE: run with --allow-unsafe-methods"
            self.result.skipped.append((m.CSRF, "needs --allow-unsafe-methods"))
            return
        if not self.jar_b.values:
            # a second, cookie-less session for the "token of another session" case
            ex = self.send(m.CSRF_SEED, "GET", self.client.start_path, headers={"Accept": BROWSER_ACCEPT})
            if ex is not None and ex.ok:
                self.jar_b.update(ex.header_values("set-cookie"))
        routes = choose_routes(self.opts.user_routes, self.opts.router_routes, self.missing_path)
        run_matrix(self.client, self.result, self.jar_a, self.jar_b, routes, self.missing_path)

    # -- all --------------------------------------------------------------------------------------

    def run(self) -> ProbeResult:
        t0 = time.monotonic()
        try:
            self.root()  # ProbeError when the server does not answer: nothing else is sent
            for name, fn in (("not-found", self.not_found), ("path-traversal", self.traversal),
                             ("loader-trace", self.loader_trace), ("cors", self.cors), ("options", self.options),
                             ("routes", self.routes), ("wrong-types", self.wrong_types)):
                self.section(name, fn)
            if self.opts.allow_unsafe:
                for name, fn in (("methods", self.methods), ("bodies", self.bodies)):
                    self.section(name, fn)
            else:
                self.result.skipped.append(("methods", "TRACE/TRACK need --allow-unsafe-methods"))
                self.result.skipped.append(("bodies", "malformed and oversized bodies are POSTs: --allow-unsafe-methods"))
            self.section("csrf", self.csrf)
        finally:
            self.client.close()
            self.result.seconds = time.monotonic() - t0
        failed = [e for e in self.result.exchanges if not e.ok]
        if failed:
            self.result.notes.append(f"{len(failed)} request(s) got no answer: "
                                     + "; ".join(f"{e.method} {e.target}: {e.error}" for e in failed[:3]))
        return self.result


def run_probe(opts: ProbeOptions, on_request: Callable[[Exchange], None] | None = None) -> ProbeResult:
    """Probe `opts.url`. Raises ProbeError (one line) when the URL is unusable or the server down."""
    return _Run(opts, on_request).run()


def planned_requests(opts: ProbeOptions) -> int:
    """An upper bound of the requests the plan sends (for the progress bar), capped by the budget."""
    gets = sum(1 for r in [*opts.user_routes, *opts.router_routes] if r.method in ("GET", "ALL", "ANY"))
    params = sum(1 for r in [*opts.user_routes, *opts.router_routes] if r.method in ("GET", "ALL", "ANY") and r.has_params)
    n = 1 + 2 + 1 + 1 + 3 + 1 + min(gets, opts.max_routes) + min(params, opts.max_param_routes) + (1 if params else 0)
    if opts.allow_unsafe:
        n += 2 + 3 + 1 + 1 + 8 * 3
    return min(n, opts.budget)
