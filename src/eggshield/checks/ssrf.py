"""Server-side request forgery: outbound requests to user-given URLs, and `security.ssrf`.

Egg's HTTP client (`ctx.curl`, `app.curl`, `ctx.httpclient.request`) goes wherever it is told.
egg-security's `ctx.safeCurl` checks the resolved address with `security.ssrf.checkAddress`
(built from `ipBlackList`), but with no `security.ssrf` config it only logs a warning and behaves
like `curl` (egg-facts §5): there is no SSRF protection by default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from eggshield.checks._code_flow import Flow
from eggshield.checks._code_query import calls_by_property, chain, enclosing_function, loc_of, snippet
from eggshield.checks.context import CheckContext
from eggshield.checks.registry import rule
from eggshield.js.parse import text
from eggshield.js.values import JSFunction, Unknown

CURL_RECEIVERS = frozenset({"ctx", "context", "app", "agent", "this", "httpclient", "httpClient", "urllib"})

FIX = """Configure egg-security's SSRF filter and send user-given URLs through `safeCurl` only:

```js
// config/config.default.js
config.security = {
  ssrf: {
    ipBlackList: [
      '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8',
      '169.254.0.0/16', '0.0.0.0/32', '100.64.0.0/10',
    ],
  },
};
```
```js
// controller / service
const res = await ctx.safeCurl(url, { timeout: 5000 });
```
Better still, accept an id and build the URL from a fixed host."""


def _protection(ctx: CheckContext):
    """True (ipBlackList or checkAddress set), False, or an Unknown."""
    ssrf = ctx.config.get("security.ssrf")
    if isinstance(ssrf, Unknown):
        return ssrf
    if not isinstance(ssrf, dict):
        return False
    black, check = ssrf.get("ipBlackList"), ssrf.get("checkAddress")
    for value in (black, check):
        if isinstance(value, Unknown):
            return value
    return bool(isinstance(black, list) and black) or isinstance(check, JSFunction)


def _is_client_call(hit) -> bool:
    receiver = hit.receiver
    if receiver is None:
        return False
    root, props = chain(receiver)
    names = [text(root)] + props if root.type in ("identifier", "this") else props
    last = names[-1] if names else ""
    if hit.name in ("curl", "safeCurl"):
        return last in CURL_RECEIVERS or last in ("ctx", "app")
    return hit.name == "request" and last in ("httpclient", "httpClient", "urllib", "httpclient2")


def client_calls(ctx: CheckContext):
    for hit in calls_by_property(ctx.sources, "curl", "safeCurl", "request"):
        if hit.args and _is_client_call(hit):
            yield hit


def _camel(name: str) -> str:
    """egg-core's default `caseStyle: 'camel'` for file and dir names: `hacker_news` -> `hackerNews`."""
    parts = re.split(r"[_-]+", name)
    head = parts[0][:1].lower() + parts[0][1:]
    return head + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def _service_key(ctx: CheckContext, path) -> tuple[str, ...] | None:
    """`app/service/foo/bar_baz.js` -> ('foo', 'barBaz'): how it is reached as `ctx.service.foo.barBaz`."""
    base = (ctx.project.source_dir or ctx.project.root) / "app" / "service"
    try:
        rel = path.resolve().relative_to(base.resolve())
    except ValueError:
        return None
    return tuple(_camel(p) for p in (*rel.parts[:-1], rel.stem))


@dataclass(frozen=True)
class _ServiceSink:
    hit: object  # the client call inside the service method
    method: str
    index: int  # which parameter decides the start of the URL
    param: str


def _service_sinks(ctx: CheckContext) -> dict[tuple[tuple[str, ...], str], list[_ServiceSink]]:
    """Service methods that send a request to a URL starting with one of their parameters."""
    out: dict[tuple[tuple[str, ...], str], list[_ServiceSink]] = {}
    services = set(ctx.project.service_files)
    for hit in client_calls(ctx):
        if hit.path not in services:
            continue
        fn = enclosing_function(hit.node)
        if fn is None or fn.type != "method_definition":
            continue
        key = _service_key(ctx, hit.path)
        lead = Flow(fn, params_as_input=True).leading(hit.args[0])
        if key is None or lead is None or lead.kind != "param" or lead.index is None:
            continue
        method = text(fn.child_by_field_name("name"))
        out.setdefault((key, method), []).append(_ServiceSink(hit, method, lead.index, lead.expr))
    return out


def _service_calls(ctx: CheckContext, sinks):
    """(sink, caller hit, input) for `ctx.service.<path>.<method>(args)` calls that pass request input
    into the parameter that decides a service's request URL."""
    if not sinks:
        return
    names = {method for (_, method) in sinks}
    for hit in calls_by_property(ctx.sources, *names):
        root, props = chain(hit.node.child_by_field_name("function"))
        names_path = ([text(root)] if root.type == "identifier" else []) + props
        if "service" not in names_path:
            continue
        path = tuple(names_path[names_path.index("service") + 1:-1])
        for sink in sinks.get((path, hit.name), ()):
            if sink.index >= len(hit.args):
                continue
            lead = Flow(enclosing_function(hit.node)).leading(hit.args[sink.index])
            if lead is not None:
                yield sink, hit, lead


@rule(id="EGG-CFG-033", title="SSRF: outbound request to a URL from the request without SSRF protection",
      strategy=4, severity="high", cwe=918,
      references=("https://www.eggjs.org/core/security#ssrf",
                  "https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html",
                  "https://cwe.mitre.org/data/definitions/918.html"))
def ssrf(ctx: CheckContext):
    """## What
    Fires on `ctx.curl` / `app.curl` / `ctx.httpclient.request` / `urllib.request` /
    `ctx.safeCurl` calls whose URL *starts* with request input (`ctx.query.url`, a body field, a
    decorated `@HTTPQuery()` parameter, a local variable holding one):

    * `safeCurl` while `security.ssrf` has neither `ipBlackList` nor `checkAddress`: it then falls
      back to plain `curl` (high);
    * `curl`/`httpclient.request`: never filtered, whatever `security.ssrf` says (high; the fix
      is `safeCurl` plus `security.ssrf`).

    Also reported at low: `safeCurl` used anywhere while `security.ssrf` is unset (the app expects
    a protection it does not get). URLs with a fixed scheme and host (`` `${api}/users/${id}` ``)
    are not reported; a URL the function appears to check first is low confidence.

    ## Why it matters
    The server fetches whatever the client names: cloud metadata (`169.254.169.254`), admin
    ports on localhost, internal services behind the firewall, `file:`-like schemes of other
    clients (CWE-918). Seed strategy 4: `security.ssrf` is the built-in protection and is empty
    by default.

    ## How to fix
    {fix}

    ## Not reported
    `safeCurl` with `security.ssrf.ipBlackList` or `checkAddress` configured; URLs whose start is
    fixed. Request input is followed within a function and, one level deep, into service methods
    called as `ctx.service.<name>.<method>(...)`; other helpers and tegg-injected services are not
    followed.
    """
    protected = _protection(ctx)
    reported_safe = False
    safe_calls = []
    for hit in client_calls(ctx):
        if hit.name == "safeCurl":
            safe_calls.append(hit)
        fn = enclosing_function(hit.node)
        flow = Flow(fn)
        lead = flow.leading(hit.args[0])
        if lead is None:
            continue
        where = loc_of(ctx.project, hit.path, hit.node)
        if hit.name == "safeCurl":
            if protected is True:
                continue
            if isinstance(protected, Unknown):
                yield ctx.finding("EGG-CFG-033", key="security.ssrf", loc=where, severity="low", confidence="low",
                                  message=f"Needs review: `safeCurl` fetches {lead.expr} from the request; whether it "
                                          f"is filtered depends on {protected.reason}.",
                                  evidence=snippet(hit.node), fix=FIX)
                continue
            why = "`security.ssrf` has no ipBlackList/checkAddress, so `safeCurl` behaves like plain `curl`"
            reported_safe = True
        else:
            why = ("the ssrf filter only applies to `safeCurl`" if protected is True else
                   "and nothing filters the address (`curl` never checks; `security.ssrf` is not configured either)")
        guard = flow.guard(hit.args[0])
        severity, confidence = ("medium", "medium") if lead.is_header else ("high", "medium")
        note = ""
        if guard:
            severity, confidence = "low", "low"
            note = f" The function checks `{guard}` first: review whether that pins the host."
        yield ctx.finding(
            "EGG-CFG-033", key="security.ssrf", loc=where, severity=severity, confidence=confidence,
            message=f"`{snippet(hit.node, 70)}` requests a URL that starts with {lead.expr} from the request, "
                    f"{why}: server-side request forgery.{note}",
            evidence=snippet(hit.node), fix=FIX)
    for sink, caller, lead in _service_calls(ctx, _service_sinks(ctx)):
        if sink.hit.name == "safeCurl" and protected is True:
            continue
        if sink.hit.name == "safeCurl" and isinstance(protected, Unknown):
            continue
        reported_safe = reported_safe or sink.hit.name == "safeCurl"
        called_at = loc_of(ctx.project, caller.path, caller.node)
        yield ctx.finding(
            "EGG-CFG-033", key="security.ssrf", loc=loc_of(ctx.project, sink.hit.path, sink.hit.node),
            severity="medium" if lead.is_header else "high", confidence="medium",
            message=f"`{snippet(sink.hit.node, 60)}` requests a URL that starts with its parameter `{sink.param}`, "
                    f"and {called_at} passes {lead.expr} from the request into it; "
                    + ("the ssrf filter only applies to `safeCurl`" if protected is True else
                       "nothing filters the address") + ": server-side request forgery.",
            evidence=f"{snippet(caller.node)} -> {snippet(sink.hit.node)}", fix=FIX)
    if safe_calls and protected is False and not reported_safe:
        first = safe_calls[0]
        yield ctx.finding(
            "EGG-CFG-033", key="security.ssrf", loc=loc_of(ctx.project, first.path, first.node), severity="low",
            confidence="medium",
            message=f"`ctx.safeCurl` is used ({len(safe_calls)} call{'s' if len(safe_calls) > 1 else ''}) but "
                    f"`security.ssrf` is not configured in env '{ctx.env}': safeCurl only logs a warning and "
                    "fetches any address.",
            evidence=snippet(first.node), fix=FIX)


ssrf.__doc__ = ssrf.__doc__.replace("{fix}", FIX.replace("\n", "\n    "))
