"""Write small Egg apps into a temp dir for tests."""

from __future__ import annotations

import json
from pathlib import Path


def make_app(root: Path, files: dict[str, str], *, egg: str = "^3.17.0", name: str = "demo", pkg: dict | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    package = {"name": name, "version": "1.0.0", "dependencies": {"egg": egg}}
    package.update(pkg or {})
    (root / "package.json").write_text(json.dumps(package))
    for rel, body in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)
    return root


D, PROD, LOCAL, PLUGIN = "config/config.default.js", "config/config.prod.js", "config/config.local.js", "config/plugin.js"
KEYS = "exports.keys = process.env.EGG_KEYS;\n"  # keys from the environment: no EGG-CFG-001 noise


def rule_findings(root: Path, rule: str | None = None, env: str = "prod") -> list:
    """Findings of one rule (all with None) from a real scan; a crashing check fails the test,
    since it would otherwise pass every near miss."""
    from eggshield.pipeline import scan

    result = scan(root, env=env)
    crashed = [p.message for p in result.problems if p.message.startswith("check ")]
    assert not crashed, crashed
    return [f for f in result.report.findings if rule is None or f.rule_id == rule]
