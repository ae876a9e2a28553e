"""package.json files: the importer's own declared dependencies and its workspaces."""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path

from eggshield.deps.model import Dependency, Importer
from eggshield.finding import InputProblem
from eggshield.project.files import display_path, read_text

DEP_FIELDS = (("dependencies", "prod"), ("devDependencies", "dev"), ("optionalDependencies", "optional"),
              ("peerDependencies", "peer"))
MAX_WORKSPACES = 2000


def read_manifest(directory: Path, root: Path, problems: list[InputProblem] | None = None) -> dict | None:
    path = directory / "package.json"
    if not path.is_file():
        return None
    text = read_text(path, root, max_bytes=5_000_000)
    shown = display_path(path, root)
    if isinstance(text, InputProblem):
        if problems is not None:
            problems.append(text)
        return None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        if problems is not None:
            problems.append(InputProblem(shown, f"not valid JSON ({str(exc).splitlines()[0][:120]}); "
                                                "its dependencies are not known"))
        return None
    if not isinstance(data, dict):
        if problems is not None:
            problems.append(InputProblem(shown, "is not a JSON object; its dependencies are not known"))
        return None
    return data


def declared(manifest: dict) -> list[Dependency]:
    """The dependencies a package.json declares, each with its kind (peer ones optional)."""
    out: list[Dependency] = []
    seen: set[str] = set()
    for field_name, kind in DEP_FIELDS:
        block = manifest.get(field_name)
        if not isinstance(block, dict):
            continue
        for name, spec in block.items():
            if not isinstance(name, str) or not isinstance(spec, str) or name in seen:
                continue
            if kind == "prod" and name in (manifest.get("optionalDependencies") or {}):
                continue  # npm: an optional dependency listed in both is optional
            seen.add(name)
            out.append(Dependency(name=name, spec=spec, kind=kind))
    return out


def workspace_patterns(manifest: dict) -> list[str]:
    ws = manifest.get("workspaces")
    if isinstance(ws, dict):
        ws = ws.get("packages")
    if not isinstance(ws, list):
        return []
    return [p for p in ws if isinstance(p, str)]


def workspace_dirs(root: Path, manifest: dict | None, extra_patterns: list[str] | None = None) -> list[Path]:
    """Directories the root package.json (or pnpm-workspace.yaml) names as workspaces."""
    patterns = [*(workspace_patterns(manifest) if manifest else []), *(extra_patterns or [])]
    found: list[Path] = []
    seen: set[str] = set()
    for pattern in patterns:
        if pattern.startswith("!") or os.path.isabs(pattern) or ".." in Path(pattern).parts:
            continue
        for match in sorted(glob.glob(os.path.join(glob.escape(str(root)), pattern), recursive=True)):
            if "node_modules" in Path(match).parts or not os.path.isfile(os.path.join(match, "package.json")):
                continue
            rel = Path(match).resolve().relative_to(root.resolve()).as_posix() if Path(match).resolve().is_relative_to(
                root.resolve()) else None
            if rel and rel != "." and rel not in seen:
                seen.add(rel)
                found.append(root / rel)
            if len(found) >= MAX_WORKSPACES:
                return found
    return found


def importer_from_manifest(rel: str, manifest: dict | None, fallback_name: str) -> Importer:
    manifest = manifest or {}
    name = manifest.get("name") if isinstance(manifest.get("name"), str) else fallback_name
    version = manifest.get("version") if isinstance(manifest.get("version"), str) else None
    return Importer(path=rel, name=name, version=version, deps=declared(manifest))
