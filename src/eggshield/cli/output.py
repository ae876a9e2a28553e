"""What every command prints the same way: one-line messages on stderr, reports to stdout or a file,
exit codes from --fail-on."""

from __future__ import annotations

from pathlib import Path

import click

from eggshield.finding import SEVERITIES, SEVERITY_RANK

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
FAIL_ON = (*SEVERITIES, "none")


def err(message: str) -> None:
    click.echo(f"eggshield: {message}", err=True)


def write(text: str, output: str | None) -> None:
    """The report to stdout, or to OUTPUT (announced on stderr so pipes stay clean)."""
    if output:
        Path(output).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        err(f"wrote {output}")
    else:
        click.echo(text, nl=not text.endswith("\n"))


def fails(findings, threshold: str) -> bool:
    return threshold != "none" and any(f.rank >= SEVERITY_RANK[threshold] for f in findings)
