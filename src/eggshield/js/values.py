"""The values static evaluation produces: what Egg would hold, or an honest Unknown.

Plain JS values map to Python (str, int/float, bool, None for null, list, JSObject).
`UNDEFINED` stands for JS undefined (Egg's merge skips it). Everything that cannot be
known without running code is an `Unknown` carrying its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Loc:
    """Where a value was set: a path relative to the scanned root (or a package label) and a line."""

    path: str
    line: int | None = None
    column: int | None = None
    default: bool = False  # set by the framework or a plugin, not by the app

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


class _Undefined:
    _inst = None

    def __new__(cls):
        if cls._inst is None:
            cls._inst = super().__new__(cls)
        return cls._inst

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED = _Undefined()


@dataclass(frozen=True)
class Unknown:
    """A value static evaluation cannot know. `env_var` names process.env.X; `fallback` is the literal of `X || lit`."""

    reason: str
    env_var: str | None = None
    fallback: object = UNDEFINED

    @property
    def has_fallback(self) -> bool:
        return self.fallback is not UNDEFINED

    def to_json(self) -> dict:
        out: dict = {"$unknown": self.reason}
        if self.has_fallback:
            out["fallback"] = to_json(self.fallback)
        return out


@dataclass(frozen=True)
class JSFunction:
    """A function value: never called, kept with its location and (short) source text."""

    loc: Loc
    name: str = ""
    source: str = ""
    params: tuple[str, ...] = ()
    is_async: bool = False
    # (node, scope, module) for functions defined in evaluated code; lets the evaluator call them
    impl: object = field(default=None, compare=False, repr=False, hash=False)

    def to_json(self) -> dict:
        return {"$function": str(self.loc)}


@dataclass(frozen=True)
class JSRegExp:
    pattern: str
    flags: str = ""

    def __str__(self) -> str:
        return f"/{self.pattern}/{self.flags}"

    def to_json(self) -> dict:
        return {"$regexp": str(self)}


@dataclass(frozen=True)
class Opaque:
    """A value Egg holds that is neither plain data nor a function (Buffer, Set, class instance)."""

    kind: str  # "Buffer", "Set", ...
    detail: object = None

    def to_json(self) -> dict:
        return {"$" + self.kind.lower(): self.detail}


class JSObject(dict):
    """A plain JS object. `locs` maps each own key to where it was last set."""

    __slots__ = ("locs", "loc")

    def __init__(self, *args, loc: Loc | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.locs: dict[str, Loc] = {}
        self.loc = loc

    def set(self, key: str, value, loc: Loc | None) -> None:
        self[key] = value
        if loc is not None:
            self.locs[key] = loc

    def __repr__(self) -> str:
        return f"JSObject({dict.__repr__(self)})"


class JSArray(list):
    __slots__ = ("loc",)

    def __init__(self, *args, loc: Loc | None = None):
        super().__init__(*args)
        self.loc = loc


def is_known(value) -> bool:
    """True for plain data whose every part is known."""
    if isinstance(value, Unknown):
        return False
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    return True


def to_json(value):
    """Encode for `eggshield config --format json`: the plain JSON value Egg would hold, or a $-marker."""
    if value is UNDEFINED:
        return None
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items() if v is not UNDEFINED}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, Unknown | JSFunction | JSRegExp | Opaque):
        return value.to_json()
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return {"$number": "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")}
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    if value is None or isinstance(value, str | int | bool):
        return value
    return {"$unknown": f"{type(value).__name__} value"}  # a module reference or a builtin: not data


def from_json(value, loc: Loc | None = None, *, plain: bool = False):
    """Decode the data-file encoding (same $-markers as to_json) back into values.

    `plain` reads ordinary JSON (package.json, a required .json file), where `$`-keys are just keys.
    """
    if isinstance(value, dict):
        if value and not plain:
            marker = next(iter(value))
            if marker == "$function":
                return JSFunction(loc=Loc(str(value["$function"]), default=True), name="")
            if marker == "$regexp":
                text = value["$regexp"]
                body, _, flags = text[1:].rpartition("/")
                return JSRegExp(body, flags)
            if marker == "$unknown":
                return Unknown(value["$unknown"])
            if marker in ("$buffer", "$set", "$class", "$object"):
                return Opaque(marker[1:].capitalize(), value[marker])
        obj = JSObject(loc=loc)
        for k, v in value.items():
            obj.set(k, from_json(v, loc, plain=plain), loc)
        return obj
    if isinstance(value, list):
        return JSArray([from_json(v, loc, plain=plain) for v in value], loc=loc)
    return value
