"""Advisory sources behind one interface (interface.py), combined by `AdvisoryDB`.

Sources in order of trust: a live OSV refresh (when one was made), eggshield's own Egg file,
the bundled GitHub snapshot, then its derived supplement. The same advisory id from two
sources keeps the record changed last.
"""

from __future__ import annotations

from eggshield.deps import semver
from eggshield.deps.advisories.bundled import bundled_sources
from eggshield.deps.advisories.interface import Advisory, AdvisorySource

__all__ = ["Advisory", "AdvisoryDB", "AdvisorySource"]


class AdvisoryDB:
    def __init__(self, sources: list[AdvisorySource] | None = None):
        self.sources: list[AdvisorySource] = list(sources) if sources is not None else list(bundled_sources())

    def advisories_for(self, name: str) -> list[Advisory]:
        best: dict[str, Advisory] = {}
        for source in self.sources:
            for adv in source.advisories_for(name):
                old = best.get(adv.id)
                if old is None or adv.modified > old.modified:
                    best[adv.id] = adv
        return list(best.values())

    def match(self, name: str, version: str | None) -> list[Advisory]:
        if not version:
            return []
        v = semver.parse(version, loose=True)
        if v is None:
            return []
        return sorted((a for a in self.advisories_for(name) if a.affects(name, v)), key=lambda a: a.id)

    def describe(self) -> list[str]:
        """One line per source that holds anything (a live refresh never made is not listed)."""
        out = []
        for s in self.sources:
            text = s.describe()
            if getattr(s, "count", 1) or not getattr(s, "optional", False):
                out.append(text)
        return out
