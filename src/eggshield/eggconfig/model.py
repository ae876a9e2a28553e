"""The resolved configuration of one app in one env: what checks read."""

from __future__ import annotations

from dataclasses import dataclass, field

from eggshield.finding import InputProblem
from eggshield.js.values import UNDEFINED, JSObject, Loc


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING = _Missing()


@dataclass
class PluginEntry:
    name: str
    enable: bool
    package: str | None = None
    path: str | None = None
    version: str | None = None
    env: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)
    optional_dependencies: list[str] = field(default_factory=list)
    source: Loc | None = None  # where its enable state was last decided
    implicit: bool = False  # re-enabled because an enabled plugin depends on it
    framework_default: bool = False
    known_defaults: bool = True  # its config.default is known (data file, local plugin or node_modules)

    @property
    def origin(self) -> str:
        return str(self.source) if self.source else "unknown"


def split_key(dotted: str | tuple | list) -> tuple[str, ...]:
    return tuple(dotted) if isinstance(dotted, tuple | list) else tuple(dotted.split("."))


@dataclass
class ResolvedConfig:
    env: str
    config: JSObject
    plugins: dict[str, PluginEntry]
    egg_major: int | None = None
    egg_version: str | None = None
    defaults_major: int | None = None  # which data file gave the framework defaults
    scope: str = ""
    files: list[str] = field(default_factory=list)  # app config files merged, in order
    notes: list[str] = field(default_factory=list)  # assumptions and what could not be evaluated
    problems: list[InputProblem] = field(default_factory=list)

    def get(self, dotted, default=MISSING):
        node = self.config
        for part in split_key(dotted):
            if not isinstance(node, dict) or part not in node or node[part] is UNDEFINED:
                return default
            node = node[part]
        return node

    def loc(self, dotted) -> Loc | None:
        """Where the value at `dotted` was last set (or its nearest set ancestor)."""
        parts = split_key(dotted)
        node = self.config
        found: Loc | None = None
        for part in parts:
            if not isinstance(node, JSObject) or part not in node:
                break
            found = node.locs.get(part, found)
            node = node[part]
        return found

    def set_by_app(self, dotted) -> bool:
        loc = self.loc(dotted)
        return loc is not None and not loc.default

    def plugin_enabled(self, name: str) -> bool:
        entry = self.plugins.get(name)
        return bool(entry and entry.enable)

    def leaves(self):
        """(dotted key, value, loc) for every leaf: non-object values and empty objects."""
        stack: list[tuple[tuple[str, ...], JSObject]] = [((), self.config)]
        out = []
        while stack:
            prefix, obj = stack.pop()
            for key, value in obj.items():
                if value is UNDEFINED:
                    continue
                path = (*prefix, key)
                if isinstance(value, JSObject) and value:
                    stack.append((path, value))
                else:
                    out.append((".".join(path), value, obj.locs.get(key)))
        out.sort(key=lambda item: item[0])
        return out

    def provenance(self) -> dict[str, str]:
        return {key: str(loc) for key, _, loc in self.leaves() if loc is not None}
