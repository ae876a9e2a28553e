"""`eggshield logs watch`: follow → analyse → alert rules → notifications, checkpointed in SQLite.

One transaction per poll stores the file offsets, the window engine's state and the alerts the
poll produced (keyed, so an alert is recorded once). Alerts are handed to the notify box after
the commit and marked sent when it accepted them. A restart therefore resumes at the first
record not yet analysed (no line lost, none analysed twice) with the same windows and cooldowns,
and delivers alerts recorded but not yet handed over (none sent twice).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from eggshield.logs import sensitive
from eggshield.logs.analyze import Analyzer
from eggshield.logs.follow import Checkpoint, Follower
from eggshield.logs.windows import Alert, RuleSet, load_rules
from eggshield.masking import mask_secrets, printable
from eggshield.store import Store

MIGRATIONS = [
    [
        "CREATE TABLE logs_files (watch TEXT NOT NULL, key TEXT NOT NULL, path TEXT NOT NULL, "
        "offset INTEGER NOT NULL, head TEXT NOT NULL, updated REAL NOT NULL, PRIMARY KEY (watch, key))",
        "CREATE TABLE logs_state (watch TEXT PRIMARY KEY, engine TEXT NOT NULL, updated REAL NOT NULL)",
        "CREATE TABLE logs_alerts (watch TEXT NOT NULL, key TEXT NOT NULL, created REAL NOT NULL, "
        "rule TEXT NOT NULL, finding TEXT NOT NULL, severity TEXT NOT NULL, title TEXT NOT NULL, "
        "text TEXT NOT NULL, data TEXT NOT NULL, status TEXT NOT NULL, PRIMARY KEY (watch, key))",
        "CREATE INDEX logs_alerts_status ON logs_alerts (watch, status, created)",
    ],
]


@dataclass
class PendingAlert:
    key: str
    rule: str
    finding: str
    severity: str
    title: str
    text: str
    data: dict
    created: float


def render_alert(alert: Alert) -> tuple[str, str, dict]:
    """(title, text, data) of a notification; every text passes through masking."""
    r = alert.rule
    s = alert.samples[-1]
    group = sensitive.redact(alert.group)  # a user may be an e-mail address: PII stays masked
    who = f" from {s.ip}" if s.ip and r.group_by == "ip" else f" for user {group}" if r.group_by == "user" else ""
    title = mask_secrets(printable(f"{alert.finding} {r.id}{who}"))
    first = datetime.fromtimestamp(alert.first).isoformat(timespec="seconds")
    last = datetime.fromtimestamp(alert.last).isoformat(timespec="seconds")
    lines = [f"Rule {r.id} ({r.describe()}) fired: {alert.count} in window, {first} … {last}."]
    for o in alert.samples:
        user = sensitive.redact(o.user) if o.user else "-"
        lines.append(f"- {o.where} [{o.ip or '-'} {user} {o.route or ''}] {o.evidence[:200]}")
    text = mask_secrets(printable("\n".join(lines)))
    data = {"rule": r.id, "finding": alert.finding, "severity": r.severity, "group_by": r.group_by,
            "group": mask_secrets(printable(group)), "count": alert.count, "first": first, "last": last,
            "samples": [{"location": o.where, "ip": o.ip, "user": sensitive.redact(o.user) if o.user else None,
                         "route": o.route,
                         "evidence": mask_secrets(printable(o.evidence[:300]))} for o in alert.samples]}
    return title, text, data


class Watcher:
    """One watched directory. `poll()` does one cycle; `run()` loops until stopped."""

    def __init__(self, directory: Path, store: Store, ruleset: RuleSet | None = None, from_beginning: bool = False,
                 deliver: Callable[[list[PendingAlert]], list[str]] | None = None,
                 on_problem: Callable[[str, str], None] | None = None, clock: Callable[[], float] = time.time):
        self.dir = Path(directory).resolve()
        self.watch_id = str(self.dir)
        self.store = store
        store.migrate("logs", MIGRATIONS)
        self.ruleset = ruleset or load_rules()
        self.clock = clock
        self.deliver = deliver
        row = store.conn.execute("SELECT engine FROM logs_state WHERE watch = ?", (self.watch_id,)).fetchone()
        state = json.loads(row["engine"]) if row else None
        self.analyzer = Analyzer(self.ruleset, engine_state=state, keep_events=False)
        cps = {r["key"]: Checkpoint(r["key"], r["path"], r["offset"], r["head"]) for r in store.conn.execute(
            "SELECT key, path, offset, head FROM logs_files WHERE watch = ?", (self.watch_id,))}
        self.follower = Follower(self.dir, cps, from_beginning=from_beginning, on_problem=on_problem)
        self.records = 0

    def poll(self) -> list[PendingAlert]:
        """Read what is new, analyse it, record alerts and checkpoints atomically, then deliver."""
        records = self.follower.poll()
        alerts: list[Alert] = []
        for rec in records:
            alerts.extend(self.analyzer.feed(rec))
        self.records += len(records)
        now = self.clock()
        new: list[PendingAlert] = []
        with self.store.transaction() as conn:
            for a in alerts:
                title, text, data = render_alert(a)
                cur = conn.execute(
                    "INSERT OR IGNORE INTO logs_alerts (watch, key, created, rule, finding, severity, title, text, "
                    "data, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                    (self.watch_id, a.key, now, a.rule.id, a.finding, a.rule.severity, title, text, json.dumps(data)))
                if cur.rowcount:
                    new.append(PendingAlert(a.key, a.rule.id, a.finding, a.rule.severity, title, text, data, now))
            for cp in self.follower.checkpoints_now():
                conn.execute("INSERT INTO logs_files (watch, key, path, offset, head, updated) VALUES (?, ?, ?, ?, ?, ?)"
                             " ON CONFLICT(watch, key) DO UPDATE SET path = excluded.path, offset = excluded.offset,"
                             " head = excluded.head, updated = excluded.updated",
                             (self.watch_id, cp.key, cp.path, cp.offset, cp.head, now))
            live = [cp.key for cp in self.follower.checkpoints_now()]
            conn.execute(f"DELETE FROM logs_files WHERE watch = ? AND key NOT IN ({','.join('?' * len(live))})",
                         (self.watch_id, *live))
            conn.execute("INSERT INTO logs_state (watch, engine, updated) VALUES (?, ?, ?) ON CONFLICT(watch) DO "
                         "UPDATE SET engine = excluded.engine, updated = excluded.updated",
                         (self.watch_id, json.dumps(self.analyzer.engine.state()), now))
        self.flush()
        return new

    def pending(self) -> list[PendingAlert]:
        rows = self.store.conn.execute(
            "SELECT * FROM logs_alerts WHERE watch = ? AND status = 'pending' ORDER BY created, key",
            (self.watch_id,)).fetchall()
        return [PendingAlert(r["key"], r["rule"], r["finding"], r["severity"], r["title"], r["text"],
                             json.loads(r["data"]), r["created"]) for r in rows]

    def flush(self) -> None:
        """Hand pending alerts to delivery, within the hourly rate limit; mark what was accepted."""
        if self.deliver is None:
            return
        pending = self.pending()
        if not pending:
            self.deliver([])  # lets the notify outbox retry what a sink refused earlier
            return
        now = self.clock()
        sent_last_hour = self.store.conn.execute(
            "SELECT COUNT(*) FROM logs_alerts WHERE watch = ? AND status = 'sent' AND created > ?",
            (self.watch_id, now - 3600)).fetchone()[0]
        room = max(0, self.ruleset.max_alerts_per_hour - sent_last_hour)
        batch, held = pending[:room], pending[room:]
        if held:
            # over the limit: fold the rest into one summary, sent once there is room again
            with self.store.transaction() as conn:
                for p in held:
                    conn.execute("UPDATE logs_alerts SET status = 'rate-limited' WHERE watch = ? AND key = ?",
                                 (self.watch_id, p.key))
                key = f"rate-limit|{int(now // 3600)}"
                summary = f"{len(held)} alert(s) held back by max_alerts_per_hour = {self.ruleset.max_alerts_per_hour}"
                conn.execute("INSERT INTO logs_alerts (watch, key, created, rule, finding, severity, title, text, data, "
                             "status) VALUES (?, ?, ?, 'rate-limit', '', 'info', ?, ?, ?, 'pending') ON CONFLICT(watch,"
                             " key) DO UPDATE SET text = excluded.text",
                             (self.watch_id, key, now + 3600, "[info] eggshield alert rate limit reached",
                              summary + ": see `eggshield logs analyze` for all events.",
                              json.dumps({"held": [p.key for p in held]})))
        if not batch:
            return
        accepted = self.deliver(batch)
        if accepted:
            with self.store.transaction() as conn:
                conn.executemany("UPDATE logs_alerts SET status = 'sent' WHERE watch = ? AND key = ?",
                                 [(self.watch_id, k) for k in accepted])

    def run(self, interval: float = 1.0, duration: float | None = None, should_stop: Callable[[], bool] | None = None
            ) -> None:
        end = time.monotonic() + duration if duration else None
        while True:
            self.poll()
            if should_stop and should_stop():
                break
            if end is not None and time.monotonic() >= end:
                break
            time.sleep(interval)

    def close(self) -> None:
        self.follower.close()
