"""The update ledger in SQLite and the strategy-1 findings `eggshield scan` can include."""

from __future__ import annotations

from deps_helpers import CONFIG, npm_lock

from appfactory import make_app
from eggshield.deps import DepsOptions
from eggshield.deps.audit import AuditOptions, audit
from eggshield.pipeline_deps import scan_findings
from eggshield.project.discover import discover
from eggshield.store import Store
from eggshield.store.ledger import Ledger


def _audit(root):
    return audit(root, options=AuditOptions(offline=True))


def test_runs_record_inventories_and_changes(tmp_path):
    root = make_app(tmp_path / "app", CONFIG, name="app",
                    pkg={"dependencies": {"egg": "^3.17.0", "egg-security": "^3.7.0", "ms": "^2.0.0"}})
    npm_lock(root, {"egg": "3.17.0", "egg-security": "3.7.0", "ms": "2.0.0"})
    with Store(tmp_path / "l.db") as store:
        ledger = Ledger(store)
        first = ledger.record(_audit(root), "app")
        import json

        (root / "package.json").write_text(json.dumps({"name": "app", "version": "1.0.0", "dependencies": {
            "egg": "^3.17.0", "egg-security": "^3.8.1", "qs": "^6.14.0"}}))
        npm_lock(root, {"egg": "3.17.0", "egg-security": "3.8.1", "qs": "6.14.0"})
        second = ledger.record(_audit(root), "app", "watch")
        assert ledger.previous(str(root.resolve()), second) == first
        assert ledger.previous(str(root.resolve()), second, command="watch") is None
        ch = ledger.changes(first, second)
        assert ch.upgrades == [("egg-security", "3.7.0", "3.8.1")]
        assert ch.added == [("qs", "6.14.0")] and ch.removed == [("ms", "2.0.0")]
        assert [a["advisory"] for a in ch.resolved_advisories] == ["EGGSHIELD-2026-0001"]
        assert {a["name"] for a in ch.new_advisories} == {"qs"} and not ch.empty  # qs 6.14.0 has advisories
        baseline = ledger.changes(None, first)  # a first run: everything it saw is new
        assert {a["advisory"] for a in baseline.new_advisories} == {"EGGSHIELD-2026-0001"}
        assert [r.command for r in ledger.runs(str(root.resolve()))] == ["watch", "deps"]
    with Store(tmp_path / "l.db") as store:  # reopened: the history is still there, migrations not re-run
        assert len(Ledger(store).runs(str(root.resolve()))) == 2


def test_scan_can_include_deps_findings_without_network(tmp_path):
    root = make_app(tmp_path / "app", CONFIG, name="app",
                    pkg={"dependencies": {"egg": "^3.17.0", "egg-security": "3.7.0"}})
    npm_lock(root, {"egg": "3.17.0", "egg-security": "3.7.0"})
    (project,) = discover(root).projects
    findings, problems = scan_findings(project, cache_dir=tmp_path / "cache")
    assert [f.rule_id for f in findings] == ["EGG-UPD-002"] and problems == []
    assert DepsOptions().offline is False  # `eggshield deps` is online by default; scan is not
