"""Plain `--format text` lays out most findings itself instead of through rich (the costly part of
a report with thousands of findings): the page must be the one rich would print, wrapping and all."""

from __future__ import annotations

import io
import random

import pytest
from rich._wrap import divide_line, words

from eggshield.finding import Finding, InputProblem, Location
from eggshield.report import Report, Target, TextFormat
from eggshield.report import text as text_format
from report_samples import full_report

WORDS = ["a", "to", "the", "CSRF", "token", "10.0.4.18", "POST", "/login", "2026-12-03", "12:13:50", "…", "×", "·",
         "failed", "x" * 15, "y" * 40, "/api/v1/users/12345/orders?page=2&sort=desc", "-", "(u108,", "u117)", "'q'"]
ODD = ["\t", "中文", "🙂", "é", "\u200b", "  ", "z" * 130]


def random_text(rnd: random.Random, odd: float) -> str:
    parts = []
    for _ in range(rnd.randint(0, 40)):
        r = rnd.random()
        if r < odd:
            parts.append(rnd.choice(ODD))
        elif r < 0.1:
            parts.append("\n")
        else:
            parts.append(rnd.choice(WORDS))
        parts.append(rnd.choice([" ", " ", " ", "", "  ", "   "]))
    text = "".join(parts)
    return rnd.choice(["", " ", "  "]) + text if rnd.random() < 0.2 else text


def random_report(rnd: random.Random, odd: float) -> Report:
    findings = []
    for i in range(40):
        loc = rnd.choice([Location(f"logs/app-{'w' * rnd.randint(1, 60)}.log", rnd.randint(1, 99999)),
                          Location(url="http://127.0.0.1:7001/" + "p" * rnd.randint(0, 90)), Location("config/x.js")])
        findings.append(Finding(
            rule_id=f"EGG-LOG-{i % 7:03d}", strategy=rnd.choice([5, 7, 8]), severity=rnd.choice(["high", "low", "info"]),
            confidence=rnd.choice(["high", "medium"]), cwe=532, location=loc, message=random_text(rnd, odd),
            title=rnd.choice(["", "A title"]), config_key=rnd.choice([None, "security.csrf"]),
            env=rnd.choice([None, "prod"]), evidence=random_text(rnd, odd) if rnd.random() < 0.8 else "",
            fix=random_text(rnd, odd) if rnd.random() < 0.7 else ""))
    problems = [InputProblem(f"logs/{random_text(rnd, odd)[:50]}", random_text(rnd, odd)) for _ in range(rnd.randint(0, 3))]
    return Report(findings=findings, problems=problems, targets=[Target(label="logs/")])


def through_rich(report: Report, width: int, monkeypatch) -> str:
    with monkeypatch.context() as m:
        m.setattr(text_format, "_flat", lambda lines, width: None)
        return TextFormat(color=False, width=width, stream=io.StringIO()).render(report)


@pytest.mark.parametrize("odd", [0.0, 0.03])
def test_plain_page_is_the_one_rich_prints(monkeypatch, odd):
    rnd = random.Random(11 if odd else 5)
    for _ in range(6):
        report = random_report(rnd, odd)
        width = rnd.choice([20, 21, 37, 60, 80, 100, 133])
        fast = TextFormat(color=False, width=width, stream=io.StringIO()).render(report)
        assert fast == through_rich(report, width, monkeypatch)


def test_sample_report_at_widths_from_20_to_140(monkeypatch):
    report = full_report()
    for width in [*range(20, 40), *range(40, 141, 7)]:
        fast = TextFormat(color=False, width=width, stream=io.StringIO()).render(report)
        assert fast == through_rich(report, width, monkeypatch), width


def test_wrap_cuts_where_rich_cuts():
    rnd = random.Random(2)
    for _ in range(5000):
        line = random_text(rnd, 0.0).replace("\n", " ")
        width = rnd.randint(1, 60)
        cuts = text_format._wrap(line, width)
        offsets = divide_line(line, width, fold=True)
        if cuts is None:  # left to rich: only when rich has to fold a word longer than the line
            assert any(len(word.rstrip()) > width for _, _, word in words(line))
            continue
        bounds = [0, *offsets, len(line)]
        assert cuts == [line[a:b] for a, b in zip(bounds, bounds[1:], strict=False)], (line, width)


def test_a_big_plain_report_is_laid_out_without_rich():
    """Long messages wrap, and still no finding of an ordinary report goes through rich."""
    rnd = random.Random(9)
    report = random_report(rnd, 0.0)
    for f in report.findings:
        f.location = Location("logs/app-web.log", 12)
    assert any(len(f.message) > 200 for f in report.findings)
    parts = text_format._document(report, 100)
    assert sum(isinstance(p, str) for p in parts) >= len(report.findings)
    assert not any(type(p).__name__ in ("Group", "Padding") for p in parts)
    # colour: rich lays out everything
    assert not any(isinstance(p, str) for p in text_format._document(report, None))
