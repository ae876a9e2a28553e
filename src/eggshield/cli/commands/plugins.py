"""`eggshield plugins PATH`: the plugin inventory of each Egg app, with usage evidence and justification."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

STANDARD_ENVS = ("prod", "local", "unittest")
EXIT_OK, EXIT_USAGE = 0, 2


def _envs(project, env: str) -> list[str]:
    """prod/local/unittest, the scanned env, and any custom env the app has config or plugin files for."""
    names = [env, *STANDARD_ENVS]
    for files in (project.plugin_files, project.config_files):
        for name in files:
            if name not in ("default", "legacy") and "_" not in name:
                names.append(name)
    out: list[str] = []
    for name in names:
        if name not in out:
            out.append(name)
    return out


def inventory(project, env: str, scope: str = ""):
    """The audit of `project` in `env`, each row knowing every env it is enabled in."""
    from eggshield.eggconfig import resolve
    from eggshield.js.sources import parse_sources
    from eggshield.plugins import build_audit
    from eggshield.plugins.audit import _effective, other_env_row
    from eggshield.plugins.knowledge import load_knowledge

    trees, parse_problems = parse_sources(project)
    config = resolve(project, env=env, scope=scope)
    failures = sum(1 for p in project.source_files if p not in trees and p.suffix != ".json")
    audit = build_audit(project, config, trees, parse_failures=failures)
    knowledge = load_knowledge()
    for other in _envs(project, env):
        resolved = config if other == env else resolve(project, env=other, scope=scope)
        for name, entry in resolved.plugins.items():
            if name not in audit.rows:  # listed only in another env's plugin file (plugin.local.js)
                audit.rows[name] = other_env_row(entry, project, resolved, knowledge, env)
            if _effective(entry, audit.rows[name].spec, other)[0]:
                audit.rows[name].envs.append(other)
    problems = [str(p) for p in (*project.problems, *parse_problems, *config.problems)] + audit.problems
    return audit, config, problems


def _used_cell(row) -> str:
    if not row.enabled:
        if row.usage.state == "used" and row.usage.first:
            return f"(off) code still uses it: {row.usage.first}"
        return "-"
    return row.usage.summary()


def _row_doc(row, npm: dict) -> dict:
    usage = row.usage
    status = npm.get(row.entry.package) if row.entry.package else None
    return {
        "name": row.name,
        "package": row.entry.package,
        "path": row.entry.path,
        "version": row.version.version,
        "version_source": row.version.source or None,
        "enabled": row.enabled,
        "envs": row.envs,
        "from": {"kind": row.origin.kind, "path": row.origin.loc.path if row.origin.loc else None,
                 "line": row.origin.loc.line if row.origin.loc else None,
                 "required_by": row.origin.required_by or None, "local_dir": row.origin.local_dir,
                 "text": str(row.origin)},
        "used": {"state": usage.state, "confidence": usage.confidence, "reason": usage.reason or None,
                 "evidence": [{"what": e.what, "path": e.path, "line": e.line} for e in usage.evidence]},
        "justification": ({"text": row.justification.text, "where": row.justification.where}
                          if row.justification else None),
        "knowledge": ({"what": row.spec.what, "adds": [str(s) for s in row.spec.adds],
                       "middleware": list(row.spec.middleware), "config": list(row.spec.config),
                       "usage_rule": row.spec.usage, "status": row.spec.status,
                       "status_note": row.spec.status_note or None, "dev_only": row.spec.dev_only,
                       "derived": row.spec.derived, "source": row.spec.source} if row.spec else None),
        "off_reason": row.off_reason or None,
        "npm": ({"version": status.version, "latest": status.latest, "deprecated": status.deprecated}
                if status else None),
    }


def _table(headers: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        esc = [[c.replace("|", "\\|") for c in r] for r in rows]
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(r) + " |" for r in esc]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    widths = [min(w, 60) for w in widths]

    def fmt(cells: list[str]) -> str:
        out = []
        for i, c in enumerate(cells):
            c = c if len(c) <= widths[i] or i == len(cells) - 1 else c[: widths[i] - 1] + "…"
            out.append(c.ljust(widths[i]) if i < len(cells) - 1 else c)
        return "  ".join(out).rstrip()

    return "\n".join([fmt(headers), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)])


def render_text(audit, project, config, problems, *, markdown: bool, show_all: bool) -> str:
    version = project.egg_version or (f"{project.egg_major}.x" if project.egg_major else "unknown version")
    title = f"{project.name} ({audit.app}) · {project.framework} {version} · env {audit.env}"
    headers = ["plugin", "package@version", "enabled in", "from", "used?", "justification"]
    rows = []
    for row in sorted(audit.rows.values(), key=lambda r: (not r.enabled, r.origin.kind != "app", r.name)):
        if not show_all and not row.enabled and not row.envs and row.origin.kind != "app":
            continue
        label = row.package_label
        if row.version.source in ("range", "egg default"):
            label += f" ({row.version.source})"
        rows.append([row.name, label, ", ".join(row.envs) or "-", str(row.origin), _used_cell(row),
                     row.justification.text if row.justification else "-"])
    on = sum(1 for r in audit.rows.values() if r.enabled)
    unused = [r.name for r in audit.rows.values() if r.enabled and r.usage.state == "unused"]
    unknown = [r.name for r in audit.rows.values() if r.enabled and r.usage.state == "unknown"]
    summary = f"{on} plugins on in {audit.env}; unused: {', '.join(unused) or 'none'}"
    if unknown:
        summary += f"; usage unknown: {', '.join(unknown)}"
    parts = [("## " if markdown else "# ") + title, "", _table(headers, rows, markdown), "", summary]
    notes = audit.notes + [f"problem: {p}" for p in problems]
    if notes:
        parts.append("")
        parts.extend(("- " if markdown else "note: ") + n.splitlines()[0] for n in notes)
    return "\n".join(parts)


@click.command("plugins", epilog="Exit codes: 0 inventory printed; 2 not an Egg app or unreadable input.")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--env", default="prod", show_default=True, help="Egg env whose plugins are judged.")
@click.option("--scope", default="", help="EGG_SERVER_SCOPE, if the deployment sets one.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--all", "show_all", is_flag=True, help="Also list framework plugins that are off in every env.")
@click.option("--online", is_flag=True, help="Ask the npm registry (the one your npm uses) whether plugin packages "
                                            "are deprecated and what their latest version is.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
def command(path: Path, env: str, scope: str, fmt: str, show_all: bool, online: bool, output: str | None) -> None:
    """List the plugins of the Egg app(s) under PATH: package and version, the envs each is on in,
    where it is enabled (framework default, plugin.js:line, implicit dependency), whether the code
    uses it (the file:line of the first use) and why it is on (a comment next to its entry or
    `[plugins.<name>] why` in .eggshield.toml).

    \b
    Examples:
      eggshield plugins . --env prod
      eggshield plugins . --format markdown -o PLUGINS.md
    """
    from eggshield.project.discover import discover
    from eggshield.project.model import NotAnEggApp

    try:
        found = discover(path)
    except NotAnEggApp as exc:
        click.echo(f"eggshield: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    docs, texts = [], []
    for project in found.projects:
        try:
            audit, config, problems = inventory(project, env, scope)
        except Exception as exc:  # noqa: BLE001 - one broken app must not hide the others
            click.echo(f"eggshield: {project.rel(project.root) or '.'}: plugin audit failed: "
                       f"{type(exc).__name__}: {exc}", err=True)
            continue
        npm: dict = {}
        if online:
            from eggshield.plugins.online import npm_status

            npm, npm_problems = npm_status(audit, project)
            problems = problems + npm_problems
            for status in npm.values():
                if status.deprecated:
                    audit.notes.append(f"npm: {status.package}@{status.version} is deprecated: {status.deprecated}")
        if fmt == "json":
            docs.append({"app": audit.app, "name": project.name, "env": env,
                         "egg": {"major": project.egg_major, "version": project.egg_version},
                         "knowledge_checked": audit.knowledge_checked,
                         "plugins": [_row_doc(r, npm) for r in audit.rows.values()],
                         "notes": audit.notes, "problems": problems})
        else:
            texts.append(render_text(audit, project, config, problems, markdown=fmt == "markdown",
                                     show_all=show_all))
    for problem in found.problems:
        click.echo(f"eggshield: {problem}", err=True)
    if not docs and not texts:
        click.echo("eggshield: no app could be audited", err=True)
        sys.exit(EXIT_USAGE)
    body = json.dumps(docs[0] if len(docs) == 1 else docs, indent=2, ensure_ascii=False) if fmt == "json" \
        else "\n\n".join(texts)
    if output:
        Path(output).write_text(body + "\n", encoding="utf-8")
        click.echo(f"eggshield: wrote {output}", err=True)
    else:
        click.echo(body)
