"""What every dependency source implements: find its file, turn it into an Inventory.

pip-audit's shape: one module per lockfile kind behind one interface, so a new package
manager is one new module and nothing downstream changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

from eggshield.deps.model import Inventory, LockfileError
from eggshield.finding import InputProblem
from eggshield.project.files import display_path, read_text

#: Lockfiles larger than this are refused with a clear line instead of exhausting memory.
MAX_LOCKFILE_BYTES = 200_000_000


class DependencySource(Protocol):
    #: the file name it reads ("package-lock.json"), or a label ("node_modules", "package.json")
    name: str

    def load(self, path: Path, root: Path) -> Inventory:
        """Parse `path` (inside `root`, the directory the inventory is relative to).
        Raises LockfileError with one line naming the file when it cannot be used at all;
        per-entry problems go to `inventory.problems` and the rest is still returned."""
        ...


def read_lockfile(path: Path, root: Path) -> str:
    """The text, or LockfileError with the engine's one-line reason (size, binary, symlink...)."""
    text = read_text(path, root, max_bytes=MAX_LOCKFILE_BYTES)
    if isinstance(text, InputProblem):
        raise LockfileError(str(text))
    return text


def load_json(text: str, shown: str, what: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        hint = "" if text.rstrip().endswith(("}", "]")) else " (truncated?)"
        raise LockfileError(f"{shown}: not valid JSON: line {exc.lineno} column {exc.colno}: "
                            f"{exc.msg}{hint}; {what} not read") from None
    except RecursionError:
        raise LockfileError(f"{shown}: JSON nested too deeply to be a real {what}; not read") from None


def shown_path(path: Path, root: Path) -> str:
    return display_path(path, root)


def str_dict(value: object) -> dict[str, str]:
    """A {name: range} map with anything of the wrong type dropped (hostile lockfiles)."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}
