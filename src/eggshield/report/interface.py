"""What every output format receives (`Report`) and the one method it implements (`Formatter`).

Formats know Findings, never checks: the CLI assembles a Report (findings after
suppressions and baseline, input problems, targets, rule metadata from the check
registry) and hands it to `FORMATS[name].render(report)`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from eggshield import __version__
from eggshield.finding import SEVERITIES, SEVERITY_RANK, STRATEGIES, Finding, InputProblem
from eggshield.masking import mask_secrets


@dataclass(frozen=True)
class Target:
    """One scanned app (or URL, or log source) as the header of a report names it."""

    label: str  # app root relative to the cwd, a URL, or a log path
    egg_major: int | None = None
    egg_version: str | None = None
    env: str | None = None
    framework: str | None = None  # "egg" or a custom framework (midway, ...); None when not an app

    def describe(self) -> str:
        """One line: `app (egg 3.17.5, env prod)`."""
        bits = []
        fw = self.framework or "egg"
        if self.egg_version:
            bits.append(f"{fw} {self.egg_version}")
        elif self.egg_major:
            bits.append(f"{fw} {self.egg_major}.x")
        if self.env:
            bits.append(f"env {self.env}")
        return f"{self.label} ({', '.join(bits)})" if bits else self.label

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "egg_major": self.egg_major,
            "egg_version": self.egg_version,
            "env": self.env,
            "framework": self.framework,
        }


@dataclass(frozen=True)
class RuleMeta:
    """What a format says about a rule: what `eggshield rules` lists, from the check registry."""

    id: str
    title: str
    strategy: int
    severity: str
    confidence: str
    cwe: int
    doc: str = ""  # markdown: why it matters, how to fix, references
    help_uri: str | None = None

    @classmethod
    def coerce(cls, rule_id: str, meta: RuleMeta | Mapping[str, Any]) -> RuleMeta:
        """Accept a RuleMeta or a plain mapping with the same fields (the registry's choice)."""
        if isinstance(meta, RuleMeta):
            return meta
        return cls(
            id=rule_id,
            title=str(meta.get("title") or rule_id),
            strategy=int(meta.get("strategy", 0)),
            severity=str(meta.get("severity", "medium")),
            confidence=str(meta.get("confidence", "medium")),
            cwe=int(meta.get("cwe", 0)),
            doc=str(meta.get("doc") or ""),
            help_uri=meta.get("help_uri"),
        )

    @classmethod
    def from_findings(cls, rule_id: str, findings: Iterable[Finding]) -> RuleMeta:
        """Metadata for a rule the registry did not describe, taken from its findings."""
        fs = list(findings)
        worst = max(fs, key=lambda f: f.rank)
        return cls(id=rule_id, title=next((f.title for f in fs if f.title), rule_id), strategy=worst.strategy,
                   severity=worst.severity, confidence=worst.confidence, cwe=worst.cwe)


@dataclass(frozen=True)
class ToolInfo:
    name: str = "eggshield"
    version: str = __version__


@dataclass
class Report:
    """Everything a format needs; build one per run and render it in any format."""

    findings: list[Finding] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    rules: Mapping[str, RuleMeta | Mapping[str, Any]] = field(default_factory=dict)
    tool: ToolInfo = field(default_factory=ToolInfo)
    suppressed_count: int = 0
    baseline_count: int = 0
    # Absolute scan root (optional): SARIF records it as %SRCROOT% so viewers can open files.
    scan_root: str | None = None

    def __post_init__(self) -> None:
        self.rules = {rid: RuleMeta.coerce(rid, meta) for rid, meta in self.rules.items()}

    def rule(self, rule_id: str) -> RuleMeta:
        """The rule's metadata; synthesised from its findings when the registry lacks it."""
        meta = self.rules.get(rule_id)
        if meta is not None:
            return meta  # type: ignore[return-value]
        return RuleMeta.from_findings(rule_id, [f for f in self.findings if f.rule_id == rule_id])

    def used_rules(self) -> list[RuleMeta]:
        """Rules with at least one finding, in rule-id order (stable output for diffs)."""
        return [self.rule(rid) for rid in sorted({f.rule_id for f in self.findings})]

    def safe_findings(self) -> list[Finding]:
        """Findings sorted for reading (strategy, worst first, then location) with every
        user-visible text passed through `mask_secrets`: the one path formats read them by.

        Each copy's `extra["fingerprint"]` is the original's fingerprint: masking changes the
        evidence, and fingerprints must still match baselines made from unmasked findings.
        """
        return [
            dataclasses.replace(
                f, message=mask_secrets(f.message), evidence=mask_secrets(f.evidence), fix=mask_secrets(f.fix),
                extra={**f.extra, "fingerprint": f.fingerprint()},
            )
            for f in sorted(self.findings, key=_sort_key)
        ]

    def problem_lines(self) -> list[str]:
        """Input problems as masked one-line strings (`path: message`)."""
        return [mask_secrets(" ".join(str(p).split())) for p in self.problems]

    def severity_counts(self) -> dict[str, int]:
        """Count per severity, every severity present, worst first."""
        counts = dict.fromkeys(SEVERITIES, 0)
        for f in self.findings:
            counts[f.severity] += 1
        return counts

    def strategy_counts(self) -> dict[int, int]:
        """Count per strategy 1..8 (all eight present)."""
        counts = dict.fromkeys(STRATEGIES, 0)
        for f in self.findings:
            counts[f.strategy] = counts.get(f.strategy, 0) + 1
        return counts

    def summary_line(self) -> str:
        """`12 findings: 1 critical, 3 high; 2 files could not be read; 3 suppressed`."""
        total = len(self.findings)
        if total:
            per = ", ".join(f"{n} {sev}" for sev, n in self.severity_counts().items() if n)
            head = f"{total} finding{'s' if total != 1 else ''}: {per}"
        else:
            head = "No findings"
        parts = [head]
        if self.problems:
            n = len(self.problems)
            parts.append(f"{n} file{'s' if n != 1 else ''} could not be read")
        if self.suppressed_count:
            parts.append(f"{self.suppressed_count} suppressed")
        if self.baseline_count:
            parts.append(f"{self.baseline_count} in baseline")
        return "; ".join(parts)


def _sort_key(f: Finding) -> tuple:
    loc = f.location
    return (f.strategy, -SEVERITY_RANK[f.severity], loc.path or loc.url or "", loc.line or 0,
            loc.column or 0, f.rule_id, f.message)


@runtime_checkable
class Formatter(Protocol):
    """One output format. `render` returns the whole document; the caller writes it."""

    def render(self, report: Report) -> str: ...
