"""The plugin audit of one app in one env: what the checks and `eggshield plugins` read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from eggshield.eggconfig.model import PluginEntry
from eggshield.js.values import Loc
from eggshield.plugins.justification import Justification
from eggshield.plugins.knowledge import PluginSpec
from eggshield.plugins.versions import Version

# usage states
USED, ACTIVE, REQUIRED, UNUSED, UNKNOWN = "used", "active", "required", "unused", "unknown"


@dataclass(frozen=True)
class Evidence:
    what: str  # "app.mysql", "template with __(", "config cors.origin"
    path: str | None = None  # relative to the scanned root
    line: int | None = None

    @property
    def where(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else self.path

    def __str__(self) -> str:
        return f"{self.where} ({self.what})" if self.where else self.what


@dataclass
class Usage:
    state: str  # used | active | required | unused | unknown
    evidence: list[Evidence] = field(default_factory=list)
    confidence: str = "high"
    reason: str = ""  # why: the always-rule, what was looked for, who requires it

    @property
    def first(self) -> Evidence | None:
        return self.evidence[0] if self.evidence else None

    def summary(self) -> str:
        if self.state == USED:
            return f"yes: {self.first}" if self.first else "yes"
        if self.state == ACTIVE:
            return f"active: {self.reason}" + (f" ({self.first.where})" if self.first and self.first.where else "")
        if self.state == REQUIRED:
            return f"required: {self.reason}"
        if self.state == UNUSED:
            return f"NO ({self.confidence} confidence)"
        return f"unknown: {self.reason}"


@dataclass
class Origin:
    kind: str  # framework | app | implicit
    loc: Loc | None = None
    required_by: list[str] = field(default_factory=list)
    local_dir: str | None = None  # `path:` plugins: the directory, relative to the scanned root

    def __str__(self) -> str:
        if self.kind == "implicit":
            off = f"disabled at {self.loc}, " if self.loc is not None and not self.loc.default else ""
            return f"implicit: {off}re-enabled, required by {', '.join(self.required_by) or '?'}"
        if self.kind == "framework":
            return f"framework default ({self.loc.path})" if self.loc else "framework default"
        where = str(self.loc) if self.loc else "app"
        return where + (f" (local plugin {self.local_dir})" if self.local_dir else "")


@dataclass
class PluginRow:
    name: str
    entry: PluginEntry
    spec: PluginSpec | None
    enabled: bool  # effective in the audited env
    origin: Origin
    version: Version
    usage: Usage
    plugin_dir: Path | None = None
    justification: Justification | None = None
    off_reason: str = ""  # why it is off although its entry says enable
    envs: list[str] = field(default_factory=list)  # envs where it is on (filled by the inventory)

    @property
    def package(self) -> str | None:
        return self.entry.package

    @property
    def package_label(self) -> str:
        if self.entry.package:
            return f"{self.entry.package}@{self.version}" if self.version.version else self.entry.package
        if self.entry.path:
            where = self.origin.local_dir or self.entry.path
            return f"{where}@{self.version}" if self.version.version else where
        return "?"

    @property
    def listed_by_app(self) -> bool:
        return self.origin.kind == "app"


@dataclass
class PluginAudit:
    app: str  # app root relative to the scanned root ("." for the root)
    env: str
    rows: dict[str, PluginRow]
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    knowledge_checked: str = ""

    def enabled(self) -> list[PluginRow]:
        return [r for r in self.rows.values() if r.enabled]
