"""Advisories shipped with eggshield: the GitHub Advisory Database snapshot and our Egg file.

The snapshot (`data/advisories/npm-advisories.jsonl.gz`, CC-BY-4.0, provenance in
ADVISORIES.md) is read once per process and indexed by package name; the derived supplement
adds newer advisories at medium confidence because its upstream kept only the first range of
each package. `egg-advisories.json` holds the Egg issues that have no public id.
"""

from __future__ import annotations

import gzip
import json
import re
from importlib import resources
from pathlib import Path

from eggshield.deps.advisories.interface import Advisory

_PACKAGE = re.compile(r'"package":\s*\{([^{}]*)\}')
_NAME = re.compile(r'"name":\s*"((?:[^"\\]|\\.)*)"')
_NPM = re.compile(r'"ecosystem":\s*"npm"')
_MODIFIED = re.compile(r'"modified":"([^"]+)"')

DATA = "advisories"
MAIN = "npm-advisories.jsonl.gz"
SUPPLEMENT = "npm-advisories-supplement-derived.jsonl.gz"
EGG = "egg-advisories.json"


def data_dir() -> Path:
    return Path(str(resources.files("eggshield") / "data" / DATA))


class JsonlSource:
    """OSV records, one JSON object per line, gzipped or not; indexed on first use."""

    def __init__(self, path: Path, name: str, confidence: str = "high"):
        self.path = path
        self.name = name
        self.confidence = confidence
        self._index: dict[str, list[Advisory]] | None = None
        self.newest = ""
        self.count = 0

    def _load(self) -> dict[str, list[Advisory]]:
        """Index raw lines by package name; a record is parsed only when its package is asked for
        (a lockfile names a few hundred of the snapshot's thousands of packages)."""
        if self._index is not None:
            return self._index
        self._raw: dict[str, list[str]] = {}
        opener = gzip.open if self.path.suffix == ".gz" else open
        with opener(self.path, "rt", encoding="utf-8") as fh:
            text = fh.read()
        for line in text.splitlines():
            if not line.strip():
                continue
            names = [n.group(1) for p in _PACKAGE.findall(line) if _NPM.search(p) for n in [_NAME.search(p)] if n]
            if not names:
                continue
            self.count += 1
            m = _MODIFIED.search(line)
            if m and m.group(1) > self.newest:
                self.newest = m.group(1)
            for n in set(names):
                self._raw.setdefault(json.loads(f'"{n}"'), []).append(line)
        self._index = {}
        return self._index

    def _parsed(self, name: str) -> list[Advisory]:
        index = self._load()
        if name not in index:
            out = []
            for line in getattr(self, "_raw", {}).get(name, ()):
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and not record.get("withdrawn"):
                    out.append(Advisory.from_osv(record, self.name, self.confidence))
            index[name] = out
        return index[name]

    def advisories_for(self, name: str) -> list[Advisory]:
        return self._parsed(name)

    def describe(self) -> str:
        self._load()
        return f"{self.name}: {self.count} advisories, newest change {self.newest[:10] or 'unknown'}"


class EggAdvisories(JsonlSource):
    """Our own OSV file: a JSON document with `records` (small: parsed at once)."""

    def _parsed(self, name: str) -> list[Advisory]:
        return self._load().get(name, [])

    def _load(self) -> dict[str, list[Advisory]]:
        if self._index is not None:
            return self._index
        doc = json.loads(self.path.read_text(encoding="utf-8"))
        index: dict[str, list[Advisory]] = {}
        for record in doc.get("records", []):
            adv = Advisory.from_osv(record, self.name, self.confidence)
            self.count += 1
            self.newest = max(self.newest, adv.modified)
            for a in record.get("affected", []):
                index.setdefault(a["package"]["name"], []).append(adv)
        self._index = index
        return index


_CACHE: dict[str, JsonlSource] = {}


def bundled_sources(include_supplement: bool = True) -> list[JsonlSource]:
    """The shipped sources, loaded once per process."""
    base = data_dir()
    specs = [(EGG, "eggshield Egg advisories", "high", EggAdvisories),
             (MAIN, "GitHub Advisory Database snapshot", "high", JsonlSource)]
    if include_supplement:
        specs.append((SUPPLEMENT, "GitHub advisories supplement (derived, first range only)", "medium",
                      JsonlSource))
    out = []
    for file, name, conf, cls in specs:
        if file not in _CACHE:
            _CACHE[file] = cls(base / file, name, conf)
        out.append(_CACHE[file])
    return out
