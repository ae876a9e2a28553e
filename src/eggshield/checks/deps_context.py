"""What a `kind="deps"` check gets: the audit of one app and a Finding builder (no rules here).

A finding about a package the app declares points at that line of its package.json (where
the fix is made); one about a transitive package points at its lockfile entry.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from eggshield.checks.registry import REGISTRY
from eggshield.deps.audit import DepsAudit, PackageReport
from eggshield.finding import Finding, Location


@dataclass
class DepsContext:
    audit: DepsAudit
    scan_root: Path
    app: str = ""  # the app's name, for reports of several apps
    _pkg_text: dict[Path, str] = field(default_factory=dict, repr=False)

    def rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.scan_root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    @property
    def manager(self) -> str:
        inv = self.audit.inventory
        src = inv.source if inv else ""
        return "yarn" if src.startswith("yarn") else "pnpm" if src.startswith("pnpm") else "npm"

    def manifest_path(self, importer: str | None = None) -> Path:
        """The package.json that declares a dependency: the app's, or a workspace's."""
        if importer and importer != self.audit.importer:
            return self.audit.lock_dir / importer / "package.json" if importer != "." else \
                self.audit.lock_dir / "package.json"
        return self.audit.root / "package.json"

    def _line_in_manifest(self, name: str, importer: str | None = None) -> int | None:
        path = self.manifest_path(importer)
        text = self._pkg_text.get(path)
        if text is None:
            try:
                text = path.read_text(encoding="utf-8", errors="replace")[:5_000_000]
            except OSError:
                text = ""
            self._pkg_text[path] = text
        block = re.search(r'"(?:dependencies|devDependencies|optionalDependencies|peerDependencies)"\s*:', text)
        m = re.compile(re.escape(json.dumps(name)) + r"\s*:").search(text, block.end() if block else 0)
        return text.count("\n", 0, m.start()) + 1 if m else None

    def location(self, rep: PackageReport | None) -> Location:
        inv = self.audit.inventory
        if rep is None or inv is None:
            target = inv.lockfile if inv and inv.lockfile else self.manifest_path()
            return Location(path=self.rel(target), line=None)
        if rep.direct is not None or not inv.resolved or inv.lockfile is None:
            where = rep.direct_in if rep.direct is not None else None
            return Location(path=self.rel(self.manifest_path(where)), line=self._line_in_manifest(
                rep.direct.name if rep.direct else rep.name, where))
        pkg = inv.packages.get(rep.keys[0]) if rep.keys else None
        line = inv.line_of(pkg) if pkg is not None else None
        return Location(path=self.rel(inv.lockfile), line=line)

    def finding(self, rule_id: str, rep: PackageReport | None, *, message: str, evidence: str = "", fix: str = "",
                severity: str | None = None, confidence: str | None = None) -> Finding:
        rule = REGISTRY[rule_id]
        return Finding(
            rule_id=rule_id, title=rule.title, strategy=rule.strategy, severity=severity or rule.severity,
            confidence=confidence or rule.confidence, cwe=rule.cwe, location=self.location(rep), message=message,
            config_key=f"plugin.{rep.plugin_name}" if rep is not None and rep.plugin_name else None,
            package=rep.ident if rep is not None else None, env=None, evidence=evidence, fix=fix,
            extra={"app": self.app, "kind": "deps"})

    def override_snippet(self, name: str, version: str) -> str:
        """How this package manager pins a transitive dependency."""
        if self.manager == "yarn":
            return f'"resolutions": {{ "{name}": "^{version}" }}  // package.json (yarn)'
        if self.manager == "pnpm":
            return f'"pnpm": {{ "overrides": {{ "{name}": "^{version}" }} }}  // package.json (pnpm)'
        return f'"overrides": {{ "{name}": "^{version}" }}  // package.json (npm >= 8.3)'

    def install_command(self, name: str, version: str, dev: bool = False, alias_of: str = "") -> str:
        """`alias_of` is `npm:<real name>@` for an aliased dependency (`"mini": "npm:minimist@1.2.0"`)."""
        spec = f"{name}@{alias_of}^{version}"
        if self.manager == "yarn":
            return f"yarn add {'--dev ' if dev else ''}{spec}"
        if self.manager == "pnpm":
            return f"pnpm add {'-D ' if dev else ''}{spec}"
        return f"npm install {'--save-dev ' if dev else ''}{spec}"
