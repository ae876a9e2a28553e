"""Which packages are Egg's: core, framework, plugin or tool (data/egg_ecosystem.json)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

ROLES = ("core", "framework", "plugin", "tool")


@lru_cache(maxsize=1)
def _data() -> dict:
    return json.loads((resources.files("eggshield") / "data" / "egg_ecosystem.json").read_text(encoding="utf-8"))


def builtin_plugins(major: int | None) -> set[str]:
    data = _data()["builtin_plugins"]
    return set(data.get(str(major), [])) if major else set(data["3"]) | set(data["4"])


def role(name: str, framework: str | None = None, plugin_packages: frozenset[str] | set[str] = frozenset()) -> str | None:
    """The package's role in an Egg app, or None for an ordinary npm package."""
    data = _data()
    if name in data["core"]:
        return "core"
    if name == framework and framework not in (None, "egg") or name in data["frameworks"]:
        return "framework"
    if name in data["tools"]:
        return "tool"
    if name in plugin_packages:
        return "plugin"
    if name.startswith(("egg-", "@eggjs/")) or (name.startswith("@") and "/egg-" in name):
        return "plugin"
    return None
