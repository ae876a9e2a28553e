"""What `eggshield deps` prints: the inventory table, the findings, the ledger history."""

from __future__ import annotations

from pathlib import Path

from eggshield.deps.audit import PackageReport
from eggshield.masking import printable
from eggshield.report import FORMATS, Report, Target

MAX_ROWS = 400


def build_report(run) -> Report:
    from eggshield.checks.registry import all_rules

    targets = []
    for proj, a in run.audits:
        label = proj.name if proj is not None else a.root.name
        inv = a.inventory
        targets.append(Target(label=f"{label} ({inv.source if inv else 'no inventory'})",
                              egg_major=a.egg_major, egg_version=_egg_version(a),
                              framework=a.framework if proj is not None else None))
    return Report(findings=list(run.findings), problems=list(run.problems), targets=targets,
                  rules={r.id: r.metadata() for r in all_rules() if r.kind == "deps"}, scan_root=str(run.root))


def _egg_version(a) -> str | None:
    eggs = [p for p in a.packages if p.name == "egg" and p.version]
    return eggs[0].version if eggs else None


def _row(p: PackageReport) -> list[str]:
    adv = ""
    if p.hits:
        worst = min(p.hits, key=lambda h: ("critical", "high", "medium", "low").index(h.advisory.severity)
                    if h.advisory.severity in ("critical", "high", "medium", "low") else 4).advisory.severity
        adv = f"{len(p.hits)} ({worst})"
    notes = []
    if p.deprecated:
        notes.append("DEPRECATED")
    if p.dev:
        notes.append("dev")
    if p.direct is None:
        notes.append("transitive")
    if p.origin != "registry":
        notes.append(p.origin)
    if p.upgrade and p.hits:
        notes.append(f"upgrade to {p.upgrade}")
    behind = p.behind.describe() if p.behind else ("" if p.latest else ("?" if p.registry_error else ""))
    return [p.name, p.version or f"({p.spec or '*'})", p.wanted or "", p.latest or "", behind, adv,
            ", ".join(notes), p.role or ""]


def _table(rows: list[list[str]], head: list[str]) -> list[str]:
    widths = [max(len(head[i]), *(len(r[i]) for r in rows)) if rows else len(head[i]) for i in range(len(head))]
    widths = [min(w, 48) for w in widths]

    def fmt(r: list[str]) -> str:
        return "  ".join((c if len(c) <= widths[i] else c[: widths[i] - 1] + "…").ljust(widths[i])
                         for i, c in enumerate(r)).rstrip()

    return [fmt(head), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]


def render_text(run, report: Report, all_packages: bool = False) -> str:
    out: list[str] = []
    for proj, a in run.audits:
        name = proj.name if proj is not None else a.root.name
        inv = a.inventory
        rel = (proj.rel(proj.root) if proj is not None else "") or "."
        if inv is None:
            out.append(f"# {name} ({rel}): not audited")
            continue
        shown = a.packages if all_packages else a.egg_packages()
        egg_count = len(a.egg_packages())
        out.append(f"# {name} ({rel}) · {inv.source} · {len(a.packages)} packages, {egg_count} from the Egg "
                   f"ecosystem · {sum(len(p.hits) for p in a.packages)} advisories")
        if not inv.resolved:
            out.append("# UNRESOLVED: no lockfile and no node_modules; versions below are the declared ranges")
        out.append(f"# registry: {a.registry or 'not consulted'}")
        for line in a.advisory_sources:
            out.append(f"# advisories: {line}")
        if shown:
            rows = [_row(p) for p in shown[:MAX_ROWS]]
            out.extend(_table(rows, ["package", "installed", "wanted", "latest", "behind", "advisories", "notes",
                                     "role"]))
            if len(shown) > MAX_ROWS:
                out.append(f"... and {len(shown) - MAX_ROWS} more (use --format json for all)")
        else:
            out.append("(no Egg packages found in the tree)" if not all_packages else "(no packages)")
        others = [p for p in a.packages if not p.egg and p.hits]
        if others and not all_packages:
            out.append(f"{len(others)} other packages have advisories (listed below; --all shows every package)")
        for note in a.notes:
            out.append(f"note: {printable(note)}")
        out.append("")
    out.append(FORMATS["text"].render(report))
    return "\n".join(out)


def inventory_document(run, all_packages: bool = False) -> list[dict]:
    docs = []
    for proj, a in run.audits:
        inv = a.inventory
        packages = []
        for p in (a.packages if all_packages else [p for p in a.packages if p.egg or p.hits]):
            packages.append({
                "name": p.name, "version": p.version, "spec": p.spec if not p.version else None, "role": p.role,
                "direct": p.direct is not None, "declared": p.direct.spec if p.direct else None, "dev": p.dev,
                "origin": p.origin, "wanted": p.wanted, "latest": p.latest,
                "behind": ({"majors": p.behind.majors, "minors": p.behind.minors, "patches": p.behind.patches,
                            "days": p.behind.days} if p.behind else None),
                "deprecated": p.deprecated,
                "advisories": [{"id": h.advisory.id, "severity": h.advisory.severity, "fixed": h.fixed_in,
                                "source": h.advisory.source} for h in p.hits],
                "upgrade": p.upgrade, "paths": p.paths,
            })
        docs.append({"app": proj.name if proj is not None else a.root.name,
                     "path": (proj.rel(proj.root) if proj is not None else ".") or ".",
                     "source": inv.source if inv else None, "resolved": inv.resolved if inv else False,
                     "lockfile": str(Path(inv.lockfile).name) if inv and inv.lockfile else None,
                     "registry": a.registry, "advisory_sources": a.advisory_sources, "notes": a.notes,
                     "package_count": len(a.packages), "packages": packages})
    return docs


def history_document(ledger, projects: list[str], limit: int) -> list[dict]:
    out = []
    for project in projects:
        runs = ledger.runs(project, limit)
        entries = []
        for r in runs:
            prev = ledger.previous(project, r.id)
            ch = ledger.changes(prev, r.id) if prev is not None else None
            entry = {"run": r.id, "at": r.at, "command": r.command, "source": r.source, "offline": r.offline,
                     "packages": r.packages, "advisories": r.advisories}
            if ch is not None:
                entry["changes"] = {
                    "upgrades": [{"name": n, "from": o, "to": v} for n, o, v in ch.upgrades],
                    "added": [{"name": n, "version": v} for n, v in ch.added],
                    "removed": [{"name": n, "version": v} for n, v in ch.removed],
                    "new_advisories": ch.new_advisories, "resolved_advisories": ch.resolved_advisories,
                    "new_releases": [{"name": n, "previous": o, "latest": v} for n, o, v in ch.new_releases]}
            entries.append(entry)
        out.append({"project": project, "app": runs[0].app if runs else "", "runs": entries})
    return out


def render_history(doc: list[dict]) -> str:
    lines: list[str] = []
    for proj in doc:
        lines.append(f"# {proj['app']} ({proj['project']})")
        for r in proj["runs"]:
            lines.append(f"{r['at']}  #{r['run']} {r['command']}{' (offline)' if r['offline'] else ''} · "
                         f"{r['source']} · {r['packages']} packages · {r['advisories']} advisories")
            ch = r.get("changes")
            if ch is None:
                lines.append("    first recorded run")
                continue
            for u in ch["upgrades"]:
                lines.append(f"    upgraded {u['name']} {u['from'] or '?'} -> {u['to'] or '?'}")
            for a in ch["added"][:20]:
                lines.append(f"    added {a['name']}@{a['version']}")
            for a in ch["removed"][:20]:
                lines.append(f"    removed {a['name']}@{a['version']}")
            for a in ch["new_advisories"]:
                lines.append(f"    new advisory {a['advisory']} ({a['severity']}) for {a['name']}@{a['version']}")
            for a in ch["resolved_advisories"]:
                lines.append(f"    resolved {a['advisory']} for {a['name']}@{a['version']}")
            for rel in ch["new_releases"]:
                lines.append(f"    new release {rel['name']} {rel['latest']} (was {rel['previous']})")
            if not any(ch.values()):
                lines.append("    no change")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
