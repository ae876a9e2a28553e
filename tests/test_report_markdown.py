"""`--format markdown`: a report to paste into a PR or wiki."""

from __future__ import annotations

import re

from eggshield.finding import STRATEGIES, Location
from eggshield.report import FORMATS, Report
from report_samples import f, full_report


def render(report: Report) -> str:
    return FORMATS["markdown"].render(report)


def test_summary_table_by_strategy_and_severity():
    out = render(full_report())
    rows = [line for line in out.split("\n") if line.startswith("| ")]
    assert rows[0] == "| Strategy | Critical | High | Medium | Low | Info | Total |"
    assert rows[1] == f"| 1. {STRATEGIES[1]} | 0 | 1 | 0 | 1 | 0 | 2 |"
    assert rows[3] == f"| 3. {STRATEGIES[3]} | 1 | 0 | 0 | 0 | 0 | 1 |"
    assert rows[-1] == "| **Total** | **2** | **3** | **2** | **2** | **1** | **10** |"
    assert len(rows) == 1 + 8 + 1  # header, eight strategies, total
    assert "**10 findings: 2 critical, 3 high, 2 medium, 2 low, 1 info; 2 files could not be read; 2 suppressed; 3 in baseline**" in out


def test_header_names_the_target():
    assert "target `my-app` (egg 3.17.5, env `prod`)" in render(full_report())


def test_findings_grouped_by_strategy_with_location_evidence_and_fix():
    out = render(full_report())
    sections = re.findall(r"^## (\d)\. ", out, re.M)
    assert sections == [str(n) for n in range(1, 9)]
    csrf = out[out.index("## 5. CSRF protection (1)"):out.index("## 6.")]
    assert "### EGG-CSRF-001: CSRF protection disabled" in csrf
    assert "- **Location:** `config/config.prod.js:12`" in csrf
    assert "- **Config key:** `security.csrf.enable`" in csrf
    assert "[CWE-352](https://cwe.mitre.org/data/definitions/352.html" in csrf
    assert "**Evidence**\n\n```\nsecurity: { csrf: { enable: false } }\n```" in csrf
    assert "**Fix**\n\n```js\nconfig.security = {\n  csrf: { enable: true },\n};\n```" in csrf


def test_input_problems_and_rule_docs_are_listed():
    out = render(full_report())
    problems = out[out.index("## Inputs that could not be read (2)"):]
    assert "- config/config.local.js: unexpected token '}' at 3:1" in problems
    assert "<summary>EGG-CSRF-001: CSRF protection disabled</summary>" in out
    assert "Set `security.csrf.enable` to `true`." in out


def test_evidence_cannot_close_its_fence_or_inject_html():
    evil = "```\n</details><script>alert(1)</script>\n```"
    report = Report(findings=[f("EGG-LOG-004", 8, "medium", 79, Location("logs/web.log", 3),
                                "XSS payload <img src=x onerror=alert(1)> | seen in log", evidence=evil)])
    out = render(report)
    assert "<img" not in out and "payload &lt;img src=x onerror=alert(1)&gt;" in out
    fence = re.search(r"\*\*Evidence\*\*\n\n(`{4,})\n", out)
    assert fence, "evidence with ``` needs a longer fence"
    body = out[fence.end():]
    assert body.index(evil) < body.index("\n" + fence.group(1))
    assert "\\| seen in log" in out  # a pipe cannot break a table or layout


def test_empty_report_renders_a_zero_table():
    out = render(Report())
    assert "**No findings**" in out
    assert "| **Total** | **0** | **0** | **0** | **0** | **0** | **0** |" in out
    assert "## Inputs" not in out
