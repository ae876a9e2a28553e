"""Which version of a plugin package the app gets: node_modules first (what is installed), then the
lockfile (what an install would get), then the package.json range.

Only the direct dependencies a plugin list names are looked up, so each lockfile form is read
with a small targeted parser (no YAML library); the dependency inventory of strategy 1 lives in
the deps box and is not needed here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from eggshield.finding import InputProblem
from eggshield.project.files import read_text


@dataclass(frozen=True)
class Version:
    version: str | None
    source: str  # "node_modules", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "range", "egg default"

    def __str__(self) -> str:
        return self.version or "?"


def installed_dir(package: str, app_root: Path, levels: int = 6) -> Path | None:
    """Where Node would resolve `package` from the app (its node_modules, then its parents')."""
    for base in [app_root, *app_root.parents][:levels]:
        candidate = base / "node_modules" / package
        if (candidate / "package.json").is_file():
            return candidate
    return None


def has_node_modules(app_root: Path, levels: int = 6) -> bool:
    return any((base / "node_modules").is_dir() for base in [app_root, *app_root.parents][:levels])


def installed_version(package: str, app_root: Path) -> str | None:
    found = installed_dir(package, app_root)
    if found is None:
        return None
    try:
        version = json.loads((found / "package.json").read_text("utf-8")).get("version")
    except (OSError, ValueError, AttributeError):
        return None
    return version if isinstance(version, str) else None


@lru_cache(maxsize=16)
def _locked(path: str, mtime: float, tree: str) -> tuple[dict[str, str], str | None]:
    text = read_text(Path(path), Path(tree))
    if isinstance(text, InputProblem):
        return {}, str(text)
    name = Path(path).name
    try:
        if name.endswith(".json"):
            return _npm(text), None
        if name == "yarn.lock":
            return _yarn(text), None
        return _pnpm(text), None
    except ValueError as exc:
        return {}, f"{name}: {exc}; plugin versions not read from it"


def locked_versions(lockfile: Path | None, tree: Path, importer: str = ".") -> tuple[dict[str, str], str | None]:
    """Top-level package -> version from a lockfile, and a problem line if it could not be read."""
    if lockfile is None or not lockfile.is_file():
        return {}, None
    versions, problem = _locked(str(lockfile), lockfile.stat().st_mtime, str(tree))
    return versions, problem


def _npm(text: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON (line {exc.lineno})") from exc
    out: dict[str, str] = {}
    packages = data.get("packages") if isinstance(data, dict) else None
    if isinstance(packages, dict):
        for key, entry in packages.items():
            if key.startswith("node_modules/") and isinstance(entry, dict) and isinstance(entry.get("version"), str):
                name = key[len("node_modules/"):]
                if "/node_modules/" not in name:
                    out[name] = entry["version"]
        return out
    deps = data.get("dependencies") if isinstance(data, dict) else None
    if isinstance(deps, dict):  # lockfile v1
        for name, entry in deps.items():
            if isinstance(entry, dict) and isinstance(entry.get("version"), str):
                out[name] = entry["version"]
    return out


_YARN_HEADER = re.compile(r'^"?(@?[^@\s"]+)@')
_YARN_VERSION = re.compile(r'^\s+version:?\s+"?([^"\s]+)"?\s*$')


def _yarn(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if not line[0].isspace():
            m = _YARN_HEADER.match(line)
            current = m.group(1) if m else None
            continue
        if current is not None:
            m = _YARN_VERSION.match(line)
            if m:
                # several ranges may resolve to several versions; keep the highest seen
                old = out.get(current)
                if old is None or _key(m.group(1)) > _key(old):
                    out[current] = m.group(1)
                current = None
    return out


def _pnpm(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    section = importer = group = None
    pending: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        key, _, value = stripped.partition(":")
        key = key.strip("'\"")
        if indent == 0:
            section, importer, group = key, None, None
            if key in ("dependencies", "devDependencies", "optionalDependencies"):
                importer, group = ".", key
            continue
        if section == "importers":
            if indent == 2:
                importer, group = key, None
                continue
            if indent == 4:
                group = key
                continue
        dep_indent = 2 if section in ("dependencies", "devDependencies", "optionalDependencies") else 6
        if importer == "." and group and indent == dep_indent:
            version = value.strip().strip("'\"")
            if version:
                out[key] = version.split("(", 1)[0]
            else:
                pending = key
            continue
        if pending and key == "version":
            out[pending] = value.strip().strip("'\"").split("(", 1)[0]
            pending = None
    return out


def _key(version: str) -> tuple:
    core, _, pre = version.partition("-")
    nums = tuple(int(n) for n in re.findall(r"\d+", core)[:3])
    return (nums, 0 if pre else 1, pre)


def declared_range(package: str, pkg: dict) -> tuple[str | None, str | None]:
    """The range package.json asks for, and in which section (dependencies, devDependencies, ...)."""
    for section in ("dependencies", "optionalDependencies", "peerDependencies", "devDependencies"):
        deps = pkg.get(section)
        if isinstance(deps, dict) and isinstance(deps.get(package), str):
            return deps[package], section
    return None, None


def resolve_version(package: str | None, project, locked: dict[str, str], fallback: str | None = None) -> Version:
    if not package:
        return Version(None, "")
    found = installed_version(package, project.root)
    if found:
        return Version(found, "node_modules")
    if package in locked and project.lockfile is not None:
        return Version(locked[package], project.lockfile.name)
    spec, _ = declared_range(package, project.pkg)
    if spec:
        return Version(spec, "range")
    if fallback:
        return Version(fallback, "egg default")
    return Version(None, "")
