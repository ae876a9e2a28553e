"""package.json alone: the ranges the app asks for, said plainly to be unresolved.

Without a lockfile or node_modules nobody knows which versions an install would give; an
exact pin (`"egg-security": "3.7.0"`) is the one case where the version is known, so it is
kept as the version and everything else keeps only its range.
"""

from __future__ import annotations

from pathlib import Path

from eggshield.deps import semver
from eggshield.deps.model import Inventory, LockfileError, Package
from eggshield.deps.sources.manifest import importer_from_manifest, read_manifest, workspace_dirs
from eggshield.project.files import display_path


class PackageJsonSource:
    name = "package.json"

    def load(self, path: Path, root: Path) -> Inventory:
        inv = Inventory(root=root, source="package.json ranges (unresolved: no lockfile, no node_modules)",
                        lockfile=None, resolved=False)
        manifest = read_manifest(root, root, inv.problems)
        if manifest is None:
            raise LockfileError(f"{display_path(path, root)}: missing or unreadable; no dependencies to list")
        inv.importers["."] = importer_from_manifest(".", manifest, root.name)
        for ws in workspace_dirs(root, manifest):
            rel = ws.relative_to(root).as_posix()
            inv.importers[rel] = importer_from_manifest(rel, read_manifest(ws, root, inv.problems), ws.name)
        for imp in inv.importers.values():
            for d in imp.deps:
                real_name, spec = d.name, d.spec
                if spec.startswith("npm:") and "@" in spec[5:]:
                    at = spec.find("@", 5)
                    real_name, spec = spec[4:at], spec[at + 1:]
                pinned = semver.valid(spec)
                key = f"{real_name}@{spec}"
                if key not in inv.packages:
                    inv.packages[key] = Package(key=key, name=real_name, version=pinned, spec=spec,
                                                resolved=None if _registry_spec(spec) else spec)
                d.target = key
        inv.mark_dev_and_optional()
        return inv


def _registry_spec(spec: str) -> bool:
    return semver.valid_range(spec) is not None or spec in ("", "latest", "next", "beta")
