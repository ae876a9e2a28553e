"""`logs analyze` on both cores: a big plain-text log split at record boundaries, one worker per chunk.

Workers parse their chunk and compute each record's signals and secret hits (the costly, stateless
part); the parent feeds the records that carry any, in file order, to the one `Analyzer` (windows,
alerts, grouping are stateful and stay single-threaded). What crosses a chunk boundary is made
exact here: line numbers are shifted by the lines of the chunks before, read problems are summed
and reported once, and a record that only the previous chunk's latest time makes out of order
(a forged line) gets its chunk redone in the parent with that time known.

Only for one uncompressed text log above `MIN_BYTES` and no `--since`; everything else reads
sequentially (`source.read_records`).
"""

from __future__ import annotations

import gzip
import multiprocessing
import os
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from eggshield.finding import InputProblem
from eggshield.logs.files import LogFile, select
from eggshield.logs.lines import CHUNK, ReadStats, iter_lines, open_binary
from eggshield.logs.source import OUT_OF_ORDER_S, ReadResult, looks_json, note_selection
from eggshield.logs.textfmt import parse_text

#: below this a file is read sequentially: forking and shipping results would cost more than it saves
MIN_BYTES = 8 << 20
#: bytes per chunk: small enough to keep two workers busy and memory flat, big enough to amortise a task
CHUNK_BYTES = 4 << 20
WORKERS = 2
#: a record header as bytes (ASCII digits only: a stricter test than textfmt.HEADER, so never a false cut)
HEADER_BYTES = re.compile(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?:DEBUG|INFO|WARN|ERROR|NONE) \d")


@dataclass
class Chunk:
    start: int
    end: int


@dataclass
class ChunkResult:
    lines: int = 0  # lines in the chunk
    last_line: int = 0  # chunk-relative line of its last record's header
    records: int = 0
    bytes: int = 0
    first: datetime | None = None
    last: datetime | None = None  # also the latest time: what the next chunk's order check needs
    min_unflagged: datetime | None = None  # earliest time of a record not flagged out of order
    items: list = field(default_factory=list)  # (Brief.of(record), *analyze.prepare(record)) of those with any
    stats: ReadStats = field(default_factory=ReadStats)
    failed: bool = False


def plan(paths: list[Path]) -> tuple[LogFile, object, list[Chunk], int] | None:
    """(file, selection, chunks, first read size) when `paths` is one big plain-text log, else None."""
    if "fork" not in multiprocessing.get_all_start_methods():  # Windows: workers would re-import everything
        return None
    sel = select(paths)
    if len(sel.files) != 1:
        return None
    lf = sel.files[0]
    try:
        size = os.stat(lf.path).st_size
        if size <= MIN_BYTES or looks_json(lf):
            return None
        with open_binary(str(lf.path)) as fh:
            if isinstance(fh, gzip.GzipFile):  # no seeking into compressed data
                return None
            # the sequential reader's first read is the buffer its gzip peek filled, then CHUNK each:
            # the workers read on the same grid so an over-long line is cut exactly where it would be
            first_read = len(fh.read1(CHUNK))
        chunks = boundaries(lf.path, size)
    except OSError:
        return None
    if len(chunks) < 2:
        return None
    return lf, sel, chunks, first_read


def boundaries(path: Path, size: int) -> list[Chunk]:
    """Chunks of about CHUNK_BYTES, each starting at a record header."""
    starts = [0]
    with open(path, "rb") as fh:
        target = CHUNK_BYTES
        while target < size:
            cut = _next_header(fh, max(target, starts[-1] + 1), size)
            if cut is None:
                break
            starts.append(cut)
            target = cut + CHUNK_BYTES
    ends = [*starts[1:], size]
    return [Chunk(s, e) for s, e in zip(starts, ends, strict=True)]


def _next_header(fh, pos: int, size: int) -> int | None:
    """Offset of the first line starting at or after `pos` that is a record header."""
    fh.seek(pos - 1)
    base = pos - 1  # file offset of buf[0]
    buf = fh.read(1 << 16)
    while buf:
        keep = b""
        i = 0
        while True:
            nl = buf.find(b"\n", i)
            if nl < 0:
                break
            if len(buf) - nl < 40 and base + len(buf) < size:
                keep = buf[nl:]  # too little of the next line to judge: read on
                break
            if HEADER_BYTES.match(buf, nl + 1):
                return base + nl + 1
            i = nl + 1
        more = fh.read(1 << 16)
        if not more:
            return None
        base += len(buf) - len(keep)
        buf = keep + more
    return None


class _Window:
    """A file between two offsets, read in the sequential reader's grid of reads."""

    def __init__(self, fh, start: int, end: int, first_read: int):
        self.fh = fh
        self.pos = start
        self.end = end
        self.first_read = first_read
        self.newlines = 0
        self.last = b"\n"  # the last byte read
        fh.seek(start)

    @property
    def lines(self) -> int:
        """Lines read so far, as `iter_lines` numbers them (a last line without a newline counts)."""
        return self.newlines + (self.last != b"\n")

    def read1(self, n: int) -> bytes:
        grid = self.first_read if self.pos < self.first_read else \
            self.first_read + ((self.pos - self.first_read) // CHUNK + 1) * CHUNK
        want = min(n, grid - self.pos, self.end - self.pos)
        if want <= 0:
            return b""
        data = self.fh.read(want)
        if data:
            self.pos += len(data)
            self.newlines += data.count(b"\n")
            self.last = data[-1:]
        return data

    read = read1


def run_chunk(path: str, name: str, logger: str, chunk: Chunk, first_read: int, prev_last: datetime | None,
              secrets: bool) -> ChunkResult:
    """Parse one chunk (line numbers from 1) and compute what the parent's Analyzer needs of each record."""
    from eggshield.logs.analyze import Brief, prepare

    out = ChunkResult()
    last_time = prev_last
    window = None
    try:
        with open(path, "rb") as fh:
            window = _Window(fh, chunk.start, chunk.end, first_read)
            for rec in parse_text(iter_lines(window, out.stats), name, logger):
                out.last_line = rec.line
                t = rec.time
                if t is not None:
                    if last_time is not None and (last_time - t).total_seconds() > OUT_OF_ORDER_S:
                        rec.flags = (*rec.flags, "out-of-order")
                    elif out.min_unflagged is None or t < out.min_unflagged:
                        out.min_unflagged = t
                    last_time = t if last_time is None or t > last_time else last_time
                    if out.first is None or t < out.first:
                        out.first = t
                    if out.last is None or t > out.last:
                        out.last = t
                out.records += 1
                out.bytes += rec.end - rec.offset
                found = prepare(rec, secrets)
                if found is not None:
                    out.items.append((Brief.of(rec), *found))
    except OSError as exc:
        out.stats.errors.append(f"read failed after line {{line}}: {exc.strerror or exc}")
        out.failed = True
    out.lines = window.lines if window is not None else 0
    return out


def _worker(args) -> ChunkResult:
    return run_chunk(*args)


def analyze_parallel(planned, analyzer, result: ReadResult) -> None:
    """Feed every record of the planned file to `analyzer` in order, as `read_records` would."""
    from eggshield.logs.analyze import Brief

    lf, sel, chunks, first_read = planned
    note_selection(sel, result)
    name = str(lf.path)
    secrets = analyzer.secrets
    stats = ReadStats()
    base = 0  # lines before the current chunk
    last_line = 0
    latest: datetime | None = None
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(WORKERS) as pool:
        pending: deque = deque()
        todo = iter(chunks)

        def submit() -> None:
            ch = next(todo, None)
            if ch is not None:
                pending.append((ch, pool.apply_async(_worker, ((name, name, lf.logger, ch, first_read, None,
                                                                 secrets),))))

        for _ in range(WORKERS * 2):
            submit()
        while pending:
            ch, future = pending.popleft()
            res: ChunkResult = future.get()
            submit()
            if latest is not None and res.min_unflagged is not None \
                    and (latest - res.min_unflagged).total_seconds() > OUT_OF_ORDER_S:
                # a record here is out of order only given the chunks before: redo it knowing their latest time
                res = run_chunk(name, name, lf.logger, ch, first_read, latest, secrets)
            for brief, user, sigs, hits in res.items:
                rec = Brief(*brief)
                rec.line += base
                analyzer.feed_prepared(rec, user, sigs, hits)
            if res.records:
                last_line = base + res.last_line
            result.records += res.records
            result.bytes += res.bytes
            if res.first is not None and (result.first is None or res.first < result.first):
                result.first = res.first
            if res.last is not None and (result.last is None or res.last > result.last):
                result.last = res.last
            latest = result.last
            _add_stats(stats, res.stats, last_line)
            base += res.lines
            if res.failed:
                break
    result.lines += last_line
    for msg in stats.messages():
        result.problems.append(InputProblem(name, msg))


def _add_stats(total: ReadStats, part: ReadStats, last_line: int) -> None:
    total.invalid_utf8 += part.invalid_utf8
    total.binary += part.binary
    total.long_lines += part.long_lines
    total.longest = max(total.longest, part.longest)
    total.errors.extend(e.replace("{line}", str(last_line)) for e in part.errors)
