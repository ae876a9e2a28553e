"""One log record as egg-logger wrote it: a header line plus any continuation lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

LEVELS = ("DEBUG", "INFO", "WARN", "ERROR", "NONE")


@dataclass(slots=True)
class LogRecord:
    """A parsed record. `time` is Egg's local wall-clock time (Egg writes no zone)."""

    file: str  # the path as given by the user (or found in the directory)
    line: int  # 1-based line of the header in that file
    time: datetime | None
    level: str
    pid: int | None
    message: str  # the first line of the message, prefix removed
    text: str = ""  # the whole message: first line + continuation lines (stack, properties)
    user: str | None = None
    ip: str | None = None
    trace: str | None = None
    duration_ms: float | None = None
    method: str | None = None
    url: str | None = None
    hostname: str | None = None
    error_name: str | None = None  # `ForbiddenError` for a `nodejs.ForbiddenError: ...` record
    error_message: str | None = None
    props: dict = field(default_factory=dict)  # `key: JSON` property lines of an error
    causes: list = field(default_factory=list)  # error names of the `cause:` chain
    fmt: str = "text"  # "text" or "json"
    logger: str = ""  # the log's base name: "myapp-web", "common-error", ...
    offset: int = 0  # byte offset of the header in the (uncompressed) file
    end: int = 0  # byte offset just past the record
    flags: tuple = ()  # what the parser noticed: "control-chars", "crlf", "truncated", ...

    @property
    def route(self) -> str | None:
        """`METHOD /path` without the query string: what groups requests."""
        if not self.method:
            return None
        path = (self.url or "").split("?", 1)[0]
        return f"{self.method} {path}"

    @property
    def timestamp(self) -> float:
        return self.time.timestamp() if self.time else 0.0

    def where(self) -> str:
        return f"{self.file}:{self.line}"
