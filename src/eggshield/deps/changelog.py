"""Changelog entries between two versions, read from the package tarball on the registry.

Egg packages keep `History.md` (or `CHANGELOG.md`): a heading per release, either markdown
(`## 3.8.1`, `## [3.8.1](...) (2023-01-01)`) or the older `3.8.1 / 2023-01-01` followed by a
`====` rule. The tarball is downloaded once into the cache and read in memory, only the
changelog member, with size limits; nothing is extracted to disk and nothing in it runs.
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from eggshield.deps import semver
from eggshield.deps.registry import HttpClient, RegistryError

NAMES = ("history.md", "changelog.md", "changes.md", "history", "changelog", "changelog.txt", "history.txt")
MAX_TARBALL = 50_000_000
MAX_CHANGELOG = 3_000_000
SECURITY = re.compile(r"\b(security|vulnerab\w*|cve-\d{4}-\d+|ghsa-[\w-]+|xss|csrf|ssrf|injection|traversal|"
                      r"prototype[ -]pollution|redos|denial of service|dos\b|escap\w*|sanitiz\w*|"
                      r"arbitrary|exploit|unsafe|bypass|leak\w*)", re.I)
_HEADING = re.compile(r"^(?:#{1,4}\s*)?\[?v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\]?(?:\(.*?\))?(?:\s*[/(-].*)?\s*$")


@dataclass
class Entry:
    version: str
    lines: list[str] = field(default_factory=list)
    security: list[str] = field(default_factory=list)  # the lines that look security-related


@dataclass
class Changelog:
    source: str  # "History.md in egg-security-3.8.1.tgz", or why there is none
    entries: list[Entry] = field(default_factory=list)
    error: str | None = None


def parse(text: str) -> list[Entry]:
    entries: list[Entry] = []
    current: Entry | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        m = _HEADING.match(line.strip()) if line[:1] in "#[v0123456789" else None
        if m and semver.parse(m.group(1), loose=True):
            current = Entry(version=m.group(1))
            entries.append(current)
            continue
        if current is None or not line.strip() or set(line.strip()) <= {"=", "-"}:
            continue
        current.lines.append(line.strip())
        if SECURITY.search(line):
            current.security.append(line.strip())
    return entries


def between(entries: list[Entry], installed: str, target: str) -> list[Entry]:
    lo, hi = semver.parse(installed, True), semver.parse(target, True)
    out = []
    for e in entries:
        v = semver.parse(e.version, True)
        if v is not None and lo is not None and hi is not None and lo.compare(v) < 0 <= hi.compare(v):
            out.append(e)
    return sorted(out, key=lambda e: semver.version_key(e.version), reverse=True)


def from_tarball(data: bytes, label: str) -> tuple[str, str] | None:
    """(member name, text) of the changelog inside a package tarball, or None."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar:
                if not member.isfile() or member.size > MAX_CHANGELOG:
                    continue
                parts = member.name.split("/")
                if len(parts) == 2 and parts[1].lower() in NAMES:
                    fh = tar.extractfile(member)
                    if fh is None:
                        continue
                    return parts[1], fh.read(MAX_CHANGELOG).decode("utf-8", "replace")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise RegistryError(f"{label}: not a readable package tarball ({exc})") from None
    return None


def fetch(url: str, cache_dir: Path, http: HttpClient, offline: bool) -> bytes:
    path = cache_dir / "tarballs" / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".tgz")
    try:
        return path.read_bytes()
    except OSError:
        pass
    if offline:
        raise RegistryError(f"{url.rsplit('/', 1)[-1]}: not in the local tarball cache (offline)")
    status, _, body = http.request(url)
    if len(body) > MAX_TARBALL:
        raise RegistryError(f"{url.rsplit('/', 1)[-1]}: tarball over {MAX_TARBALL:,} bytes; not read")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    except OSError:
        pass
    return body


def changelog(tarball_url: str, installed: str, target: str, cache_dir: Path, http: HttpClient,
              offline: bool = False) -> Changelog:
    name = tarball_url.rsplit("/", 1)[-1].split("?", 1)[0]
    try:
        found = from_tarball(fetch(tarball_url, cache_dir, http, offline), name)
    except RegistryError as exc:
        return Changelog(source=name, error=str(exc))
    if found is None:
        return Changelog(source=name, error=f"{name} has no History.md or CHANGELOG.md")
    member, text = found
    return Changelog(source=f"{member} in {name}", entries=between(parse(text), installed, target))
