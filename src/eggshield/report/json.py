"""JSON output: the contract other tools read (`{"tool", "findings", "summary"}`, DESIGN.md)."""

from __future__ import annotations

from eggshield.finding import STRATEGIES
from eggshield.report.interface import Report
from eggshield.report.jsondump import Encoded, dumps


class JsonFormat:
    """Machine-readable output; field names are fixed by the Finding contract."""

    def render(self, report: Report) -> str:
        """The whole document, pretty-printed, keys in contract order, newline-terminated."""
        by_strategy = report.strategy_counts()
        doc = {
            "tool": {"name": report.tool.name, "version": report.tool.version},
            "findings": [Encoded(dumps(f.to_dict(), 2)) for f in report.safe_findings()],  # doc -> list -> item
            "summary": {
                "total": len(report.findings),
                "by_severity": report.severity_counts(),
                "by_strategy": {
                    str(n): {"name": STRATEGIES.get(n, f"strategy {n}"), "count": count}
                    for n, count in sorted(by_strategy.items())
                },
                "problems": report.problem_lines(),
                "targets": [t.to_dict() for t in report.targets],
                "suppressed": report.suppressed_count,
                "baselined": report.baseline_count,
            },
        }
        return dumps(doc) + "\n"
