"""Undelivered notifications in SQLite, so a failed delivery is retried on the next run, never lost
and never sent twice: each row is one notification for one sink, delivered at most once."""

from __future__ import annotations

import hashlib
import json
import time

from eggshield.notify.model import Notification
from eggshield.store import Store

MIGRATIONS = [
    [
        """CREATE TABLE notify_outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            sink TEXT NOT NULL,            -- sha256 of the sink spec (the spec may hold a token)
            sink_label TEXT NOT NULL,      -- shown to users, secrets masked
            key TEXT NOT NULL,             -- de-duplication key
            payload TEXT NOT NULL,         -- the notification as JSON
            created REAL NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_try REAL NOT NULL,
            last_error TEXT,
            delivered REAL,
            UNIQUE (sink, key)
        )""",
        "CREATE INDEX notify_outbox_due ON notify_outbox (sink, delivered, next_try)",
    ],
]


def sink_id(spec: str) -> str:
    return hashlib.sha256(spec.encode()).hexdigest()[:32]


def notification_key(n: Notification) -> str:
    if n.key:
        return n.key
    raw = json.dumps([n.kind, n.title, n.text, n.created], ensure_ascii=False)
    return "auto:" + hashlib.sha256(raw.encode()).hexdigest()[:24]


class Outbox:
    def __init__(self, store: Store):
        self.store = store
        store.migrate("notify", MIGRATIONS)

    def enqueue(self, sink: str, label: str, notifications: list[Notification], now: float | None = None) -> int:
        """Add what this sink has never seen (by key); returns how many were new."""
        now = time.time() if now is None else now
        added = 0
        with self.store.transaction() as conn:
            for n in notifications:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO notify_outbox (sink, sink_label, key, payload, created, next_try) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (sink, label, notification_key(n), json.dumps(n.to_dict(), ensure_ascii=False, default=str), now, now))
                added += cur.rowcount
        return added

    def due(self, sink: str, now: float | None = None, limit: int = 500) -> list[tuple[int, Notification]]:
        now = time.time() if now is None else now
        rows = self.store.conn.execute(
            "SELECT id, payload FROM notify_outbox WHERE sink = ? AND delivered IS NULL AND next_try <= ? "
            "ORDER BY id LIMIT ?", (sink, now, limit)).fetchall()
        return [(r["id"], Notification.from_dict(json.loads(r["payload"]))) for r in rows]

    def mark_delivered(self, ids: list[int], now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self.store.transaction() as conn:
            conn.executemany("UPDATE notify_outbox SET delivered = ?, attempts = attempts + 1, last_error = NULL "
                             "WHERE id = ?", [(now, i) for i in ids])

    def mark_failed(self, ids: list[int], error: str, next_try: float, attempts: int = 1) -> None:
        with self.store.transaction() as conn:
            conn.executemany("UPDATE notify_outbox SET attempts = attempts + ?, last_error = ?, next_try = ? "
                             "WHERE id = ?", [(attempts, error[:500], next_try, i) for i in ids])

    def pending(self, sink: str | None = None) -> list[dict]:
        """Undelivered rows (for reports and tests): key, attempts, next_try, last_error, sink_label."""
        sql = "SELECT key, attempts, next_try, last_error, sink_label FROM notify_outbox WHERE delivered IS NULL"
        args: tuple = ()
        if sink is not None:
            sql += " AND sink = ?"
            args = (sink,)
        return [dict(r) for r in self.store.conn.execute(sql + " ORDER BY id", args).fetchall()]

    def delivered_keys(self, sink: str) -> set[str]:
        return {r["key"] for r in self.store.conn.execute(
            "SELECT key FROM notify_outbox WHERE sink = ? AND delivered IS NOT NULL", (sink,)).fetchall()}
