"""Egg's merge: `extend(true, target, source)` from extend2, keeping provenance per key.

Plain objects merge recursively; arrays, RegExps, functions and every other value replace
the old one; `undefined` is skipped; `null` overwrites; `__proto__` is skipped. An env var with
no fallback over a known value keeps that value as its fallback (it is what an unset variable gives).
"""

from __future__ import annotations

from eggshield.js.values import UNDEFINED, JSObject, Loc, Unknown


def deep_copy(value):
    """Egg clones plain objects when it merges them into a missing key: copy so later merges don't alias."""
    if isinstance(value, JSObject):
        out = JSObject(loc=value.loc)
        for k, v in value.items():
            out.set(k, deep_copy(v), value.locs.get(k))
        return out
    return value


def extend(target: JSObject, source, fallback_loc: Loc | None = None) -> JSObject:
    if not isinstance(source, JSObject):
        return target
    for key, value in source.items():
        if value is UNDEFINED or key == "__proto__":
            continue
        loc = source.locs.get(key, fallback_loc)
        current = target.get(key, UNDEFINED)
        if isinstance(value, JSObject):
            if not isinstance(current, JSObject):
                current = JSObject(loc=value.loc)
                target.set(key, current, loc)
            elif loc is not None and key not in target.locs:
                target.locs[key] = loc
            extend(current, value, loc)
        else:
            if (isinstance(value, Unknown) and value.env_var and not value.has_fallback
                    and current is not UNDEFINED and not isinstance(current, JSObject | Unknown)):
                # `keys: process.env.EGG_KEYS` over a literal: when the variable is unset the value is
                # undefined, the merge skips it, and the earlier literal is what Egg runs with.
                value = Unknown(value.reason, value.env_var, current)
            target.set(key, value, loc)
    return target
