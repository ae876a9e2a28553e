"""Run every registered check on one resolved app; a crashing check becomes a problem line, not a traceback."""

from __future__ import annotations

from eggshield.checks.context import CheckContext
from eggshield.checks.registry import all_rules
from eggshield.finding import Finding, InputProblem


def run_checks(ctx: CheckContext, only: set[str] | None = None) -> tuple[list[Finding], list[InputProblem]]:
    findings: list[Finding] = []
    problems: list[InputProblem] = []
    for r in all_rules():
        if r.kind != "config" or (only and r.id not in only):
            continue
        try:
            findings.extend(r.func(ctx))
        except Exception as exc:  # noqa: BLE001 - one broken check must not stop the scan
            problems.append(InputProblem(ctx.project.rel(ctx.project.root) or ".",
                                         f"check {r.id} failed: {type(exc).__name__}: {exc}"))
    return findings, problems
