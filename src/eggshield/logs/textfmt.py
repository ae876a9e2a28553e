"""egg-logger's text format (egg-logger `lib/utils.js#defaultFormatter`, egg-facts §4).

    2026-12-03 15:59:58,413 INFO 19878 [-/127.0.0.1/-/11ms GET /] hello world
    2026-12-03 16:00:55,625 WARN 21073 [-/127.0.0.1/-/1.847ms POST /post] nodejs.ForbiddenError: missing csrf token
        at Object.throw (...)
    message: "missing csrf token"
    pid: 21073
    hostname: vm
    <blank>
    cause:
    <blank>
    nodejs.ECONNREFUSEDError: ...

A record is a header line plus every following line that is not a header. The prefix is
`[{userId||-}/{ip}/{traceId||-}/{use}ms {METHOD} {url}]`; `use` is an integer in egg 3 and a
fraction in egg 4. A URL cannot hold a space (Node rejects it), so the prefix ends at the
first `] ` after the method; plugin tags like `[egg-security]` are not prefixes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime

from eggshield.logs.lines import Line
from eggshield.logs.record import LogRecord

HEADER = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) (DEBUG|INFO|WARN|ERROR|NONE) (\d+) ?(.*)\Z", re.S)
PREFIX = re.compile(r"\[([^/\]\s]*)/([^/\]\s]*)/([^/\]\s]*)/(\d+(?:\.\d+)?)ms ([A-Z][A-Z-]*) (\S*)\](?: |\Z)(.*)\Z",
                    re.S)
ERROR_HEAD = re.compile(r"nodejs\.([A-Za-z_$][\w$.]*): ?(.*)\Z", re.S)
PROP = re.compile(r"([A-Za-z_$][\w$]*): (.*)\Z")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\x9b]")

_time_cache: dict[str, datetime] = {}


def parse_time(second: str, millis: str) -> datetime | None:
    """Egg's `YYYY-MM-DD HH:mm:ss,SSS` (local time); parsing each second once keeps this cheap."""
    base = _time_cache.get(second)
    if base is None:
        try:
            base = datetime.strptime(second, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return None
        if len(_time_cache) > 4096:
            _time_cache.clear()
        _time_cache[second] = base
    return base.replace(microsecond=int(millis) * 1000)


def split_prefix(rec: LogRecord, rest: str) -> str:
    """Fill user/ip/trace/duration/method/url from a context prefix; return the message after it."""
    if not rest.startswith("["):
        return rest
    m = PREFIX.match(rest)
    if not m:
        return rest
    user, ip, trace, use, method, url, msg = m.groups()
    rec.user = None if user in ("-", "") else user
    rec.ip = ip or None
    rec.trace = None if trace in ("-", "") else trace
    rec.duration_ms = float(use)
    rec.method = method
    rec.url = url
    return msg


def fill_error(rec: LogRecord, first: str, rest_lines: Iterable[str]) -> None:
    """Error name, message, `key: JSON` properties, hostname and cause chain of an error record."""
    m = ERROR_HEAD.match(first)
    if not m:
        return
    rec.error_name, rec.error_message = m.group(1), m.group(2)
    in_cause = False
    for ln in rest_lines:
        if ln.startswith("    at ") or not ln:
            continue
        if ln == "cause:":
            in_cause = True
            continue
        if in_cause:
            cm = ERROR_HEAD.match(ln)
            if cm:
                rec.causes.append(cm.group(1))
                continue
        pm = PROP.match(ln)
        if not pm:
            continue
        key, value = pm.groups()
        if key == "hostname":
            rec.hostname = value
        elif key == "pid":
            continue
        elif not in_cause and key not in rec.props:
            try:
                rec.props[key] = json.loads(value)
            except ValueError:
                rec.props[key] = value


class TextParser:
    """Feed lines, get records; a record is complete when the next header (or the end) arrives."""

    def __init__(self, file: str, logger: str = ""):
        self.file = file
        self.logger = logger
        self._head: LogRecord | None = None
        self._cont: list[str] = []
        self._end = 0

    def feed(self, line: Line) -> LogRecord | None:
        text = line.text
        m = HEADER.match(text) if text[:1].isdigit() else None
        if m is None:
            if self._head is None:
                # continuation lines with no header before them (a file cut mid-record): own record
                self._head = LogRecord(file=self.file, line=line.number, time=None, level="", pid=None,
                                       message=text, logger=self.logger, offset=line.offset, flags=("orphan",))
            else:
                self._cont.append(text)
            self._end = line.end
            if line.truncated:
                self._head.flags = (*self._head.flags, "truncated")
            return None
        done = self.flush()
        second, millis, level, pid, rest = m.groups()
        rec = LogRecord(file=self.file, line=line.number, time=parse_time(second, millis), level=level,
                        pid=int(pid), message="", logger=self.logger, offset=line.offset, fmt="text")
        rec.message = split_prefix(rec, rest)
        if line.truncated:
            rec.flags = ("truncated",)
        self._head = rec
        self._cont = []
        self._end = line.end
        return done

    def flush(self) -> LogRecord | None:
        rec = self._head
        if rec is None:
            return None
        cont = self._cont
        while cont and not cont[-1]:
            cont.pop()
        rec.text = rec.message + ("\n" + "\n".join(cont) if cont else "")
        rec.end = self._end
        if rec.message.startswith("nodejs."):
            fill_error(rec, rec.message, cont)
        if CONTROL.search(rec.text):
            rec.flags = (*rec.flags, "control-chars")
        self._head = None
        self._cont = []
        return rec

    @property
    def pending_offset(self) -> int | None:
        """Where the record not yet emitted starts (a live follower checkpoints here)."""
        return self._head.offset if self._head is not None else None


def parse_text(lines: Iterable[Line], file: str, logger: str = "") -> Iterator[LogRecord]:
    parser = TextParser(file, logger)
    for line in lines:
        rec = parser.feed(line)
        if rec is not None:
            yield rec
    rec = parser.flush()
    if rec is not None:
        yield rec
