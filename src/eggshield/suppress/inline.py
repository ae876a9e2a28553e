"""Inline suppressions: `// eggshield-ignore EGG-CFG-001, EGG-CSRF-001: reason` in JS/TS source.

The directive hides findings on its own line (a trailing comment) or on the next line (when
the directive is the only thing on its line). Without rule ids it hides every rule there:
allowed, but reported as `blanket` so the summary can show it.

Only JS/TS source files honour directives. Log files, lockfiles and URLs never do: their
content can come from an attacker, who must not be able to write a line that hides the
finding about that very line.

`apply_inline` never touches the filesystem; the caller supplies `read_line`.
`file_line_reader(root)` is the ready-made one for files on disk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from eggshield.finding import Finding
from eggshield.suppress.result import Suppressed, SuppressResult

ReadLine = Callable[[str, int], "str | None"]

SOURCE_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx")
MAX_SOURCE_BYTES = 5_000_000

_DIRECTIVE = re.compile(r"(?P<opener>//|/\*)\s*eggshield-ignore(?![\w-])(?P<rest>.*)")
_RULE_ID = re.compile(r"\s*,?\s*(EGG-[A-Z]+-\d{3})(?![\w-])", re.I)


@dataclass(frozen=True)
class Directive:
    """A parsed `eggshield-ignore` comment. `rules` empty means every rule (blanket)."""

    rules: frozenset[str]
    reason: str
    comment_only: bool  # nothing but the comment on its line: it then also covers the next line

    @property
    def blanket(self) -> bool:
        return not self.rules

    def covers(self, rule_id: str) -> bool:
        return self.blanket or rule_id.upper() in self.rules


def parse_directive(line: str) -> Directive | None:
    """The `eggshield-ignore` directive in one source line, or None.

    A malformed id (`EGG-CFG-1`) makes the directive void rather than blanket: a typo must
    not silently hide every rule on the line.
    """
    m = _DIRECTIVE.search(line)
    if not m:
        return None
    rest, after = m.group("rest"), ""
    if m.group("opener") == "/*":
        rest, _, after = rest.partition("*/")
    rules: list[str] = []
    pos = 0
    while mm := _RULE_ID.match(rest, pos):
        rules.append(mm.group(1).upper())
        pos = mm.end()
    tail = rest[pos:].strip()
    if tail.startswith(",") or tail.upper().startswith("EGG-"):
        return None  # `EGG-CFG-1`, `EGG-CFG-001x`, a dangling comma
    reason = tail[1:].strip() if tail.startswith(":") else tail
    comment_only = not line[: m.start()].strip() and not after.strip()
    return Directive(frozenset(rules), reason, comment_only)


def apply_inline(findings: Iterable[Finding], read_line: ReadLine) -> SuppressResult:
    """Split findings into kept and suppressed by `eggshield-ignore` comments.

    `read_line(path, lineno)` returns line `lineno` (1-based) of `path` (as in
    `Finding.location.path`) or None when it cannot. Findings without a path and line, or
    outside JS/TS source, are always kept.
    """
    cache: dict[tuple[str, int], Directive | None] = {}

    def directive(path: str, lineno: int) -> Directive | None:
        key = (path, lineno)
        if key not in cache:
            text = read_line(path, lineno) if lineno >= 1 else None
            cache[key] = parse_directive(text) if text else None
        return cache[key]

    kept: list[Finding] = []
    suppressed: list[Suppressed] = []
    for f in findings:
        path, line = f.location.path, f.location.line
        if f.location.url is not None or not path or not line or not path.lower().endswith(SOURCE_SUFFIXES):
            kept.append(f)
            continue
        hit = None
        same = directive(path, line)
        if same and same.covers(f.rule_id):
            hit = (same, line)
        else:
            above = directive(path, line - 1)
            if above and above.comment_only and above.covers(f.rule_id):
                hit = (above, line - 1)
        if hit is None:
            kept.append(f)
        else:
            d, at = hit
            suppressed.append(Suppressed(f, "inline", f"{path}:{at}", d.reason, d.blanket))
    return SuppressResult(kept, suppressed)


def file_line_reader(root: str | Path, max_bytes: int = MAX_SOURCE_BYTES) -> ReadLine:
    """A `read_line` for files under `root` (the scan root finding paths are relative to).

    Reads each file once; paths escaping `root`, missing, unreadable or larger than
    `max_bytes` read as None, so their findings are simply not suppressed.
    """
    base = Path(root).resolve()
    files: dict[str, list[str] | None] = {}

    def load(path: str) -> list[str] | None:
        try:
            target = (base / path).resolve()
            if not target.is_relative_to(base) or not target.is_file() or target.stat().st_size > max_bytes:
                return None
            text = target.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            return None
        # Split on \n only: parsers (tree-sitter) number lines that way, splitlines() does not.
        return [line.removesuffix("\r") for line in text.split("\n")]

    def read_line(path: str, lineno: int) -> str | None:
        if path not in files:
            files[path] = load(path)
        lines = files[path]
        if lines is None or not 1 <= lineno <= len(lines):
            return None
        return lines[lineno - 1]

    return read_line
