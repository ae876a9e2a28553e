"""`--redact OUT`: a copy of each log with every secret and personal value masked, line for line.

Line structure, record headers and JSON validity are kept (masks use only `*` and letters), so
the copy still parses, ships and greps like the original. PEM private keys span lines: every
line from BEGIN to END is masked.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from eggshield.logs import sensitive
from eggshield.logs.files import LogFile
from eggshield.logs.lines import ReadStats, iter_lines, open_binary


def redact_file(lf: LogFile, out_dir: Path) -> tuple[Path, int, ReadStats]:
    """Write the redacted copy of `lf` into `out_dir`; return (path, values masked, read stats)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / lf.path.name
    if target.resolve() == lf.path.resolve():
        raise ValueError(f"{target}: refusing to overwrite the original")
    stats = ReadStats()
    masked = 0
    in_key = False
    opener = gzip.open if lf.gz else open
    with open_binary(str(lf.path)) as src, opener(target, "wb") as dst:
        for line in iter_lines(src, stats):
            text = line.text
            if in_key:
                if "-----END" in text:
                    in_key = False
                text = "*" * min(len(text), 64)
            else:
                hits = sensitive.find(text)
                for h in hits:
                    if h.kind == "private-key" and "-----END" not in text[h.start:]:
                        in_key = True
                masked += len(hits)
                text = sensitive.redact(text, hits)
            dst.write(text.encode("utf-8") + b"\n")
    target.chmod(0o600)
    return target, masked, stats
