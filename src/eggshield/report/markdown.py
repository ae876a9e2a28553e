"""Markdown report for pull requests and wikis (GitHub-flavoured tables and fences).

Finding text is escaped so evidence from hostile inputs (log lines, URLs) cannot inject
HTML, links or table breaks; evidence and fixes go in fences longer than any backtick run
they contain.
"""

from __future__ import annotations

import re
from functools import lru_cache

from eggshield.finding import SEVERITIES, STRATEGIES, Finding
from eggshield.masking import printable
from eggshield.report.cwe import cwe_name, cwe_url
from eggshield.report.interface import Report

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")
_JS_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx")


@lru_cache(maxsize=4096)  # titles, rule ids and CWE names repeat in every finding of a big report
def md_escape(text: str) -> str:
    """Inline text safe in markdown and table cells: no HTML, links, emphasis or `|`."""
    text = printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def code_span(text: str) -> str:
    """`text` as inline code, whatever backticks it contains; `|` escaped for tables."""
    text = " ".join(printable(text).split()).replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0) if "`" in text else 0
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fenced(text: str, lang: str = "") -> str:
    """A fenced code block that `text` cannot close early."""
    text = printable(text).rstrip("\n")
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2) if "```" in text else 2
    fence = "`" * (longest + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


class MarkdownFormat:
    """Summary table by strategy and severity, findings by strategy, then input problems."""

    def render(self, report: Report) -> str:
        """The report as a markdown document."""
        out: list[str] = [f"# {report.tool.name} report", ""]
        meta = [f"{md_escape(report.tool.name)} {md_escape(report.tool.version)}"]
        meta += [f"target {code_span(t.label)}" + _target_tail(t) for t in report.targets]
        out += [" · ".join(meta), "", f"**{md_escape(report.summary_line())}**", ""]

        findings = report.safe_findings()
        out += _summary_table(findings)

        groups: dict[int, list[Finding]] = {}
        for f in findings:
            groups.setdefault(f.strategy, []).append(f)
        for strategy, group in groups.items():
            out += ["", f"## {strategy}. {md_escape(STRATEGIES.get(strategy, f'Strategy {strategy}'))} ({len(group)})", ""]
            for f in group:
                out += _finding(f)

        problems = report.problem_lines()
        if problems:
            out += ["", f"## Inputs that could not be read ({len(problems)})", ""]
            out += [f"- {md_escape(line)}" for line in problems]

        docs = [r for r in report.used_rules() if r.doc.strip()]
        if docs:
            out += ["", "## Rules", ""]
            for r in docs:
                out += [
                    "<details>",
                    f"<summary>{md_escape(r.id)}: {md_escape(r.title)}</summary>",
                    "",
                    r.doc.strip(),  # authored with the checks, not user input
                    "",
                    "</details>",
                    "",
                ]
        return "\n".join(out).rstrip("\n") + "\n"


def _target_tail(t) -> str:
    bits = []
    if t.egg_version or t.egg_major:
        bits.append(f"{md_escape(t.framework or 'egg')} {md_escape(t.egg_version or f'{t.egg_major}.x')}")
    if t.env:
        bits.append(f"env {code_span(t.env)}")
    return f" ({', '.join(bits)})" if bits else ""


def _summary_table(findings: list[Finding]) -> list[str]:
    counts: dict[int, dict[str, int]] = {s: dict.fromkeys(SEVERITIES, 0) for s in STRATEGIES}
    for f in findings:
        counts.setdefault(f.strategy, dict.fromkeys(SEVERITIES, 0))[f.severity] += 1
    rows = ["| Strategy | " + " | ".join(s.capitalize() for s in SEVERITIES) + " | Total |",
            "|---|" + "---:|" * (len(SEVERITIES) + 1)]
    totals = dict.fromkeys(SEVERITIES, 0)
    for strategy in sorted(counts):
        c = counts[strategy]
        for s in SEVERITIES:
            totals[s] += c[s]
        name = md_escape(STRATEGIES.get(strategy, f"Strategy {strategy}"))
        rows.append(f"| {strategy}. {name} | " + " | ".join(str(c[s]) for s in SEVERITIES) + f" | {sum(c.values())} |")
    rows.append("| **Total** | " + " | ".join(f"**{totals[s]}**" for s in SEVERITIES) + f" | **{sum(totals.values())}** |")
    return rows


def _finding(f: Finding) -> list[str]:
    title = f.title or f.message
    out = [f"### {md_escape(f.rule_id)}: {md_escape(title)}", ""]
    cwe = f"[CWE-{f.cwe}]({cwe_url(f.cwe)} \"{md_escape(cwe_name(f.cwe))}\")" if f.cwe else "n/a"
    out.append(f"- **Severity:** {f.severity} · **Confidence:** {f.confidence} · **CWE:** {cwe}")
    out.append(f"- **Location:** {code_span(str(f.location))}")
    if f.config_key:
        out.append(f"- **Config key:** {code_span(f.config_key)}")
    if f.package:
        out.append(f"- **Package:** {code_span(f.package)}")
    if f.env:
        out.append(f"- **Env:** {code_span(f.env)}")
    out += ["", md_escape(f.message), ""]
    if f.evidence:
        out += ["**Evidence**", "", fenced(f.evidence), ""]
    if f.fix:
        lang = "js" if (f.location.path or "").endswith(_JS_SUFFIXES) else ""
        out += ["**Fix**", "", fenced(f.fix, lang), ""]
    return out
