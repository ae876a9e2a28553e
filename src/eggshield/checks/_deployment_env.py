"""Where a deployment's Egg env comes from, besides the config: `config/env`, start scripts, Dockerfiles.

Egg picks its env from `--env`, then the text of `config/env`, then EGG_SERVER_ENV, then NODE_ENV
(egg-facts §1). These are read as text (never run) to find a production start that ends up in a
development env (`local`/`unittest`) and so serves stack traces and loads `config.local`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from eggshield.finding import InputProblem
from eggshield.project.files import read_text
from eggshield.project.model import EggProject

DEV_ENVS = ("local", "unittest")

# Scripts a production host runs; `dev`, `debug`, `test`, `cov`, `lint`, … are for developers.
PROD_SCRIPT = re.compile(r"^(start|prod|production|online|deploy|docker|serve|server|restart|launch)([:_-].*)?$",
                         re.IGNORECASE)
_ENV_FLAG = re.compile(r"--env(?:=|\s+)[\"']?(local|unittest)\b")
_ENV_VAR = re.compile(r"\bEGG_SERVER_ENV\s*[=:]\s*[\"']?(local|unittest)\b")
_EGG_BIN_DEV = re.compile(r"\b(?:egg-bin|@eggjs/bin)\s+(dev|debug)\b")
_NPM_RUN = re.compile(r"\b(?:npm\s+run(?:-script)?|yarn(?:\s+run)?|pnpm(?:\s+run)?)\s+([\w:.-]+)")

DEPLOY_FILES = ("Dockerfile", "Procfile", "docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml",
                "ecosystem.config.js", "ecosystem.config.cjs", "app.yaml")


@dataclass(frozen=True)
class DevEnvStart:
    path: str  # relative to the scan root
    line: int
    env: str  # 'local' or 'unittest'
    how: str  # one sentence: what sets it
    evidence: str
    confidence: str


def _line_of(text: str, needle: str) -> int:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def _script_env(command: str, scripts: dict, depth: int = 0) -> tuple[str, str] | None:
    """(env, why) when running `command` starts Egg in a development env."""
    if m := _ENV_FLAG.search(command):
        return m.group(1), f"`--env={m.group(1)}`"
    if m := _ENV_VAR.search(command):
        return m.group(1), f"`EGG_SERVER_ENV={m.group(1)}`"
    if m := _EGG_BIN_DEV.search(command):
        return "local", f"`egg-bin {m.group(1)}` (a development server: env local, file watching, reloads)"
    if depth < 3:
        for m in _NPM_RUN.finditer(command):
            target = scripts.get(m.group(1))
            if isinstance(target, str):
                found = _script_env(target, scripts, depth + 1)
                if found:
                    return found[0], f"`{m.group(0)}`, which runs {found[1]}"
    return None


def _gitignored(project: EggProject, rel_to_root: str) -> bool:
    ignore = project.root / ".gitignore"
    if not ignore.is_file():
        return False
    text = read_text(ignore, project.scan_root, max_bytes=200_000)
    if isinstance(text, InputProblem):
        return False
    wanted = {rel_to_root, "/" + rel_to_root, rel_to_root.rsplit("/", 1)[-1]}
    return any(line.strip() in wanted for line in text.splitlines())


def dev_env_starts(project: EggProject) -> list[DevEnvStart]:
    """Every place that starts this app in a development env; unreadable files are skipped (discovery
    reports them)."""
    found: list[DevEnvStart] = []
    if project.env_file is not None:
        text = read_text(project.env_file, project.scan_root, max_bytes=10_000)
        if isinstance(text, str) and text.strip() in DEV_ENVS:
            rel = project.env_file.relative_to(project.root).as_posix() if project.env_file.is_relative_to(
                project.root) else "config/env"
            ignored = _gitignored(project, rel)
            found.append(DevEnvStart(
                project.rel(project.env_file), 1, text.strip(),
                f"`{project.rel(project.env_file)}` says `{text.strip()}`, and Egg prefers this file to "
                "EGG_SERVER_ENV and NODE_ENV, so every start without an explicit `--env` runs in it"
                + (" (the file is in .gitignore, so it may be a developer's own copy)" if ignored else ""),
                f"config/env = {text.strip()!r}", "low" if ignored else "high"))
    scripts = project.pkg.get("scripts") if isinstance(project.pkg.get("scripts"), dict) else {}
    pkg_text: str | None = None
    for name, command in scripts.items():
        if not isinstance(command, str) or not PROD_SCRIPT.match(name):
            continue
        hit = _script_env(command, scripts)
        if hit is None:
            continue
        if pkg_text is None:
            raw = read_text(project.root / "package.json", project.scan_root)
            pkg_text = raw if isinstance(raw, str) else ""
        found.append(DevEnvStart(
            project.rel(project.root / "package.json"), _line_of(pkg_text, f'"{name}"'), hit[0],
            f"the `{name}` script starts the app with {hit[1]}", f'"{name}": "{command}"', "medium"))
    for name in DEPLOY_FILES:
        path = project.root / name
        if not path.is_file():
            continue
        text = read_text(path, project.scan_root, max_bytes=500_000)
        if isinstance(text, InputProblem):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            stripped = line.strip()
            if not stripped or stripped.startswith(("#", "//")):
                continue
            hit = _script_env(stripped, scripts)
            if hit is not None:
                found.append(DevEnvStart(project.rel(path), number, hit[0],
                                         f"`{Path(name).name}` starts the app with {hit[1]}", stripped[:160],
                                         "medium"))
                break
    return found
