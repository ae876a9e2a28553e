"""Build the plugin audit of one app: every plugin Egg knows about in an env, where it comes from,
which package version, whether the code uses it, and why it is on."""

from __future__ import annotations

from pathlib import Path

from eggshield.eggconfig.model import PluginEntry, ResolvedConfig
from eggshield.js.values import Loc
from eggshield.plugins.codeindex import CodeIndex, build_index
from eggshield.plugins.derive import DerivedSurface, derive_surface, spec_from_surface
from eggshield.plugins.justification import Justification, PluginPolicy, comment_near, load_plugin_policy
from eggshield.plugins.knowledge import Knowledge, PluginSpec, load_knowledge
from eggshield.plugins.model import REQUIRED, UNUSED, USED, Origin, PluginAudit, PluginRow, Usage
from eggshield.plugins.usage import UsageInputs, evaluate
from eggshield.plugins.versions import Version, installed_dir, locked_versions, resolve_version

_CACHE_ATTR = "_eggshield_plugin_audit"


def plugin_dir(entry: PluginEntry, project) -> Path | None:
    """The directory Egg would load the plugin from, when it is on this machine."""
    if entry.path:
        candidate = Path(entry.path)
        candidate = candidate if candidate.is_absolute() else project.root / candidate
        return candidate if candidate.is_dir() else None
    if entry.package:
        return installed_dir(entry.package, project.root)
    local = project.local_plugins.get(entry.name)
    return local


def _origin(entry: PluginEntry, project, entries: dict[str, PluginEntry]) -> Origin:
    if entry.implicit:
        by = [e.name for e in entries.values() if e.enable and entry.name in e.dependencies and e.name != entry.name]
        return Origin("implicit", entry.source, required_by=by)
    if entry.source is None or entry.source.default:
        return Origin("framework", entry.source)
    local = None
    if entry.path:
        path = Path(entry.path)
        local = project.rel(path if path.is_absolute() else project.root / path)
    return Origin("app", entry.source, local_dir=local)


def _justify(entry: PluginEntry, origin: Origin, project, sources: dict, policy: PluginPolicy) -> Justification | None:
    if entry.name in policy.why:
        return Justification(policy.why[entry.name], policy.source or ".eggshield.toml")
    loc = entry.source
    if origin.kind != "app" or loc is None or loc.line is None:
        return None
    tree = sources.get((project.scan_root / loc.path).resolve())
    if tree is None:
        tree = sources.get(project.scan_root / loc.path)
    if tree is None:
        return None
    reason = comment_near(tree, loc.line)
    return Justification(reason, str(loc)) if reason else None


def _spec_for(entry: PluginEntry, knowledge: Knowledge, directory: Path | None,
              project) -> tuple[PluginSpec | None, DerivedSurface | None]:
    spec = knowledge.lookup(entry.name, entry.package)
    if spec is not None and (spec.packages or not directory):
        return spec, None
    if directory is None:
        return spec, None
    derived = derive_surface(directory)
    where = project.rel(directory) if directory.is_relative_to(project.scan_root) else (
        f"{entry.package} in node_modules" if entry.package else str(directory))
    return spec_from_surface(entry.name, entry.package, derived, where), derived


def _effective(entry: PluginEntry, spec: PluginSpec | None, env: str) -> tuple[bool, str]:
    """Egg's decision, plus the env list of packages eggshield knows but could not read (not installed)."""
    if not entry.enable:
        return False, ""
    if not entry.env and spec is not None and spec.env and env not in spec.env:
        return False, f"its package limits it to env {', '.join(spec.env)}"
    return True, ""


def _apply_dependencies(rows: dict[str, PluginRow]) -> None:
    """A plugin an enabled plugin depends on is needed for Egg to start, used or not; an optional
    dependency serves a feature only when the plugin that names it is really used."""
    for target in rows.values():
        if not target.enabled or target.usage.state != UNUSED:
            continue
        hard, optional = [], []
        for row in rows.values():
            if not row.enabled or row is target:
                continue
            if target.name in {*row.entry.dependencies, *(row.spec.dependencies if row.spec else ())}:
                hard.append(row.name)
            elif row.usage.state == USED and target.name in {
                    *row.entry.optional_dependencies, *(row.spec.optional_dependencies if row.spec else ())}:
                optional.append(row.name)
        if hard:
            target.usage = Usage(REQUIRED, reason=f"enabled {', '.join(hard)} depend{'s' if len(hard) == 1 else ''} "
                                                  "on it (Egg needs it to start)")
        elif optional:
            target.usage = Usage(REQUIRED, reason=f"{', '.join(optional)} use{'s' if len(optional) == 1 else ''} "
                                                  "it when present (optional dependency)")


def build_audit(project, config: ResolvedConfig, sources: dict, *, index: CodeIndex | None = None,
                parse_failures: int = 0, knowledge: Knowledge | None = None) -> PluginAudit:
    knowledge = knowledge or load_knowledge()
    index = index if index is not None else build_index(sources, project)
    inputs = UsageInputs(project=project, config=config, index=index, parse_failures=parse_failures)
    policy = load_plugin_policy(project.root, _policy_label(project))
    lock = project.lockfile
    locked, lock_problem = locked_versions(lock, lock.parent if lock is not None else project.root)
    audit = PluginAudit(app=project.rel(project.root) or ".", env=config.env, rows={},
                        knowledge_checked=knowledge.checked)
    audit.problems.extend(policy.problems)
    if lock_problem:
        audit.problems.append(lock_problem)
    for name, entry in config.plugins.items():
        directory = plugin_dir(entry, project)
        spec, derived = _spec_for(entry, knowledge, directory, project)
        enabled, off_reason = _effective(entry, spec, config.env)
        origin = _origin(entry, project, config.plugins)
        own = directory if directory is not None and directory.is_relative_to(project.root) else None
        usage = evaluate(spec, inputs, own_dir=own, derived=derived)
        version = resolve_version(entry.package, project, locked,
                                  fallback=entry.version if entry.framework_default else None)
        if entry.path and not entry.package:
            version = Version(_local_version(directory), "local") if directory else Version(None, "")
        rows_row = PluginRow(name=name, entry=entry, spec=spec, enabled=enabled, origin=origin, version=version,
                             usage=usage, plugin_dir=directory, off_reason=off_reason,
                             justification=_justify(entry, origin, project, sources, policy))
        audit.rows[name] = rows_row
        if off_reason:
            audit.notes.append(f"plugin '{name}' is off in env '{config.env}': {off_reason}")
    _apply_dependencies(audit.rows)
    if project.framework not in ("egg", "@eggjs/egg"):
        for row in audit.rows.values():  # an upper framework can use plugins in ways eggshield does not model
            if row.usage.state == UNUSED and row.usage.confidence == "high":
                row.usage.confidence = "medium"
                row.usage.reason += f"; framework '{project.framework}' may use it"
    audit.notes.extend(_unprovided(audit, knowledge, index, project, config.notes))
    return audit


def other_env_row(entry: PluginEntry, project, resolved: ResolvedConfig, knowledge: Knowledge,
                  audited_env: str) -> PluginRow:
    """A row for a plugin that only another env's plugin file lists: off in the audited env."""
    directory = plugin_dir(entry, project)
    spec, _ = _spec_for(entry, knowledge, directory, project)
    return PluginRow(name=entry.name, entry=entry, spec=spec, enabled=False,
                     origin=_origin(entry, project, resolved.plugins),
                     version=resolve_version(entry.package, project, {}), usage=Usage(UNUSED),
                     plugin_dir=directory, off_reason=f"not listed in env '{audited_env}'")


def _local_version(directory: Path | None) -> str | None:
    import json

    if directory is None:
        return None
    try:
        version = json.loads((directory / "package.json").read_text("utf-8")).get("version")
    except (OSError, ValueError, AttributeError):
        return None
    return version if isinstance(version, str) else None


def _policy_label(project) -> str:
    rel = project.rel(project.root)
    return ".eggshield.toml" if rel in ("", ".") else f"{rel}/.eggshield.toml"


_GENERIC = {"ctx.user", "ctx.compare", "ctx.locale", "ctx.model", "app.model", "ctx.entity", "ctx.repo",
            "ctx.rule", "app.url", "app.role", "app.queue", "app.webpack", "app.vue", "app.react", "app.view",
            "ctx.view", "app.status", "app.validator", "ctx.login", "ctx.logout", "app.io", "app.storage"}


def _unprovided(audit: PluginAudit, knowledge: Knowledge, index: CodeIndex, project,
                config_notes: list[str]) -> list[str]:
    """Code that reaches a known plugin's API while no enabled plugin provides it (a TypeError at run time,
    or a plugin to keep when disabling others)."""
    provided = {str(s) for row in audit.enabled() if row.spec for s in row.spec.adds}
    app_own = derive_surface(project.source_dir or project.root)
    provided |= {str(s) for s in app_own.adds}
    notes: list[str] = []
    plugin_files = {project.rel(p) for p in project.plugin_files.values()}
    gap = next((n for n in config_notes if n.split(":", 1)[0] in plugin_files and "unknown" in n), None)
    unknown = [r.name for r in audit.enabled() if r.usage.state == "unknown" and r.spec is None]
    if unknown:
        gap = (gap + "; " if gap else "") + f"unless {', '.join(unknown)} (surface unknown) provides it"
    if project.framework not in ("egg", "@eggjs/egg"):
        gap = (gap + "; " if gap else "") + f"unless framework '{project.framework}' provides it"
    for spec in knowledge.specs.values():
        row = audit.rows.get(spec.name)
        if row is not None and row.enabled:
            continue
        for surface in spec.adds:
            label = str(surface)
            if surface.receiver not in ("app", "agent", "ctx") or label in provided or label in _GENERIC:
                continue
            refs = index.members(surface.receiver, surface.member)
            if refs:
                ref = refs[0]
                state = "is disabled" if row is not None else "is not enabled"
                notes.append(f"{project.rel(ref.path)}:{ref.line} uses {label}, but plugin '{spec.name}' "
                             f"({' / '.join(spec.packages)}) {state} in env '{audit.env}'"
                             + (f" as far as eggshield can tell ({gap})" if gap else ""))
                break
    return notes


def audit_for(ctx) -> PluginAudit:
    """The audit of a check context, built once per context (several rules read it)."""
    cached = getattr(ctx, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    failures = sum(1 for p in ctx.project.source_files if p not in ctx.sources and p.suffix != ".json")
    audit = build_audit(ctx.project, ctx.config, ctx.sources, parse_failures=failures)
    setattr(ctx, _CACHE_ATTR, audit)
    return audit


def source_loc(loc: Loc | None) -> Loc | None:
    return loc if loc is not None and not loc.default else None
