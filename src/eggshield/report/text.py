"""Terminal output, rendered with rich into a string.

Colour is decided once, deliberately: ANSI codes only when the destination is a TTY (or
the caller forces it) and NO_COLOR is unset; piped output is plain text, 100 columns wide,
so CI logs and `> report.txt` stay readable.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from eggshield.finding import STRATEGIES, Finding
from eggshield.masking import printable
from eggshield.report.interface import Report

PLAIN_WIDTH = 100
INDENT = 10
SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "blue",
}


class TextFormat:
    """Human-readable report: header, findings grouped by strategy, input problems, summary.

    `color`/`width` of None mean "decide from `stream`" (default sys.stdout at render time):
    colour and terminal width on a TTY, plain 100 columns otherwise. The CLI passes
    `TextFormat(color=False)` for `--no-color`.
    """

    def __init__(self, color: bool | None = None, width: int | None = None, stream: TextIO | None = None) -> None:
        self.color = color
        self.width = width
        self.stream = stream

    def _settings(self) -> tuple[bool, int]:
        stream = self.stream or sys.stdout
        try:
            tty = stream.isatty()
        except (AttributeError, ValueError):  # closed or replaced streams
            tty = False
        color = self.color if self.color is not None else tty and "NO_COLOR" not in os.environ
        if self.width:
            width = self.width
        elif tty:
            width = shutil.get_terminal_size((PLAIN_WIDTH, 24)).columns
        else:
            width = PLAIN_WIDTH
        return color, width

    def render(self, report: Report) -> str:
        """The report as text; ANSI styling only when colour is on (see class doc)."""
        color, width = self._settings()
        buf = io.StringIO()
        console = Console(
            file=buf,
            force_terminal=color,
            color_system="auto" if color else None,
            no_color=not color,
            width=width,
            markup=False,
            emoji=False,
            highlight=False,
            legacy_windows=False,
            soft_wrap=False,
        )
        parts = _document(report, None if color else width)
        for part in parts[:-1]:
            if isinstance(part, str):  # already laid out, exactly as rich would (see _flat)
                buf.write(part)
            else:
                console.print(part)
        console.print(parts[-1], soft_wrap=True)  # the summary stays one grep-able line
        out = buf.getvalue()
        if not color:
            out = "\n".join(line.rstrip() for line in out.split("\n"))
        return out


# Characters one terminal cell wide in every rich version, " " the only space among them.
_NARROW = frozenset(map(chr, range(0x20, 0x7F))) | frozenset("…×·")
_NARROW_LINES = _NARROW | {"\n"}
_NON_SPACE = re.compile(r"[^ ]")
#: narrower than this, rich lays out everything (indents alone would not fit)
_MIN_FLAT_WIDTH = 20


def _wrap(line: str, width: int) -> list[str] | None:
    """`line` (narrow characters only) cut where rich's word wrap (`rich._wrap.divide_line`) cuts
    it, or None when a word is longer than `width` (rich folds it; left to rich).

    Rich puts a word on the line while the word without its trailing spaces fits and breaks before
    the first one that does not; so the break is at the start of the word that runs past column
    `width`: the one containing that column, or the next one when a space is there.
    """
    end = len(line.rstrip(" "))
    if end <= width:
        return [line]
    out = []
    start = 0
    first_word = len(line) - len(line.lstrip(" "))  # the first word owns its leading spaces
    while end - start > width:
        limit = start + width
        if line[limit] != " ":
            cut = line.rfind(" ", start, limit) + 1
        else:
            cut = _NON_SPACE.search(line, limit).start()
        if cut <= first_word:  # the line's first word alone is too long
            return None
        out.append(line[start:cut])
        start = first_word = cut
    out.append(line[start:])
    return out


def _flat(lines: list[tuple[int, str]], width: int | None) -> str | None:
    """`(indent, text)` lines laid out as rich lays them out in plain output, or None when that
    needs rich itself (wide or special characters, words longer than a line).

    Rich wraps each text at the width less its indent (a padding with expand=False shrinks to
    the widest line, so its lines fit either way); trailing spaces differ, and `render` strips
    them. tests/test_render_text_layout.py compares both ways on random reports.
    """
    if width is None or width < _MIN_FLAT_WIDTH:
        return None
    out = []
    for indent, text in lines:
        if not _NARROW_LINES.issuperset(text):
            return None
        pad = " " * indent
        for line in text.split("\n"):
            wrapped = _wrap(line, width - indent)
            if wrapped is None:
                return None
            out += [pad + part for part in wrapped] if indent else wrapped
    return "\n".join(out) + "\n"


def _document(report: Report, plain_width: int | None = None) -> list[RenderableType | str]:
    """The report's parts in order; with `plain_width` (no colour), parts that need no wrapping
    come as finished text."""
    parts: list[RenderableType | str] = []
    head = Text(f"{report.tool.name} {report.tool.version}", style="bold")
    parts.append(head)
    if len(report.targets) == 1:
        parts.append(Text("Target: ") + Text(printable(report.targets[0].describe()), style="bold"))
    elif report.targets:
        parts.append(Text("Targets:"))
        parts += [Text("  - " + printable(t.describe())) for t in report.targets]

    findings = report.safe_findings()
    by_strategy: dict[int, list[Finding]] = {}
    for f in findings:
        by_strategy.setdefault(f.strategy, []).append(f)
    for strategy, group in by_strategy.items():
        name = STRATEGIES.get(strategy, f"Strategy {strategy}")
        n = len(group)
        parts.append(Text(""))
        title = f"{strategy}. {name} ({n} finding{'s' if n != 1 else ''})"
        parts.append(_flat([(0, title)], plain_width) or Text(title, style="bold underline"))
        for f in group:
            parts.append(_finding(f, plain_width))

    problems = report.problem_lines()
    if problems:
        parts.append(Text(""))
        parts.append(Text(f"Inputs that could not be read ({len(problems)})", style="bold yellow"))
        for line in problems:
            text = printable(line)
            parts.append(_flat([(2, text)], plain_width) or Padding(Text(text), (0, 0, 0, 2), expand=False))

    parts.append(Text(""))
    worst = max(findings, key=lambda f: f.rank, default=None)
    style = SEVERITY_STYLE[worst.severity] if worst else ("bold yellow" if problems else "bold green")
    parts.append(Text(report.summary_line(), style=style))
    return parts


def _finding(f: Finding, plain_width: int | None = None) -> RenderableType | str:
    where = printable(str(f.location))
    tail = [x for x in (f.config_key or f.package, f"env {f.env}" if f.env else None,
                        f"confidence {f.confidence}" if f.confidence != "high" else None) if x]
    tail_text = "  " + printable(" · ".join(tail)) if tail else ""
    message = printable(f.message or f.title)
    labelled = [(label, printable(value).strip("\n"), label_style, style)
                for label, value, label_style, style in (("evidence", f.evidence, "italic", ""), ("fix", f.fix, "dim", "dim"))
                if value]
    if plain_width is not None:
        lines = [(0, f"{f.severity.upper():<8}  {f.rule_id}  {where}{tail_text}"), (INDENT, message)]
        for label, value, _, _ in labelled:
            lines += [(INDENT, f"{label}: {value}")] if "\n" not in value else [(INDENT, f"{label}:"), (INDENT + 2, value)]
        flat = _flat(lines, plain_width)
        if flat is not None:
            return flat
    line = Text.assemble(
        (f"{f.severity.upper():<8}", SEVERITY_STYLE[f.severity]),
        "  ",
        (f.rule_id, "bold"),
        "  ",
        (where, "cyan"),
    )
    if tail_text:
        line.append(tail_text, style="dim")
    body: list[RenderableType] = [Text(message)]
    body += [_labelled(*item) for item in labelled]
    return Group(line, Padding(Group(*body), (0, 0, 0, INDENT), expand=False))


def _labelled(label: str, value: str, label_style: str, style: str) -> RenderableType:
    """`label: value` on one line; a multi-line value (a config snippet) goes below, indented,
    so its own indentation survives. `value` is printable already."""
    if "\n" not in value:
        return Text(f"{label}: ", style=label_style or style) + Text(value, style=style)
    return Group(Text(f"{label}:", style=label_style or style),
                 Padding(Text(value, style=style), (0, 0, 0, 2), expand=False))
