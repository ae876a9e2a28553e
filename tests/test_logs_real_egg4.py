"""Logs a real egg 4 app writes (started here), parsed and analysed as a user would."""

from __future__ import annotations

import pytest

from eggrt import RuntimeUnavailable
from eggrt.logserver import start_log_app
from eggshield.logs.source import ReadResult, read_records
from logs_realapp import APP, analyze_json, assert_expected_findings, drive


@pytest.fixture(scope="module")
def app():
    try:
        running = start_log_app(APP, 4)
    except RuntimeUnavailable as exc:
        pytest.fail(f"egg 4 runtime unavailable: {exc} (tests/fixtures/logs/recorded holds the offline samples)")
    try:
        yield running
    finally:
        running.cleanup()


@pytest.fixture(scope="module")
def logs(app):
    drive(app)
    app.stop()  # closing the app flushes Egg's buffered loggers
    return app.log_dir


def test_egg4_watch_alerts_on_a_live_csrf_burst(app, tmp_path_factory):
    """The watcher follows the directory while Egg serves and buffers (~1 s) its writes."""
    import time

    from eggshield.logs.watch import Watcher
    from eggshield.logs.windows import load_rules
    from eggshield.store import Store

    sent = []
    store = Store(tmp_path_factory.mktemp("watch") / "state.db")
    w = Watcher(app.log_dir, store, load_rules(), deliver=lambda batch: [sent.append(p) or p.key for p in batch])
    w.poll()  # first run: start at the end of what is already there
    for _ in range(6):
        app.request("POST", "/login", body=b"u=1", headers={"content-type": "application/x-www-form-urlencoded",
                                                             "x-forwarded-for": "192.0.2.44"})
    deadline = time.monotonic() + 15
    while not sent and time.monotonic() < deadline:
        time.sleep(0.3)
        w.poll()
    w.close()
    store.close()
    csrf = [p for p in sent if p.rule == "csrf-failures"]
    assert len(csrf) == 1, "one alert for the burst, not one per request"
    assert csrf[0].data["group"] == "192.0.2.44" and csrf[0].data["finding"] == "EGG-LOG-100"
    app.wait_for("logdemo-web.log", "192.0.2.44")


def test_egg4_writes_the_files_egg_facts_describe(logs):
    names = {p.name for p in logs.iterdir()}
    assert {"logdemo-web.log", "egg-web.log", "egg-agent.log", "common-error.log", "egg-schedule.log",
            "logdemo-web.json.log", "common-error.json.log"} <= names


def test_egg4_records_parse_with_fractional_durations_and_no_json_prefix(logs):
    result = ReadResult()
    recs = list(read_records([logs / "logdemo-web.log"], result=result))
    assert result.problems == []
    csrf = [r for r in recs if r.error_name == "ForbiddenError" and "csrf" in r.message]
    assert len([r for r in csrf if r.ip == "203.0.113.9"]) == 3
    assert not all(r.duration_ms.is_integer() for r in recs if r.duration_ms is not None), "egg 4: fractional ms"
    boom = next(r for r in recs if r.error_message == "order lookup failed")
    assert boom.causes == ["ECONNREFUSEDError"] and boom.props.get("code") is None  # the code is the cause's
    jrecs = list(read_records([logs / "logdemo-web.json.log"]))
    hello = next(r for r in jrecs if r.message == "hello world")
    assert hello.ip is None and hello.pid is not None, "egg 4's fast context logger writes no prefix to JSON"


def test_egg4_analyze_finds_the_security_events(logs):
    doc, res = analyze_json(logs)
    assert_expected_findings(doc, res)
