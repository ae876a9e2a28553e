"""The SQLite file and its schema versions; features add their own tables by name."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path


def default_path() -> Path:
    """`$EGGSHIELD_DB`, else `$XDG_DATA_HOME/eggshield/eggshield.db` (~/.local/share/...)."""
    explicit = os.environ.get("EGGSHIELD_DB")
    if explicit:
        return Path(explicit)
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "eggshield" / "eggshield.db"


class Store:
    """A connection with WAL journaling and a `schema` table recording each feature's version."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_path()
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("CREATE TABLE IF NOT EXISTS schema (feature TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable eggshield database ({exc})") from None

    def migrate(self, feature: str, steps: Sequence[str | Sequence[str]]) -> None:
        """Apply the feature's schema steps it has not applied yet; step i brings it to version i+1."""
        row = self.conn.execute("SELECT version FROM schema WHERE feature = ?", (feature,)).fetchone()
        current = row["version"] if row else 0
        for version, step in enumerate(steps[current:], start=current + 1):
            statements = [step] if isinstance(step, str) else list(step)
            with self.transaction():
                for sql in statements:
                    self.conn.execute(sql)
                self.conn.execute("INSERT INTO schema(feature, version) VALUES(?, ?) "
                                  "ON CONFLICT(feature) DO UPDATE SET version = excluded.version", (feature, version))

    def transaction(self):
        return _Transaction(self.conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class StoreError(Exception):
    """The database cannot be opened or used; the message is one line."""


class _Transaction:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
        return False
