"""Baselines: accept today's findings so a CI gate fails only on new ones.

A baseline stores `Finding.fingerprint()` per finding (stable across line shifts) plus
rule id and path so a reviewer can read the file. Matching counts duplicates: if the
baseline holds one copy of a fingerprint and the scan finds two, one of them is new.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from eggshield.finding import Finding

BASELINE_VERSION = 1


class BaselineError(Exception):
    """The baseline file cannot be used; the message says why in one line (exit code 2)."""


def create_baseline(findings: Iterable[Finding], *, now: datetime | None = None) -> dict:
    """A JSON-ready baseline of `findings` (write it with `save_baseline`)."""
    entries = [
        {"fingerprint": f.fingerprint(), "rule_id": f.rule_id,
         "path": f.location.path or f.location.url or f.package or ""}
        for f in findings
    ]
    entries.sort(key=lambda e: (e["path"], e["rule_id"], e["fingerprint"]))
    created = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return {
        "version": BASELINE_VERSION,
        "tool": "eggshield",
        "created": created.isoformat().replace("+00:00", "Z"),
        "fingerprints": entries,
    }


def _counts(baseline: object, origin: str = "baseline") -> Counter[str]:
    if not isinstance(baseline, dict) or not isinstance(baseline.get("fingerprints"), list):
        raise BaselineError(f"{origin}: not an eggshield baseline (no \"fingerprints\" list)")
    version = baseline.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise BaselineError(f"{origin}: not an eggshield baseline (no integer \"version\")")
    if version > BASELINE_VERSION:
        raise BaselineError(
            f"{origin}: baseline version {version} is newer than this eggshield reads ({BASELINE_VERSION}); upgrade eggshield")
    counts: Counter[str] = Counter()
    for i, entry in enumerate(baseline["fingerprints"]):
        fp = entry.get("fingerprint") if isinstance(entry, dict) else entry
        if not isinstance(fp, str) or not fp:
            raise BaselineError(f"{origin}: fingerprints[{i}] has no fingerprint string")
        counts[fp] += 1
    return counts


def filter_new(findings: Iterable[Finding], baseline: dict) -> tuple[list[Finding], int]:
    """`(new_findings, baselined_count)`: findings not accounted for by `baseline`.

    Raises BaselineError when `baseline` is not a baseline this version understands.
    """
    remaining = _counts(baseline)
    new: list[Finding] = []
    baselined = 0
    for f in findings:
        fp = f.fingerprint()
        if remaining[fp] > 0:
            remaining[fp] -= 1
            baselined += 1
        else:
            new.append(f)
    return new, baselined


def load_baseline(path: str | Path) -> dict:
    """Read and check a baseline file; BaselineError with a one-line reason otherwise."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(f"{p}: baseline file not found") from None
    except IsADirectoryError:
        raise BaselineError(f"{p}: is a directory, not a baseline file") from None
    except UnicodeDecodeError:
        raise BaselineError(f"{p}: not a text file") from None
    except OSError as e:
        raise BaselineError(f"{p}: cannot read ({e.strerror or e})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise BaselineError(f"{p}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    _counts(data, str(p))
    return data


def save_baseline(path: str | Path, baseline: dict) -> None:
    """Write a baseline as stable, diff-friendly JSON."""
    Path(path).write_text(json.dumps(baseline, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
