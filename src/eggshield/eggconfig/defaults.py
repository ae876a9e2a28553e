"""Framework and default-plugin config per Egg major, from data files built from Egg's own packages.

Strings in the data hold placeholders for what depends on the machine Egg runs on:
`{baseDir}`, `{name}`, `{root}`, `{HOME}`, `{tmpdir}`, `{homedir}`, `{version}`. They are filled
from the scanned app where eggshield knows the value, and become Unknown where only the server
would know (its home directory, its temp dir).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from eggshield.js.values import UNDEFINED, JSArray, JSObject, Loc, Unknown, from_json

DATA_MAJORS = (2, 3, 4)
DATA_ENVS = ("prod", "local", "unittest", "test")
_PLACEHOLDER = re.compile(r"\{(baseDir|name|root|HOME|tmpdir|homedir|version|node_modules)\}")


@dataclass(frozen=True)
class Defaults:
    major: int
    version: str
    framework_package: str
    plugins: dict
    load_order: tuple[str, ...]
    units: dict
    source: str
    initial: dict  # what Egg's merge starts from (egg 4: {middleware: [], coreMiddleware: []})


def data_major(major: int | None) -> tuple[int, str | None]:
    """Which data file stands in for an app's Egg major, with a note when it is a stand-in."""
    if major in DATA_MAJORS:
        return major, None
    if major is not None and major < 2:
        return 2, f"egg {major} has no defaults file; egg 2 defaults are used (close, not identical)"
    if major is not None and major > 4:
        return 4, f"egg {major} is newer than eggshield knows; egg 4 defaults are used"
    return 3, "the Egg major is unknown; egg 3 defaults are assumed"


@cache
def load_defaults(major: int) -> Defaults:
    raw = json.loads(resources.files("eggshield.data").joinpath(f"egg_defaults/egg{major}.json").read_text("utf-8"))
    return Defaults(
        major=raw["egg_major"], version=raw["egg_version"], framework_package=raw["framework_package"],
        plugins=raw["plugins"], load_order=tuple(raw["load_order"]), units=raw["units"], source=raw.get("source", ""),
        initial=raw.get("loader_initial_target") or {})


def unit_layer(defaults: Defaults, unit: str, env: str, layer: str, appinfo: dict) -> JSObject | None:
    """One unit's config.default ("default") or config.<env> ("env") as values with provenance."""
    spec = defaults.units.get(unit)
    if spec is None:
        return None
    envs = spec.get("envs", {})
    data_env = env if env in envs else "test"
    raw = envs.get(data_env, {}).get(layer)
    if layer == "env" and env not in envs:
        raw = None  # packages ship no config.<custom env>
    if not raw:
        return None
    file_key = "default" if layer == "default" else env
    label = (spec.get("files") or {}).get(file_key) or f"{spec.get('package', unit)}@{spec.get('version', '?')} config"
    value = from_json(raw, Loc(label, default=True))
    return _fill(value, appinfo)


def _fill(value, appinfo: dict):
    if isinstance(value, str):
        if "{" not in value:
            return value
        missing: list[str] = []

        def sub(match: re.Match) -> str:
            known = appinfo.get(match.group(1))
            if isinstance(known, str):
                return known
            missing.append(match.group(1))
            return match.group(0)

        filled = _PLACEHOLDER.sub(sub, value)
        if missing:
            return Unknown(f"{filled} (depends on the server's {', '.join(sorted(set(missing)))})")
        return filled
    if isinstance(value, JSObject):
        for k in list(value):
            value[k] = _fill(value[k], appinfo)
        return value
    if isinstance(value, JSArray):
        for i, v in enumerate(value):
            value[i] = _fill(v, appinfo)
        return value
    return value


def placeholder_values(name: str, base_dir: str, env: str, version: str | None) -> dict:
    """What eggshield can fill in statically; HOME/tmpdir stay unknown (they belong to the server)."""
    values: dict = {"name": name, "baseDir": base_dir}
    if env in ("local", "unittest"):
        values["root"] = base_dir
    if version:
        values["version"] = version
    return values


__all__ = ["UNDEFINED", "DATA_MAJORS", "Defaults", "data_major", "load_defaults", "unit_layer", "placeholder_values"]
