"""Non-code files that show a plugin at work: templates under view.root, files under static.dir,
app/io, app/schedule, config/locale. Bounded walks: a front-end tree of thousands of assets must
not slow a scan down, and a symlink out of the tree is never followed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

MAX_WALK = 5000
MAX_TEMPLATE_BYTES = 512_000
MAX_TEMPLATES_READ = 2000


@dataclass
class FileScan:
    files: list[Path] = field(default_factory=list)
    truncated: bool = False


def walk_files(directory: Path, limit: int = MAX_WALK) -> FileScan:
    """Regular files below `directory` (dot dirs and node_modules skipped), stopping after `limit`."""
    out = FileScan()
    if not directory.is_dir():
        return out
    try:
        real_top = directory.resolve()
    except OSError:
        return out
    for dirpath, dirnames, filenames in os.walk(directory, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "node_modules")
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            if path.is_symlink():
                try:
                    if not path.resolve().is_relative_to(real_top):
                        continue
                except OSError:
                    continue
            out.files.append(path)
            if len(out.files) >= limit:
                out.truncated = True
                return out
    return out


def first_match(base: Path, patterns: tuple[str, ...]) -> Path | None:
    """The first file under `base` matching a glob such as `app/io/**` or `config/role.js`."""
    for pattern in patterns:
        head = pattern.split("*", 1)[0].rstrip("/")
        target = base / head
        if "*" not in pattern:
            if target.is_file():
                return target
            continue
        directory = target if target.is_dir() else target.parent
        for path in walk_files(directory, limit=200).files:
            rel = path.relative_to(base).as_posix()
            if fnmatchcase(rel, pattern) or fnmatchcase(rel, pattern.replace("/**", "/*")):
                return path
    return None


def template_hits(files: list[Path], needles: tuple[str, ...]) -> tuple[Path, int, str] | None:
    """The first template line holding one of `needles` (e.g. i18n's `__(`)."""
    for path in files[:MAX_TEMPLATES_READ]:
        try:
            if path.stat().st_size > MAX_TEMPLATE_BYTES:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if b"\x00" in data[:4096]:
            continue
        body = data.decode("utf-8", "replace")
        for needle in needles:
            at = body.find(needle)
            if at != -1:
                return path, body.count("\n", 0, at) + 1, needle
    return None
