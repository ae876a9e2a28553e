"""Parsing egg-logger's files: recorded logs of real egg 3 / egg 4 apps, rotations, and hostile input."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from eggshield.logs.files import classify, select
from eggshield.logs.lines import MAX_LINE, lines_of
from eggshield.logs.source import ReadResult, read_records
from eggshield.logs.textfmt import parse_text

RECORDED = Path(__file__).parent / "fixtures" / "logs" / "recorded"


def records(path, **kw):
    result = ReadResult()
    return list(read_records([Path(path)], result=result, **kw)), result


@pytest.mark.parametrize("major", [3, 4])
def test_recorded_app_log_prefix_fields(major):
    recs, result = records(RECORDED / f"egg{major}")
    assert result.problems == []
    hello = next(r for r in recs if r.message == "hello world" and r.user == "alice")
    assert (hello.ip, hello.method, hello.url, hello.level, hello.logger) == ("127.0.0.1", "GET", "/", "INFO",
                                                                             "logdemo-web")
    # egg 3 writes integer milliseconds, egg 4 fractional ones
    assert hello.duration_ms == (10.0 if major == 3 else 6.024)
    assert hello.time.year == 2026 and hello.time.microsecond == (554000 if major == 3 else 78000)


@pytest.mark.parametrize("major", [3, 4])
def test_recorded_error_record_with_cause_props_and_hostname(major):
    recs, _ = records(RECORDED / f"egg{major}")
    boom = next(r for r in recs if r.error_message == "order lookup failed")
    assert boom.level == "ERROR" and boom.error_name == "Error"
    assert boom.causes == ["ECONNREFUSEDError"]  # name built from err.code by egg-logger
    assert boom.hostname == "vm" and boom.route == "GET /boom"
    assert boom.logger == "logdemo-web", "the app log's copy is kept, common-error's duplicate dropped"
    csrf = next(r for r in recs if r.error_name == "ForbiddenError" and "csrf" in r.message)
    assert csrf.props == {"message": "missing csrf token"} and csrf.ip == "203.0.113.9"
    assert "    at " in csrf.text if major == 3 else True


@pytest.mark.parametrize("major", [3, 4])
def test_error_records_are_counted_once_across_app_log_and_common_error(major):
    recs, result = records(RECORDED / f"egg{major}")
    assert sum(1 for r in recs if r.error_message == "order lookup failed") == 1
    assert result.duplicates == 2


def test_json_log_egg3_has_padding_message_egg4_does_not():
    recs3, _ = records(RECORDED / "egg3" / "logdemo-web.json.log")
    recs4, _ = records(RECORDED / "egg4" / "logdemo-web.json.log")
    h3 = next(r for r in recs3 if r.message == "hello world")
    h4 = next(r for r in recs4 if r.message == "hello world")
    assert (h3.fmt, h3.user, h3.ip, h3.duration_ms) == ("json", "alice", "127.0.0.1", 10.0)
    assert (h4.fmt, h4.ip, h4.method) == ("json", None, None)
    err = next(r for r in recs3 if r.error_name == "ForbiddenError")
    assert err.props == {"message": "missing csrf token"} and err.hostname == "vm"


def test_directory_reads_text_log_not_its_json_twin():
    sel = select([RECORDED / "egg3"])
    names = sorted(f.path.name for f in sel.files)
    assert "logdemo-web.log" in names and "logdemo-web.json.log" not in names
    assert any("same records as logdemo-web.log" in why for _, why in sel.notes)


def test_multiline_info_record_keeps_its_continuation_lines():
    recs, _ = records(RECORDED / "egg3" / "egg-web.log")
    timeline = next(r for r in recs if r.message.startswith("egg start timeline"))
    assert timeline.text.count("\n") > 10 and "Process Start" in timeline.text


def _line(ts: str, msg: str, level="INFO", pid=100) -> str:
    return f"{ts} {level} {pid} {msg}\n"


def test_rotations_read_oldest_first_including_gzip(tmp_path):
    (tmp_path / "app-web.log.2026-12-01.gz").write_bytes(gzip.compress(_line("2026-12-01 10:00:00,000", "one").encode()))
    (tmp_path / "app-web.log.2026-12-02").write_text(_line("2026-12-02 10:00:00,000", "two"))
    (tmp_path / "app-web.log.2").write_text(_line("2026-12-03 09:00:00,000", "three"))
    (tmp_path / "app-web.log.1").write_text(_line("2026-12-03 10:00:00,000", "four"))
    (tmp_path / "app-web.log").write_text(_line("2026-12-03 11:00:00,000", "five"))
    (tmp_path / "notes.txt").write_text("not a log")
    recs, result = records(tmp_path)
    assert [r.message for r in recs] == ["one", "two", "three", "four", "five"]
    assert len(result.files) == 5


def test_logs_merged_in_time_order_and_since_filter(tmp_path):
    (tmp_path / "a-web.log").write_text(_line("2026-12-03 10:00:00,000", "a1") + _line("2026-12-03 10:00:02,000", "a2"))
    (tmp_path / "egg-web.log").write_text(_line("2026-12-03 10:00:01,000", "b1"))
    recs, _ = records(tmp_path)
    assert [r.message for r in recs] == ["a1", "b1", "a2"]
    from datetime import datetime
    recs, _ = records(tmp_path, since=datetime(2026, 12, 3, 10, 0, 1))
    assert [r.message for r in recs] == ["b1", "a2"]


def test_classify_names_egg_and_logrotator_write():
    assert classify(Path("myapp-web.log")).current
    assert classify(Path("myapp-web.log.2026-12-03")).rank[1] == "2026-12-03"
    assert classify(Path("myapp-web.log.2026-12-03-07")).rank[2] == "07"
    assert classify(Path("common-error.log.3")).rank[3] == -3
    assert classify(Path("egg-web.json.log")).json
    assert classify(Path("readme.md")) is None


# --- hostile and broken input: one clear problem line each, the rest is read ---------------------

def test_binary_garbage_is_reported_and_good_lines_kept(tmp_path):
    f = tmp_path / "app-web.log"
    f.write_bytes(_line("2026-12-03 10:00:00,000", "before").encode() + os.urandom(4096).replace(b"\n", b"")
                  + b"\x00\x00\n" + _line("2026-12-03 10:00:01,000", "after").encode())
    recs, result = records(f)
    assert [r.message for r in recs if r.time] == ["before", "after"]
    msgs = [p.message for p in result.problems]
    assert any("binary data" in m for m in msgs)
    assert len(msgs) <= 2, msgs  # binary + possibly invalid UTF-8: one line each, not one per byte


def test_ten_megabyte_line_is_cut_and_reading_goes_on(tmp_path):
    f = tmp_path / "app-web.log"
    with open(f, "wb") as fh:
        fh.write(_line("2026-12-03 10:00:00,000", "x" * (10 * 1024 * 1024)).encode())
        fh.write(_line("2026-12-03 10:00:01,000", "next").encode())
    recs, result = records(f)
    assert [r.message[:4] for r in recs] == ["xxxx", "next"]
    assert len(recs[0].text) <= MAX_LINE and "truncated" in recs[0].flags
    assert recs[1].line == 2
    [problem] = result.problems
    assert "longer than 64 KiB" in problem.message and "10,485,79" in problem.message


def test_invalid_utf8_is_replaced_not_fatal(tmp_path):
    f = tmp_path / "app-web.log"
    f.write_bytes(b"2026-12-03 10:00:00,000 INFO 1 caf\xe9 \xff\xfe ok\n" + _line("2026-12-03 10:00:01,000", "n").encode())
    recs, result = records(f)
    assert recs[0].message.startswith("caf\ufffd") and recs[1].message == "n"
    assert [p.message for p in result.problems] == ["1 line(s) are not valid UTF-8; bad bytes replaced with U+FFFD"]


def test_truncated_gzip_keeps_lines_before_the_cut(tmp_path):
    data = gzip.compress("".join(_line(f"2026-12-03 10:00:{i:02d},000", f"m{i}") for i in range(50)).encode())
    f = tmp_path / "app-web.log.2026-12-03.gz"
    f.write_bytes(data[: len(data) // 2])
    (tmp_path / "app-web.log").write_text(_line("2026-12-04 10:00:00,000", "today"))
    recs, result = records(tmp_path)
    assert recs[-1].message == "today" and len(recs) > 1
    [problem] = result.problems
    assert problem.path.endswith(".gz") and "ends early" in problem.message


def test_crlf_injected_fake_record_and_ansi_escapes_are_flagged(tmp_path):
    text = (_line("2026-12-03 10:00:05,000", "[-/1.2.3.4/-/1ms GET /search?q=x] search x")
            + _line("2026-12-03 09:00:00,000", "[admin/10.0.0.1/-/1ms POST /login] login ok for admin")  # forged
            + _line("2026-12-03 10:00:06,000", "[-/1.2.3.4/-/1ms GET /q] user said \x1b[2J\x1b[1;1Hcleared")
            + "2026-12-03 10:00:07,000 INFO 100 [-/1.2.3.4/-/1ms GET /r] carriage\rreturn\r\n")
    f = tmp_path / "app-web.log"
    f.write_text(text)
    recs, _ = records(f)
    assert "out-of-order" in recs[1].flags
    assert "control-chars" in recs[2].flags
    assert recs[3].message == "carriage\rreturn" and "control-chars" in recs[3].flags


def test_fake_prefix_inside_a_message_is_not_taken_for_the_request():
    [rec] = parse_text(lines_of(b"2026-12-03 10:00:00,000 INFO 1 [-/1.2.3.4/-/3ms GET /a] name=[admin/9.9.9.9/-/1ms"
                                b" GET /admin] hi\n"), "f")
    assert (rec.ip, rec.url) == ("1.2.3.4", "/a") and rec.message.startswith("name=[admin")
    [plugin] = parse_text(lines_of(b"2026-12-03 10:00:00,000 WARN 1 [egg-security] please configure\n"), "f")
    assert plugin.ip is None and plugin.message.startswith("[egg-security]")


def test_orphan_continuation_lines_become_a_record_not_lost():
    recs = list(parse_text(lines_of(b"    at x (a.js:1:1)\nmessage: \"m\"\n2026-12-03 10:00:00,000 INFO 1 ok\n"), "f"))
    assert recs[0].flags == ("orphan",) and "message" in recs[0].text and recs[1].message == "ok"


def test_unreadable_and_missing_paths_are_problems(tmp_path):
    f = tmp_path / "app-web.log"
    f.write_text(_line("2026-12-03 10:00:00,000", "ok"))
    recs, result = records(tmp_path / "nope")
    assert recs == [] and "no such file" in result.problems[0].message
    if os.geteuid() != 0:  # root reads anything
        f.chmod(0)
        recs, result = records(f)
        assert "cannot read" in result.problems[0].message
