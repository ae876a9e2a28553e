"""The update ledger: every `eggshield deps` run records the app's inventory, so a team keeps the
"record of versions used and updates applied" strategy 1 asks for, and `deps watch` can say
what is new since the last run (new advisories, new releases, upgrades applied).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from eggshield.store.db import Store

MIGRATIONS = [
    [
        """CREATE TABLE ledger_runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            project TEXT NOT NULL,      -- absolute path of the app root
            app TEXT NOT NULL,          -- package.json name
            at TEXT NOT NULL,           -- ISO-8601 UTC
            command TEXT NOT NULL,      -- deps | watch | scan
            source TEXT NOT NULL,       -- which lockfile (or node_modules / package.json)
            lock_hash TEXT,             -- sha256 of the lockfile: unchanged lock, unchanged tree
            offline INTEGER NOT NULL
        )""",
        "CREATE INDEX ledger_runs_project ON ledger_runs (project, id)",
        """CREATE TABLE ledger_packages (
            run_id INTEGER NOT NULL REFERENCES ledger_runs(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            version TEXT NOT NULL,      -- '' when unresolved
            role TEXT,                  -- core, framework, plugin, tool, or NULL
            direct INTEGER NOT NULL,
            dev INTEGER NOT NULL,
            latest TEXT,
            PRIMARY KEY (run_id, name, version)
        )""",
        """CREATE TABLE ledger_advisories (
            run_id INTEGER NOT NULL REFERENCES ledger_runs(id) ON DELETE CASCADE,
            advisory TEXT NOT NULL,
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            severity TEXT NOT NULL,
            summary TEXT NOT NULL,
            fixed TEXT,
            PRIMARY KEY (run_id, advisory, name, version)
        )""",
    ],
]


@dataclass
class Changes:
    """What differs between two runs of the same app."""

    upgrades: list[tuple[str, str, str]] = field(default_factory=list)  # name, old, new (also downgrades)
    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    new_advisories: list[dict] = field(default_factory=list)  # advisory, name, version, severity, summary, fixed
    resolved_advisories: list[dict] = field(default_factory=list)
    new_releases: list[tuple[str, str | None, str]] = field(default_factory=list)  # name, previous latest, latest

    @property
    def empty(self) -> bool:
        return not (self.upgrades or self.added or self.removed or self.new_advisories or self.resolved_advisories
                    or self.new_releases)


@dataclass
class RunInfo:
    id: int
    project: str
    app: str
    at: str
    command: str
    source: str
    offline: bool
    packages: int
    advisories: int


def lock_hash(path) -> str | None:
    if path is None:
        return None
    try:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


class Ledger:
    def __init__(self, store: Store):
        self.store = store
        store.migrate("ledger", MIGRATIONS)

    def record(self, audit, app: str, command: str = "deps") -> int:
        """Store one audit (eggshield.deps.audit.DepsAudit); returns the run id."""
        inv = audit.inventory
        with self.store.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO ledger_runs (project, app, at, command, source, lock_hash, offline) VALUES (?,?,?,?,?,?,?)",
                (str(audit.root), app, audit.checked_at, command, inv.source if inv else "none",
                 lock_hash(inv.lockfile) if inv else None, int(audit.offline)))
            run_id = cur.lastrowid
            rows, adv_rows = {}, {}
            for rep in audit.packages:
                version = rep.version or ""
                rows[(rep.name, version)] = (run_id, rep.name, version, rep.role, int(rep.direct is not None),
                                             int(rep.dev), rep.latest)
                for hit in rep.hits:
                    adv_rows[(hit.advisory.id, rep.name, version)] = (
                        run_id, hit.advisory.id, rep.name, version, hit.advisory.severity, hit.advisory.summary,
                        hit.fixed_in)
            conn.executemany("INSERT INTO ledger_packages VALUES (?,?,?,?,?,?,?)", list(rows.values()))
            conn.executemany("INSERT INTO ledger_advisories VALUES (?,?,?,?,?,?,?)", list(adv_rows.values()))
        return int(run_id)

    def runs(self, project: str, limit: int = 50) -> list[RunInfo]:
        rows = self.store.conn.execute(
            "SELECT r.*, (SELECT count(*) FROM ledger_packages p WHERE p.run_id = r.id) AS npk, "
            "(SELECT count(*) FROM ledger_advisories a WHERE a.run_id = r.id) AS nadv "
            "FROM ledger_runs r WHERE project = ? ORDER BY id DESC LIMIT ?", (project, limit)).fetchall()
        return [RunInfo(id=r["id"], project=r["project"], app=r["app"], at=r["at"], command=r["command"],
                        source=r["source"], offline=bool(r["offline"]), packages=r["npk"], advisories=r["nadv"])
                for r in rows]

    def projects(self) -> list[str]:
        return [r[0] for r in self.store.conn.execute("SELECT DISTINCT project FROM ledger_runs ORDER BY project")]

    def previous(self, project: str, run_id: int, command: str | None = None) -> int | None:
        """The run of this project just before `run_id` (of `command` only, when given)."""
        sql = "SELECT max(id) FROM ledger_runs WHERE project = ? AND id < ?"
        args: tuple = (project, run_id)
        if command is not None:
            sql += " AND command = ?"
            args += (command,)
        row = self.store.conn.execute(sql, args).fetchone()
        return row[0] if row and row[0] is not None else None

    def _packages(self, run_id: int) -> dict[str, dict[str, tuple]]:
        out: dict[str, dict[str, tuple]] = {}
        for r in self.store.conn.execute("SELECT name, version, role, direct, latest FROM ledger_packages "
                                         "WHERE run_id = ?", (run_id,)):
            out.setdefault(r["name"], {})[r["version"]] = (r["role"], r["direct"], r["latest"])
        return out

    def _advisories(self, run_id: int) -> dict[tuple[str, str, str], dict]:
        return {(r["advisory"], r["name"], r["version"]): dict(r) for r in self.store.conn.execute(
            "SELECT advisory, name, version, severity, summary, fixed FROM ledger_advisories WHERE run_id = ?",
            (run_id,))}

    def changes(self, old: int | None, new: int) -> Changes:
        """What run `new` shows that run `old` did not (everything counts as added when old is None)."""
        ch = Changes()
        new_pk = self._packages(new)
        old_pk = self._packages(old) if old is not None else {}
        for name in sorted(set(new_pk) | set(old_pk)):
            nv, ov = set(new_pk.get(name, {})), set(old_pk.get(name, {}))
            if nv == ov:
                continue
            gone, came = sorted(ov - nv), sorted(nv - ov)
            if len(gone) == 1 and len(came) == 1:
                ch.upgrades.append((name, gone[0], came[0]))
                continue
            ch.added.extend((name, v) for v in came)
            ch.removed.extend((name, v) for v in gone)
        new_adv = self._advisories(new)
        old_adv = self._advisories(old) if old is not None else {}
        ch.new_advisories = [new_adv[k] for k in sorted(set(new_adv) - set(old_adv))]
        ch.resolved_advisories = [old_adv[k] for k in sorted(set(old_adv) - set(new_adv))]
        if old is not None:
            for name, versions in sorted(new_pk.items()):
                latest_new = next((v[2] for v in versions.values() if v[2]), None)
                latest_old = next((v[2] for v in old_pk.get(name, {}).values() if v[2]), None)
                role = next((v[0] for v in versions.values()), None)
                if role and latest_new and latest_old and latest_new != latest_old:
                    ch.new_releases.append((name, latest_old, latest_new))
        return ch
