"""What discovery knows about one Egg app."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from eggshield.finding import InputProblem


class NotAnEggApp(Exception):
    """The given directory holds no Egg app; the message says why in one line."""


@dataclass
class EggProject:
    root: Path  # the app's baseDir (absolute)
    scan_root: Path  # what the user passed (absolute); finding paths are relative to it
    name: str  # package.json "name"
    pkg: dict  # parsed package.json
    framework: str = "egg"  # "egg" or package.json egg.framework (midway, beidou, ...)
    egg_major: int | None = None  # 1..4
    egg_version: str | None = None  # exact version when a lockfile or node_modules says
    egg_version_source: str = ""  # "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "node_modules", "range ^3.0.0"
    language: str = "js"  # "js" or "ts"
    module_system: str = "cjs"  # "cjs" or "esm"
    typescript: bool = False  # package.json egg.typescript
    config_dir: Path | None = None  # config/ (or src/config for midway-style apps)
    # config.<name> files by name: "default", "legacy" (config.js), "prod", "local", "unittest",
    # "<scope>" and "<scope>_<env>"; one file per name (TS source preferred over its compiled .js)
    config_files: dict[str, Path] = field(default_factory=dict)
    plugin_files: dict[str, Path] = field(default_factory=dict)  # same keys for plugin.* files
    router_files: list[Path] = field(default_factory=list)
    controller_files: list[Path] = field(default_factory=list)
    service_files: list[Path] = field(default_factory=list)
    middleware_files: list[Path] = field(default_factory=list)
    extend_files: list[Path] = field(default_factory=list)
    schedule_files: list[Path] = field(default_factory=list)
    boot_files: list[Path] = field(default_factory=list)  # app.js, agent.js (any extension)
    other_files: list[Path] = field(default_factory=list)  # remaining server-side JS/TS under app/, lib/
    local_plugins: dict[str, Path] = field(default_factory=dict)  # lib/plugin/<name> dirs
    env_file: Path | None = None  # config/env
    problems: list[InputProblem] = field(default_factory=list)
    # Added by discovery (additive):
    kind: str = "app"  # "app", or "framework": named by another app's egg.framework, or a known one (beidou-core)
    source_dir: Path | None = None  # dir holding app/ and config/: root, or root/src for midway-style apps
    lockfile: Path | None = None  # the lockfile that governs this app (its own, else its workspace root's)
    config_other_files: list[Path] = field(default_factory=list)  # helpers under config/ (required by config files)
    notes: list[str] = field(default_factory=list)  # how uncertain facts were decided (unknown major, ...)

    def rel(self, path: Path) -> str:
        """Path as shown to users: relative to the scanned root, forward slashes."""
        try:
            return path.resolve().relative_to(self.scan_root).as_posix()
        except ValueError:
            return path.as_posix()

    @property
    def source_files(self) -> list[Path]:
        files = [*self.config_files.values(), *self.plugin_files.values(), *self.router_files,
                 *self.controller_files, *self.service_files, *self.middleware_files,
                 *self.extend_files, *self.schedule_files, *self.boot_files, *self.other_files]
        seen: set[Path] = set()
        return [f for f in files if not (f in seen or seen.add(f))]


@dataclass
class Discovery:
    projects: list[EggProject]
    problems: list[InputProblem] = field(default_factory=list)
