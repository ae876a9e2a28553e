"""egg-logger's JSON output (`outputJSON: true` → `X.json.log`), one object per line.

egg 3: `{"paddingMessage":"[-/127.0.0.1/-/19ms GET /]","level","date","pid","hostname","message"}`,
`paddingMessage` only for `ctx.logger`; egg 4 writes no prefix (egg-facts §4). An error's stack
and properties are inside `message`, newlines and all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from eggshield.logs.lines import Line
from eggshield.logs.record import LogRecord
from eggshield.logs.textfmt import CONTROL, fill_error, parse_time, split_prefix


def parse_json(lines: Iterable[Line], file: str, logger: str = "", bad: list | None = None) -> Iterator[LogRecord]:
    """Records of a JSON log; a line that is not a JSON object is kept as a text record and counted in `bad`."""
    for line in lines:
        text = line.text
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            if bad is not None:
                bad.append(line.number)
            yield LogRecord(file=file, line=line.number, time=None, level="", pid=None, message=text[:2000],
                            text=text, logger=logger, offset=line.offset, end=line.end, fmt="json",
                            flags=("not-json",))
            continue
        yield record_from_json(obj, file, line, logger)


def record_from_json(obj: dict, file: str, line: Line, logger: str) -> LogRecord:
    date = str(obj.get("date") or "")
    time = parse_time(date[:19], date[20:23]) if len(date) >= 23 and date[19] in ",." else None
    if time is None and "T" in date:
        from datetime import datetime
        try:  # dateISOFormat: true
            time = datetime.fromisoformat(date.replace("Z", "+00:00")).astimezone().replace(tzinfo=None)
        except ValueError:
            time = None
    pid = obj.get("pid")
    message = obj.get("message")
    message = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False)
    rec = LogRecord(file=file, line=line.number, time=time, level=str(obj.get("level") or "").upper(),
                    pid=pid if isinstance(pid, int) else None, message="", logger=logger, offset=line.offset,
                    end=line.end, fmt="json", hostname=obj.get("hostname") if isinstance(obj.get("hostname"), str)
                    else None)
    pad = obj.get("paddingMessage")
    if isinstance(pad, str) and pad.startswith("["):
        split_prefix(rec, pad + " ")
    first, _, rest = message.partition("\n")
    rec.message = first
    rec.text = message.rstrip("\n")
    if first.startswith("nodejs."):
        fill_error(rec, first, rest.split("\n"))
    if CONTROL.search(rec.text):
        rec.flags = ("control-chars",)
    if line.truncated:
        rec.flags = (*rec.flags, "truncated")
    return rec
