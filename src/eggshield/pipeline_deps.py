"""Dependency audits wired to the deps rules: `eggshield deps` (run_deps) and strategy 1 of
`eggshield scan` (scan_findings). Beside `pipeline.py`: the deps box audits, the checks judge.

    from eggshield.pipeline_deps import run_deps
    run = run_deps(Path("app"), DepsOptions(offline=True))
    run.findings, run.audits, run.problems
"""

from __future__ import annotations

from pathlib import Path

from eggshield.deps import DepsOptions, DepsRun, _refresher, _registry, audit_project
from eggshield.deps.audit import DepsAudit
from eggshield.finding import Finding, InputProblem


def run_checks(audit_result: DepsAudit, scan_root: Path, app: str = "",
               only: set[str] | None = None) -> tuple[list[Finding], list[InputProblem]]:
    from eggshield.checks.deps_context import DepsContext
    from eggshield.checks.registry import all_rules

    ctx = DepsContext(audit=audit_result, scan_root=scan_root, app=app)
    findings: list[Finding] = []
    problems: list[InputProblem] = []
    if audit_result.inventory is None:
        return findings, problems
    for r in all_rules():
        if r.kind != "deps" or (only and r.id not in only):
            continue
        try:
            findings.extend(r.func(ctx))
        except Exception as exc:  # noqa: BLE001 - one broken check must not stop the audit
            problems.append(InputProblem(ctx.rel(audit_result.root) or ".", f"check {r.id} failed: "
                                                                           f"{type(exc).__name__}: {exc}"))
    return findings, problems


def run_deps(path: Path, options: DepsOptions | None = None, *, use_registry: bool = True) -> DepsRun:
    """Audit every Egg app under `path` (or `path` itself as a plain npm project when it holds none)."""
    from eggshield.deps.advisories import AdvisoryDB
    from eggshield.deps.advisories.bundled import bundled_sources
    from eggshield.project.discover import discover
    from eggshield.project.model import NotAnEggApp

    options = options or DepsOptions()
    path = path.resolve()
    run = DepsRun(root=path)
    live, refresh = _refresher(options)
    sources = ([live] if live is not None else []) + list(bundled_sources())
    if live is None:
        from eggshield.deps.advisories.live import LiveOsvSource

        cached = LiveOsvSource(api=options.osv_api, cache_dir=options.cache_dir)
        if cached.path.exists():  # offline: an earlier refresh is still local data
            sources.insert(0, cached)
    db = AdvisoryDB(sources)
    registry, reg_note = _registry(options, path) if use_registry else (None, None)
    try:
        found = discover(path)
        projects = list(found.projects)
        run.problems.extend(found.problems)
    except NotAnEggApp:
        if not (path / "package.json").is_file():
            raise
        projects = []
        run.not_egg = True
    targets: list = projects or [path]
    for project in targets:
        config = None
        if not isinstance(project, Path):
            try:
                from eggshield.eggconfig import resolve

                config = resolve(project, env=options.env)
            except Exception as exc:  # noqa: BLE001 - the audit still runs without config conditions
                run.problems.append(InputProblem(project.rel(project.root) or ".",
                                                 f"config not resolved ({type(exc).__name__}); "
                                                 "config-dependent advisories assumed to apply"))
        result = audit_project(project, options, config=config, advisories=db, registry=registry, refresh=refresh)
        refresh = None  # refresh once per run: the cache file then serves every app
        if reg_note and use_registry:
            result.notes.append(reg_note)
        name = project.name if not isinstance(project, Path) else project.name
        findings, problems = run_checks(result, path, app=name)
        run.audits.append((None if isinstance(project, Path) else project, result))
        run.findings.extend(findings)
        run.problems.extend(result.problems)
        run.problems.extend(problems)
    return run


def scan_findings(project, *, online: bool = False, cache_dir: Path | None = None) -> tuple[list[Finding],
                                                                                            list[InputProblem]]:
    """Strategy-1 findings for `eggshield scan`: bundled snapshot + local caches, network only if `online`."""
    options = DepsOptions(offline=not online, refresh_advisories=online, cache_dir=cache_dir)
    registry, _ = _registry(options, project.root)
    result = audit_project(project, options, registry=registry)
    findings, problems = run_checks(result, project.scan_root, app=project.name)
    return findings, [*result.problems, *problems]
