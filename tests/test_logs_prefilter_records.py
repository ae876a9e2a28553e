"""The line-by-line readers (JSON logs, `logs watch`) skip `analyze.prepare` on records that
`prefilter.record_quiet_judge` calls quiet. That is only sound if a quiet record never carries a signal
or a secret: checked on random records with every field the finders read, and on a JSON log read
both ways."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from eggshield.logs import analyze as analyze_mod
from eggshield.logs import prefilter
from eggshield.logs.analyze import Analyzer, prepare
from eggshield.logs.record import LogRecord
from eggshield.logs.source import read_records
from test_logs_finders_sensitive import random_texts
from test_logs_finders_signals import PHRASES, URLS, random_record

PLAIN = ["ok", "list items page=35 took 7ms", "12:30", "done", "x=1", "cache warm", "id 42", "took 3ms", "-"]


def plain_record(rnd: random.Random, texts: list[str]) -> LogRecord:
    """A record like most of a log (plain words, a plain URL), now and then with one phrase that may matter."""
    words = [rnd.choice(PLAIN) for _ in range(rnd.randint(1, 4))]
    if rnd.random() < 0.4:
        words.insert(rnd.randint(0, len(words)), rnd.choice([rnd.choice(PHRASES), rnd.choice(texts)]))
    message = " ".join(words)
    url = rnd.choice([None, "/", "/api/items/12", "/q?a=1&b=x.y", rnd.choice(URLS)])
    return LogRecord(file="a.log", line=1, time=None, level=rnd.choice(["INFO", "WARN", "DEBUG", ""]), pid=1,
                     message=message, text=message, user=rnd.choice([None, "u1"]), url=url,
                     method="GET" if url else None)


@pytest.mark.parametrize("secrets", [True, False])
def test_a_quiet_record_carries_no_signal_and_no_secret(secrets):
    rnd = random.Random(20261204)
    quiet = prefilter.record_quiet_judge(secrets)
    texts = random_texts(5, 3000)  # secrets and personal data of every shape, and near misses
    judged = 0
    for i in range(15000):
        rec = random_record(rnd) if i % 2 else plain_record(rnd, texts)
        if i % 7 == 0:
            rec.text = rec.message = texts[i % len(texts)]
        if quiet(rec):
            judged += 1
            assert prepare(rec, secrets) is None, rec
    assert judged > 1500, "the corpus must hold quiet records too"


def _json_log(path: Path, n: int) -> None:
    rnd = random.Random(7)
    texts = random_texts(9, 500)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            rec = random_record(rnd) if i % 2 else plain_record(rnd, texts)
            message = texts[i % len(texts)] if i % 8 == 0 else rec.text
            if rec.error_name and i % 2:
                message = f"nodejs.{rec.error_name}: {rec.error_message}\n    at x (/a.js:1:1)\nstatus: 401\n"
            doc = {"level": rec.level, "date": f"2026-12-03 10:{i // 60 % 60:02d}:{i % 60:02d},000", "pid": 7,
                   "hostname": "h", "message": message}
            if rec.url and i % 3:  # egg 3 writes the context prefix as paddingMessage; egg 4 writes none
                doc = {"paddingMessage": f"[{rec.user or '-'}/10.0.0.{i % 9}/-/2ms GET {rec.url}]", **doc}
            fh.write(json.dumps(doc, ensure_ascii=i % 5 == 0) + "\n")


def _summary(an: Analyzer) -> tuple:
    a = an.analysis
    groups = sorted((g.rule, g.key, g.count, sorted(g.ips), sorted(g.users), sorted(g.routes), g.first.to_dict())
                    for g in a.all_groups())
    return a.signal_counts, a.error_types, [e.to_dict() for e in a.events], groups


def test_a_json_log_reads_the_same_with_and_without_the_quiet_test(tmp_path, monkeypatch):
    log = tmp_path / "app-web.json.log"
    _json_log(log, 6000)
    fast = Analyzer()
    for rec in read_records([log]):
        fast.feed(rec)
    full = Analyzer()
    full._quiet = lambda rec: False  # every record judged by prepare
    for rec in read_records([log]):
        full.feed(rec)
    assert _summary(fast) == _summary(full)
    assert sum(full.analysis.signal_counts.values()) > 1000
    assert sum(map(fast._quiet, read_records([log]))) > 500  # and many records skipped prepare
    # and through `analyze()`, which reads a JSON log line by line
    quick = analyze_mod.analyze([log])
    monkeypatch.setattr(prefilter, "record_quiet_judge", lambda secrets: lambda rec: False)
    slow = analyze_mod.analyze([log])
    assert (quick.signal_counts, quick.error_types, [e.to_dict() for e in quick.events]) == \
        (slow.signal_counts, slow.error_types, [e.to_dict() for e in slow.events])
