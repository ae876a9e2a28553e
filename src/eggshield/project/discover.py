"""Find the Egg apps in a directory and describe their layout, without running anything.

An Egg app is recognised by its package.json (a dependency on `egg`, an `egg.framework`, or a
known Egg-based framework) and, for fixture-style apps without dependencies, by Egg's own
layout. Every file list follows Egg's loader conventions (egg-core `getTypeFiles`, FileLoader
directories), so later boxes see what Egg would load and nothing else.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from eggshield.finding import InputProblem
from eggshield.project.files import (
    MAX_BYTES,
    SKIP_AT_PACKAGE_ROOT,
    TEST_DIRS,
    TS_SUFFIXES,
    admit,
    display_path,
    is_source_name,
    read_text,
    walk,
)
from eggshield.project.lockfiles import LOCKFILE_NAMES, LockEggs, parse_lockfile, pick_egg_version
from eggshield.project.model import Discovery, EggProject, NotAnEggApp

MAX_DEPTH = 6

# Egg-based frameworks that apps depend on without naming them in egg.framework (their CLI
# passes it). The app's `framework` is the package name, which is where its defaults live.
KNOWN_FRAMEWORKS = ("midway", "midway-web", "@midwayjs/web", "beidou", "beidou-core")
# Packages that look Egg-ish but do not make an app: libraries and tooling.
_EGG_LIBRARIES = ("@eggjs/core", "egg-core", "@eggjs/tegg")

_LOADER_DIRS = {
    "controller": "controller_files",
    "service": "service_files",
    "middleware": "middleware_files",
    "extend": "extend_files",
    "schedule": "schedule_files",
    "router": "router_files",
}
_CONFIG_NAME = re.compile(r"^(config|plugin)(?:\.([A-Za-z0-9_-]+))?$")
_WORKSPACE_MARKERS = ("pnpm-workspace.yaml", "lerna.json")


def _strip_suffix(name: str) -> tuple[str, str]:
    stem, dot, ext = name.rpartition(".")
    return (stem, "." + ext) if dot else (name, "")


def _deps(pkg: dict) -> dict[str, str]:
    out: dict[str, str] = {}
    for group in ("devDependencies", "dependencies"):  # dependencies win
        value = pkg.get(group)
        if isinstance(value, dict):
            out.update({k: v for k, v in value.items() if isinstance(v, str)})
    return out


def _egg_field(pkg: dict) -> dict:
    value = pkg.get("egg")
    return value if isinstance(value, dict) else {}


# -- reading package.json ------------------------------------------------------------------------

def read_package_json(directory: Path, tree: Path) -> dict | InputProblem | None:
    """Parsed package.json, None when there is none, or the one-line reason it is unusable."""
    path = directory / "package.json"
    if not os.path.lexists(path):
        return None
    text = read_text(path, tree, max_bytes=20_000_000)
    if isinstance(text, InputProblem):
        return text
    shown = display_path(path, tree)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return InputProblem(shown, f"package.json is not valid JSON: line {exc.lineno} column {exc.colno}: "
                                   f"{exc.msg}")
    if not isinstance(data, dict):
        return InputProblem(shown, "package.json is not a JSON object")
    return data


# -- is it an app? ---------------------------------------------------------------------------------

def _config_dirs(directory: Path) -> list[Path]:
    return [d for d in (directory / "config", directory / "src" / "config") if d.is_dir()]


def _enclosing_egg_package(directory: Path) -> tuple[Path, str] | None:
    """The nearest ancestor package depending on egg: fixture apps of a plugin run on its egg."""
    for parent in _ancestors(directory):
        parent_pkg = read_package_json(parent, parent)
        if isinstance(parent_pkg, dict) and "egg" in _deps(parent_pkg):
            return parent, _deps(parent_pkg)["egg"]
    return None


def _has_egg_layout(directory: Path) -> str | None:
    """The Egg-specific file that gives an app away, for fixture apps that declare no dependency.

    `config/config.js` alone is common outside Egg, so it counts only inside a package that
    depends on egg (a plugin's test fixtures).
    """
    weak = None
    for cfg in _config_dirs(directory):
        try:
            names = sorted(os.listdir(cfg))
        except OSError:
            continue
        for name in names:
            stem, _ = _strip_suffix(name)
            if not is_source_name(name):
                continue
            if stem in ("config.default", "plugin", "plugin.default"):
                return display_path(cfg / name, directory)
            if stem == "config" and weak is None:
                weak = display_path(cfg / name, directory)
    for base in (directory, directory / "src"):
        for name in ("router.js", "router.ts"):
            if (base / "app" / name).is_file():
                return display_path(base / "app" / name, directory)
    if weak and _enclosing_egg_package(directory):
        return weak
    return None


@dataclass
class _Verdict:
    framework: str | None = None  # set when it is an app
    reason: str = ""  # why not, when it is not
    problem: InputProblem | None = None
    pkg: dict = field(default_factory=dict)
    by_layout: str | None = None
    plugin: bool = False


def _judge(directory: Path, tree: Path) -> _Verdict:
    pkg = read_package_json(directory, tree)
    if pkg is None:
        return _Verdict(reason=f"no package.json in {directory}")
    if isinstance(pkg, InputProblem):
        return _Verdict(reason=pkg.message, problem=pkg)
    verdict = _Verdict(pkg=pkg)
    egg = _egg_field(pkg)
    framework = egg.get("framework")
    deps = _deps(pkg)
    if "eggPlugin" in pkg:
        verdict.plugin = True
        verdict.reason = f"{directory / 'package.json'} declares eggPlugin: an Egg plugin, not an app"
        return verdict
    if isinstance(framework, str) and framework.strip():
        verdict.framework = framework.strip()
        return verdict
    known = next((d for d in KNOWN_FRAMEWORKS if d in deps), None)
    if "egg" in deps:
        verdict.framework = known or "egg"
        return verdict
    if known:
        if _config_dirs(directory):
            verdict.framework = known
            return verdict
        verdict.reason = (f"package.json depends on {known} but there is no config/ or src/config "
                          f"in {directory}: a library, not an app")
        return verdict
    layout = _has_egg_layout(directory)
    if layout:
        verdict.framework = "egg"
        verdict.by_layout = layout
        return verdict
    lib = next((d for d in _EGG_LIBRARIES if d in deps), None)
    extra = f" (it depends on {lib}, a library apps use together with egg)" if lib else ""
    verdict.reason = f"package.json does not depend on egg or name an egg.framework{extra} ({directory})"
    return verdict


# -- version ---------------------------------------------------------------------------------------

_DIST_TAG = re.compile(r"^[A-Za-z][\w.-]*$")


def major_from_range(spec: str) -> tuple[int | None, str | None]:
    """Lowest egg major a package.json range allows, with a note when it is a guess or unknown."""
    s = spec.strip()
    if s.startswith("npm:"):
        s = s[4:]
        if s.startswith("egg@"):
            s = s[4:]
    tag_major = _framework_data()["dist_tags"].get(s)
    if tag_major is not None:
        return tag_major, f"egg range {spec!r} is a dist-tag; taken as egg {tag_major} (its current releases)"
    if s in ("", "*", "x", "X") or _DIST_TAG.match(s):
        return None, f"egg range {spec!r} names no version; the egg major is unknown without a lockfile"
    if re.match(r"^(file:|link:|workspace:|git|https?:|github:)", s) or "/" in s:
        return None, f"egg comes from {spec!r}, not a registry range; the egg major is unknown"
    lows = []
    for alternative in s.split("||"):
        tokens = re.findall(r"(<=|>=|<|>|=|\^|~)?\s*v?(\d+)", alternative)
        majors = [int(num) for op, num in tokens if not op.startswith("<")]
        if majors:
            lows.append(majors[0])
    if not lows:
        return None, f"egg range {spec!r} has no lower bound; the egg major is unknown"
    return _normalise_major(min(lows), spec)


@functools.cache
def _framework_data() -> dict:
    raw = tomllib.loads(resources.files("eggshield.data").joinpath("frameworks.toml").read_text("utf-8"))
    return {"dist_tags": raw.get("dist_tags", {}), "frameworks": raw.get("frameworks", {})}


def _normalise_major(major: int, what: str) -> tuple[int | None, str | None]:
    if major == 0:
        return 1, f"egg {what} is a pre-1.0 release; treated as egg 1"
    if major > 4:
        return major, f"egg {what} is major {major}, newer than the egg 1-4 eggshield knows"
    return major, None


def _major_of_version(version: str) -> tuple[int | None, str | None]:
    m = re.match(r"\D*(\d+)", version)
    return _normalise_major(int(m.group(1)), version) if m else (None, None)


# -- the per-run context ---------------------------------------------------------------------------

class _Context:
    def __init__(self, scan_root: Path, max_bytes: int, max_depth: int):
        self.scan_root = scan_root
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.locks: dict[Path, LockEggs] = {}
        self.reported_locks: set[Path] = set()
        self.shared_problems: list[InputProblem] = []

    def tree_for(self, path: Path, fallback: Path) -> Path:
        """Problem paths are relative to the scan root; files above it (a workspace root) to their dir."""
        return self.scan_root if _is_below(path, self.scan_root) else fallback

    def lock(self, path: Path) -> LockEggs:
        if path not in self.locks:
            self.locks[path] = parse_lockfile(path, self.tree_for(path, path.parent))
        return self.locks[path]


def _is_below(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def _ancestors(directory: Path, limit: int = MAX_DEPTH) -> list[Path]:
    out = []
    for parent in directory.parents:
        if len(out) >= limit:
            break
        out.append(parent)
        if (parent / ".git").exists():
            break  # the repository root: nothing above it belongs to this project
    return out


def _is_workspace_root(directory: Path) -> bool:
    if any((directory / m).is_file() for m in _WORKSPACE_MARKERS):
        return True
    try:
        with open(directory / "package.json", encoding="utf-8") as fh:
            return '"workspaces"' in fh.read(1_000_000)
    except OSError:
        return False


def _resolve_version(project: EggProject, ctx: _Context, notes: list[str]) -> None:
    deps = _deps(project.pkg)
    spec = deps.get("egg")
    owner = project.root
    if spec is None and project.framework == "egg":
        # Fixture apps inside a plugin repo run on the egg their enclosing package installs.
        enclosing = _enclosing_egg_package(project.root)
        if enclosing:
            owner, spec = enclosing
            notes.append(f"egg version taken from {owner / 'package.json'}, the package enclosing this app")
    lock_dirs = [owner] + [p for p in _ancestors(owner) if _is_workspace_root(p)][:1]
    for lock_dir in lock_dirs:
        for name in LOCKFILE_NAMES:
            path = lock_dir / name
            if not path.is_file():
                continue
            if project.lockfile is None:
                project.lockfile = path
            lock = ctx.lock(path)
            if lock.problem is not None:
                if path not in ctx.reported_locks:
                    ctx.reported_locks.add(path)
                    own = lock_dir == project.root
                    (project.problems if own else ctx.shared_problems).append(lock.problem)
                continue
            rel = Path(os.path.relpath(owner, lock_dir)).as_posix()
            version, note = pick_egg_version(lock, rel, spec)
            if version:
                project.egg_version = version
                project.egg_version_source = name
                project.egg_major, major_note = _major_of_version(version)
                notes.extend(n for n in (note, major_note) if n)
                return
    for nm_dir in lock_dirs:
        manifest = nm_dir / "node_modules" / "egg" / "package.json"
        if not manifest.is_file():
            continue
        data = read_package_json(manifest.parent, ctx.tree_for(manifest, nm_dir))
        if isinstance(data, InputProblem):
            project.problems.append(data)
            continue
        if isinstance(data, dict) and isinstance(data.get("version"), str):
            project.egg_version = data["version"]
            project.egg_version_source = "node_modules"
            project.egg_major, note = _major_of_version(data["version"])
            if note:
                notes.append(note)
            return
    if spec is not None:
        project.egg_version_source = f"range {spec}"
        project.egg_major, note = major_from_range(spec)
        if note:
            notes.append(note)
        return
    fw_spec = deps.get(project.framework)
    implied = _framework_data()["frameworks"].get(project.framework, {})
    fw_major, _ = major_from_range(fw_spec) if fw_spec else (None, None)
    if fw_major is not None and str(fw_major) in implied:
        project.egg_major = implied[str(fw_major)]
        project.egg_version_source = f"{project.framework} {fw_spec}"
        notes.append(f"{project.framework} {fw_spec} runs on egg {project.egg_major} (no lockfile says which egg)")
        return
    notes.append(f"framework {project.framework}: the egg underneath is unknown without a lockfile "
                 "or node_modules")


# -- layout ----------------------------------------------------------------------------------------

def _has_app_dirs(root: Path) -> bool:
    return any((base / sub).is_dir() for base in (root, root / "src") for sub in ("app", "config"))


def _source_dir(root: Path) -> Path:
    """Where app/ and config/ live: the package root, or src/ for midway-style apps."""
    if (root / "config").is_dir() or (root / "app").is_dir():
        return root
    if (root / "src" / "config").is_dir() or (root / "src" / "app").is_dir():
        return root / "src"
    return root


def _extension_order(project: EggProject) -> tuple[str, ...]:
    """Which variant Egg loads when several exist (egg 3 `require.resolve`, egg 4 importResolve)."""
    ts = (".ts", ".mts", ".cts")
    if project.egg_major == 4:
        if project.module_system == "esm":
            return ts + (".mjs", ".js", ".cjs")
        return ts + (".cjs", ".js", ".mjs")
    return ts + (".js", ".cjs", ".mjs")


def _pick(variants: list[Path], order: tuple[str, ...], project: EggProject, notes: list[str]) -> Path:
    ranked = sorted(variants, key=lambda p: order.index(p.suffix) if p.suffix in order else len(order))
    chosen = ranked[0]
    if len(ranked) > 1:
        others = ", ".join(p.name for p in ranked[1:])
        notes.append(f"{project.rel(chosen)} chosen over {others}")
    return chosen


def _classify(project: EggProject, source_dir: Path, ctx: _Context, notes: list[str]) -> None:
    walk_kw = dict(max_bytes=ctx.max_bytes, problems=project.problems, tree=ctx.scan_root)
    midway = source_dir != project.root
    roots = [source_dir] if midway else [source_dir / "config", source_dir / "app", source_dir / "lib"]
    config_variants: dict[tuple[str, str], list[Path]] = {}
    boot_variants: dict[str, list[Path]] = {}
    router_variants: list[Path] = []
    for base in roots:
        if not base.is_dir():
            continue
        for path in walk(base, **walk_kw):
            parts = path.relative_to(source_dir).parts
            top = parts[0]
            stem, _ = _strip_suffix(parts[-1])
            if top == "config":
                m = _CONFIG_NAME.match(stem) if len(parts) == 2 else None
                if m:
                    name = m.group(2) or "legacy"
                    config_variants.setdefault((m.group(1), name), []).append(path)
                else:
                    project.config_other_files.append(path)
            elif top == "app" and len(parts) > 1:
                if len(parts) == 2:
                    (router_variants if stem == "router" else project.other_files).append(path)
                elif parts[1] in ("view", "public"):
                    continue  # templates and static assets: not server code
                elif parts[1] in _LOADER_DIRS:
                    getattr(project, _LOADER_DIRS[parts[1]]).append(path)
                else:
                    project.other_files.append(path)
            elif len(parts) == 1 and stem in ("app", "agent"):
                boot_variants.setdefault(stem, []).append(path)
            else:
                project.other_files.append(path)
    if not midway:
        try:
            names = sorted(os.listdir(source_dir))
        except OSError:
            names = []
        for name in names:
            stem, _ = _strip_suffix(name)
            path = source_dir / name
            if stem in ("app", "agent") and is_source_name(name) and admit(path, **walk_kw):
                boot_variants.setdefault(stem, []).append(path)
        for stem, variants in list(boot_variants.items()):
            # tsc output next to its source: walk() drops it, the root listing must too.
            if any(p.suffix in TS_SUFFIXES for p in variants):
                boot_variants[stem] = [p for p in variants if p.suffix in TS_SUFFIXES]
    order = _extension_order(project)
    for (kind, name), variants in sorted(config_variants.items()):
        target = project.config_files if kind == "config" else project.plugin_files
        target[name] = _pick(variants, order, project, notes)
    for stem in ("app", "agent"):
        if stem in boot_variants:
            project.boot_files.append(_pick(boot_variants[stem], order, project, notes))
    if router_variants:
        project.router_files.insert(0, _pick(router_variants, order, project, notes))


def _local_plugins(project: EggProject, source_dir: Path, ctx: _Context) -> None:
    plugin_root = source_dir / "lib" / "plugin"
    try:
        entries = sorted(os.scandir(plugin_root), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        directory = Path(entry.path)
        if entry.is_symlink() and not _is_below(directory.resolve(), ctx.scan_root):
            continue  # walk() has reported the link leaving the tree
        pkg = read_package_json(directory, ctx.scan_root)
        if isinstance(pkg, InputProblem):
            project.problems.append(pkg)
            pkg = None
        egg_plugin = pkg.get("eggPlugin") if isinstance(pkg, dict) else None
        if egg_plugin is None and not (directory / "config").is_dir():
            continue
        name = egg_plugin.get("name") if isinstance(egg_plugin, dict) else None
        project.local_plugins[name if isinstance(name, str) and name else entry.name] = directory


def _build(directory: Path, verdict: _Verdict, ctx: _Context) -> EggProject:
    pkg = verdict.pkg
    egg = _egg_field(pkg)
    name = pkg.get("name")
    project = EggProject(root=directory, scan_root=ctx.scan_root,
                         name=name if isinstance(name, str) and name else directory.name,
                         pkg=pkg, framework=verdict.framework or "egg")
    notes = project.notes
    if verdict.by_layout:
        notes.append(f"package.json declares no egg dependency; recognised as an Egg app by "
                     f"{verdict.by_layout}")
    project.typescript = egg.get("typescript") is True
    project.module_system = "esm" if pkg.get("type") == "module" else "cjs"
    _resolve_version(project, ctx, notes)
    source_dir = _source_dir(directory)
    project.source_dir = source_dir
    if (source_dir / "config").is_dir():
        project.config_dir = source_dir / "config"
        env_file = project.config_dir / "env"
        if env_file.is_file():
            project.env_file = env_file
    _classify(project, source_dir, ctx, notes)
    _local_plugins(project, source_dir, ctx)
    if (project.typescript or (directory / "tsconfig.json").is_file()
            or any(p.suffix in TS_SUFFIXES for p in project.source_files)):
        project.language = "ts"
    return project


# -- search ----------------------------------------------------------------------------------------

def _search(directory: Path, depth: int, ctx: _Context, found: list[tuple[Path, _Verdict]],
            problems: list[InputProblem]) -> None:
    """Apps below a non-app directory (a monorepo, a folder of examples)."""
    if depth > ctx.max_depth:
        return
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        problems.append(InputProblem(display_path(directory, ctx.scan_root),
                                     f"unreadable directory: {exc.strerror or exc}; not searched"))
        return
    names = {e.name for e in entries}
    is_pkg_root = "package.json" in names
    for entry in entries:
        name = entry.name
        if (name.startswith(".") or name == "node_modules" or name in TEST_DIRS or name == "fixtures"
                or (is_pkg_root and name in SKIP_AT_PACKAGE_ROOT)
                or (name == "public" and directory.name == "app")):
            continue
        try:
            if entry.is_symlink() or not entry.is_dir():
                continue  # links are not searched: no loops, no escaping the tree
        except OSError:
            continue
        child = Path(entry.path)
        if os.path.lexists(child / "package.json"):
            verdict = _judge(child, ctx.scan_root)
            if verdict.problem is not None:
                problems.append(verdict.problem)
            if verdict.framework is not None:
                found.append((child, verdict))
                continue
            if verdict.plugin:
                continue
        _search(child, depth + 1, ctx, found, problems)


def discover(path: str | os.PathLike, *, max_depth: int = MAX_DEPTH,
             max_bytes: int = MAX_BYTES) -> Discovery:
    """The Egg apps at or below `path`; raises NotAnEggApp with a one-line reason if none."""
    given = Path(os.path.expanduser(os.fspath(path)))
    if not given.exists():
        raise NotAnEggApp(f"no such directory: {given}")
    if given.is_file():
        if given.name != "package.json":
            raise NotAnEggApp(f"not a directory: {given}")
        given = given.parent
    scan_root = given.resolve()
    if not (scan_root / "package.json").exists() and scan_root.name == "src" and \
            (scan_root.parent / "package.json").is_file() and (scan_root / "config").is_dir():
        scan_root = scan_root.parent  # a midway-style app's src/: the app is its package
    ctx = _Context(scan_root, max_bytes, max_depth)
    discovery = Discovery(projects=[])
    verdict = _judge(scan_root, scan_root)
    workspace = _is_workspace_root(scan_root)
    if verdict.framework is not None and workspace and not _has_app_dirs(scan_root):
        # A monorepo root that lists egg for its tooling is not an app; its packages may be.
        verdict = _Verdict(reason=f"{scan_root} is a workspace root with no app/ or config/ of its own")
    if verdict.framework is not None:
        discovery.projects.append(_build(scan_root, verdict, ctx))
    if verdict.framework is None or workspace:
        found: list[tuple[Path, _Verdict]] = []
        problems: list[InputProblem] = []
        if not verdict.plugin:
            _search(scan_root, 1, ctx, found, problems)
        if not found and not discovery.projects:
            more = "" if verdict.plugin else f"; no Egg app below it either (searched {max_depth} levels)"
            if problems and not verdict.problem:
                more += f"; {len(problems)} unreadable package.json/dir below (first: {problems[0]})"
            raise NotAnEggApp(verdict.reason + more)
        if verdict.problem is not None:
            discovery.problems.append(verdict.problem)
        discovery.problems.extend(problems)
        discovery.projects.extend(_build(d, v, ctx) for d, v in found)
    discovery.problems.extend(ctx.shared_problems)
    frameworks = {p.framework for p in discovery.projects} | set(KNOWN_FRAMEWORKS)
    for project in discovery.projects:
        if project.name in frameworks and project.framework != project.name:
            project.kind = "framework"
    return discovery
