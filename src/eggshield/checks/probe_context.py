"""What a probe check gets (the ProbeResult of a live probe) and how probe rules are run.

Probe findings are located by URL (`location = {url}`, DESIGN.md). The config key a finding
names is the one the fix changes; with --project the fix may point at the file:line that set it,
in the message, but the location stays the URL where the behaviour was seen.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field

import eggshield.checks as checks_pkg
from eggshield.checks.registry import REGISTRY, Rule
from eggshield.finding import Finding, InputProblem, Location
from eggshield.probe.headers import Grade, HeaderTest, grade, header_tests
from eggshield.probe.model import ProbeResult


@dataclass
class ProbeContext:
    result: ProbeResult
    tests: list[HeaderTest] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.tests:
            self.tests = header_tests(self.result)

    def test(self, name: str) -> HeaderTest | None:
        return next((t for t in self.tests if t.test == name), None)

    def where(self, key: str) -> str:
        """` (set at config/config.default.js:12)` when --project knows who set `key`."""
        cfg = self.result.config
        if cfg is None:
            return ""
        loc = cfg.loc(key)
        if loc is None or loc.default:
            # an object the app fills in (csp.policy): point at the first value it sets under it
            under = [lc for k, _v, lc in cfg.leaves() if k.startswith(key + ".") and lc is not None and not lc.default]
            loc = min(under, key=lambda lc: (lc.path, lc.line or 0)) if under else None
        if loc is None:
            return ""
        return f" (set at {loc.path}:{loc.line})" if loc.line else f" (set in {loc.path})"

    def finding(self, rule_id: str, *, url: str, message: str, evidence: str = "", fix: str = "",
                key: str | None = None, severity: str | None = None, confidence: str | None = None) -> Finding:
        rule = REGISTRY[rule_id]
        return Finding(rule_id=rule_id, title=rule.title, strategy=rule.strategy, severity=severity or rule.severity,
                       confidence=confidence or rule.confidence, cwe=rule.cwe, location=Location(url=url),
                       message=message, config_key=key, env=None, evidence=evidence, fix=fix,
                       extra={"probe": True})


def probe_rules() -> list[Rule]:
    """The `kind="probe"` rules. They live in `checks/probe_*.py`; only those modules are imported,
    so a probe does not pay for loading every config and code check (half its run time)."""
    for info in pkgutil.iter_modules(checks_pkg.__path__):
        if info.name.startswith("probe_") and info.name != "probe_context":
            importlib.import_module(f"eggshield.checks.{info.name}")
    return sorted((r for r in REGISTRY.values() if r.kind == "probe"), key=lambda r: r.id)


def run_probe_checks(result: ProbeResult, only: set[str] | None = None) -> tuple[list[Finding], list[InputProblem], Grade | None]:
    """Every `kind="probe"` rule over one result; a crashing rule becomes a problem line."""
    ctx = ProbeContext(result)
    findings: list[Finding] = []
    problems: list[InputProblem] = []
    for r in probe_rules():
        if only and r.id not in only:
            continue
        try:
            findings.extend(r.func(ctx))
        except Exception as exc:  # noqa: BLE001 - one broken check must not stop the report
            problems.append(InputProblem(result.url, f"check {r.id} failed: {type(exc).__name__}: {exc}"))
    return findings, problems, grade(result, ctx.tests)
