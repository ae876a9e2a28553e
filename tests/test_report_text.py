"""`--format text`: what a person reads in a terminal or a CI log."""

from __future__ import annotations

import io

from eggshield.finding import STRATEGIES, InputProblem, Location
from eggshield.report import FORMATS, Report, Target, TextFormat
from report_samples import f, full_report, many_findings


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def plain(report: Report) -> str:
    return TextFormat(stream=io.StringIO()).render(report)


def test_piped_output_has_no_ansi_codes_and_fits_100_columns():
    out = FORMATS["text"].render(full_report())  # pytest captures stdout: not a TTY
    assert "\x1b" not in out
    lines = out.rstrip("\n").split("\n")
    assert all(len(line) <= 100 for line in lines[:-1])
    assert all(line == line.rstrip() for line in lines)


def test_tty_gets_colour_and_no_color_env_turns_it_off(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b[" in TextFormat(stream=FakeTTY(), width=100).render(full_report())
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b" not in TextFormat(stream=FakeTTY(), width=100).render(full_report())


def test_colour_can_be_forced_either_way(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    assert "\x1b[" in TextFormat(color=True, stream=io.StringIO()).render(full_report())
    assert "\x1b" not in TextFormat(color=False, stream=FakeTTY()).render(full_report())


def test_header_names_target_egg_version_and_env():
    out = plain(full_report())
    head = out.split("\n")[:2]
    assert head[0].startswith("eggshield ")
    assert head[1] == "Target: my-app (egg 3.17.5, env prod)"
    multi = plain(Report(targets=[Target("api", 3, None, "prod"), Target("web", 4, "4.0.1", "local")]))
    assert "  - api (egg 3.x, env prod)" in multi and "  - web (egg 4.0.1, env local)" in multi


def test_findings_grouped_by_strategy_with_counts_in_strategy_order():
    out = plain(full_report())
    headers = [line for line in out.split("\n") if line[:2] in {f"{n}." for n in range(1, 9)}]
    assert headers == [
        f"1. {STRATEGIES[1]} (2 findings)", f"2. {STRATEGIES[2]} (1 finding)", f"3. {STRATEGIES[3]} (1 finding)",
        f"4. {STRATEGIES[4]} (1 finding)", f"5. {STRATEGIES[5]} (1 finding)", f"6. {STRATEGIES[6]} (1 finding)",
        f"7. {STRATEGIES[7]} (1 finding)", f"8. {STRATEGIES[8]} (2 findings)",
    ]


def test_a_finding_shows_severity_rule_location_message_evidence_and_fix():
    out = plain(full_report())
    block = out[out.index("HIGH      EGG-CSRF-001"):]
    lines = block.split("\n")
    assert lines[0].startswith("HIGH      EGG-CSRF-001  config/config.prod.js:12  security.csrf.enable")
    assert lines[1].strip() == "CSRF protection is disabled in prod."
    assert lines[2].strip() == "evidence: security: { csrf: { enable: false } }"
    # a multi-line fix keeps its own indentation, under the finding
    assert lines[3].strip() == "fix:"
    assert lines[4:7] == ["            config.security = {", "              csrf: { enable: true },", "            };"]
    assert "MEDIUM    EGG-HDR-002  http://127.0.0.1:7001/" in out


def test_summary_line_counts_severities_and_unreadable_inputs():
    out = plain(full_report())
    assert out.rstrip("\n").split("\n")[-1] == (
        "10 findings: 2 critical, 3 high, 2 medium, 2 low, 1 info; 2 files could not be read; "
        "2 suppressed; 3 in baseline")
    assert "Inputs that could not be read (2)" in out
    assert "  config/config.local.js: unexpected token '}' at 3:1" in out
    one = Report(findings=many_findings()[:1], problems=[InputProblem("a.js", "x")])
    assert plain(one).rstrip().split("\n")[-1] == "1 finding: 1 high; 1 file could not be read"


def test_empty_report_says_no_findings():
    assert plain(Report()).rstrip().split("\n")[-1] == "No findings"


def test_hostile_text_cannot_style_or_escape_the_terminal(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    report = Report(findings=[f("EGG-LOG-003", 8, "low", 117, Location("logs/web.log", 9),
                                "[bold red]injected markup[/]", evidence="GET /?q=\x1b[2J\x1b[31mboom")])
    for out in (plain(report), TextFormat(color=True, stream=io.StringIO()).render(report)):
        assert "[bold red]injected markup[/]" in out
        assert "\x1b[2J" not in out
        assert "\\x1b[2J" in out
