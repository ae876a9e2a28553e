"""Suppressions (inline comments, .eggshield.toml) and baselines."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from eggshield.finding import Finding, Location
from eggshield.suppress import (
    BaselineError,
    apply_inline,
    apply_policy,
    create_baseline,
    file_line_reader,
    filter_new,
    load_baseline,
    load_policy,
    parse_directive,
    save_baseline,
)


def fnd(rule_id="EGG-CFG-001", path="config/config.default.js", line=5, severity="high", **kw) -> Finding:
    loc = kw.pop("location", None) or Location(path, line)
    return Finding(rule_id=rule_id, strategy=kw.pop("strategy", 4), severity=severity, confidence="high",
                   cwe=kw.pop("cwe", 321), location=loc, message=kw.pop("message", "m"), **kw)


def reader(files: dict[str, str]):
    calls: list[tuple[str, int]] = []

    def read_line(path: str, lineno: int) -> str | None:
        calls.append((path, lineno))
        lines = files.get(path, "").split("\n")
        return lines[lineno - 1] if path in files and 1 <= lineno <= len(lines) else None

    read_line.calls = calls  # type: ignore[attr-defined]
    return read_line


# ---------------------------------------------------------------- inline directives

@pytest.mark.parametrize(("line", "rules", "reason"), [
    ("config.keys = 'x'; // eggshield-ignore EGG-CFG-001: rotated by vault", {"EGG-CFG-001"}, "rotated by vault"),
    ("// eggshield-ignore EGG-CFG-001, EGG-CSRF-001: legacy admin", {"EGG-CFG-001", "EGG-CSRF-001"}, "legacy admin"),
    ("/* eggshield-ignore egg-csrf-001 */", {"EGG-CSRF-001"}, ""),
    ("  // eggshield-ignore: generated file", set(), "generated file"),
    ("// eggshield-ignore", set(), ""),
])
def test_directive_forms(line, rules, reason):
    d = parse_directive(line)
    assert d is not None
    assert set(d.rules) == rules and d.reason == reason
    assert d.blanket == (not rules)


@pytest.mark.parametrize("line", [
    "// eggshield-ignore EGG-CFG-1: typo must not hide everything",
    "// eggshield-ignore EGG-CFG-001x",
    "// eggshield-ignore EGG-CFG-001, : dangling",
    "// eggshield-ignores EGG-CFG-001",
    "const note = 'eggshield-ignore EGG-CFG-001';",  # not in a comment
    "# eggshield-ignore EGG-CFG-001",
])
def test_malformed_or_foreign_directives_hide_nothing(line):
    assert parse_directive(line) is None


def test_trailing_comment_hides_the_finding_on_its_line():
    src = {"config/config.default.js": "a\nb\nc\nd\nconfig.keys = '****'; // eggshield-ignore EGG-CFG-001: vault\n"}
    kept, suppressed = apply_inline([fnd(), fnd("EGG-CSRF-001")], reader(src))
    assert [f.rule_id for f in kept] == ["EGG-CSRF-001"]
    assert len(suppressed) == 1
    s = suppressed[0]
    assert (s.source, s.where, s.reason, s.blanket) == ("inline", "config/config.default.js:5", "vault", False)


def test_comment_line_above_hides_the_next_line_only():
    src = {"app/router.js": "// eggshield-ignore EGG-MW-001: public health check\nrouter.get('/health', h);\nrouter.get('/x', y);\n"}
    findings = [fnd("EGG-MW-001", "app/router.js", 2), fnd("EGG-MW-001", "app/router.js", 3)]
    kept, suppressed = apply_inline(findings, reader(src))
    assert [f.location.line for f in kept] == [3]
    assert suppressed[0].where == "app/router.js:1"


def test_trailing_comment_on_code_does_not_reach_the_next_line():
    src = {"app/router.js": "a(); // eggshield-ignore EGG-MW-001\nrouter.get('/admin', h);\n"}
    kept, suppressed = apply_inline([fnd("EGG-MW-001", "app/router.js", 2)], reader(src))
    assert len(kept) == 1 and not suppressed


def test_blanket_ignore_hides_every_rule_but_is_reported_as_blanket():
    src = {"app/x.ts": "// eggshield-ignore: vendored\nbad();\n"}
    kept, suppressed = apply_inline([fnd("EGG-MW-001", "app/x.ts", 2), fnd("EGG-ERR-001", "app/x.ts", 2)], reader(src))
    assert kept == []
    assert [s.blanket for s in suppressed] == [True, True]


def test_log_files_urls_and_unreadable_lines_are_never_suppressed():
    evil = "GET /?q=// eggshield-ignore\n"
    src = {"logs/web.log": evil, "package-lock.json": evil}
    findings = [
        fnd("EGG-LOG-001", "logs/web.log", 1),  # an attacker wrote this line
        fnd("EGG-UPD-001", "package-lock.json", 1),
        fnd("EGG-HDR-001", location=Location(url="http://x/?// eggshield-ignore")),
        fnd("EGG-CFG-001", "config/missing.js", 3),
        fnd("EGG-CFG-001", "config/config.js", None),
    ]
    rl = reader(src)
    kept, suppressed = apply_inline(findings, rl)
    assert kept == findings and suppressed == []
    assert all(path.endswith(".js") for path, _ in rl.calls)


def test_each_line_is_read_once():
    src = {"a.js": "x\n// eggshield-ignore EGG-CFG-001\ny\n"}
    rl = reader(src)
    apply_inline([fnd(path="a.js", line=3), fnd("EGG-CFG-002", path="a.js", line=3)], rl)
    assert sorted(rl.calls) == [("a.js", 2), ("a.js", 3)]


def test_file_line_reader_reads_under_root_only(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "router.js").write_bytes(b"one\r\n// eggshield-ignore EGG-MW-001\r\ntwo\r\n")
    (tmp_path.parent / "outside.js").write_text("// eggshield-ignore\n")
    read_line = file_line_reader(tmp_path)
    assert read_line("app/router.js", 2) == "// eggshield-ignore EGG-MW-001"
    assert read_line("app/router.js", 99) is None
    assert read_line("../outside.js", 1) is None
    assert read_line("nope.js", 1) is None
    kept, suppressed = apply_inline([fnd("EGG-MW-001", "app/router.js", 3)], read_line)
    assert not kept and suppressed[0].where == "app/router.js:2"


# ---------------------------------------------------------------- .eggshield.toml

def write_policy(root, text: str | bytes):
    path = root / ".eggshield.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return root


def test_no_policy_file_means_defaults(tmp_path):
    policy = load_policy(tmp_path)
    assert (policy.ignore_rules, policy.ignore_paths, policy.severity, policy.fail_on) == ((), (), {}, "high")
    assert policy.source is None and not policy.problems and not policy.warnings


def test_policy_is_read(tmp_path):
    write_policy(tmp_path, """
fail_on = "medium"
[ignore]
rules = ["EGG-CFG-001", "egg-log-*"]
paths = ["config/config.local.js", "test/**"]
[severity]
"EGG-CSRF-001" = "medium"
""")
    policy = load_policy(tmp_path)
    assert policy.fail_on == "medium"
    assert policy.ignore_rules == ("EGG-CFG-001", "EGG-LOG-*")
    assert policy.ignore_paths == ("config/config.local.js", "test/**")
    assert policy.severity == {"EGG-CSRF-001": "medium"}
    assert not policy.problems and not policy.warnings


def test_invalid_toml_is_an_input_problem_not_a_crash(tmp_path):
    write_policy(tmp_path, '[ignore]\nrules = [EGG-CFG-001]\n')
    policy = load_policy(tmp_path)
    assert policy.ignore_rules == ()  # nothing hidden: a broken policy shows more, never less
    assert len(policy.problems) == 1
    problem = policy.problems[0]
    assert problem.path == ".eggshield.toml"
    assert "invalid TOML" in problem.message and "line" in problem.message and "policy ignored" in problem.message


def test_not_utf8_policy_is_an_input_problem(tmp_path):
    write_policy(tmp_path, b'fail_on = "\xff"\n')
    assert "not UTF-8" in load_policy(tmp_path).problems[0].message


def test_unknown_keys_are_warnings_with_a_hint(tmp_path):
    write_policy(tmp_path, 'failon = "low"\n[ignore]\nrule = ["EGG-CFG-001"]\n[extra]\n')
    policy = load_policy(tmp_path)
    assert not policy.problems
    assert policy.warnings == [
        ".eggshield.toml: unknown key 'failon' ignored (did you mean fail_on?)",
        ".eggshield.toml: unknown key 'extra' ignored",
        ".eggshield.toml: unknown key 'ignore.rule' ignored (did you mean rules?)",
    ]


def test_bad_values_are_problems_for_that_key_only(tmp_path):
    write_policy(tmp_path, 'fail_on = "urgent"\n[ignore]\nrules = "EGG-CFG-001"\npaths = [1]\n'
                           '[severity]\n"EGG-CSRF-001" = "huge"\n"EGG-HDR-001" = "low"\n')
    policy = load_policy(tmp_path)
    messages = [p.message for p in policy.problems]
    assert any("fail_on = 'urgent'" in m for m in messages)
    assert any("ignore.paths must be a list of strings" in m for m in messages)
    assert any("severity.EGG-CSRF-001 = 'huge'" in m for m in messages)
    assert policy.fail_on == "high"
    assert policy.ignore_rules == ("EGG-CFG-001",)  # a single string is accepted as a list
    assert policy.severity == {"EGG-HDR-001": "low"}


def test_policy_ignores_rules_and_paths_and_overrides_severity(tmp_path):
    write_policy(tmp_path, """
[ignore]
rules = ["EGG-LOG-*"]
paths = ["config/config.local.js", "test/**", "*.min.js"]
[severity]
"EGG-CSRF-001" = "medium"
""")
    policy = load_policy(tmp_path)
    csrf = fnd("EGG-CSRF-001", "config/config.prod.js", 3, severity="high")
    findings = [
        fnd("EGG-LOG-002", "logs/web.log", 1),
        fnd("EGG-CFG-001", "config/config.local.js", 2),
        fnd("EGG-MW-001", "test/app/controller/home.test.js", 9),
        fnd("EGG-MW-001", "app/public/vendor/jquery.min.js", 1),
        fnd("EGG-MW-001", "app/test.js", 1),
        csrf,
        fnd("EGG-HDR-001", location=Location(url="http://localhost/test/x")),
    ]
    kept, suppressed = apply_policy(findings, policy)
    assert [(f.rule_id, str(f.location)) for f in kept] == [
        ("EGG-MW-001", "app/test.js:1"), ("EGG-CSRF-001", "config/config.prod.js:3"),
        ("EGG-HDR-001", "http://localhost/test/x")]
    assert [s.reason for s in suppressed] == [
        "ignore.rules: EGG-LOG-*", "ignore.paths: config/config.local.js", "ignore.paths: test/**",
        "ignore.paths: *.min.js"]
    assert all(s.where == ".eggshield.toml" for s in suppressed)
    assert kept[1].severity == "medium" and kept[1].extra["severity_overridden_from"] == "high"
    assert csrf.severity == "high"  # the caller's finding is not modified


def test_policy_of_an_app_inside_a_monorepo_scan(tmp_path):
    app = tmp_path / "packages" / "api"
    app.mkdir(parents=True)
    write_policy(app, '[ignore]\npaths = ["config/config.local.js"]\nrules = ["EGG-CFG-001"]\n')
    policy = load_policy(app, scan_root=tmp_path)
    assert policy.source == "packages/api/.eggshield.toml"
    findings = [fnd("EGG-CSRF-001", "packages/api/config/config.local.js", 1),
                fnd("EGG-CFG-001", "packages/api/config/config.default.js", 1),
                fnd("EGG-CFG-001", "packages/web/config/config.default.js", 1),
                fnd("EGG-CSRF-001", "config/config.local.js", 1)]
    kept, suppressed = apply_policy(findings, policy)
    assert [f.location.path for f in kept] == ["packages/web/config/config.default.js", "config/config.local.js"]
    assert len(suppressed) == 2


def test_rule_entries_matching_no_rule_are_flagged(tmp_path):
    write_policy(tmp_path, '[ignore]\nrules = ["EGG-CFG-01", "EGG-LOG-*"]\n[severity]\n"EGG-CSRF-001" = "low"\n')
    policy = load_policy(tmp_path)
    assert any("does not look like a rule id" in w for w in policy.warnings)
    warnings = policy.unknown_rule_warnings(["EGG-CFG-001", "EGG-CSRF-001", "EGG-LOG-001"])
    assert warnings == [".eggshield.toml: rule EGG-CFG-01 matches no eggshield rule (did you mean EGG-CFG-001?)"]


# ---------------------------------------------------------------- baselines

def test_baseline_accepts_todays_findings_and_reports_only_new_ones(tmp_path):
    old = [fnd("EGG-CFG-001", "config/config.default.js", 5, config_key="keys", evidence="keys: '****'"),
           fnd("EGG-CSRF-001", "config/config.prod.js", 9, config_key="security.csrf.enable")]
    baseline = create_baseline(old, now=datetime(2025, 1, 2, 3, 4, 5, 678, tzinfo=UTC))
    assert baseline["version"] == 1 and baseline["created"] == "2025-01-02T03:04:05Z"
    assert {e["rule_id"] for e in baseline["fingerprints"]} == {"EGG-CFG-001", "EGG-CSRF-001"}
    assert {e["path"] for e in baseline["fingerprints"]} == {"config/config.default.js", "config/config.prod.js"}

    path = tmp_path / "baseline.json"
    save_baseline(path, baseline)
    loaded = load_baseline(path)

    moved = fnd("EGG-CFG-001", "config/config.default.js", 40, config_key="keys", evidence="keys: '****'")
    fresh = fnd("EGG-HDR-001", "config/config.prod.js", 2, config_key="security.xframe.enable")
    new, baselined = filter_new([moved, old[1], fresh], loaded)
    assert new == [fresh]  # a line shift is not a new finding
    assert baselined == 2


def test_a_second_copy_of_a_baselined_finding_is_new():
    one = fnd("EGG-MW-001", "app/controller/a.js", 3, evidence="ctx.body = err.stack")
    baseline = create_baseline([one])
    twin = fnd("EGG-MW-001", "app/controller/a.js", 30, evidence="ctx.body = err.stack")
    new, baselined = filter_new([one, twin], baseline)
    assert (len(new), baselined) == (1, 1)


@pytest.mark.parametrize(("content", "message"), [
    (None, "baseline file not found"),
    ("{not json", "not valid JSON (line 1, column 2"),
    ("[]", "not an eggshield baseline"),
    ('{"fingerprints": []}', "no integer \"version\""),
    ('{"version": 9, "fingerprints": []}', "baseline version 9 is newer"),
    ('{"version": 1, "fingerprints": [{"rule_id": "EGG-CFG-001"}]}', "fingerprints[0] has no fingerprint"),
])
def test_broken_baseline_files_give_a_clear_error(tmp_path, content, message):
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(BaselineError) as err:
        load_baseline(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_filter_new_rejects_something_that_is_not_a_baseline():
    with pytest.raises(BaselineError):
        filter_new([fnd()], {"findings": []})


def test_saved_baseline_is_stable_readable_json(tmp_path):
    findings = [fnd("EGG-CSRF-001", "b.js", 1), fnd("EGG-CFG-001", "a.js", 1)]
    path = tmp_path / "b.json"
    save_baseline(path, create_baseline(findings, now=datetime(2025, 1, 1, tzinfo=UTC)))
    text = path.read_text()
    assert text.endswith("\n") and text.count("\n") > 5
    assert [e["path"] for e in json.loads(text)["fingerprints"]] == ["a.js", "b.js"]
