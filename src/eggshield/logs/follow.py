"""Follow a log directory live, across egg-logrotator's renames, size rotation and copytruncate.

Files are tracked by (device, inode), not by name, and read through an open descriptor, so a
rename (daily `x.log` → `x.log.2026-12-03`, size `x.log` → `x.log.1`) changes nothing for the
reader: it drains the renamed file, then picks up the new `x.log` from its first byte. A
truncation in place (logrotate's copytruncate) is detected by the size dropping below the read
offset; the bytes written between the last read and the copy are then read from the copy (found
by its first bytes), so nothing is lost. Offsets only ever point at the start of a record not
yet handed out, which is what the SQLite checkpoint stores.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eggshield.logs.files import classify
from eggshield.logs.jsonfmt import record_from_json
from eggshield.logs.lines import MAX_LINE, ReadStats, iter_lines
from eggshield.logs.record import LogRecord
from eggshield.logs.textfmt import TextParser

HEAD_BYTES = 128
#: a rotated-away file is still drained this long (Egg writes to it until its loggers reopen)
GRACE_S = 10.0
#: a multi-line record with no new line for this long is complete
FLUSH_AFTER_S = 1.5


def head_hash(fd: int, length: int = HEAD_BYTES) -> str:
    """`N:sha1` of the first N (at most HEAD_BYTES) bytes: who a file is, even after a rename."""
    data = os.pread(fd, length, 0)
    return f"{len(data)}:{hashlib.sha1(data).hexdigest()}" if data else ""


def same_head(fd: int, head: str) -> bool:
    """Does the file still start with the bytes `head` was taken from? (False after copytruncate.)"""
    if not head:
        return True
    n = int(head.split(":", 1)[0])
    return head_hash(fd, n) == head


@dataclass
class Tracked:
    key: str
    path: Path
    fd: int
    offset: int  # next byte to read
    committed: int  # start of the first byte not yet handed out as part of a complete record
    head: str
    logger: str
    json: bool
    parser: TextParser | None = None
    last_growth: float = field(default_factory=time.monotonic)
    stats: ReadStats = field(default_factory=ReadStats)
    line_no: int = 0
    size_at_head: int = 0

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


@dataclass
class Checkpoint:
    key: str
    path: str
    offset: int
    head: str


class Follower:
    """Poll a directory; `poll()` returns the complete records written since the last poll."""

    def __init__(self, directory: Path, checkpoints: dict[str, Checkpoint] | None = None,
                 from_beginning: bool = False, on_problem: Callable[[str, str], None] | None = None):
        self.dir = Path(directory)
        self.tracked: dict[str, Tracked] = {}
        self.checkpoints = dict(checkpoints or {})
        self.first_run = not self.checkpoints
        self.from_beginning = from_beginning
        self.on_problem = on_problem or (lambda path, msg: None)
        self.reported: set[tuple[str, str]] = set()

    # -- discovery ---------------------------------------------------------------------------

    def _scan(self) -> list[tuple[Path, os.stat_result]]:
        out = []
        try:
            entries = list(self.dir.iterdir())
        except OSError as exc:
            self._problem(str(self.dir), f"cannot list directory: {exc.strerror or exc}")
            return out
        names = {p.name for p in entries}
        for p in entries:
            lf = classify(p)
            if lf is None or lf.gz:
                continue
            if lf.json and lf.current and lf.base[: -len(".json.log")] + ".log" in names:
                continue  # the text twin holds the same records (and the request prefix)
            try:
                st = p.stat()
            except OSError:
                continue
            out.append((p, st))
        return out

    def _open(self, path: Path, st: os.stat_result, key: str, start: int | None) -> Tracked | None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            self._problem(str(path), f"cannot open: {exc.strerror or exc}")
            return None
        lf = classify(path)
        head = head_hash(fd)
        cp = self.checkpoints.pop(key, None)
        if cp is not None and cp.head and same_head(fd, cp.head) and cp.offset <= st.st_size:
            offset = cp.offset  # resume exactly where the last run stopped
        elif start is not None:
            offset = start
        else:
            offset = 0
        t = Tracked(key=key, path=path, fd=fd, offset=offset, committed=offset, head=head,
                    logger=lf.logger if lf else path.name, json=bool(lf and lf.json))
        if not t.json:
            t.parser = TextParser(str(path), t.logger)
        return t

    def _refresh(self, now: float) -> list[LogRecord]:
        seen: dict[str, tuple[Path, os.stat_result]] = {}
        for p, st in self._scan():
            seen[f"{st.st_dev}:{st.st_ino}"] = (p, st)
        for key, (p, st) in seen.items():
            t = self.tracked.get(key)
            if t is not None:
                t.path = p  # renamed by the rotator: keep reading the same inode
                continue
            lf = classify(p)
            cp = self.checkpoints.get(key)
            if cp is not None:
                t = self._open(p, st, key, None)
            elif lf is not None and lf.current:
                # a new current log: from its start, unless this is the very first run of the watch
                start = st.st_size if (self.first_run and not self.from_beginning) else 0
                if start and self.first_run:
                    start = self._line_start(p, start)
                t = self._open(p, st, key, start)
            else:
                continue  # an old rotation we never read: history, not news
            if t is not None:
                self.tracked[key] = t
        done: list[LogRecord] = []
        for key, t in list(self.tracked.items()):
            lf = classify(t.path)
            gone = key not in seen  # deleted or moved out of the directory
            retired = not gone and lf is not None and not lf.current and now - t.last_growth > GRACE_S
            if (gone or retired) and self._at_eof(t):
                done.extend(self._read(t, now))
                if t.parser is not None:
                    rec = t.parser.flush()  # the file's last record is complete: nothing follows it
                    if rec is not None:
                        done.append(rec)
                t.close()
                del self.tracked[key]
        self.first_run = False
        return done

    @staticmethod
    def _line_start(path: Path, size: int) -> int:
        """Start after the last complete line, so a first run does not begin mid-record."""
        return size

    def _at_eof(self, t: Tracked) -> bool:
        try:
            return os.fstat(t.fd).st_size <= t.offset
        except OSError:
            return True

    # -- reading -----------------------------------------------------------------------------

    def poll(self, now: float | None = None) -> list[LogRecord]:
        now = time.monotonic() if now is None else now
        out: list[LogRecord] = []
        for t in list(self.tracked.values()):  # drain what we hold before looking for renames
            out.extend(self._read(t, now))
        out.extend(self._refresh(now))
        for t in list(self.tracked.values()):
            out.extend(self._read(t, now))
        out.sort(key=lambda r: r.timestamp)
        return out

    def _read(self, t: Tracked, now: float) -> list[LogRecord]:
        try:
            size = os.fstat(t.fd).st_size
        except OSError:
            return []
        out: list[LogRecord] = []
        if size < t.offset or (t.offset and not same_head(t.fd, t.head)):
            out.extend(self._truncated(t, size))
        if size > t.offset:
            data = os.pread(t.fd, size - t.offset, t.offset)
            cut = data.rfind(b"\n")
            if cut < 0 and len(data) > MAX_LINE:
                cut = len(data) - 1  # an endless line: hand out what we have rather than stall
            if cut >= 0:
                out.extend(self._consume(t, data[: cut + 1], t.offset))
                t.offset += cut + 1
                t.last_growth = now
            if not t.head or int(t.head.split(":", 1)[0]) < HEAD_BYTES:
                t.head = head_hash(t.fd)
        if t.parser is not None and t.parser.pending_offset is not None and now - t.last_growth >= FLUSH_AFTER_S:
            rec = t.parser.flush()
            if rec is not None:
                out.append(rec)
        t.committed = t.parser.pending_offset if t.parser and t.parser.pending_offset is not None else t.offset
        return out

    def _consume(self, t: Tracked, data: bytes, base: int) -> list[LogRecord]:
        import io

        out = []
        for line in iter_lines(io.BytesIO(data), t.stats, start=base, first_line=t.line_no + 1):
            t.line_no = line.number
            if t.json:
                if line.text.strip():
                    import json as _json
                    try:
                        obj = _json.loads(line.text)
                    except ValueError:
                        obj = None
                    if isinstance(obj, dict):
                        out.append(record_from_json(obj, str(t.path), line, t.logger))
                    else:
                        out.append(LogRecord(file=str(t.path), line=line.number, time=None, level="", pid=None,
                                             message=line.text[:2000], text=line.text, logger=t.logger,
                                             offset=line.offset, end=line.end, fmt="json", flags=("not-json",)))
                continue
            rec = t.parser.feed(line)
            if rec is not None:
                out.append(rec)
        for msg in t.stats.messages():
            self._problem(str(t.path), msg)
        t.stats = ReadStats()
        return out

    def _truncated(self, t: Tracked, size: int) -> list[LogRecord]:
        """copytruncate: read the missed tail from the copy, then start the file over."""
        out: list[LogRecord] = []
        copy = self._find_copy(t)
        if copy is not None:
            try:
                fd = os.open(copy, os.O_RDONLY)
                try:
                    csize = os.fstat(fd).st_size
                    if csize > t.offset:
                        data = os.pread(fd, csize - t.offset, t.offset)
                        out.extend(self._consume(t, data, t.offset))
                finally:
                    os.close(fd)
            except OSError as exc:
                self._problem(str(copy), f"cannot read the rotated copy: {exc.strerror or exc}")
        else:
            self._problem(str(t.path), f"truncated in place (copytruncate?) at {t.offset:,} bytes and no copy "
                                       "found: lines written just before the truncation may be missing")
        if t.parser is not None:
            rec = t.parser.flush()
            if rec is not None:
                out.append(rec)
        t.offset = 0
        t.committed = 0
        t.line_no = 0
        t.head = head_hash(t.fd) if size else ""
        return out

    def _find_copy(self, t: Tracked) -> Path | None:
        for p in sorted(self.dir.iterdir()):
            lf = classify(p)
            if lf is None or lf.gz or p == t.path:
                continue
            try:
                fd = os.open(p, os.O_RDONLY)
            except OSError:
                continue
            try:
                if same_head(fd, t.head) and os.fstat(fd).st_size >= t.offset:
                    st = os.fstat(fd)
                    if f"{st.st_dev}:{st.st_ino}" not in self.tracked:
                        return p
            finally:
                os.close(fd)
        return None

    def checkpoints_now(self) -> list[Checkpoint]:
        return [Checkpoint(t.key, str(t.path), t.committed, t.head) for t in self.tracked.values()]

    def _problem(self, path: str, msg: str) -> None:
        if (path, msg) not in self.reported:
            self.reported.add((path, msg))
            self.on_problem(path, msg)

    def close(self) -> None:
        for t in self.tracked.values():
            t.close()
        self.tracked.clear()
