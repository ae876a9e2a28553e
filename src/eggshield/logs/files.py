"""Which files are Egg logs, and in what order to read them.

egg-logger writes `{app}-web.log`, `egg-web.log`, `egg-agent.log`, `common-error.log`,
`egg-schedule.log` and custom loggers' files into `logger.dir`, plus `X.json.log` beside each
with `outputJSON` (egg-facts §4). egg-logrotator renames `x.log` to `x.log.YYYY-MM-DD` daily,
`x.log.YYYY-MM-DD-HH` hourly, shifts `x.log.1 … x.log.N` by size, and may gzip (`.gz`); its
`clean_log` deletes dated files older than `maxDays` (egg-facts §2).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

ROTATED = re.compile(
    r"^(?P<base>.+?\.log)(?:\.(?P<date>\d{4}-\d\d-\d\d)(?:[-_.](?P<hour>\d\d))?|\.(?P<num>\d+))?(?P<gz>\.gz)?$")
KNOWN_NAMES = ("-web.log", "egg-web.log", "egg-agent.log", "common-error.log", "egg-schedule.log")


@dataclass(frozen=True)
class LogFile:
    path: Path
    base: str  # `myapp-web.log` for every rotation of it
    json: bool  # a `.json.log`
    rank: tuple  # sorts the rotations of one base oldest first
    gz: bool

    @property
    def logger(self) -> str:
        """`myapp-web` / `common-error`: the logger's name as events show it."""
        name = self.base[: -len(".json.log")] if self.json else self.base[: -len(".log")]
        return name

    @property
    def current(self) -> bool:
        return self.rank[0] == 2


def classify(path: Path) -> LogFile | None:
    """A LogFile for a name Egg or egg-logrotator writes, else None."""
    m = ROTATED.match(path.name)
    if not m:
        return None
    base = m.group("base")
    if m.group("date"):
        rank = (0, m.group("date"), m.group("hour") or "", 0)
    elif m.group("num"):
        rank = (1, "", "", -int(m.group("num")))  # x.log.10 is older than x.log.1
    else:
        rank = (2, "", "", 0)
    return LogFile(path=path, base=base, json=base.endswith(".json.log"), rank=rank, gz=bool(m.group("gz")))


@dataclass
class Selection:
    files: list[LogFile]
    notes: list[tuple[str, str]]  # (path, why it was skipped or how it was read)


def select(paths: list[Path], include_json_duplicates: bool = False) -> Selection:
    """The log files under `paths` (files as given, directories searched one level deep for
    Egg's names), grouped by base name, each group oldest first.

    When a text log and its `.json.log` twin are both present, only the text one is read:
    they hold the same records, and only the text one has the request prefix in egg 4.
    """
    found: list[LogFile] = []
    notes: list[tuple[str, str]] = []
    for p in paths:
        if p.is_dir():
            try:
                entries = sorted(p.iterdir())
            except OSError as exc:
                notes.append((str(p), f"cannot list directory: {exc.strerror or exc}"))
                continue
            for child in entries:
                lf = classify(child)
                if lf is not None and child.is_file():
                    found.append(lf)
        elif p.is_file():
            lf = classify(p) or LogFile(path=p, base=p.name, json=p.name.endswith(".json") or ".json." in p.name,
                                        rank=(2, "", "", 0), gz=p.name.endswith(".gz"))
            found.append(lf)
        elif not p.exists():
            notes.append((str(p), "no such file or directory"))
        else:
            notes.append((str(p), "not a regular file; skipped"))
    bases_text = {(f.path.parent, f.base) for f in found if not f.json}
    keep: list[LogFile] = []
    for f in found:
        if f.json and not include_json_duplicates:
            twin = f.base[: -len(".json.log")] + ".log"
            if (f.path.parent, twin) in bases_text:
                if f.current:
                    notes.append((str(f.path), f"same records as {twin}; read the text log instead"))
                continue
        keep.append(f)
    keep.sort(key=lambda f: (str(f.path.parent), f.base, f.rank))
    return Selection(files=_unique(keep), notes=notes)


def _unique(files: list[LogFile]) -> list[LogFile]:
    seen: set[tuple[int, int]] = set()
    out = []
    for f in files:
        try:
            st = os.stat(f.path)
            ident = (st.st_dev, st.st_ino)
        except OSError:
            ident = (0, hash(str(f.path)))
        if ident not in seen:
            seen.add(ident)
            out.append(f)
    return out


def groups(files: list[LogFile]) -> list[list[LogFile]]:
    """Files of one log (all rotations of one base in one dir), oldest first."""
    out: dict[tuple[str, str], list[LogFile]] = {}
    for f in files:
        out.setdefault((str(f.path.parent), f.base), []).append(f)
    return list(out.values())
