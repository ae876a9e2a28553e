"""The enabled plugin list per env, as egg-core's plugin loader computes it.

Framework entries, then the app's plugin.default (or legacy plugin), plugin.<scope>,
plugin.<env>, plugin.<scope>_<env>; a plugin whose `env` list lacks the env is off; a
disabled plugin that an enabled one depends on is switched back on ("enabled implicitly").
"""

from __future__ import annotations

import json
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path

from eggshield.eggconfig.model import PluginEntry
from eggshield.js.values import JSObject, Loc, Unknown


def framework_entries(defaults) -> dict[str, PluginEntry]:
    entries = {}
    for name, spec in defaults.plugins.items():
        entries[name] = PluginEntry(
            name=name, enable=bool(spec.get("enable", True)), package=spec.get("package"),
            version=spec.get("version"), env=list(spec.get("env") or []),
            dependencies=list(spec.get("dependencies") or []),
            optional_dependencies=list(spec.get("optionalDependencies") or []),
            source=Loc(spec.get("from") or f"{defaults.framework_package}@{defaults.version} config/plugin.js", default=True),
            framework_default=True)
    return entries


def apply_plugin_file(entries: dict[str, PluginEntry], value, notes: list[str], file_label: str) -> None:
    """Merge one plugin.* file's exports the way egg-core's `_extendPlugins` does."""
    if not isinstance(value, JSObject):
        if value is not None:
            notes.append(f"{file_label}: plugin list is not a plain object ({type(value).__name__}); ignored")
        return
    for name, spec in value.items():
        loc = value.locs.get(name) or Loc(file_label)
        entry = entries.get(name)
        if entry is None:
            entry = entries[name] = PluginEntry(name=name, enable=True, known_defaults=False)
        if isinstance(spec, bool):
            entry.enable = spec
            entry.source = loc
            continue
        if isinstance(spec, Unknown):
            notes.append(f"{loc}: plugin '{name}' is {spec.reason}; assumed enabled")
            entry.source = loc
            continue
        if not isinstance(spec, JSObject):
            notes.append(f"{loc}: plugin '{name}' has an unexpected value; ignored")
            continue
        same_package = spec.get("package") == entry.package and "path" not in spec
        if ("package" in spec or "path" in spec) and not same_package:
            entry.package = None
            entry.path = None
            entry.version = None
            entry.framework_default = False
            entry.known_defaults = False
        enable = spec.get("enable", True)  # egg-core: an object entry without `enable` means enabled
        if isinstance(enable, Unknown):
            notes.append(f"{loc}: plugin '{name}' enable is {enable.reason}; assumed enabled")
            enable = True
        entry.enable = bool(enable)
        for prop, attr in (("package", "package"), ("path", "path")):
            if isinstance(spec.get(prop), str):
                setattr(entry, attr, spec[prop])
        for prop, attr in (("env", "env"), ("dependencies", "dependencies"),
                           ("optionalDependencies", "optional_dependencies")):
            items = spec.get(prop)
            if isinstance(items, list) and (items or not getattr(entry, attr)):
                setattr(entry, attr, [str(i) for i in items if isinstance(i, str)])
        entry.source = loc


def read_package_meta(entry: PluginEntry, app_root: Path) -> Path | None:
    """Find an app plugin's directory and read its package.json `eggPlugin` metadata (JSON only)."""
    plugin_dir: Path | None = None
    if entry.path:
        candidate = Path(entry.path)
        plugin_dir = candidate if candidate.is_absolute() else app_root / candidate
    elif entry.package:
        for base in [app_root, *app_root.parents][:6]:
            candidate = base / "node_modules" / entry.package
            if candidate.is_dir():
                plugin_dir = candidate
                break
    if plugin_dir is None or not plugin_dir.is_dir():
        return None
    pkg_file = plugin_dir / "package.json"
    try:
        pkg = json.loads(pkg_file.read_text("utf-8")) if pkg_file.is_file() else {}
    except (OSError, ValueError):
        pkg = {}
    meta = dict(pkg.get("eggPlugin") or {})
    if "dependencies" not in meta and isinstance(meta.get("dep"), list):
        meta["dependencies"] = meta["dep"]  # egg-core reads `dep` as an alias (egg-view-nunjucks uses it)
    entry.version = entry.version or pkg.get("version")
    for key, attr in (("dependencies", "dependencies"), ("optionalDependencies", "optional_dependencies"), ("env", "env")):
        if isinstance(meta.get(key), list) and not getattr(entry, attr):
            setattr(entry, attr, [str(x) for x in meta[key]])
    return plugin_dir


def finalize(entries: dict[str, PluginEntry], env: str, notes: list[str]) -> list[str]:
    """Apply env lists and implicit enabling; return enabled names in load order."""
    for entry in entries.values():
        if entry.enable and entry.env and env not in entry.env:
            entry.enable = False
            notes.append(f"plugin '{entry.name}' is off in env '{env}' (its env list is {entry.env})")
    implicit: dict[str, list[str]] = {}
    changed = True
    while changed:
        changed = False
        for entry in list(entries.values()):
            if not entry.enable:
                continue
            for dep in entry.dependencies:
                target = entries.get(dep)
                if target is None:
                    notes.append(f"plugin '{entry.name}' depends on '{dep}', which is not defined: Egg would fail to start")
                    continue
                if not target.enable:
                    target.enable = True
                    target.implicit = True
                    implicit.setdefault(dep, []).append(entry.name)
                    changed = True
    if implicit:
        lines = "\n".join(f"  - {dep} required by [{', '.join(by)}]" for dep, by in implicit.items())
        notes.append(f"Following plugins will be enabled implicitly that is disabled by application.\n{lines}")
    return [name for name, entry in entries.items() if entry.enable]


def load_order(enabled: list[str], entries: dict[str, PluginEntry], known_order: tuple[str, ...]) -> list[str]:
    """Known plugins in Egg's own order, app plugins after them; each after its dependencies."""
    rank = {name: i for i, name in enumerate(known_order)}
    start = sorted((n for n in enabled if n in rank), key=rank.__getitem__) + [n for n in enabled if n not in rank]
    ordered: list[str] = []
    placing: set[str] = set()

    def place(name: str) -> None:
        if name in ordered or name in placing or name not in enabled:
            return
        placing.add(name)
        entry = entries[name]
        for dep in [*entry.dependencies, *entry.optional_dependencies]:
            place(dep)
        placing.discard(name)
        ordered.append(name)

    for name in start:
        place(name)
    return ordered


@cache
def _known_metadata() -> dict[str, dict]:
    """eggPlugin metadata (env, dependencies) of well-known plugins by package name, from the plugin
    knowledge base: what Egg would read from a package that is not installed where eggshield runs."""
    raw = tomllib.loads(resources.files("eggshield.data").joinpath("plugin_surfaces.toml").read_text("utf-8"))
    out: dict[str, dict] = {}
    for spec in raw.get("plugin", {}).values():
        meta = {k: spec[k] for k in ("env", "dependencies") if isinstance(spec.get(k), list)}
        for package in spec.get("packages", []):
            out[package] = meta
    return out


def apply_known_metadata(entry: PluginEntry) -> bool:
    """Fill env/dependencies of an uninstalled plugin from the knowledge base; True if it knew the package."""
    meta = _known_metadata().get(entry.package or "")
    if meta is None:
        return False
    if not entry.env and meta.get("env"):
        entry.env = [str(e) for e in meta["env"]]
    if not entry.dependencies and meta.get("dependencies"):
        entry.dependencies = [str(d) for d in meta["dependencies"]]
    return True
