"""`logs watch`: following across rotations, restart from the SQLite checkpoint, alert de-duplication,
rate limits, and the syslog sink against a real local syslog receiver."""

from __future__ import annotations

import os
import shutil
import socket
import socketserver
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from eggshield.logs.follow import Follower
from eggshield.logs.watch import Watcher
from eggshield.logs.windows import load_rules
from eggshield.store import Store

T0 = datetime(2026, 12, 3, 10, 0, 0)


def line(i: int, msg: str | None = None, ip: str = "203.0.113.5") -> str:
    t = T0 + timedelta(seconds=i)
    return f"{t:%Y-%m-%d %H:%M:%S},000 INFO 100 [-/{ip}/-/1ms GET /n/{i}] {msg or f'n={i}'}\n"


def append(path: Path, *lines: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(lines))


def seen_numbers(records) -> list[int]:
    return [int(r.message.split("=")[1]) for r in records if r.message.startswith("n=")]


_clock = [1000.0]


def drain(f: Follower, polls: int = 2) -> list:
    """Poll until quiet; the clock jumps so a pending multi-line record counts as complete."""
    out = []
    for _ in range(polls):
        _clock[0] += 100
        out.extend(f.poll(now=_clock[0]))
    return out


@pytest.fixture
def logdir(tmp_path):
    d = tmp_path / "logs"
    d.mkdir()
    return d


def test_first_run_starts_at_the_end_unless_from_beginning(logdir):
    append(logdir / "app-web.log", line(0), line(1))
    f = Follower(logdir)
    assert drain(f) == []
    append(logdir / "app-web.log", line(2))
    assert seen_numbers(drain(f)) == [2]
    assert seen_numbers(drain(Follower(logdir, from_beginning=True))) == [0, 1, 2]


def test_daily_rename_by_logrotator_loses_nothing(logdir):
    log = logdir / "app-web.log"
    append(log, line(0))
    f = Follower(logdir, from_beginning=True)
    got = drain(f)
    append(log, line(1))  # written, not yet read
    os.rename(log, logdir / "app-web.log.2026-12-02")  # egg-logrotator's rotate_by_file
    append(logdir / "app-web.log.2026-12-02", line(2))  # Egg writes to the old fd until it reloads
    append(log, line(3))  # the reloaded logger opens a new file
    got += drain(f)
    append(log, line(4))
    got += drain(f)
    assert seen_numbers(got) == [0, 1, 2, 3, 4]


def test_size_rotation_shifting_numbered_files(logdir):
    log = logdir / "app-web.log"
    append(log, line(0))
    f = Follower(logdir, from_beginning=True)
    got = drain(f)
    append(log, line(1))
    os.rename(log, logdir / "app-web.log.1")
    append(log, line(2))
    got += drain(f)
    append(log, line(3))
    os.rename(logdir / "app-web.log.1", logdir / "app-web.log.2")
    os.rename(log, logdir / "app-web.log.1")
    append(log, line(4))
    got += drain(f)
    assert seen_numbers(got) == [0, 1, 2, 3, 4]


def test_copytruncate_reads_the_missed_tail_from_the_copy(logdir):
    log = logdir / "app-web.log"
    append(log, line(0))
    f = Follower(logdir, from_beginning=True)
    got = drain(f)
    append(log, line(1), line(2))  # written after our last read ...
    shutil.copyfile(log, logdir / "app-web.log.1")  # ... then logrotate copies
    with open(log, "r+") as fh:
        fh.truncate(0)  # ... and truncates in place
    append(log, line(3))
    got += drain(f)
    assert seen_numbers(got) == [0, 1, 2, 3]


def test_multiline_record_split_across_polls_is_emitted_once_whole(logdir):
    log = logdir / "app-web.log"
    append(log, line(0))
    f = Follower(logdir, from_beginning=True)
    first = f.poll(now=0)
    assert first == []  # the record may still grow
    append(log, "    at x (a.js:1:1)\n")
    append(log, line(1))
    recs = f.poll(now=0)
    assert seen_numbers(recs) == [0] and "at x" in recs[0].text


def csrf(i: int, ip: str = "203.0.113.9") -> str:
    t = T0 + timedelta(seconds=i)
    return (f"{t:%Y-%m-%d %H:%M:%S},000 WARN 100 [-/{ip}/-/1ms POST /login] nodejs.ForbiddenError: "
            f"missing csrf token\nmessage: \"missing csrf token\"\npid: 100\nhostname: vm\n\n")


class Outbox:
    """A deliver callback that records what it was handed; `fail` makes it refuse."""

    def __init__(self):
        self.sent: list = []
        self.fail = False

    def __call__(self, batch):
        if self.fail:
            return []
        self.sent.extend(batch)
        return [p.key for p in batch]


def test_restart_resumes_without_loss_or_duplicate_alerts(tmp_path, logdir):
    db = tmp_path / "state.db"
    log = logdir / "app-web.log"
    append(log, line(0))
    out = Outbox()
    w = Watcher(logdir, Store(db), load_rules(), from_beginning=True, deliver=out)
    w.poll()
    append(log, *(csrf(i) for i in range(1, 6)))  # 5 CSRF failures in 5 minutes: one alert
    w.follower.poll  # noqa: B018
    import eggshield.logs.follow as follow
    follow_flush, follow.FLUSH_AFTER_S = follow.FLUSH_AFTER_S, 0.0
    try:
        w.poll()
        assert [p.rule for p in out.sent] == ["csrf-failures"]
        first_records = w.records
        w.close()
        w.store.close()  # "crash": a new process takes over from the checkpoint
        append(log, csrf(7), line(8))
        w2 = Watcher(logdir, Store(db), load_rules(), deliver=out)
        w2.poll()
        assert w2.records == 2 and first_records == 6, "only the new records, each once"
        assert [p.rule for p in out.sent] == ["csrf-failures"], "cooldown restored: no second alert"
        w2.close()
    finally:
        follow.FLUSH_AFTER_S = follow_flush


def test_alert_recorded_but_not_delivered_is_sent_once_after_restart(tmp_path, logdir):
    import eggshield.logs.follow as follow
    db = tmp_path / "state.db"
    log = logdir / "app-web.log"
    append(log, *(csrf(i) for i in range(5)))
    out = Outbox()
    out.fail = True  # the webhook is down
    old, follow.FLUSH_AFTER_S = follow.FLUSH_AFTER_S, 0.0
    try:
        w = Watcher(logdir, Store(db), load_rules(), from_beginning=True, deliver=out)
        w.poll()
        assert out.sent == [] and len(w.pending()) == 1
        w.close()
        w.store.close()
        out.fail = False
        w2 = Watcher(logdir, Store(db), load_rules(), deliver=out)
        w2.poll()
        w2.poll()
        assert len(out.sent) == 1 and w2.pending() == []
        w2.close()
    finally:
        follow.FLUSH_AFTER_S = old


def test_rate_limit_holds_back_alerts_and_summarises(tmp_path, logdir):
    import eggshield.logs.follow as follow
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text("[settings]\nmax_alerts_per_hour = 2\n[[rule]]\nid = 'csrf'\nsignals = ['csrf_failure']\n"
                          "group_by = 'ip'\nthreshold = 1\nwindow = '1m'\n")
    log = logdir / "app-web.log"
    append(log, *(csrf(i, ip=f"198.51.100.{i}") for i in range(5)))
    out = Outbox()
    old, follow.FLUSH_AFTER_S = follow.FLUSH_AFTER_S, 0.0
    try:
        w = Watcher(logdir, Store(tmp_path / "db"), load_rules(rules_file), from_beginning=True, deliver=out)
        w.poll()
        assert len(out.sent) == 2
        rows = w.store.conn.execute("SELECT status, COUNT(*) n FROM logs_alerts GROUP BY status").fetchall()
        assert {r["status"]: r["n"] for r in rows} == {"sent": 2, "rate-limited": 3, "pending": 1}
        w.close()
    finally:
        follow.FLUSH_AFTER_S = old


def test_watch_cli_once_prints_alerts_to_stdout(tmp_path, logdir):
    append(logdir / "app-web.log", *(csrf(i) for i in range(6)))
    res = subprocess.run([sys.executable, "-m", "eggshield", "logs", "watch", str(logdir), "--once",
                          "--from-beginning", "--db", str(tmp_path / "w.db"), "--notify", "stdout"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "csrf-failures" in res.stdout and "203.0.113.9" in res.stdout
    again = subprocess.run([sys.executable, "-m", "eggshield", "logs", "watch", str(logdir), "--once",
                            "--db", str(tmp_path / "w.db")], capture_output=True, text=True, timeout=60)
    assert "csrf-failures" not in again.stdout, "no alert sent twice"


def test_watch_cli_bad_rules_and_db_are_one_line(tmp_path, logdir):
    bad = tmp_path / "r.toml"
    bad.write_text("[[rule]]\nid='x'\nsignals=['a']\nwindow='whenever'\n")
    res = subprocess.run([sys.executable, "-m", "eggshield", "logs", "watch", str(logdir), "--once", "--rules",
                          str(bad)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "not a duration" in res.stderr and "Traceback" not in res.stderr
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    res = subprocess.run([sys.executable, "-m", "eggshield", "logs", "watch", str(logdir), "--once", "--db",
                          str(junk)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "not a usable eggshield database" in res.stderr


# --- syslog sink against a real receiver on 127.0.0.1 -------------------------------------------------

class _Note:
    def __init__(self, title, text, severity="high", key="k1", data=None):
        self.kind, self.title, self.text, self.severity, self.key = "logs", title, text, severity, key
        self.data = data or {"rule": "brute-force-ip", "finding": "EGG-LOG-105", "group": 'a"b]c', "count": 10}
        self.created = datetime(2026, 12, 3, 10, 0, 0).astimezone()


def test_syslog_udp_rfc5424():
    from eggshield.notify.sinks import syslog

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as srv:
        srv.bind(("127.0.0.1", 0))
        srv.settimeout(5)
        sink = syslog.make(f"udp://127.0.0.1:{srv.getsockname()[1]}", {"facility": "local3"})
        sink.send([_Note("[high] EGG-LOG-105 brute force", "10 failures from 1.2.3.4")])
        data, _ = srv.recvfrom(65535)
    msg = data.decode("utf-8")
    assert msg.startswith(f"<{19 * 8 + 3}>1 2026-12-03T10:00:00.000")  # local3.err
    assert " eggshield " in msg and " EGG-LOG-105 " in msg
    assert '[eggshield@32473 kind="logs" key="k1" rule="brute-force-ip"' in msg and 'group="a\\"b\\]c"' in msg
    assert "\ufeff[high] EGG-LOG-105 brute force\n10 failures from 1.2.3.4" in msg


def test_syslog_tcp_octet_counting_and_unreachable_is_delivery_error():
    from eggshield.notify.sinks import syslog

    received: list[bytes] = []

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            buf = b""
            while chunk := self.request.recv(65536):
                buf += chunk
            received.append(buf)

    with socketserver.TCPServer(("127.0.0.1", 0), Handler) as srv:
        t = threading.Thread(target=srv.handle_request, daemon=True)
        t.start()
        sink = syslog.make(f"tcp://127.0.0.1:{srv.server_address[1]}")
        sink.send([_Note("one", "a", key="k1"), _Note("two", "b", severity="low", key="k2")])
        t.join(5)
    buf = received[0]
    frames = []
    while buf:
        n, _, rest = buf.partition(b" ")
        frames.append(rest[: int(n)])
        buf = rest[int(n):]
    assert len(frames) == 2 and frames[1].startswith(b"<133>1 ")  # local0.notice
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connection refused
        with pytest.raises(syslog.DeliveryError) as exc:
            syslog.make(f"tcp://127.0.0.1:{port}").send([_Note("x", "y")])
    assert "\n" not in str(exc.value) and "127.0.0.1" in str(exc.value)


@pytest.mark.parametrize("target,error", [("ftp://x:1", "udp:// or tcp://"), ("udp://:514", "no host"),
                                          ("udp://h:514?facility=planet", "facility")])
def test_syslog_bad_targets(target, error):
    from eggshield.notify.sinks import syslog

    with pytest.raises(ValueError, match=error):
        syslog.make(target)


# --- alerts through the notify box to a real local HTTP receiver and a real local SMTP server ---------

def test_watch_delivers_to_webhook_and_email_once_and_retries_after_an_outage(tmp_path, logdir):
    import json
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from aiosmtpd.controller import Controller

    posts: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            posts.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    mails: list[bytes] = []

    class Mailbox:
        async def handle_DATA(self, server, session, envelope):
            mails.append(envelope.content)
            return "250 OK"

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    hook_port = free_port()
    db = tmp_path / "w.db"
    append(logdir / "app-web.log", *(csrf(i) for i in range(6)))
    ctl = Controller(Mailbox(), hostname="127.0.0.1", port=free_port())
    ctl.start()
    try:
        args = [sys.executable, "-m", "eggshield", "logs", "watch", str(logdir), "--once", "--db", str(db),
                "--notify", f"webhook=http://127.0.0.1:{hook_port}/hook",
                "--notify", f"email=ops@example.test?smtp=127.0.0.1:{ctl.port}&from=eggshield@example.test"]
        down = subprocess.run([*args, "--from-beginning"], capture_output=True, text=True, timeout=120)
        assert down.returncode == 0 and "Traceback" not in down.stderr
        assert len(mails) == 1 and posts == []  # the webhook is down: e-mail went, the webhook alert waits
        time.sleep(2.2)  # the outbox's next try for the refused webhook (backoff 0.5 s × 2²)
        server = HTTPServer(("127.0.0.1", hook_port), Hook)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            append(logdir / "app-web.log", line(100))
            up = subprocess.run(args, capture_output=True, text=True, timeout=120)
            assert up.returncode == 0, up.stderr
            again = subprocess.run(args, capture_output=True, text=True, timeout=120)
            assert again.returncode == 0
        finally:
            server.shutdown()
    finally:
        ctl.stop()
    assert len(posts) == 1 and len(mails) == 1, "each alert reaches each sink exactly once"
    note = posts[0]["notifications"][0]
    assert "csrf-failures" in note["title"] and note["data"]["group"] == "203.0.113.9"
    assert b"csrf-failures" in mails[0] and b"203.0.113.9" in mails[0]
