"""The deps box: lockfile inventory, advisories, registry facts, and the deps rules run over them.

    from eggshield.deps import run_deps, DepsOptions
    run = run_deps(Path("app"), DepsOptions(offline=True))
    run.findings, run.audits, run.problems

`scan_findings(project)` is what `eggshield scan` can call to include strategy-1 findings
from the bundled snapshot and the local cache only (no network unless asked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from eggshield.deps.audit import AuditOptions, DepsAudit, audit
from eggshield.finding import Finding, InputProblem

__all__ = ["DepsOptions", "DepsRun", "run_deps", "audit_project", "scan_findings"]


@dataclass
class DepsOptions:
    offline: bool = False
    all_packages: bool = False
    prod_only: bool = False
    env: str = "prod"
    ttl: float = 3600.0
    cache_dir: Path | None = None
    registry_url: str | None = None  # overrides the npm config (tests, mirrors)
    refresh_advisories: bool = True  # the live OSV refresh, when online
    osv_api: str | None = None
    concurrency: int = 8
    timeout: float = 15.0


@dataclass
class DepsRun:
    root: Path
    audits: list[tuple[object, DepsAudit]] = field(default_factory=list)  # (EggProject or None, audit)
    findings: list[Finding] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    not_egg: bool = False  # PATH holds no Egg app; its package.json was audited as a plain project


def _registry(options: DepsOptions, project_dir: Path):
    """The registry client; offline, npm is not asked (a node start costs a second): the .npmrc
    files decide, else the registry the last online run used (remembered in the cache)."""
    from eggshield.deps.registry import (
        RegistryClient,
        RegistryConfig,
        RegistryError,
        default_cache_dir,
        registry_config,
    )

    hint = (options.cache_dir or default_cache_dir()) / "registry" / "last-registry"
    note = None
    config = None
    if options.registry_url:
        url = options.registry_url if options.registry_url.endswith("/") else options.registry_url + "/"
        config = RegistryConfig(url, "--registry")
    else:
        try:
            config = registry_config(project_dir, npm=None if options.offline else "npm")
        except RegistryError as exc:
            try:
                url = hint.read_text(encoding="utf-8").strip() if options.offline else ""
            except OSError:
                url = ""
            if url.startswith(("http://", "https://")):
                config = RegistryConfig(url, "the registry of the last online run")
            else:
                note = str(exc)
    if config is not None and not options.offline and config.source == "npm config get registry":
        try:
            hint.parent.mkdir(parents=True, exist_ok=True)
            hint.write_text(config.url, encoding="utf-8")
        except OSError:
            pass
    if config is None and options.offline:
        return None, None  # offline with no registry ever configured: nothing to look up, nothing to say
    client = RegistryClient(config, cache_dir=options.cache_dir, ttl=options.ttl, offline=options.offline,
                            concurrency=options.concurrency, timeout=options.timeout)
    return client, note


def _refresher(options: DepsOptions):
    if options.offline or not options.refresh_advisories:
        return None, None
    from eggshield.deps.advisories.live import LiveOsvSource
    from eggshield.deps.registry import RegistryError

    live = LiveOsvSource(api=options.osv_api, cache_dir=options.cache_dir)

    def refresh(pkgs: list[tuple[str, str]]) -> str | None:
        try:
            n = live.refresh(pkgs)
        except RegistryError as exc:
            return f"{exc}; using the bundled snapshot and any earlier refresh"
        return f"advisories refreshed from {live.api}: {n} new or changed" if n else None

    return live, refresh


def audit_project(project, options: DepsOptions, *, config=None, advisories=None, registry=None,
                  refresh=None) -> DepsAudit:
    """Audit one discovered EggProject (or a plain directory when `project` is a Path)."""
    if isinstance(project, Path):
        return audit(project, options=AuditOptions(all_packages=options.all_packages, offline=options.offline,
                                                   prod_only=options.prod_only, advisories=advisories,
                                                   registry=registry, refresh=refresh), all_importers=True)
    return audit(project.root, stop=project.scan_root, lockfile=project.lockfile, config=config,
                 framework=project.framework, egg_major=project.egg_major,
                 options=AuditOptions(all_packages=options.all_packages, offline=options.offline,
                                      prod_only=options.prod_only, advisories=advisories, registry=registry,
                                      refresh=refresh))


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
