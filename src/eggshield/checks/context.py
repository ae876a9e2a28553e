"""What a check gets: the project, its resolved config for one env, and a Finding builder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter as ts

from eggshield.checks.registry import REGISTRY
from eggshield.eggconfig.model import ResolvedConfig
from eggshield.finding import SEVERITY_RANK, Finding, Location
from eggshield.js.values import Loc
from eggshield.project.model import EggProject

DEV_ENVS = ("local", "unittest")


@dataclass
class CheckContext:
    project: EggProject
    config: ResolvedConfig
    # every server-side source parsed once (absolute path -> tree); files that failed are absent
    sources: dict[Path, ts.Tree] = field(default_factory=dict)

    @property
    def env(self) -> str:
        return self.config.env

    def location(self, loc: Loc | None) -> Location:
        """An app location as is; a framework default points at the config file where the app would set it."""
        if loc is not None and not loc.default:
            return Location(path=loc.path, line=loc.line, column=loc.column)
        files = self.project.config_files
        target = files.get(self.env) or files.get("default") or files.get("legacy")
        if target is not None:
            return Location(path=self.project.rel(target), line=1)
        base = self.project.config_dir or (self.project.root / "config")
        return Location(path=self.project.rel(base / "config.default.js"), line=None)

    def finding(self, rule_id: str, *, message: str, key: str | None = None, loc: Loc | None = None,
                evidence: str = "", fix: str = "", severity: str | None = None,
                confidence: str | None = None) -> Finding:
        rule = REGISTRY[rule_id]
        severity = severity or rule.severity
        if self.env in DEV_ENVS and SEVERITY_RANK[severity] > SEVERITY_RANK["low"]:
            severity = "low"  # what only a development env does is never a production emergency
        where = loc if loc is not None else (self.config.loc(key) if key else None)
        return Finding(
            rule_id=rule_id, title=rule.title, strategy=rule.strategy, severity=severity,
            confidence=confidence or rule.confidence, cwe=rule.cwe, location=self.location(where),
            message=message, config_key=key, env=self.env, evidence=evidence, fix=fix,
            extra={"app": self.project.name, "default": bool(where is None or where.default)})
