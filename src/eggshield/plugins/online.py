"""npm's own word on plugin packages (`deprecated`, latest version), for `eggshield plugins --online`.

Uses the deps box's registry client, so the registry is the one the user's npm uses and answers are
cached on disk. Scans stay offline: EGG-PLG-003 reads the data file; this adds what npm says today.
"""

from __future__ import annotations

from dataclasses import dataclass

from eggshield.plugins.model import PluginAudit


@dataclass(frozen=True)
class NpmStatus:
    package: str
    version: str | None  # the version judged: installed/locked, else npm's latest
    latest: str | None
    deprecated: str | None


def npm_status(audit: PluginAudit, project, *, client=None) -> tuple[dict[str, NpmStatus], list[str]]:
    """Deprecation and latest version of every app-chosen plugin package; problems as one line each."""
    try:
        from eggshield.deps.registry import RegistryClient, RegistryError, registry_config
    except ImportError as exc:  # the deps box is not there: say so, do not guess
        return {}, [f"npm lookups unavailable ({exc})"]
    packages = sorted({r.entry.package for r in audit.rows.values()
                       if r.entry.package and r.origin.kind == "app" and not r.entry.framework_default})
    if not packages:
        return {}, []
    if client is None:
        try:
            client = RegistryClient(registry_config(project.root))
        except RegistryError as exc:
            return {}, [str(exc)]
    out: dict[str, NpmStatus] = {}
    problems: list[str] = []
    for name, pack in client.fetch_many(packages).items():
        if isinstance(pack, Exception):
            problems.append(f"npm: {pack}")
            continue
        exact = next((r.version.version for r in audit.rows.values() if r.entry.package == name
                      and r.version.source not in ("range", "") and r.version.version), None)
        version = exact if exact in pack.versions else pack.latest
        out[name] = NpmStatus(name, version, pack.latest, pack.deprecated(version) if version else None)
    return out, problems
