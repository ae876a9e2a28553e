"""Output formats: one module per format behind one interface (`Formatter.render(report) -> str`).

    from eggshield.report import FORMATS, Report
    print(FORMATS["json"].render(Report(findings=..., problems=...)), end="")
"""

from __future__ import annotations

from eggshield.masking import mask_secrets, printable
from eggshield.report.interface import Formatter, Report, RuleMeta, Target, ToolInfo
from eggshield.report.json import JsonFormat
from eggshield.report.markdown import MarkdownFormat
from eggshield.report.sarif import SarifFormat
from eggshield.report.text import TextFormat

FORMATS: dict[str, Formatter] = {
    "text": TextFormat(),
    "json": JsonFormat(),
    "sarif": SarifFormat(),
    "markdown": MarkdownFormat(),
}

__all__ = [
    "FORMATS",
    "Formatter",
    "JsonFormat",
    "MarkdownFormat",
    "Report",
    "RuleMeta",
    "SarifFormat",
    "Target",
    "TextFormat",
    "ToolInfo",
    "mask_secrets",
    "printable",
]
