"""The deps box: lockfile inventory, advisories and registry facts (`audit_project`).

Running the deps rules over an audit and rendering it is wiring, done one level down in
`eggshield.pipeline_deps` (`run_deps`, `scan_findings`) and the CLI, so this box never imports
the checks or report boxes below it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from eggshield.deps.audit import AuditOptions, DepsAudit, audit
from eggshield.finding import Finding, InputProblem

__all__ = ["DepsOptions", "DepsRun", "audit_project"]


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
