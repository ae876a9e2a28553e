"""What is on disk where an Egg app logs: modes, owners, sizes, how old the current logs are.

`logs audit` resolves `logger.dir` from the app's config (engine), then looks at the directory
when it exists on this host. Reading only: nothing here changes a file.
"""

from __future__ import annotations

import os
import pwd
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from eggshield.eggconfig.model import MISSING
from eggshield.js.values import Unknown
from eggshield.logs.files import classify
from eggshield.logs.lines import ReadStats, iter_lines, open_binary
from eggshield.logs.textfmt import HEADER, parse_time


@dataclass
class DiskEntry:
    """One file or directory as seen on disk."""

    path: str
    is_dir: bool
    mode: int  # permission bits
    uid: int
    owner: str
    size: int
    mtime: float
    current: bool = False  # an active log (not a rotated copy)
    rotated_date: str | None = None  # YYYY-MM-DD of a dated rotation
    first_time: float | None = None  # first record's time (current text logs)


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def first_record_time(path: Path) -> float | None:
    try:
        with open_binary(str(path)) as fh:
            for line in iter_lines(fh, ReadStats()):
                m = HEADER.match(line.text)
                if m:
                    t = parse_time(m.group(1), m.group(2))
                    return t.timestamp() if t else None
                if line.number > 50:
                    return None
    except (OSError, EOFError):
        return None
    return None


def inspect(log_dir: Path) -> list[DiskEntry]:
    """The directory itself, then every log file in it (Egg's names and their rotations)."""
    out = []
    st = log_dir.stat()
    out.append(DiskEntry(str(log_dir), True, stat.S_IMODE(st.st_mode), st.st_uid, _owner(st.st_uid), 0, st.st_mtime))
    for child in sorted(log_dir.iterdir()):
        lf = classify(child)
        if lf is None:
            continue
        try:
            cst = child.stat()
        except OSError:
            continue
        if not stat.S_ISREG(cst.st_mode):
            continue
        entry = DiskEntry(str(child), False, stat.S_IMODE(cst.st_mode), cst.st_uid, _owner(cst.st_uid), cst.st_size,
                          cst.st_mtime, current=lf.current, rotated_date=lf.rank[1] or None)
        if lf.current and not lf.json and cst.st_size:
            entry.first_time = first_record_time(child)
        out.append(entry)
    return out


def candidate_dirs(config_dir, app_name: str, root: Path) -> list[tuple[Path, str]]:
    """Where the logs may be: the resolved `logger.dir`, else Egg's defaults for prod and local."""
    out: list[tuple[Path, str]] = []
    if isinstance(config_dir, str) and config_dir:
        out.append((Path(config_dir), "logger.dir"))
    elif isinstance(config_dir, Unknown) and isinstance(config_dir.fallback, str):
        out.append((Path(config_dir.fallback), f"logger.dir fallback ({config_dir.reason})"))
    home = Path(os.environ.get("EGG_HOME") or Path.home())
    out.append((home / "logs" / app_name, "Egg's prod default {HOME}/logs/{app} (EGG_HOME or the home directory)"))
    out.append((root / "logs" / app_name, "Egg's local/unittest default {baseDir}/logs/{app}"))
    seen = set()
    unique = []
    for p, why in out:
        if str(p) not in seen:
            seen.add(str(p))
            unique.append((p, why))
    return unique


def describe_config(value) -> str:
    if value is MISSING:
        return "not set"
    if isinstance(value, Unknown):
        return f"unknown ({value.reason})"
    return repr(value)


def now() -> float:
    return time.time()
