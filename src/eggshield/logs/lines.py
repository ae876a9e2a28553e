"""Bytes to lines, defensively: a log may hold anything an attacker sent or a disk mangled.

Every oddity becomes at most one problem line per file (binary content, invalid UTF-8, an
over-long line, a truncated gzip) and reading goes on, so no good line after a bad one is lost.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

#: Longest line kept; the rest of a longer line is skipped (and counted), never held in memory.
MAX_LINE = 64 * 1024
CHUNK = 1 << 20


@dataclass(slots=True)
class Line:
    number: int  # 1-based
    offset: int  # byte offset of its first byte (uncompressed)
    text: str
    end: int  # byte offset past its newline
    truncated: bool = False


@dataclass(slots=True)
class Block:
    """Many whole lines at once (`iter_lines(blocks=True)`): plain ASCII, no NUL, no CR, so a caller may
    scan them with one regex instead of line by line; characters are bytes, offsets carry over."""

    number: int  # line number of its first line
    offset: int  # byte offset of its first byte
    text: str  # the lines, each ending in "\n"


@dataclass
class ReadStats:
    """What went wrong in one file, reported once each at the end."""

    invalid_utf8: int = 0
    binary: int = 0
    long_lines: int = 0
    longest: int = 0
    errors: list[str] = field(default_factory=list)

    def messages(self) -> list[str]:
        out = []
        if self.binary:
            out.append(f"{self.binary} line(s) hold binary data (NUL bytes); read as text with the bytes escaped")
        if self.invalid_utf8:
            out.append(f"{self.invalid_utf8} line(s) are not valid UTF-8; bad bytes replaced with U+FFFD")
        if self.long_lines:
            out.append(f"{self.long_lines} line(s) longer than {MAX_LINE // 1024} KiB (longest {self.longest:,} bytes);"
                       f" only their first {MAX_LINE // 1024} KiB analysed")
        return out + self.errors


def open_binary(path: str):
    """The file's uncompressed byte stream (`.gz` by magic number, not by name)."""
    fh = open(path, "rb")  # noqa: SIM115 - returned to the caller
    head = fh.peek(2)[:2] if hasattr(fh, "peek") else b""
    if head == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=fh, mode="rb")
    return fh


def iter_lines(stream, stats: ReadStats, start: int = 0, first_line: int = 1,
               stop_at_partial: bool = False, on_partial: Callable[[int], None] | None = None,
               blocks: bool = False) -> Iterator[Line | Block]:
    """Yield complete lines from `stream` (already positioned at `start`).

    A last line without a newline is yielded unless `stop_at_partial` (a live file still being
    written: `on_partial(offset)` is told where the unfinished line starts instead). With `blocks`,
    the lines of a plain chunk come as one `Block` (the same lines, numbers and offsets).
    """
    offset = start
    number = first_line
    buf = b""
    skipping = False  # inside an over-long line whose head was already yielded
    long_len = 0
    read = getattr(stream, "read1", stream.read)  # read1: a truncated gzip still yields what it decoded
    while True:
        try:
            chunk = read(CHUNK)
        except (EOFError, OSError, zlib.error) as exc:
            stats.errors.append(f"compressed data ends early or is corrupt ({type(exc).__name__}: {exc}); "
                                f"kept the {number - 1:,} line(s) before it")
            chunk = b""
        if not chunk:
            break
        buf += chunk
        pos = 0
        if not skipping:
            # fast path for the usual chunk: plain ASCII, no NUL, no CR: one decode and one split for all
            # its complete lines, byte offsets from string lengths (identical to the per-line path below)
            last = buf.rfind(b"\n")
            if last >= 0:
                whole = buf[:last]
                if whole.isascii() and b"\x00" not in whole and b"\r" not in whole:
                    if blocks:
                        yield Block(number, offset, whole.decode("ascii") + "\n")
                        number += whole.count(b"\n") + 1
                        offset += last + 1
                    else:
                        for text in whole.decode("ascii").split("\n"):
                            end = offset + len(text) + 1
                            yield Line(number, offset, text, end)
                            number += 1
                            offset = end
                    pos = last + 1
        while True:
            nl = buf.find(b"\n", pos)
            if nl < 0:
                break
            raw = buf[pos:nl]
            if skipping:
                long_len += len(raw) + 1
                stats.longest = max(stats.longest, long_len)
                skipping = False
                offset += len(raw) + 1
            else:
                yield _line(number, offset, raw, offset + len(raw) + 1, stats)
                number += 1
                offset += len(raw) + 1
            pos = nl + 1
        buf = buf[pos:]
        if len(buf) > MAX_LINE and not skipping:
            # an over-long line: yield its head now, skip the rest up to its newline
            head = buf[:MAX_LINE]
            stats.long_lines += 1
            long_len = len(buf)
            yield _line(number, offset, head, offset + len(buf), stats, truncated=True)
            number += 1
            offset += len(buf)
            buf = b""
            skipping = True
        elif skipping and buf:
            long_len += len(buf)
            offset += len(buf)
            buf = b""
    if skipping:
        stats.longest = max(stats.longest, long_len)
        return
    if buf:
        if stop_at_partial:
            if on_partial:
                on_partial(offset)
            return
        yield _line(number, offset, buf, offset + len(buf), stats)


def _line(number: int, offset: int, raw: bytes, end: int, stats: ReadStats, truncated: bool = False) -> Line:
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    if b"\x00" in raw:
        stats.binary += 1
        raw = raw.replace(b"\x00", b"\\x00")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        stats.invalid_utf8 += 1
        text = raw.decode("utf-8", errors="replace")
    return Line(number, offset, text, end, truncated)


def lines_of(data: bytes) -> list[Line]:
    """All lines of an in-memory byte string (tests, small inputs)."""
    return list(iter_lines(io.BytesIO(data), ReadStats()))
