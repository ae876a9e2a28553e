"""Terminal output, rendered with rich into a string.

Colour is decided once, deliberately: ANSI codes only when the destination is a TTY (or
the caller forces it) and NO_COLOR is unset; piped output is plain text, 100 columns wide,
so CI logs and `> report.txt` stay readable.
"""

from __future__ import annotations

import io
import os
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
        parts = _document(report)
        for part in parts[:-1]:
            console.print(part)
        console.print(parts[-1], soft_wrap=True)  # the summary stays one grep-able line
        out = buf.getvalue()
        if not color:
            out = "\n".join(line.rstrip() for line in out.split("\n"))
        return out


def _document(report: Report) -> list[RenderableType]:
    parts: list[RenderableType] = []
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
        parts.append(Text(f"{strategy}. {name} ({n} finding{'s' if n != 1 else ''})", style="bold underline"))
        for f in group:
            parts.append(_finding(f))

    problems = report.problem_lines()
    if problems:
        parts.append(Text(""))
        parts.append(Text(f"Inputs that could not be read ({len(problems)})", style="bold yellow"))
        parts += [Padding(Text(printable(line)), (0, 0, 0, 2), expand=False) for line in problems]

    parts.append(Text(""))
    worst = max(findings, key=lambda f: f.rank, default=None)
    style = SEVERITY_STYLE[worst.severity] if worst else ("bold yellow" if problems else "bold green")
    parts.append(Text(report.summary_line(), style=style))
    return parts


def _finding(f: Finding) -> RenderableType:
    where = printable(str(f.location))
    line = Text.assemble(
        (f"{f.severity.upper():<8}", SEVERITY_STYLE[f.severity]),
        "  ",
        (f.rule_id, "bold"),
        "  ",
        (where, "cyan"),
    )
    tail = [x for x in (f.config_key or f.package, f"env {f.env}" if f.env else None,
                        f"confidence {f.confidence}" if f.confidence != "high" else None) if x]
    if tail:
        line.append("  " + printable(" · ".join(tail)), style="dim")
    body: list[RenderableType] = [Text(printable(f.message or f.title))]
    if f.evidence:
        body.append(_labelled("evidence", f.evidence, "italic", ""))
    if f.fix:
        body.append(_labelled("fix", f.fix, "dim", "dim"))
    return Group(line, Padding(Group(*body), (0, 0, 0, INDENT), expand=False))


def _labelled(label: str, value: str, label_style: str, style: str) -> RenderableType:
    """`label: value` on one line; a multi-line value (a config snippet) goes below, indented,
    so its own indentation survives."""
    value = printable(value).strip("\n")
    if "\n" not in value:
        return Text(f"{label}: ", style=label_style or style) + Text(value, style=style)
    return Group(Text(f"{label}:", style=label_style or style),
                 Padding(Text(value, style=style), (0, 0, 0, 2), expand=False))
