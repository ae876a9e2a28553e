"""The plugin knowledge base (`data/plugin_surfaces.toml`): what each known plugin adds and how
an app shows that it uses it. Knowledge that changes with the ecosystem lives in the data file;
this module only reads it and answers "which entry describes this plugin?"."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

RECEIVERS = ("app", "agent", "ctx", "helper", "request", "response", "middleware", "service", "controller")
COSTS = ("middleware", "resource", "api")
STATUSES = ("maintained", "superseded", "unmaintained", "deprecated", "unknown")


@dataclass(frozen=True)
class Surface:
    """One way code reaches a plugin: `app.mysql` is receiver "app", member "mysql"; `call:__` is a bare call."""

    receiver: str  # one of RECEIVERS, or "call"
    member: str

    @classmethod
    def parse(cls, text: str) -> Surface:
        if text.startswith("call:"):
            return cls("call", text[5:])
        receiver, _, member = text.partition(".")
        if receiver not in RECEIVERS or not member or "." in member:
            raise ValueError(f"bad surface {text!r}: expected <receiver>.<member> or call:<name>")
        return cls(receiver, member)

    def __str__(self) -> str:
        return f"{self.member}()" if self.receiver == "call" else f"{self.receiver}.{self.member}"


@dataclass(frozen=True)
class PluginSpec:
    name: str
    packages: tuple[str, ...]
    what: str
    usage: str
    source: str
    adds: tuple[Surface, ...] = ()
    middleware: tuple[str, ...] = ()
    app_middleware: tuple[str, ...] = ()
    config: tuple[str, ...] = ()
    config_use: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    view_text: tuple[str, ...] = ()
    call_names: tuple[str, ...] = ()
    detector: str | None = None
    view_engine: str | None = None
    strategy: str | None = None
    always: str | None = None
    dependencies: tuple[str, ...] = ()
    optional_dependencies: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    dev_only: str | None = None
    dev_only_unless: str | None = None
    cost: str = "api"
    status: str = "unknown"
    status_note: str = ""
    status_source: str = ""
    derived: bool = False  # built from an installed package's files, not from the data file


@dataclass(frozen=True)
class Knowledge:
    specs: dict[str, PluginSpec]
    by_package: dict[str, PluginSpec]
    checked: str
    unmaintained_years: int
    source: str = "data/plugin_surfaces.toml"
    problems: list[str] = field(default_factory=list)

    def lookup(self, name: str, package: str | None) -> PluginSpec | None:
        """The entry for a plugin: by its package first (names are the app's choice), then by name
        when the package is unknown or is one the entry lists."""
        if package:
            spec = self.by_package.get(package)
            if spec is not None:
                return spec
            if package.startswith("."):  # a relative path given as package: a local plugin
                return None
        spec = self.specs.get(name)
        if spec is not None and (not package or package in spec.packages):
            return spec
        return None


_DETECTORS = {"static-dir", "view-engine", "passport-strategy"}


def _tuple(raw: dict, key: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} must be a list of strings")
    return tuple(value)


def parse_spec(name: str, raw: dict) -> PluginSpec:
    for required in ("packages", "what", "usage", "source"):
        if required not in raw:
            raise ValueError(f"missing {required}")
    detector = raw.get("detector")
    if detector is not None and detector not in _DETECTORS:
        raise ValueError(f"unknown detector {detector!r}")
    cost = raw.get("cost", "api")
    if cost not in COSTS:
        raise ValueError(f"unknown cost {cost!r}")
    status = raw.get("status", "unknown")
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    return PluginSpec(
        name=name, packages=_tuple(raw, "packages"), what=raw["what"], usage=raw["usage"], source=raw["source"],
        adds=tuple(Surface.parse(s) for s in _tuple(raw, "adds")), middleware=_tuple(raw, "middleware"),
        app_middleware=_tuple(raw, "app_middleware"), config=_tuple(raw, "config"),
        config_use=_tuple(raw, "config_use"), files=_tuple(raw, "files"), view_text=_tuple(raw, "view_text"),
        call_names=_tuple(raw, "call_names"), detector=detector, view_engine=raw.get("view_engine"),
        strategy=raw.get("strategy"), always=raw.get("always"), dependencies=_tuple(raw, "dependencies"),
        optional_dependencies=_tuple(raw, "optional_dependencies"), env=_tuple(raw, "env"),
        dev_only=raw.get("dev_only"), dev_only_unless=raw.get("dev_only_unless"), cost=cost, status=status,
        status_note=raw.get("status_note", ""), status_source=raw.get("status_source", ""))


def build_knowledge(data: dict) -> Knowledge:
    meta = data.get("meta", {})
    specs: dict[str, PluginSpec] = {}
    by_package: dict[str, PluginSpec] = {}
    problems: list[str] = []
    for name, raw in (data.get("plugin") or {}).items():
        try:
            spec = parse_spec(name, raw)
        except ValueError as exc:
            problems.append(f"plugin.{name}: {exc}")
            continue
        specs[name] = spec
        for package in spec.packages:
            by_package.setdefault(package, spec)
    return Knowledge(specs=specs, by_package=by_package, checked=str(meta.get("checked", "")),
                     unmaintained_years=int(meta.get("unmaintained_years", 4)), problems=problems)


@cache
def load_knowledge() -> Knowledge:
    text = resources.files("eggshield.data").joinpath("plugin_surfaces.toml").read_text("utf-8")
    return build_knowledge(tomllib.loads(text))
