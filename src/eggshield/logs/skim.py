"""Plain-text logs read fast: a record that cannot carry a signal or a secret is counted, not parsed.

Most records say nothing (an INFO line per request), and parsing each into a `LogRecord` only to find
that is what made `logs analyze` slow. On a `lines.Block` of plain lines one regex finds every record
header and its context prefix, and a record is *quiet* unless one of these holds, each a necessary
condition of every signal and secret `analyze.prepare` can find (`prefilter` says why):

  - its level is ERROR, or it is dated more than OUT_OF_ORDER_S before an earlier record;
  - its URL is one `prefilter.url_is_quiet` cannot clear;
  - its message and continuation lines hold a trigger of `prefilter.body_is_quiet`.

Quiet records are only counted (lines, bytes, times). The others are parsed exactly as
`textfmt.TextParser` parses them and judged by `analyze.prepare`, memoised on everything it reads
(level, user, URL, message text): Egg writes the same failure text again and again. Lines outside
blocks (non-ASCII, CR, NUL) and the record a block ends in go through TextParser unchanged, so the
result is what the line-by-line path gives, item for item, only sooner.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from eggshield.logs import prefilter
from eggshield.logs.lines import Block, Line, ReadStats
from eggshield.logs.record import LogRecord
from eggshield.logs.source import OUT_OF_ORDER_S
from eggshield.logs.textfmt import TextParser, parse_time

#: a record header and, when there is one, its context prefix (textfmt.HEADER + textfmt.PREFIX), searched in
#: "\n" + a block: a leading literal lets the regex engine skip from newline to newline, 30% sooner than `^`
REC = re.compile(r"\n(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) (DEBUG|INFO|WARN|ERROR|NONE) (\d+) ?"
                 r"(?:\[([^/\]\s]*)/([^/\]\s]*)/[^/\]\s]*/\d+(?:\.\d+)?ms ([A-Z][A-Z-]*) (\S*)\](?: |$))?", re.M)
#: memoised texts longer than this are judged afresh (they are rarely repeated and cost memory)
MEMO_TEXT = 4096
MEMO_SIZE = 4096
#: records handed on at a time when reading a whole file in one process
DRAIN_AT = 2048


@dataclass
class ChunkResult:
    """What reading (part of) one log gives `analyze`: counts, times, and the records that carry anything."""

    lines: int = 0  # lines read (set by the caller, who knows where the part ends)
    last_line: int = 0  # line of the last record's header
    records: int = 0
    bytes: int = 0
    first: datetime | None = None
    last: datetime | None = None
    min_unflagged: datetime | None = None  # earliest time of a record not flagged out of order
    items: list = field(default_factory=list)  # (Brief.of(record), *analyze.prepare(record)) of those with any
    stats: ReadStats = field(default_factory=ReadStats)
    failed: bool = False
    latest: datetime | None = None  # the latest time of any record, `--since` or not (the next chunk's order check)
    current: str = ""  # the stamp of its last validly dated record (what `--since` compares in the next chunk)
    untimed_lead: bool = False  # `--since` dropped records that no earlier time in this chunk dated


def stamp_of(t: datetime) -> str:
    """Egg's own `YYYY-MM-DD HH:mm:ss,SSS`: such strings sort as their times do."""
    return (f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}:{t.second:02d},"
            f"{t.microsecond // 1000:03d}")


def _time(stamp: str) -> datetime | None:
    return parse_time(stamp[:19], stamp[20:23])


def _ceil_stamp(t: datetime) -> str:
    """The earliest stamp not before `t` (stamps have millisecond precision)."""
    extra = t.microsecond % 1000
    return stamp_of(t + timedelta(microseconds=1000 - extra) if extra else t)


class Skimmer:
    """Feed `iter_lines(..., blocks=True)` items of one file in order, then `finish()`."""

    def __init__(self, file: str, logger: str, secrets: bool = True, prev_last: datetime | None = None,
                 since: datetime | None = None, current: str = "", merge: bool = False):
        from eggshield.logs.analyze import Brief, prepare  # analyze imports the readers

        self._brief, self._prepare = Brief.of, prepare
        self.file, self.logger, self.secrets = file, logger, secrets
        # merge: items also carry the latest stamp so far (their sort time) and ERROR records' copy test (`_dup`); ERROR records
        # are left out of the counts, for the merger of several logs to count once
        self.merge = merge
        self.parser = TextParser(file, logger)
        self.result = ChunkResult()
        self.latest = stamp_of(prev_last) if prev_last is not None else ""  # latest valid stamp so far
        self.current = current  # the stamp `--since` compares: the last valid one, in file order
        self.since = _ceil_stamp(since) if since is not None else None
        self._first = self._last = self._min_unflagged = None  # stamps
        self._valid: dict[str, bool] = {}  # second -> parse_time accepts it
        self._memo: dict[tuple, tuple | None] = {}
        self._quiet_url = prefilter.url_is_quiet
        self._quiet_body = prefilter.body_quiet_judge(secrets)

    # -- input -----------------------------------------------------------------------------------

    def feed(self, items: Iterable[Line | Block], drain: Callable[[list], None] | None = None) -> ChunkResult:
        """Read `items`; with `drain`, hand it the records found every DRAIN_AT of them (flat memory)."""
        r = self.result
        for item in items:
            if isinstance(item, Block):
                self.block(item)
            else:
                self.line(item)
            if drain is not None and len(r.items) >= DRAIN_AT:
                drain(r.items)
                r.items = []
        return r

    def line(self, line: Line) -> None:
        rec = self.parser.feed(line)
        if rec is not None:
            self._slow(rec)

    def finish(self, flush: bool = True) -> ChunkResult:
        """The result; `flush` emits the record still open (not after a read error: it may be cut)."""
        rec = self.parser.flush() if flush else None
        if rec is not None:
            self._slow(rec)
        r = self.result
        r.first, r.last = _opt_time(self._first), _opt_time(self._last)
        r.min_unflagged = _opt_time(self._min_unflagged)
        r.current = self.current
        r.latest = _opt_time(self.latest)
        return r

    def block(self, b: Block) -> None:
        text = b.text
        heads = list(REC.finditer("\n" + text))  # positions: m.start() is the header's own in `text`
        if not heads:
            self._lines(b, 0, len(text), b.number)
            return
        number = b.number
        pos = 0  # text position whose line number is `number`
        start = heads[0].start()
        if start:
            self._lines(b, 0, start, number)
            number += text.count("\n", 0, start)
            pos = start
        rec = self.parser.flush()  # a header follows: the pending record is whole
        if rec is not None:
            self._slow(rec)
        r = self.result
        memo = self._memo
        quiet_url, quiet_body = self._quiet_url, self._quiet_body
        valid = self._valid
        since = self.since
        merge = self.merge
        latest, current = self.latest, self.current
        first, last_seen, min_unflagged = self._first, self._last, self._min_unflagged
        records = nbytes = 0
        nxt = heads[0].start()
        for i in range(1, len(heads)):
            m = heads[i - 1]
            start = nxt
            nxt = end = heads[i].start()
            stamp = text[start:start + 23]
            second, level, user, url = m.group(1, 3, 5, 8)
            ok = valid.get(second)
            if ok is None:
                if len(valid) > 4096:
                    valid.clear()
                ok = valid[second] = parse_time(second, "000") is not None
            ooo = False
            if ok:
                if stamp < latest and (_time(latest) - _time(stamp)).total_seconds() > OUT_OF_ORDER_S:
                    ooo = True
                elif min_unflagged is None or stamp < min_unflagged:
                    min_unflagged = stamp
                if stamp > latest:
                    latest = stamp
                current = stamp
            if since is None or current >= since:
                # with merge, an ERROR record is counted by the merger, unless it is a common-error.log copy
                if not merge or level != "ERROR":
                    records += 1
                    nbytes += end - start
                    if ok:
                        if first is None or stamp < first:
                            first = stamp
                        if last_seen is None or stamp > last_seen:
                            last_seen = stamp
            else:
                if not current:
                    r.untimed_lead = True
                continue
            body = text[m.end() - 1:end]
            if level != "ERROR" and not ooo and (url is None or quiet_url(url)) and quiet_body(body):
                continue
            number += text.count("\n", pos, start)
            pos = start
            key = (level, ooo, user, url, body)
            found = memo.get(key, memo) if len(body) <= MEMO_TEXT else memo
            if found is memo:
                rec = self._parse(text, start, end, number, b.offset)
                if ooo:
                    rec.flags = (*rec.flags, "out-of-order")
                found = self._prepare(rec, self.secrets)
                if len(body) <= MEMO_TEXT:
                    if len(memo) >= MEMO_SIZE:
                        memo.clear()
                    memo[key] = found
                if found is not None:
                    item = (self._brief(rec), *found)
                    r.items.append((*item, latest, self._dup(rec, stamp if ok else None)) if merge else item)
            elif found is not None:
                method = m.group(7)
                brief = (self.file, number, parse_time(second, m.group(2)), m.group(6) or None,
                         f"{method} {url.split('?', 1)[0]}" if method else None, url, self.logger,
                         None if user in ("-", "", None) else user)
                if merge:
                    dup = (int(m.group(4)), body.split("\n", 1)[0], hash(body.rstrip("\n")[:2000]), end - start,
                           stamp if ok else None) if level == "ERROR" else None
                    r.items.append((brief, *found, latest, dup))
                else:
                    r.items.append((brief, *found))
        self.latest, self.current = latest, current
        self._first, self._last, self._min_unflagged = first, last_seen, min_unflagged
        r.records += records
        r.bytes += nbytes
        number += text.count("\n", pos, nxt)
        if len(heads) > 1:
            r.last_line = number - text.count("\n", heads[-2].start(), nxt)
        self._lines(b, nxt, len(text), number)

    # -- the line-by-line path ---------------------------------------------------------------------

    def _lines(self, b: Block, start: int, end: int, number: int) -> None:
        """Feed text[start:end] of a block (whole lines) to the parser, as iter_lines would have."""
        for line in _split(b.text, start, end, number, b.offset):
            self.line(line)

    def _parse(self, text: str, start: int, end: int, number: int, base: int) -> LogRecord:
        """The record text[start:end] as TextParser makes it."""
        parser = TextParser(self.file, self.logger)
        for line in _split(text, start, end, number, base):
            parser.feed(line)
        return parser.flush()

    def _slow(self, rec: LogRecord) -> None:
        """A record the parser made (outside blocks, or at their edges): every check, no shortcut."""
        r = self.result
        r.last_line = rec.line
        stamp = stamp_of(rec.time) if rec.time is not None else None
        if stamp is not None:
            if self.latest and (_time(self.latest) - rec.time).total_seconds() > OUT_OF_ORDER_S:
                rec.flags = (*rec.flags, "out-of-order")
            elif self._min_unflagged is None or stamp < self._min_unflagged:
                self._min_unflagged = stamp
            if stamp > self.latest:
                self.latest = stamp
            self.current = stamp
        if self.since is not None and self.current < self.since:
            if not self.current:
                r.untimed_lead = True
            return
        if not (self.merge and rec.level == "ERROR"):
            r.records += 1
            r.bytes += rec.end - rec.offset
            if stamp is not None:
                if self._first is None or stamp < self._first:
                    self._first = stamp
                if self._last is None or stamp > self._last:
                    self._last = stamp
        found = self._prepare(rec, self.secrets)
        if found is not None:
            item = (self._brief(rec), *found)
            r.items.append((*item, self.latest, self._dup(rec, stamp)) if self.merge else item)

    def _dup(self, rec: LogRecord, stamp: str | None) -> tuple | None:
        """What spotting an ERROR record's common-error.log copy needs (source.read_records' test), and
        what counting it then takes; None for other levels."""
        if rec.level != "ERROR":
            return None
        return rec.pid, rec.message, hash(rec.text[:2000]), rec.end - rec.offset, stamp


def _split(text: str, start: int, end: int, number: int, base: int) -> Iterator[Line]:
    """The whole lines of text[start:end] as `Line`s, numbered from `number`, offsets from `base`."""
    offset = base + start
    for ln in text[start:end - 1].split("\n") if end > start else ():
        nxt = offset + len(ln) + 1
        yield Line(number, offset, ln, nxt)
        number += 1
        offset = nxt


def _opt_time(stamp: str | None) -> datetime | None:
    return _time(stamp) if stamp else None
