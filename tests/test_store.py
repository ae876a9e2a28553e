"""The SQLite store: features migrate independently, once, and survive reopening."""

from __future__ import annotations

import sqlite3

import pytest

from eggshield.store import Store
from eggshield.store.db import StoreError


def test_migrations_apply_once_per_feature(tmp_path):
    db = tmp_path / "s.db"
    steps = ["CREATE TABLE a (x INTEGER)", ["ALTER TABLE a ADD COLUMN y TEXT", "INSERT INTO a VALUES (1, 'one')"]]
    with Store(db) as st:
        st.migrate("alpha", steps)
        st.migrate("beta", ["CREATE TABLE b (z TEXT)"])
    with Store(db) as st:
        st.migrate("alpha", steps)  # nothing re-applied: the row is not inserted twice
        assert st.conn.execute("SELECT count(*) FROM a").fetchone()[0] == 1
        versions = dict(st.conn.execute("SELECT feature, version FROM schema").fetchall())
    assert versions == {"alpha": 2, "beta": 1}


def test_failed_step_rolls_back(tmp_path):
    with Store(tmp_path / "s.db") as st:
        with pytest.raises(sqlite3.OperationalError):
            st.migrate("bad", [["CREATE TABLE t (x)", "NOT SQL"]])
        assert st.conn.execute("SELECT name FROM sqlite_master WHERE name='t'").fetchone() is None


def test_a_file_that_is_not_a_database_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable eggshield database"):
        Store(bad)


def test_default_path_follows_env(tmp_path, monkeypatch):
    from eggshield.store import default_path

    monkeypatch.setenv("EGGSHIELD_DB", str(tmp_path / "x.db"))
    assert default_path() == tmp_path / "x.db"
