"""`logs analyze` split over worker processes must report exactly what the sequential read reports.

The threshold and chunk size are forced tiny so a small generated log becomes dozens of chunks,
with bursts, multi-line errors, a forged out-of-order line, bad bytes and an over-long line
falling on or across chunk boundaries.
"""

from __future__ import annotations

import gzip
import json
import random
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from eggshield.cli.commands.logs import command as logs_command
from eggshield.logs import parallel
from eggshield.logs.lines import CHUNK, MAX_LINE

STACK = "    at Object.throw (/srv/node_modules/koa/lib/context.js:97:11)\n" \
        "    at dispatch (/srv/node_modules/koa-compose/index.js:42:32)\n"


def stamp(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) + f",{int(t * 1000) % 1000:03d}"


def make_log(path: Path, records: int = 3000, forged_at: int | None = None, extras: dict | None = None) -> Path:
    """An egg 3 text log: requests, CSRF bursts from few IPs, failed logins, multi-line errors, secrets."""
    rnd = random.Random(11)
    extras = extras or {}
    t = 1796300000.0
    out = bytearray()
    for i in range(records):
        t += rnd.random() * 0.2
        when = t + 86400 if i == forged_at else t  # a line dated a day ahead: every later one looks older
        ip = f"10.0.0.{rnd.randint(1, 6)}"
        r = rnd.random()
        ts = stamp(when)
        if r < 0.5:
            line = f"{ts} INFO 4242 [-/{ip}/-/3ms GET /api/items/{i}] list items took {rnd.randint(1, 40)}ms\n"
        elif r < 0.7:
            line = (f"{ts} WARN 4242 [-/{ip}/-/2ms POST /login] nodejs.ForbiddenError: missing csrf token\n{STACK}"
                    'message: "missing csrf token"\npid: 4242\nhostname: web-1\n\n')
        elif r < 0.8:
            line = f"{ts} WARN 4242 [-/{ip}/-/3ms POST /login] login failed for user u{rnd.randint(1, 40)}\n"
        elif r < 0.85:
            line = f"{ts} WARN 4242 [-/{ip}/-/1ms GET /x?f=../../etc/passwd] nodejs.NotFoundError: Not Found\n"
        elif r < 0.9:
            line = (f'{ts} INFO 4242 [-/{ip}/-/5ms POST /signup] signup {{"email":"u{i}@example.com",'
                    f'"password":"pw{i}xyz!"}}\n')
        else:
            line = (f"{ts} ERROR 4242 [-/{ip}/-/12ms GET /orders] nodejs.Error: order lookup failed\n{STACK}\n"
                    f"cause:\n\nnodejs.ECONNREFUSEDError: connect ECONNREFUSED\ncode: \"ECONNREFUSED\"\n\n")
        out += line.encode()
        if i in extras:
            out += extras[i]
    path.write_bytes(bytes(out))
    return path


def analyze_json(path: Path, *more: str) -> str:
    """The JSON report followed by the problem lines (stderr), as one text."""
    res = CliRunner().invoke(logs_command, ["analyze", str(path), "--format", "json", "--fail-on", "none", *more])
    assert res.exit_code == 0, res.output
    return res.output


def report(output: str) -> dict:
    return json.JSONDecoder().raw_decode(output)[0]


@pytest.fixture
def both(monkeypatch):
    """analyze(path) → (in-process JSON, parallel JSON, chunks the parallel run used); each is first checked
    against the line-by-line reference (`source.read_records` + `Analyzer.feed`, what several logs take)."""
    used = []
    real = parallel.analyze_parallel
    single = parallel.single_text_log

    def spy(planned, analyzer, result, since=None):
        used.append(len(planned[2]))
        return real(planned, analyzer, result, since)

    monkeypatch.setattr(parallel, "analyze_parallel", spy)

    def run(path: Path, *more: str, chunk: int = 4096):
        used.clear()
        monkeypatch.setattr(parallel, "single_text_log", lambda paths: None)
        ref = analyze_json(path, *more)
        monkeypatch.setattr(parallel, "single_text_log", single)
        monkeypatch.setattr(parallel, "MIN_BYTES", 1 << 40)
        seq = analyze_json(path, *more)
        assert not used, "the in-process run must not split"
        assert seq == ref, "skimming in one process differs from the line-by-line read"
        monkeypatch.setattr(parallel, "MIN_BYTES", 0)
        monkeypatch.setattr(parallel, "CHUNK_BYTES", chunk)
        par = analyze_json(path, *more)
        assert used, "the parallel path was not taken"
        return seq, par, used[-1]

    return run


def test_parallel_report_is_identical_across_many_chunks(tmp_path, both):
    log = make_log(tmp_path / "shop-web.log")
    seq, par, chunks = both(log)
    assert chunks > 20
    assert par == seq
    found = report(par)
    rules = {f["rule_id"] for f in found["findings"]}
    # bursts (CSRF per IP, failed logins) are window state carried from chunk to chunk in the parent
    assert {"EGG-LOG-100", "EGG-LOG-150"} <= rules or len(rules) >= 3, rules
    # line numbers continue across chunks: the last event sits near the end of the file, not in chunk 1
    lines = log.read_bytes().count(b"\n")
    last = max(int(e["location"].rsplit(":", 1)[1]) for e in found["events"])
    assert last > lines * 0.9


def test_no_secrets_option_is_identical_too(tmp_path, both):
    log = make_log(tmp_path / "shop-web.log", records=1500)
    seq, par, _ = both(log, "--no-secrets")
    assert par == seq


def test_forged_line_before_a_chunk_boundary_flags_the_next_chunks_as_in_sequence(tmp_path, both):
    log = make_log(tmp_path / "shop-web.log", records=2000, forged_at=1200)
    seq, par, _ = both(log)
    assert par == seq
    forged = [e for e in report(par)["events"] if e["rule_id"] == "EGG-LOG-117"]
    # every record after the forged one is dated a day earlier than it: hundreds, in many later chunks
    assert len(forged) > 500


def test_bad_bytes_and_an_over_long_line_in_different_chunks_are_reported_once(tmp_path, both):
    extras = {100: b"\xff\xfe not utf-8 continuation\n", 900: b"nul \x00 byte\n",
              1400: b"2026-12-03 10:00:00,000 INFO 1 " + b"A" * (CHUNK + MAX_LINE) + b"\n",
              1500: b"\xc3 broken again\n"}
    log = make_log(tmp_path / "shop-web.log", records=2000, extras=extras)
    seq, par, _ = both(log, chunk=16384)
    assert par == seq
    assert "shop-web.log: 2 line(s) are not valid UTF-8" in par
    assert "shop-web.log: 1 line(s) hold binary data" in par
    # longer than a read: cut to its head, whichever chunk it falls in
    assert "shop-web.log: 1 line(s) longer than" in par


def test_small_and_compressed_logs_stay_sequential(tmp_path, monkeypatch):
    log = make_log(tmp_path / "shop-web.log", records=200)
    assert parallel.plan([log]) is None  # below MIN_BYTES
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 2048)
    gz = tmp_path / "shop-web.log.2026-12-01.gz"
    gz.write_bytes(gzip.compress(log.read_bytes()))
    assert parallel.plan([gz]) is None
    planned = parallel.plan([log])
    assert planned is not None
    starts = [c.start for c in planned[2]]
    data = log.read_bytes()
    assert all(data[s:s + 2] == b"20" and data[s - 1:s] == b"\n" for s in starts[1:])
    assert planned[2][-1].end == len(data)


def test_a_line_cut_where_the_sequential_reads_cut_it_is_cut_the_same_in_a_chunk(tmp_path, both):
    """A 100 KiB line is truncated only when it straddles one of the reader's 1 MiB reads: the
    workers must read on the same grid, or the reports would differ."""
    from eggshield.logs.lines import open_binary

    log = make_log(tmp_path / "shop-web.log", records=8000)
    with open_binary(str(log)) as fh:
        boundary = len(fh.read1(CHUNK)) + CHUNK  # where the sequential reader's second big read ends
    data = log.read_bytes()
    assert len(data) > boundary
    at = data.rindex(b"\n20", 0, boundary - MAX_LINE - 300) + 1
    long_line = b"2026-12-03 10:00:00,000 INFO 1 " + b"B" * (100 * 1024) + b"\n"
    log.write_bytes(data[:at] + long_line + data[at:])
    seq, par, _ = both(log, chunk=65536)
    assert "shop-web.log: 1 line(s) longer than" in seq
    assert par == seq


def test_last_record_without_a_newline_keeps_its_line_number(tmp_path, both):
    log = make_log(tmp_path / "shop-web.log", records=1500)
    tail = b"2026-12-03 10:00:00,000 WARN 4242 [-/10.9.9.9/-/2ms GET /.env] nodejs.NotFoundError: Not Found"
    log.write_bytes(log.read_bytes() + b"orphan?\n" + tail)
    seq, par, _ = both(log)
    assert par == seq
    lines = log.read_bytes().count(b"\n") + 1
    assert f"shop-web.log:{lines}" in par


def edge_log(path: Path, records: int = 4000, start: float = 1796300000.0) -> Path:
    """Every oddity the fast reader must hand to the line-by-line parser, interleaved with ordinary records."""
    rnd = random.Random(5)
    t = start
    out = bytearray(b"an orphan line before any header\n\n")
    odd = [b"2026-13-45 25:61:61,000 INFO 1 [-/10.0.0.9/-/1ms GET /x] a header with an impossible date\n",
           "{ts} INFO 1 [-/10.0.0.9/-/1ms GET /x] 密码错误 登录失败 for user 张三\n".encode(),
           b"{ts} WARN 1 [-/10.0.0.9/-/1ms POST /x] line with a CR\r\n",
           b"{ts} INFO 1 [-/10.0.0.9/-/1ms GET /x] NUL\x00byte\n",
           b"{ts} INFO 1 [-/10.0.0.9/-/1ms GET /x] bad \xff utf8\n",
           b"{ts} INFO 1 [-/10.0.0.9/-/1ms GET /weird]x] a ] in the url\n",
           b"{ts} INFO 1 [alice/10.0.0.9/trace-1/1.5ms GET /ok?a=1&b=x.y] page 12 of 40\n",
           b"{ts} INFO 1 [-/10.0.0.9/-/1ms GET /a+b] plus in the path\n",
           b"{ts} INFO 1 [-/10.0.0.9/-/1ms GET /pma] a scanner path with no payload\n",
           b"{ts} INFO 1 [-/10.0.0.9/-/1ms GET /HNAP1] a scanner path with a digit\n",
           b"{ts} INFO 1 [egg-security] please configure `config.security.ssrf` first\n",
           b"{ts} INFO 1 esc \x1b[31m in a message\n",
           b"{ts} INFO 1 tab\tonly, which is no control character for forging\n",
           b"{ts} INFO 1 GET /x 404 3ms\n",
           b"{ts} INFO 1 order 4111 1111 1111 1111 and phone 13800138000 and id 11010519491231002X\n",
           b"{ts} INFO 1 [-/10.0.0.9/-/1ms GET /x]\n",
           b"{ts} INFO 1\n",
           b"{ts} INFO 1 continuation follows\n  indented\n\n   \n\n",
           b"{ts} INFO 1 blank message with status=401 inside\n"]
    for i in range(records):
        t += rnd.random() * 0.3
        when = t - 60 if rnd.random() < 0.01 else t  # out of order
        ts = stamp(when).encode()
        if rnd.random() < 0.15:
            out += rnd.choice(odd).replace(b"{ts}", ts)
        else:
            out += f"{ts.decode()} INFO 1 [-/10.0.0.{rnd.randint(1, 9)}/-/2ms GET /api/items/{i}] list items page={i % 50}\n".encode()
    path.write_bytes(bytes(out))
    return path


def test_every_oddity_reads_the_same_three_ways(tmp_path, both):
    log = edge_log(tmp_path / "shop-web.log")
    seq, par, chunks = both(log, chunk=2048)
    assert chunks > 20
    assert par == seq
    doc = report(seq)
    assert doc["summary"]["logs"]["signals"]["log_forging"] > 10
    assert doc["summary"]["logs"]["signals"]["auth_failure"] > 10


def test_since_reads_the_same_three_ways_even_when_a_chunk_starts_undated(tmp_path, both):
    log = edge_log(tmp_path / "shop-web.log", records=6000)
    since = stamp(1796300000.0 + 600).replace(" ", "T").replace(",", ".")
    seq, par, _ = both(log, "--since", since, chunk=1024)
    assert par == seq
    kept = report(seq)["summary"]["logs"]["records"]
    everything = report(both(log, chunk=1024)[0])["summary"]["logs"]["records"]
    assert 0 < kept < everything


def test_a_log_directory_reads_the_same_as_line_by_line(tmp_path, monkeypatch):
    """Several logs (yesterday's rotation gzipped and full of oddities, ERROR records copied into
    common-error.log): skimmed and merged must equal the line-by-line merge, duplicates dropped the same
    way, with and without --since."""
    logs = tmp_path / "logs"
    logs.mkdir()
    web = make_log(logs / "shop-web.log", records=3000)
    data = web.read_bytes()
    errors = b"".join(rec for rec in re_records(data) if b" ERROR " in rec[:40])
    (logs / "common-error.log").write_bytes(errors)
    old = edge_log(tmp_path / "old.log", 800, start=1796300000.0 - 86400)
    (logs / "shop-web.log.2026-12-02.gz").write_bytes(gzip.compress(old.read_bytes()))
    single, many = parallel.single_text_log, parallel.text_logs
    for more in ((), ("--since", stamp(1796300000.0 + 200).replace(" ", "T").replace(",", "."))):
        monkeypatch.setattr(parallel, "single_text_log", lambda paths: None)
        monkeypatch.setattr(parallel, "text_logs", lambda paths: None)
        ref = analyze_json(logs, *more)
        monkeypatch.setattr(parallel, "single_text_log", single)
        monkeypatch.setattr(parallel, "text_logs", many)
        assert analyze_json(logs, *more) == ref
        assert report(ref)["summary"]["logs"]["duplicates_dropped"] > 10


def re_records(data: bytes) -> list[bytes]:
    import re

    starts = [m.start() for m in re.finditer(rb"(?m)^20\d\d-", data)] + [len(data)]
    return [data[a:b] for a, b in zip(starts, starts[1:], strict=False)]
