"""Logs a real egg 3 app writes (started here), parsed and analysed as a user would."""

from __future__ import annotations

import pytest

from eggrt import RuntimeUnavailable
from eggrt.logserver import start_log_app
from eggshield.logs.source import ReadResult, read_records
from logs_realapp import APP, analyze_json, assert_expected_findings, drive


@pytest.fixture(scope="module")
def logs():
    try:
        app = start_log_app(APP, 3)
    except RuntimeUnavailable as exc:
        pytest.fail(f"egg 3 runtime unavailable: {exc} (tests/fixtures/logs/recorded holds the offline samples)")
    try:
        drive(app)
        app.stop()  # closing the app flushes Egg's buffered loggers
        yield app.log_dir
    finally:
        app.cleanup()


def test_egg3_writes_the_files_egg_facts_describe(logs):
    names = {p.name for p in logs.iterdir()}
    assert {"logdemo-web.log", "egg-web.log", "egg-agent.log", "common-error.log", "egg-schedule.log",
            "logdemo-web.json.log", "common-error.json.log"} <= names


def test_egg3_records_parse_with_integer_durations_and_paddingmessage(logs):
    result = ReadResult()
    recs = list(read_records([logs / "logdemo-web.log"], result=result))
    assert result.problems == []
    csrf = [r for r in recs if r.error_name == "ForbiddenError" and "csrf" in r.message]
    assert len(csrf) == 3 and all(r.ip == "203.0.113.9" and r.duration_ms.is_integer() for r in csrf)
    boom = next(r for r in recs if r.error_message == "order lookup failed")
    assert boom.causes == ["ECONNREFUSEDError"] and boom.props.get("code") is None  # the code is the cause's
    jrecs = list(read_records([logs / "logdemo-web.json.log"]))
    hello = next(r for r in jrecs if r.message == "hello world")
    assert hello.user == "alice" and hello.ip == "127.0.0.1", "egg 3 JSON keeps the prefix in paddingMessage"


def test_egg3_analyze_finds_the_security_events(logs):
    doc, res = analyze_json(logs)
    assert_expected_findings(doc, res)
