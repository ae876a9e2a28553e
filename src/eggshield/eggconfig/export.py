"""The resolved configuration as users and tools see it: JSON document or a readable tree."""

from __future__ import annotations

import json

from eggshield.eggconfig.model import ResolvedConfig
from eggshield.js.values import UNDEFINED, JSFunction, JSObject, JSRegExp, Opaque, Unknown, to_json


def to_document(resolved: ResolvedConfig) -> dict:
    """`{"env", "egg", "config", "plugins", "provenance"}` as `eggshield config --format json` prints."""
    return {
        "env": resolved.env,
        "egg": {"major": resolved.egg_major, "version": resolved.egg_version,
                "defaults": f"egg {resolved.defaults_major}"},
        "config": to_json(resolved.config),
        "plugins": {
            name: {"enable": e.enable, "package": e.package, "path": e.path, "version": e.version,
                   "from": e.origin, "env": e.env, "dependencies": e.dependencies,
                   **({"implicitEnable": True} if e.implicit else {})}
            for name, e in sorted(resolved.plugins.items())
        },
        "provenance": resolved.provenance(),
        "files": resolved.files,
        "notes": resolved.notes,
        "problems": [str(p) for p in resolved.problems],
    }


def _leaf(value) -> str:
    if isinstance(value, Unknown):
        extra = f", fallback {json.dumps(to_json(value.fallback))}" if value.has_fallback else ""
        return f"<unknown: {value.reason}{extra}>"
    if isinstance(value, JSFunction):
        return f"<function {value.name or ''} at {value.loc}>".replace("  ", " ")
    if isinstance(value, JSRegExp):
        return str(value)
    if isinstance(value, Opaque):
        return f"<{value.kind}>"
    return json.dumps(to_json(value), ensure_ascii=False)


def render_tree(resolved: ResolvedConfig, *, app_only: bool = False, prefix: str | None = None) -> str:
    """Indented tree, each leaf with the file:line that set it; framework defaults marked as such."""
    lines: list[str] = []

    def walk(obj: JSObject, depth: int, path: tuple[str, ...]) -> None:
        for key, value in obj.items():
            if value is UNDEFINED:
                continue
            here = (*path, key)
            dotted = ".".join(here)
            loc = obj.locs.get(key)
            if prefix and not (dotted.startswith(prefix) or prefix.startswith(dotted)):
                continue
            if isinstance(value, JSObject) and value:
                if app_only and not _has_app_value(value) and (loc is None or loc.default):
                    continue
                lines.append(f"{'  ' * depth}{key}:")
                walk(value, depth + 1, here)
                continue
            if app_only and (loc is None or loc.default):
                continue
            origin = "" if loc is None else f"  ({'default: ' if loc.default else ''}{loc})"
            lines.append(f"{'  ' * depth}{key}: {_leaf(value)}{origin}")

    walk(resolved.config, 0, ())
    return "\n".join(lines)


def _has_app_value(obj: JSObject) -> bool:
    for key, value in obj.items():
        loc = obj.locs.get(key)
        if loc is not None and not loc.default:
            return True
        if isinstance(value, JSObject) and _has_app_value(value):
            return True
    return False
