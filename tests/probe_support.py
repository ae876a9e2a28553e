"""Probe a fixture app on a real Egg server, or replay the recorded probe when Egg cannot run.

Live is the rule: each probe test module starts its fixture app once (tests/eggrt/server.py) and
probes it with the same options the CLI uses. Without a registry and without a cached runtime the
recorded exchanges (`tests/fixtures/probe/<app>/probe-recording.json.gz`, written by a live run
with EGGSHIELD_TEST_RECORD=1) stand in, so the suite passes offline; REPORT says which was used.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path

import eggrt
from eggrt.server import EggServer
from eggshield.checks.probe_context import run_probe_checks
from eggshield.eggconfig import resolve
from eggshield.probe import ProbeOptions, run_probe
from eggshield.probe.client import Exchange
from eggshield.probe.model import CsrfCase, ProbeResult, Route
from eggshield.probe.routes import discover_routes
from eggshield.project.discover import discover

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "probe"


@dataclass
class Probed:
    name: str
    result: ProbeResult
    findings: list
    grade: object
    live: bool
    server: EggServer | None = None

    def rule(self, rule_id: str) -> list:
        return [f for f in self.findings if f.rule_id == rule_id]

    def ids(self) -> set[str]:
        return {f.rule_id for f in self.findings}

    def case(self, name: str, path: str | None = None) -> CsrfCase:
        for c in self.result.csrf.cases:
            if c.name == name and (path is None or c.path == path):
                return c
        raise KeyError((name, path))


def options(name: str, url: str, allow_unsafe: bool = True) -> ProbeOptions:
    project = discover(FIXTURES / name).projects[0]
    config = resolve(project, env="prod")
    routes, _notes, problems = discover_routes(project)
    assert not problems, problems
    return ProbeOptions(url=url, budget=150, rate=200.0, timeout=10.0, allow_unsafe=allow_unsafe,
                        router_routes=routes, config=config, project_label=name)


def recording_path(name: str) -> Path:
    return FIXTURES / name / "probe-recording.json.gz"


def _exchange_doc(e: Exchange) -> dict:
    return {"case": e.case, "method": e.method, "target": e.target, "url": e.url, "request_headers": e.request_headers,
            "status": e.status, "reason": e.reason, "headers": e.headers, "body": base64.b64encode(e.body).decode(),
            "truncated": e.truncated, "error": e.error}


def write_recording(name: str, result: ProbeResult) -> None:
    index = {id(e): i for i, e in enumerate(result.exchanges)}
    doc = {
        "url": result.url, "exchanges": [_exchange_doc(e) for e in result.exchanges],
        "csrf": {"secret_seen": result.csrf.secret_seen, "signed": result.csrf.signed, "ran": result.csrf.ran,
                 "why_not": result.csrf.why_not,
                 "routes": [[r.method, r.path, r.source, r.file, r.line] for r in result.csrf.routes],
                 "cases": [{**{k: v for k, v in c.__dict__.items() if k != "exchange"},
                            "exchange": index.get(id(c.exchange))} for c in result.csrf.cases]},
        "skipped": result.skipped, "notes": result.notes, "seconds": result.seconds,
    }
    recording_path(name).write_bytes(gzip.compress(json.dumps(doc).encode(), mtime=0))


def read_recording(name: str, opts: ProbeOptions) -> ProbeResult:
    doc = json.loads(gzip.decompress(recording_path(name).read_bytes()))
    from eggshield.probe.runner import _Run

    result = _Run(ProbeOptions(**{**opts.__dict__, "url": doc["url"]}), None).result
    exchanges = []
    for d in doc["exchanges"]:
        exchanges.append(Exchange(case=d["case"], method=d["method"], target=d["target"], url=d["url"],
                                  request_headers=d["request_headers"], status=d["status"], reason=d["reason"],
                                  headers=[tuple(h) for h in d["headers"]], body=base64.b64decode(d["body"]),
                                  truncated=d["truncated"], error=d["error"]))
    result.exchanges[:] = exchanges
    c = doc["csrf"]
    result.csrf.secret_seen, result.csrf.signed, result.csrf.ran, result.csrf.why_not = (
        c["secret_seen"], c["signed"], c["ran"], c["why_not"])
    result.csrf.routes = [Route(*r) for r in c["routes"]]
    for case in c["cases"]:
        ex = case.pop("exchange")
        result.csrf.cases.append(CsrfCase(**case, exchange=exchanges[ex] if ex is not None else None))
    result.skipped = [tuple(s) for s in doc["skipped"]]
    result.notes = doc["notes"]
    result.seconds = doc["seconds"]
    return result


def probe_fixture(name: str, allow_unsafe: bool = True) -> Probed:
    """Start `name` on real Egg and probe it (the server keeps running for the module; stop it
    with `.server.stop()`), or replay its recording when Egg cannot be installed here."""
    server = EggServer(FIXTURES / name)
    try:
        server.start()
    except eggrt.RuntimeUnavailable as exc:
        if not exc.offline or not recording_path(name).is_file():
            raise
        result = read_recording(name, options(name, "http://127.0.0.1:7001", allow_unsafe))
        findings, problems, grade = run_probe_checks(result)
        assert not problems, problems
        eggrt.report(f"probe {name}: Egg not installable ({str(exc).splitlines()[0]}); replayed the recording")
        return Probed(name, result, findings, grade, live=False)
    result = run_probe(options(name, server.url, allow_unsafe))
    if os.environ.get("EGGSHIELD_TEST_RECORD"):
        write_recording(name, result)
    findings, problems, grade = run_probe_checks(result)
    assert not problems, problems
    eggrt.report(f"probe {name}: live egg {server.major} ({server.egg_env}), {result.requests_sent} requests "
                 f"in {result.seconds:.2f} s")
    return Probed(name, result, findings, grade, live=True, server=server)
