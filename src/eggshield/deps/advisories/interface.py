"""Advisories in OSV form and the one question every advisory source answers.

An `Advisory` keeps the OSV record it came from; `affects(name, version)` evaluates its
`affected[].ranges` events and `versions` with npm semver. Sources (the bundled GitHub
snapshot, our Egg-specific file, a live OSV refresh) differ only in where records come from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from eggshield.deps import semver

_SEVERITY = {"CRITICAL": "critical", "HIGH": "high", "MODERATE": "medium", "MEDIUM": "medium", "LOW": "low"}


@dataclass
class Advisory:
    id: str
    summary: str
    severity: str  # critical, high, medium, low
    record: dict = field(repr=False)
    source: str = ""  # "GitHub Advisory Database snapshot", "eggshield", ...
    confidence: str = "high"

    @classmethod
    def from_osv(cls, record: dict, source: str, confidence: str = "high") -> Advisory:
        db = record.get("database_specific") if isinstance(record.get("database_specific"), dict) else {}
        sev = _SEVERITY.get(str(db.get("severity", "")).upper()) or _cvss_severity(record) or "medium"
        summary = record.get("summary") or (record.get("details") or "")[:120] or record.get("id", "")
        return cls(id=str(record.get("id", "?")), summary=" ".join(str(summary).split()), severity=sev,
                   record=record, source=source, confidence=confidence)

    @property
    def aliases(self) -> list[str]:
        a = self.record.get("aliases")
        return [x for x in a if isinstance(x, str)] if isinstance(a, list) else []

    @property
    def cwe_ids(self) -> list[str]:
        db = self.record.get("database_specific") or {}
        ids = db.get("cwe_ids") if isinstance(db, dict) else None
        return [x for x in ids if isinstance(x, str)] if isinstance(ids, list) else []

    @property
    def malicious(self) -> bool:
        return "CWE-506" in self.cwe_ids or self.summary.lower().startswith("malicious package") or \
            self.id.startswith("MAL-")

    @property
    def url(self) -> str:
        if self.id.startswith("GHSA-"):
            return f"https://github.com/advisories/{self.id}"
        refs = self.record.get("references")
        if isinstance(refs, list):
            for ref in refs:
                if isinstance(ref, dict) and isinstance(ref.get("url"), str):
                    return ref["url"]
        return ""

    @property
    def modified(self) -> str:
        return str(self.record.get("modified") or self.record.get("published") or "")

    @property
    def eggshield(self) -> dict:
        db = self.record.get("database_specific") or {}
        meta = db.get("eggshield") if isinstance(db, dict) else None
        return meta if isinstance(meta, dict) else {}

    def _affected(self, name: str) -> Iterable[dict]:
        affected = self.record.get("affected")
        if not isinstance(affected, list):
            return
        for entry in affected:
            pkg = entry.get("package") if isinstance(entry, dict) else None
            if isinstance(pkg, dict) and pkg.get("name") == name and pkg.get("ecosystem", "npm") == "npm":
                yield entry

    def affects(self, name: str, version: str | semver.Version) -> bool:
        v = version if isinstance(version, semver.Version) else semver.parse(version, loose=True)
        if v is None:
            return False
        for entry in self._affected(name):
            versions = entry.get("versions")
            if isinstance(versions, list) and any(isinstance(x, str) and semver.parse(x, True) == v
                                                  for x in versions):
                return True
            ranges = entry.get("ranges")
            if isinstance(ranges, list):
                for r in ranges:
                    if isinstance(r, dict) and r.get("type") in ("SEMVER", "ECOSYSTEM") and \
                            isinstance(r.get("events"), list) and semver.osv_range_affects(r["events"], v):
                        return True
        return False

    def fixed_versions(self, name: str) -> list[str]:
        """Every `fixed` event for the package, in npm order."""
        out = set()
        for entry in self._affected(name):
            for r in entry.get("ranges") or []:
                if not isinstance(r, dict):
                    continue
                for e in r.get("events") or []:
                    if isinstance(e, dict) and isinstance(e.get("fixed"), str) and semver.parse(e["fixed"], True):
                        out.add(e["fixed"])
        return sorted(out, key=semver.version_key)

    def candidate_versions(self, name: str) -> list[str]:
        """Versions worth trying as upgrades when the registry is not available: fixed events
        and the first version above each last_affected (as a `x.y.z+1` patch bump)."""
        out = set(self.fixed_versions(name))
        for entry in self._affected(name):
            for r in entry.get("ranges") or []:
                for e in (r.get("events") or []) if isinstance(r, dict) else []:
                    la = e.get("last_affected") if isinstance(e, dict) else None
                    v = semver.parse(la, True) if isinstance(la, str) else None
                    if v is not None and not v.prerelease:
                        out.add(f"{v.major}.{v.minor}.{v.patch + 1}")
        return sorted(out, key=semver.version_key)


def _cvss_severity(record: dict) -> str | None:
    """No database severity: take the CVSS v3 base score if the vector carries one we can rate."""
    sev = record.get("severity")
    if not isinstance(sev, list):
        return None
    for item in sev:
        score = item.get("score") if isinstance(item, dict) else None
        if isinstance(score, str) and score.startswith("CVSS:3"):
            base = cvss3_base_score(score)
            if base is not None:
                return "critical" if base >= 9 else "high" if base >= 7 else "medium" if base >= 4 else "low"
    return None


def cvss3_base_score(vector: str) -> float | None:
    """CVSS v3.x base score from its vector (FIRST's formula); None for a malformed vector."""
    import math

    parts = dict(p.split(":", 1) for p in vector.split("/")[1:] if ":" in p)
    try:
        av = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}[parts["AV"]]
        ac = {"L": 0.77, "H": 0.44}[parts["AC"]]
        scope_changed = parts["S"] == "C"
        pr = {"N": 0.85, "L": 0.68 if scope_changed else 0.62, "H": 0.5 if scope_changed else 0.27}[parts["PR"]]
        ui = {"N": 0.85, "R": 0.62}[parts["UI"]]
        c, i, a = ({"H": 0.56, "L": 0.22, "N": 0.0}[parts[k]] for k in ("C", "I", "A"))
    except KeyError:
        return None
    iss = 1 - (1 - c) * (1 - i) * (1 - a)
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if scope_changed else 6.42 * iss
    exploit = 8.22 * av * ac * pr * ui
    if impact <= 0:
        return 0.0
    raw = min(1.08 * (impact + exploit), 10) if scope_changed else min(impact + exploit, 10)
    return math.ceil(raw * 10 - 1e-9) / 10


class AdvisorySource(Protocol):
    name: str

    def advisories_for(self, name: str) -> list[Advisory]:
        """Every advisory that mentions the package (the caller evaluates versions)."""
        ...

    def describe(self) -> str:
        """One line for reports: what this source is and how fresh."""
        ...
