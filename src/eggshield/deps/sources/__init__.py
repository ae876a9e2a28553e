"""Dependency sources: one module per lockfile kind behind `DependencySource` (interface.py).

`load_inventory(dir)` picks what npm, yarn or pnpm would trust in that directory: a lockfile
(npm-shrinkwrap.json, package-lock.json, yarn.lock, pnpm-lock.yaml), else the installed
node_modules, else package.json's ranges, said plainly to be unresolved. A lockfile that
cannot be read is one problem line and the next source is tried.
"""

from __future__ import annotations

from pathlib import Path

from eggshield.deps.model import Inventory, LockfileError
from eggshield.deps.sources.interface import DependencySource
from eggshield.deps.sources.node_modules import NodeModulesSource
from eggshield.deps.sources.npm_lock import NpmLockSource
from eggshield.deps.sources.package_json import PackageJsonSource
from eggshield.deps.sources.pnpm_lock import PnpmLockSource
from eggshield.deps.sources.yarn_lock import YarnLockSource
from eggshield.finding import InputProblem
from eggshield.project.files import display_path
from eggshield.project.lockfiles import LOCKFILE_NAMES

SOURCES: dict[str, DependencySource] = {
    "npm-shrinkwrap.json": NpmLockSource("npm-shrinkwrap.json"),
    "package-lock.json": NpmLockSource("package-lock.json"),
    "yarn.lock": YarnLockSource(),
    "pnpm-lock.yaml": PnpmLockSource(),
}

__all__ = ["SOURCES", "DependencySource", "load_inventory", "find_lock_dir"]


def find_lock_dir(app_root: Path, stop: Path | None = None) -> Path:
    """The directory whose lockfile governs `app_root`: its own, else the nearest ancestor's
    (a workspace root), not above `stop`."""
    app_root = app_root.resolve()
    limit = stop.resolve() if stop else None
    d = app_root
    while True:
        if any((d / n).is_file() for n in LOCKFILE_NAMES):
            return d
        if d == limit or d.parent == d or (limit is not None and not d.is_relative_to(limit)):
            return app_root
        d = d.parent


def load_inventory(directory: Path, *, lockfile: Path | None = None) -> Inventory:
    """The best inventory for `directory`; raises LockfileError only when nothing at all is usable."""
    directory = directory.resolve()
    problems: list[InputProblem] = []
    candidates = [lockfile] if lockfile is not None else [directory / n for n in LOCKFILE_NAMES
                                                          if (directory / n).is_file()]
    notes: list[str] = []
    for path in candidates:
        source = SOURCES.get(path.name)
        if source is None:
            problems.append(InputProblem(display_path(path, directory), "not a lockfile eggshield reads"))
            continue
        try:
            inv = source.load(path, directory)
        except LockfileError as exc:
            problems.append(InputProblem(*_split_problem(str(exc), display_path(path, directory))))
            notes.append(f"{path.name} could not be used; fell back to the next source")
            continue
        others = [c.name for c in candidates if c != path]
        if others:
            inv.notes.append(f"several lockfiles here ({', '.join([path.name, *others])}); used {path.name} "
                             "as npm/yarn/pnpm would")
        inv.problems[:0] = problems
        inv.notes[:0] = notes
        return inv
    for source, target in ((NodeModulesSource(), directory / "node_modules"),
                           (PackageJsonSource(), directory / "package.json")):
        if not target.exists():
            continue
        try:
            inv = source.load(target, directory)
        except LockfileError as exc:
            problems.append(InputProblem(*_split_problem(str(exc), display_path(target, directory))))
            continue
        inv.problems[:0] = problems
        inv.notes[:0] = notes
        return inv
    detail = "; ".join(str(p) for p in problems) if problems else "no lockfile, node_modules or package.json"
    raise LockfileError(f"{display_path(directory, Path.cwd())}: nothing to inventory ({detail})")


def _split_problem(message: str, default_path: str) -> tuple[str, str]:
    """LockfileError messages start with `path: `; InputProblem keeps path and message apart."""
    head, sep, rest = message.partition(": ")
    if sep and head == default_path:
        return head, rest
    return default_path, message
