"""The probe's politeness and its clear errors, against real local servers (stdlib http.server on
127.0.0.1, counting what they receive): budget, rate, origin, methods, redirects, a non-Egg
server, a server that is down or never answers, and URLs that are not http(s)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time

import jsonschema
import pytest

from eggshield.probe import ProbeOptions, run_probe
from eggshield.probe.client import PoliteClient, ProbeError, UnsafeMethodRefused
from probe_http import SRC, Receiver, _cli, _free_port


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_budget_is_never_exceeded(receiver):
    result = run_probe(ProbeOptions(url=receiver.url, budget=4, rate=500))
    assert len(receiver.seen) == 4 == result.requests_sent
    assert any("budget of 4 spent" in why for _, why in result.skipped)


def test_rate_limit_spaces_requests(receiver):
    run_probe(ProbeOptions(url=receiver.url, budget=6, rate=5))
    times = [t for t, *_ in receiver.seen]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(times) == 6 and min(gaps) >= 0.15  # 1/5 s, minus scheduling noise
    assert times[-1] - times[0] >= 0.9


def test_safe_mode_sends_only_get_head_options(receiver):
    result = run_probe(ProbeOptions(url=receiver.url, budget=100, rate=500))
    assert receiver.methods() <= {"GET", "HEAD", "OPTIONS"}
    assert not result.csrf.ran and "--allow-unsafe-methods" in result.csrf.why_not
    with pytest.raises(UnsafeMethodRefused):
        PoliteClient(receiver.url).request("POST", "/", case="x")


def test_off_origin_redirect_is_not_followed():
    other = Receiver()
    first = Receiver({"/": (302, {"Location": other.url + "/landing"}, b"")})
    try:
        result = run_probe(ProbeOptions(url=first.url, budget=20, rate=500))
        assert other.seen == []
        assert any("another origin" in n for n in result.notes)
        assert result.root.status == 302  # the redirect itself is what gets graded
        with pytest.raises(ProbeError, match="another origin"):
            PoliteClient(first.url).request("GET", other.url + "/x", case="x")
    finally:
        first.close()
        other.close()


def test_same_origin_redirect_is_followed():
    r = Receiver({"/": (302, {"Location": "/home"}, b"")})
    try:
        result = run_probe(ProbeOptions(url=r.url, budget=20, rate=500))
        assert result.root.target == "/home" and result.root.status == 200
    finally:
        r.close()


def test_plain_http_server_is_probed_without_egg_verdicts(tmp_path):
    (tmp_path / "index.html").write_text("<h1>static</h1>")
    proc = subprocess.Popen([sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1", "-d", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N ..."
        port = int(line.split(" port ")[1].split()[0])
        out = _cli(f"http://127.0.0.1:{port}/", "--format", "json", "--allow-unsafe-methods", "--rate", "200")
    finally:
        proc.terminate()
        proc.wait(10)
    assert out.returncode == 1, out.stderr  # no CSP: medium
    doc = json.loads(out.stdout)
    ids = {f["rule_id"] for f in doc["findings"]}
    assert "EGG-HDR-100" in ids and "EGG-HDR-103" in ids
    assert not ids & {"EGG-ERR-102", "EGG-CSRF-100", "EGG-CSRF-101"}  # POST answers 501: nothing proven
    assert doc["probe"]["looks_like_egg"] is False
    assert {c["outcome"] for c in doc["probe"]["csrf"]["cases"]} <= {"inconclusive", "not run"}
    assert "Traceback" not in out.stderr


def test_unreachable_server_is_one_clear_line():
    out = _cli(f"http://127.0.0.1:{_free_port()}")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert lines[-1].startswith("eggshield: cannot reach") and "connection refused" in lines[-1]
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_server_that_never_answers_times_out():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)  # accepts connections, never answers
    try:
        t0 = time.monotonic()
        out = _cli(f"http://127.0.0.1:{sock.getsockname()[1]}", "--timeout", "0.5")
        assert time.monotonic() - t0 < 20
    finally:
        sock.close()
    assert out.returncode == 2 and "no answer within 0.5 s" in out.stderr


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "127.0.0.1:7001", "http://", "http://user:pw@127.0.0.1/"])
def test_bad_urls_exit_2(url):
    out = _cli(url)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


@pytest.mark.parametrize("args", [["--budget", "0"], ["--rate", "0"], ["--route", "api/x"], ["--route", "FETCH /x"]])
def test_bad_options_exit_2(receiver, args):
    out = _cli(receiver.url, *args)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert receiver.seen == []


def test_defaults_are_printed_and_fail_on_none(receiver):
    out = _cli(receiver.url, "--fail-on", "none", "--rate", "200")
    assert out.returncode == 0
    assert "budget 150 requests · rate 200/s · timeout 10 s · safe mode" in out.stderr
    assert "Header grade:" in out.stdout and "CSRF matrix: not run" in out.stdout


def test_hostile_server_cannot_inject_markdown():
    evil = "<script>alert(1)</script> | [x](http://e)"
    r = Receiver({"/": (200, {"Content-Type": "text/html", "X-Powered-By": evil}, b"x")})
    try:
        out = _cli(r.url, "--format", "markdown", "--rate", "200")
    finally:
        r.close()
    outside_code = re.sub(r"(?ms)^(`{3,})[^\n]*\n.*?^\1$", "", out.stdout)  # fenced blocks
    outside_code = re.sub(r"(`+)(?:(?!\1).)+?\1", "", outside_code)  # inline code spans
    assert "<script>alert(1)" in out.stdout  # shown as code (fenced evidence, table code span) ...
    assert "<script>" not in outside_code  # ... and escaped everywhere else
    assert "&lt;script&gt;alert(1)" in outside_code


def test_sarif_output_is_valid_json(receiver, tmp_path):
    dest = tmp_path / "probe.sarif"
    out = _cli(receiver.url, "--format", "sarif", "-o", str(dest), "--rate", "200")
    assert out.returncode == 1
    doc = json.loads(dest.read_text())
    schema = json.loads((SRC / "eggshield" / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(doc, schema)
    results = doc["runs"][0]["results"]
    assert any(r["ruleId"] == "EGG-HDR-100" for r in results)
