"""The Finding contract shared by every box (see DESIGN.md).

Field names are read by other tools and by the evaluation: change them only together
with DESIGN.md.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

SEVERITIES = ("critical", "high", "medium", "low", "info")
CONFIDENCES = ("high", "medium", "low")
SEVERITY_RANK = {name: rank for rank, name in enumerate(reversed(SEVERITIES))}  # info=0 .. critical=4

STRATEGIES = {
    1: "Review core and plugin updates",
    2: "Disable unnecessary plugins",
    3: "Secure custom middleware",
    4: "Built-in middleware configuration",
    5: "CSRF protection",
    6: "Security headers",
    7: "Secure error handling",
    8: "Secure logging",
}


@dataclass(frozen=True)
class Location:
    """Where a finding holds: a file position relative to the scanned root, or a URL."""

    path: str | None = None
    line: int | None = None
    column: int | None = None
    url: str | None = None

    def to_dict(self) -> dict:
        if self.url is not None:
            return {"url": self.url}
        out: dict = {"path": self.path, "line": self.line}
        if self.column is not None:
            out["column"] = self.column
        return out

    def __str__(self) -> str:
        if self.url is not None:
            return self.url
        if self.line:
            return f"{self.path}:{self.line}"
        return str(self.path)


@dataclass
class Finding:
    rule_id: str
    strategy: int
    severity: str
    confidence: str
    cwe: int
    location: Location
    message: str
    title: str = ""
    config_key: str | None = None
    package: str | None = None
    env: str | None = None
    evidence: str = ""
    fix: str = ""
    # Not part of the JSON contract: the absolute root the location is relative to.
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        if self.confidence not in CONFIDENCES:
            raise ValueError(f"unknown confidence {self.confidence!r}")

    @property
    def rank(self) -> int:
        return SEVERITY_RANK[self.severity]

    def fingerprint(self) -> str:
        """Stable identity for baselines: survives line shifts, not a change of key or file."""
        anchor = self.config_key or self.package or self.location.url or ""
        raw = "|".join([self.rule_id, self.location.path or "", anchor, self.env or "", self.evidence])
        return hashlib.sha256(raw.encode()).hexdigest()[:24]

    def to_dict(self) -> dict:
        """The JSON contract: every field but `extra`, in declaration order (what `asdict` gave,
        without deep-copying `extra` only to drop it)."""
        return {"rule_id": self.rule_id, "strategy": self.strategy, "severity": self.severity,
                "confidence": self.confidence, "cwe": self.cwe, "location": self.location.to_dict(),
                "message": self.message, "title": self.title, "config_key": self.config_key,
                "package": self.package, "env": self.env, "evidence": self.evidence, "fix": self.fix}


@dataclass(frozen=True)
class InputProblem:
    """A file or input eggshield could not read or understand; the run goes on."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"
