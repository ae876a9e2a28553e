"""Notifications against real local receivers: an HTTP server and an SMTP server (aiosmtpd), with
STARTTLS; a receiver that is down keeps the notification for the next run, and nothing goes twice."""

from __future__ import annotations

import email
import subprocess
import time

import pytest
from aiosmtpd.controller import Controller
from deps_helpers import WebhookReceiver, free_port

from eggshield.notify import DeliveryError, Notification, Outbox, SinkSpecError, deliver, parse_sink, schemes
from eggshield.notify.outbox import sink_id
from eggshield.store import Store


def _notes(*keys: str) -> list[Notification]:
    return [Notification(kind="advisory", title=f"lodash@4.17.15 affected by {k}", text=f"details of {k}",
                         severity="high", key=k, data={"advisory": k}) for k in keys]


@pytest.fixture(scope="module")
def receiver():
    srv = WebhookReceiver()
    yield srv
    srv.close()


@pytest.fixture()
def hook(receiver):
    receiver.bodies.clear()
    receiver.status = 200
    return receiver


class _Mailbox:
    def __init__(self):
        self.messages: list[tuple[str, list[str], email.message.Message]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.original_content or envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem"), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return d / "cert.pem", d / "key.pem"


@pytest.fixture(scope="module")
def smtp_plain():
    box = _Mailbox()
    ctl = Controller(box, hostname="127.0.0.1", port=free_port())
    ctl.start()
    yield ctl, box
    ctl.stop()


@pytest.fixture(scope="module")
def smtp_tls(tls_files):
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(tls_files[0]), str(tls_files[1]))
    box = _Mailbox()
    ctl = Controller(box, hostname="127.0.0.1", port=free_port(), tls_context=ctx, require_starttls=True)
    ctl.start()
    yield ctl, box
    ctl.stop()


def test_sink_specs_and_automatic_discovery():
    assert {"webhook", "slack", "email", "stdout"} <= set(schemes())
    assert parse_sink("webhook=http://127.0.0.1:9000/hook/T0123/secret?x=1").label == "webhook http://127.0.0.1:9000/…"
    for spec, needle in (("carrier-pigeon=x", "unknown notification sink 'carrier-pigeon'"),
                         ("webhook=ftp://x", "needs an http(s) URL"), ("email=nobody", "recipient addresses"),
                         ("email=a@b.c?smtp=host:notaport", "not host:port"),
                         ("email=a@b.c?smtp=h:25&colour=red", "unknown option(s) colour"),
                         ("email=a@b.c?starttls=maybe", "not auto/yes/no"), ("", "empty --notify")):
        with pytest.raises(SinkSpecError) as err:
            parse_sink(spec)
        assert needle in str(err.value) and "\n" not in str(err.value), spec


def test_webhook_delivers_a_batch_once(hook, tmp_path):
    sink = parse_sink(f"webhook={hook.url}hook")
    with Store(tmp_path / "n.db") as store:
        outbox = Outbox(store)
        report = deliver(_notes("GHSA-1", "GHSA-2"), [sink], outbox, backoff=0.01)
        assert report.ok and report.delivered == 2
        assert len(hook.bodies) == 1 and [n["key"] for n in hook.bodies[0]["notifications"]] == ["GHSA-1", "GHSA-2"]
        assert hook.bodies[0]["notifications"][0]["severity"] == "high" and hook.paths == ["/hook"]
        again = deliver(_notes("GHSA-1", "GHSA-2", "GHSA-3"), [sink], outbox, backoff=0.01)
        assert again.sinks[0].duplicates == 2 and again.delivered == 1
        assert [n["key"] for n in hook.bodies[1]["notifications"]] == ["GHSA-3"]


def test_receiver_down_keeps_then_delivers_next_run_never_twice(tmp_path):
    port = free_port()
    sink = parse_sink(f"webhook=http://127.0.0.1:{port}/in")
    db = tmp_path / "n.db"
    now = [1_000_000.0]
    slept: list[float] = []
    with Store(db) as store:
        report = deliver(_notes("A", "B"), [sink], Outbox(store), retries=2, backoff=0.5, sleep=slept.append,
                         clock=lambda: now[0])
    assert not report.ok and report.kept == 2 and "cannot connect" in report.sinks[0].error
    assert slept == [0.5, 1.0]  # exponential backoff between attempts
    with Store(db) as store:  # a new process: the outbox is in SQLite
        (row, _) = Outbox(store).pending(sink_id(sink.spec))
        assert row["attempts"] == 3 and row["next_try"] == now[0] + 4.0 and "cannot connect" in row["last_error"]
    up = WebhookReceiver(port=port)
    try:
        with Store(db) as store:
            early = deliver([], [sink], Outbox(store), clock=lambda: now[0] + 1)
            assert early.delivered == 0 and up.bodies == []  # not due yet: backoff respected
            later = deliver([], [sink], Outbox(store), clock=lambda: now[0] + 10)
            assert later.ok and later.delivered == 2
            assert [n["key"] for n in up.bodies[0]["notifications"]] == ["A", "B"]
            third = deliver(_notes("A", "B"), [sink], Outbox(store), clock=lambda: now[0] + 20)
            assert third.delivered == 0 and third.sinks[0].duplicates == 2 and len(up.bodies) == 1
    finally:
        up.close()


def test_http_error_and_a_broken_sink_are_one_line(hook, tmp_path):
    hook.status = 500
    with Store(tmp_path / "n.db") as store:
        r = deliver(_notes("X"), [parse_sink(f"webhook={hook.url}")], Outbox(store), retries=0)
        assert r.sinks[0].error == f"webhook {hook.url.rstrip('/')}: HTTP 500 Internal Server Error"

        class Broken:
            label = "broken"

            def send(self, batch):
                raise RuntimeError("boom\nwith a second line")

        r = deliver(_notes("Y"), [Broken()], Outbox(store), retries=0)
        assert r.sinks[0].error == "RuntimeError: boom with a second line" and r.kept == 1


def test_slack_compatible_payload(tmp_path):
    srv = WebhookReceiver(answer=b"ok")
    try:
        with Store(tmp_path / "n.db") as store:
            r = deliver(_notes("GHSA-9"), [parse_sink(f"slack={srv.url}services/T/B/X")], Outbox(store))
        assert r.ok
        body = srv.bodies[0]
        assert "eggshield: 1 new notification" in body["text"] and body["blocks"][0]["type"] == "header"
        assert "*lodash@4.17.15 affected by GHSA-9*" in body["blocks"][1]["text"]["text"]
        srv.answer = b"invalid_payload"
        sink = parse_sink(f"slack={srv.url}services/T/B/X")
        with pytest.raises(DeliveryError, match="answered 'invalid_payload'"):
            sink.send(_notes("GHSA-10"))
    finally:
        srv.close()


def test_email_over_plain_smtp(smtp_plain, tmp_path):
    ctl, box = smtp_plain
    sink = parse_sink(f"email=ops@example.test,dev@example.test?smtp=127.0.0.1:{ctl.port}&from=eggshield@example.test")
    with Store(tmp_path / "n.db") as store:
        r = deliver(_notes("GHSA-a", "GHSA-b"), [sink], Outbox(store))
    assert r.ok
    sender, rcpts, msg = box.messages[-1]
    assert sender == "eggshield@example.test" and rcpts == ["ops@example.test", "dev@example.test"]
    assert msg["Subject"] == "[eggshield] 2 new (2 advisories), worst: high"
    assert "details of GHSA-b" in msg.get_payload(decode=True).decode()


def test_email_with_starttls(smtp_tls, smtp_plain, tls_files, tmp_path):
    ctl, box = smtp_tls
    sink = parse_sink(f"email=ops@example.test?smtp=127.0.0.1:{ctl.port}&from=e@example.test&starttls=yes"
                      f"&cafile={tls_files[0]}")
    with Store(tmp_path / "n.db") as store:
        assert deliver(_notes("T1"), [sink], Outbox(store)).ok
    assert box.messages and "T1" in box.messages[-1][2]["Subject"] + box.messages[-1][2].get_payload()
    untrusted = parse_sink(f"email=ops@example.test?smtp=127.0.0.1:{ctl.port}&starttls=yes")
    with pytest.raises(DeliveryError, match="TLS failed"):
        untrusted.send(_notes("T2"))
    plain_ctl, _ = smtp_plain
    required = parse_sink(f"email=ops@example.test?smtp=127.0.0.1:{plain_ctl.port}&starttls=yes")
    with pytest.raises(DeliveryError, match="does not offer STARTTLS"):
        required.send(_notes("T3"))
    refused = parse_sink(f"email=ops@example.test?smtp=127.0.0.1:{ctl.port}&starttls=no")
    with pytest.raises(DeliveryError, match="SMTP 530"):  # the server insists on STARTTLS first
        refused.send(_notes("T4"))


def test_stdout_sink(capsys, tmp_path):
    with Store(tmp_path / "n.db") as store:
        deliver(_notes("S1"), [parse_sink("stdout")], Outbox(store))
    out = capsys.readouterr().out
    assert "[high] lodash@4.17.15 affected by S1" in out and "    details of S1" in out


def test_notification_defaults():
    n = Notification(kind="release", title="t", text="x")
    assert n.severity == "info" and n.key == "" and n.data == {}
    assert time.strptime(n.created, "%Y-%m-%dT%H:%M:%SZ")
