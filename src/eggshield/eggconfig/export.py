"""The resolved configuration as users and tools see it: JSON document or a readable tree."""

from __future__ import annotations

import json

from eggshield.eggconfig.model import ResolvedConfig
from eggshield.js.values import UNDEFINED, JSFunction, JSObject, JSRegExp, Opaque, Unknown, to_json
from eggshield.masking import is_secret_key, mask_secret, mask_tree


def to_document(resolved: ResolvedConfig, *, show_secrets: bool = False) -> dict:
    """`{"env", "egg", "config", "plugins", "provenance"}` as `eggshield config --format json` prints.

    Strings under secret-looking keys are masked unless `show_secrets` (arrays included, unlike
    Egg's own dump, which prints `dbs: [{password}]` in clear).
    """
    config = to_json(resolved.config)
    return {
        "env": resolved.env,
        "egg": {"major": resolved.egg_major, "version": resolved.egg_version,
                "defaults": f"egg {resolved.defaults_major}"},
        "config": config if show_secrets else mask_tree(config),
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


def _leaf(value, secret: bool = False, reveal: bool = False) -> str:
    if secret and not isinstance(value, JSObject):
        plain = to_json(value)
        if isinstance(value, Unknown):
            masked = mask_tree(plain, "secret")
            extra = f", fallback {masked['fallback']}" if "fallback" in masked else ""
            return f"<unknown: {value.reason}{extra}>"
        return str(mask_tree(plain, "secret")) if not isinstance(plain, str) else mask_secret(plain)
    if isinstance(value, Unknown):
        extra = f", fallback {json.dumps(to_json(value.fallback))}" if value.has_fallback else ""
        return f"<unknown: {value.reason}{extra}>"
    if isinstance(value, JSFunction):
        return f"<function {value.name or ''} at {value.loc}>".replace("  ", " ")
    if isinstance(value, JSRegExp):
        return str(value)
    if isinstance(value, Opaque):
        return f"<{value.kind}>"
    plain = to_json(value)
    if isinstance(plain, list) and not reveal:
        plain = mask_tree(plain)  # secrets inside arrays: Egg's own dump shows them, eggshield does not
    return json.dumps(plain, ensure_ascii=False)


def render_tree(resolved: ResolvedConfig, *, app_only: bool = False, prefix: str | None = None,
                show_secrets: bool = False) -> str:
    """Indented tree, each leaf with the file:line that set it; framework defaults marked as such."""
    lines: list[str] = []

    def walk(obj: JSObject, depth: int, path: tuple[str, ...], secret: bool = False) -> None:
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
                walk(value, depth + 1, here, secret or (not show_secrets and is_secret_key(key)))
                continue
            if app_only and (loc is None or loc.default):
                continue
            origin = "" if loc is None else f"  ({'default: ' if loc.default else ''}{loc})"
            masked = not show_secrets and (secret or is_secret_key(key))
            lines.append(f"{'  ' * depth}{key}: {_leaf(value, masked, show_secrets)}{origin}")

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
