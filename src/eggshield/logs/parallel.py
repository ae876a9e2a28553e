"""`logs analyze` on both cores: a big plain-text log split at record boundaries, one worker per chunk.

Workers parse their chunk and compute each record's signals and secret hits (the costly, stateless
part); the parent feeds the records that carry any, in file order, to the one `Analyzer` (windows,
alerts, grouping are stateful and stay single-threaded). What crosses a chunk boundary is made
exact here: line numbers are shifted by the lines of the chunks before, read problems are summed
and reported once, and a record that only the previous chunk's latest time makes out of order
(a forged line) gets its chunk redone in the parent with that time known.

Only for one uncompressed text log above `MIN_BYTES`; a smaller or gzipped single log is read in
this process by the same `skim` (`analyze_one`), and several logs go through `source.read_records`.
"""

from __future__ import annotations

import gzip
import heapq
import multiprocessing
import os
import re
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from eggshield.finding import InputProblem
from eggshield.logs.files import LogFile, groups, select
from eggshield.logs.lines import CHUNK, ReadStats, iter_lines, open_binary
from eggshield.logs.skim import ChunkResult, Skimmer, stamp_of
from eggshield.logs.source import OUT_OF_ORDER_S, ReadResult, looks_json, note_selection
from eggshield.logs.textfmt import parse_time

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


def plan(paths: list[Path]) -> tuple[LogFile, object, list[Chunk], int] | None:
    """(file, selection, chunks, first read size) when `paths` is one big plain-text log, else None."""
    if "fork" not in multiprocessing.get_all_start_methods():  # Windows: workers would re-import everything
        return None
    one = single_text_log(paths)
    if one is None:
        return None
    lf, sel = one
    try:
        size = os.stat(lf.path).st_size
        if size <= MIN_BYTES:
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


def single_text_log(paths: list[Path]) -> tuple[LogFile, object] | None:
    """(file, selection) when `paths` select one text (not JSON) log, rotated or not."""
    sel = select(paths)
    if len(sel.files) != 1 or looks_json(sel.files[0]):
        return None
    return sel.files[0], sel


def analyze_one(lf: LogFile, sel, analyzer, result: ReadResult, since: datetime | None = None) -> None:
    """One text log (plain or gzip) read in this process through `skim`: what `read_records` would
    feed `analyzer`, with `--since` applied the same way."""
    note_selection(sel, result)
    name = str(lf.path)
    skim = Skimmer(name, lf.logger, analyzer.secrets, since=since)
    stats = skim.result.stats
    try:
        stream = open_binary(name)
    except OSError as exc:
        result.problems.append(InputProblem(name, f"cannot read: {exc.strerror or exc}"))
        return
    failed = False

    def drain(items: list) -> None:
        _feed(items, analyzer, 0)

    try:
        with stream:
            skim.feed(iter_lines(stream, stats, blocks=True), drain)
    except OSError as exc:
        stats.errors.append(f"read failed after line {skim.result.last_line}: {exc.strerror or exc}")
        failed = True
    res = skim.finish(flush=not failed)
    _take(res, analyzer, result, 0)
    result.lines += res.last_line
    for msg in stats.messages():
        result.problems.append(InputProblem(name, msg))


def text_logs(paths: list[Path]):
    """The selection when `paths` select several logs, all text (JSON logs keep the line-by-line read)."""
    sel = select(paths)
    if len(sel.files) < 2 or any(looks_json(lf) for lf in sel.files):
        return None
    return sel


def analyze_many(sel, analyzer, result: ReadResult, since: datetime | None = None) -> None:
    """Several text logs skimmed in this process and merged in time order, as `source.read_records` merges
    them: each log's rotations oldest first, an undated record sorted at the time before it, and an ERROR
    record's copy in common-error.log dropped and counted as a duplicate."""
    from eggshield.logs.analyze import Brief

    note_selection(sel, result)
    # common-error.log last: on a tie the ERROR record of the logger that wrote it is the one kept
    ordered = sorted(groups(sel.files), key=lambda g: g[0].logger == "common-error")
    streams = [_group_items(g, i, analyzer.secrets, since, result) for i, g in enumerate(ordered)]
    recent_errors: OrderedDict = OrderedDict()
    feed = analyzer.feed_prepared
    for _current, _index, _seq, item in heapq.merge(*streams, key=lambda t: t[:3]):
        brief, user, sigs, hits, _, dup = item
        if dup is not None:
            pid, message, text_hash, size, stamp = dup
            when = _time_of(stamp)
            key = (pid, message, text_hash)
            seen = recent_errors.get(key)
            if seen is not None and seen[1] != brief[0] and when and seen[0] \
                    and abs((when - seen[0]).total_seconds()) <= 2:
                result.duplicates += 1
                del recent_errors[key]
                continue
            recent_errors[key] = (when, brief[0])
            if len(recent_errors) > 20000:
                recent_errors.popitem(last=False)
            result.records += 1
            result.bytes += size
            if when is not None:
                if result.first is None or when < result.first:
                    result.first = when
                if result.last is None or when > result.last:
                    result.last = when
        feed(Brief(*brief), user, sigs, hits)


def _group_items(files: list[LogFile], index: int, secrets: bool, since: datetime | None, result: ReadResult):
    """(sort stamp, index, seq, item) of one log across its rotations, as `source._log_stream` orders them."""
    current = ""  # the last valid stamp (what --since compares), carried into the next rotation
    key = ""  # the latest stamp of the rotations before
    seq = 0
    for lf in files:
        name = str(lf.path)
        skim = Skimmer(name, lf.logger, secrets, since=since, current=current, merge=True)
        stats = skim.result.stats
        try:
            stream = open_binary(name)
        except OSError as exc:
            result.problems.append(InputProblem(name, f"cannot read: {exc.strerror or exc}"))
            continue
        failed = False
        try:
            with stream:
                for part in iter_lines(stream, stats, blocks=True):
                    skim.feed((part,))
                    if skim.result.items:
                        for item in skim.result.items:
                            seq += 1
                            yield max(key, item[4]), index, seq, item
                        skim.result.items = []
        except OSError as exc:
            stats.errors.append(f"read failed after line {skim.result.last_line}: {exc.strerror or exc}")
            failed = True
        res = skim.finish(flush=not failed)
        for item in res.items:
            seq += 1
            yield max(key, item[4]), index, seq, item
        current = res.current
        key = max(key, stamp_of(res.latest)) if res.latest is not None else key
        _take(res, None, result, 0)
        result.lines += res.last_line
        for msg in stats.messages():
            result.problems.append(InputProblem(name, msg))


def _time_of(stamp: str | None) -> datetime | None:
    return parse_time(stamp[:19], stamp[20:23]) if stamp else None


def _take(res: ChunkResult, analyzer, result: ReadResult, base: int) -> None:
    """Feed a chunk's records to `analyzer` (line numbers shifted by `base`) and add up its counts."""
    if analyzer is not None:
        _feed(res.items, analyzer, base)
    result.records += res.records
    result.bytes += res.bytes
    if res.first is not None and (result.first is None or res.first < result.first):
        result.first = res.first
    if res.last is not None and (result.last is None or res.last > result.last):
        result.last = res.last


def _feed(items: list, analyzer, base: int) -> None:
    from eggshield.logs.analyze import Brief

    feed = analyzer.feed_prepared
    for brief, user, sigs, hits in items:
        rec = Brief(*brief)
        rec.line += base
        feed(rec, user, sigs, hits)


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
              secrets: bool, since: datetime | None = None, current: str = "") -> ChunkResult:
    """Read one chunk (line numbers from 1) and compute what the parent's Analyzer needs of each record.

    `prev_last` and `current` are what the chunks before tell (the latest time, the last valid stamp):
    unknown to a worker, known to the parent when it has to redo a chunk."""
    skim = Skimmer(name, logger, secrets, prev_last, since=since, current=current)
    window = None
    failed = False
    try:
        with open(path, "rb") as fh:
            window = _Window(fh, chunk.start, chunk.end, first_read)
            skim.feed(iter_lines(window, skim.result.stats, blocks=True))
    except OSError as exc:
        skim.result.stats.errors.append(f"read failed after line {{line}}: {exc.strerror or exc}")
        failed = True
    out = skim.finish(flush=not failed)
    out.failed = failed
    out.lines = window.lines if window is not None else 0
    return out


def _worker(args) -> ChunkResult:
    return run_chunk(*args)


def analyze_parallel(planned, analyzer, result: ReadResult, since: datetime | None = None) -> None:
    """Feed every record of the planned file to `analyzer` in order, as `read_records` would."""
    lf, sel, chunks, first_read = planned
    note_selection(sel, result)
    name = str(lf.path)
    secrets = analyzer.secrets
    stats = ReadStats()
    base = 0  # lines before the current chunk
    last_line = 0
    latest: datetime | None = None
    current = ""  # the last valid stamp of the chunks so far
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(WORKERS) as pool:
        pending: deque = deque()
        todo = iter(chunks)

        def submit() -> None:
            ch = next(todo, None)
            if ch is not None:
                pending.append((ch, pool.apply_async(_worker, ((name, name, lf.logger, ch, first_read, None,
                                                                 secrets, since),))))

        for _ in range(WORKERS * 2):
            submit()
        while pending:
            ch, future = pending.popleft()
            res: ChunkResult = future.get()
            submit()
            if (latest is not None and res.min_unflagged is not None
                    and (latest - res.min_unflagged).total_seconds() > OUT_OF_ORDER_S) \
                    or (res.untimed_lead and current):
                # a record here is out of order, or dated for --since, only given the chunks before: redo the
                # chunk knowing their latest time and last valid stamp
                res = run_chunk(name, name, lf.logger, ch, first_read, latest, secrets, since, current)
            current = res.current or current
            _take(res, analyzer, result, base)
            if res.last_line:
                last_line = base + res.last_line
            if res.latest is not None and (latest is None or res.latest > latest):
                latest = res.latest
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
