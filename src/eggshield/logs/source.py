"""Every record of a set of log paths: each log's rotations oldest first, logs merged in time order.

Streaming end to end (heapq.merge over one generator per log), so memory stays flat whatever
the size. ERROR records are written twice by Egg (their logger's file and common-error.log);
the copy is dropped here so nothing downstream counts an error twice.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from eggshield.finding import InputProblem
from eggshield.logs.files import LogFile, Selection, groups, select
from eggshield.logs.jsonfmt import parse_json
from eggshield.logs.lines import ReadStats, iter_lines, open_binary
from eggshield.logs.record import LogRecord
from eggshield.logs.textfmt import parse_text

#: A record this much older than the one before it in the same file was not written in order:
#: Egg's buffered loggers reorder by at most about a second, a forged line by anything.
OUT_OF_ORDER_S = 5.0


@dataclass
class ReadResult:
    files: list[LogFile] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    notes: list[InputProblem] = field(default_factory=list)
    records: int = 0
    lines: int = 0
    bytes: int = 0
    duplicates: int = 0
    first: datetime | None = None
    last: datetime | None = None


def looks_json(lf: LogFile) -> bool:
    if lf.json:
        return True
    try:
        with open_binary(str(lf.path)) as fh:
            head = fh.read(1)
    except (OSError, EOFError):
        return False
    return head == b"{"


def read_file(lf: LogFile, result: ReadResult, label: str | None = None) -> Iterator[LogRecord]:
    """The records of one file; every read problem ends up in `result.problems`, once."""
    name = label or str(lf.path)
    stats = ReadStats()
    try:
        stream = open_binary(str(lf.path))
    except OSError as exc:
        result.problems.append(InputProblem(name, f"cannot read: {exc.strerror or exc}"))
        return
    last_time = None
    last_line = 0
    try:
        with stream:
            lines = iter_lines(stream, stats)
            records = parse_json(lines, name, lf.logger) if looks_json(lf) else parse_text(lines, name, lf.logger)
            for rec in records:
                last_line = rec.line
                if rec.time is not None:
                    if last_time is not None and (last_time - rec.time).total_seconds() > OUT_OF_ORDER_S:
                        rec.flags = (*rec.flags, "out-of-order")
                    last_time = rec.time if last_time is None or rec.time > last_time else last_time
                yield rec
    except OSError as exc:
        stats.errors.append(f"read failed after line {last_line}: {exc.strerror or exc}")
    finally:
        result.lines += last_line
        for msg in stats.messages():
            result.problems.append(InputProblem(name, msg))


def _log_stream(files: list[LogFile], result: ReadResult, since: datetime | None, index: int) -> Iterator[tuple]:
    """(sort time, index, seq, record) for one log across its rotations.

    `--since` compares each record's own time (an undated one: the time before it). The sort time is the
    latest time so far, so every stream is in order and the merge is well defined: a record dated earlier
    than the ones before it (a forged line) stays where its log put it, and the merge does not depend on
    which records a reader skipped (logs.skim leaves out those that carry nothing)."""
    current = key = datetime.min
    seq = 0
    for lf in files:
        for rec in read_file(lf, result):
            if rec.time is not None:
                current = rec.time
                if current > key:
                    key = current
            if since is not None and current < since:
                continue
            seq += 1
            yield (key, index, seq, rec)


def note_selection(sel: Selection, result: ReadResult) -> None:
    """The selected files, and why any path given was skipped, into `result`."""
    result.files = sel.files
    for path, why in sel.notes:
        target = result.problems if why.startswith(("cannot", "no such", "not a")) else result.notes
        target.append(InputProblem(path, why))


def read_records(paths: list[Path], since: datetime | None = None, result: ReadResult | None = None,
                 include_json_duplicates: bool = False) -> Iterator[LogRecord]:
    """All records under `paths` in time order; fills `result` (files, problems, counts) as it goes."""
    result = result if result is not None else ReadResult()
    sel = select(paths, include_json_duplicates=include_json_duplicates)
    note_selection(sel, result)
    # common-error.log last: on a tie the ERROR record of the logger that wrote it is the one kept
    ordered = sorted(groups(sel.files), key=lambda g: g[0].logger == "common-error")
    streams = [_log_stream(g, result, since, i) for i, g in enumerate(ordered)]
    recent_errors: OrderedDict = OrderedDict()
    # one log (the common case): its stream is already in order, so skip the merge's per-record key
    merged = (t[3] for t in streams[0]) if len(streams) == 1 else \
        (t[3] for t in heapq.merge(*streams, key=lambda t: t[:3]))
    # a copy can only be in another file: with one file there is nothing to remember
    dedupe = len(sel.files) > 1
    for rec in merged:
        if dedupe and rec.level == "ERROR":
            # the same error in its logger's file and in common-error.log; egg 4 stamps each copy
            # separately, so the two times may differ by a millisecond or so. The text is kept as
            # its hash: the last 20,000 stack traces held in full cost ~15 MB on a big log
            key = (rec.pid, rec.message, hash(rec.text[:2000]))
            seen = recent_errors.get(key)
            if seen is not None and seen[1] != rec.file and rec.time and seen[0] \
                    and abs((rec.time - seen[0]).total_seconds()) <= 2:
                result.duplicates += 1
                del recent_errors[key]
                continue
            recent_errors[key] = (rec.time, rec.file)
            if len(recent_errors) > 20000:
                recent_errors.popitem(last=False)
        result.records += 1
        result.bytes += rec.end - rec.offset
        if rec.time is not None:
            if result.first is None or rec.time < result.first:
                result.first = rec.time
            if result.last is None or rec.time > result.last:
                result.last = rec.time
        yield rec
