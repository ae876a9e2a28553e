"""Shared helpers for the plugin-audit tests: build an app, audit it, pick rows and findings."""

from __future__ import annotations

from pathlib import Path

from appfactory import make_app
from eggshield.eggconfig import resolve
from eggshield.js.sources import parse_sources
from eggshield.pipeline import scan
from eggshield.plugins import build_audit
from eggshield.project.discover import discover

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "plugins"


def plugin_js(**entries: str) -> str:
    """`config/plugin.js` with one `exports.<name> = <js>;` line per entry."""
    return "'use strict';\n" + "".join(f"exports.{name} = {js};\n" for name, js in entries.items())


def audit_app(root: Path, env: str = "prod"):
    project = discover(root).projects[0]
    trees, _ = parse_sources(project)
    return build_audit(project, resolve(project, env), trees)


def audit_files(tmp_path: Path, files: dict[str, str], env: str = "prod", **kw):
    return audit_app(make_app(tmp_path, files, **kw), env)


def findings(root: Path, rule: str, env: str = "prod"):
    return [f for f in scan(root, env=env).report.findings if f.rule_id == rule]
