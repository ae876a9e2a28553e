"""What egg-security will really do with the resolved config: which sub-middlewares run, and where.

Mirrors egg-security@3.8 `app/middleware/securities.js` and @eggjs/security@4.0
`src/app/middleware/securities.ts`: a sub-middleware runs only if the plugin is on, its name is in
`security.defaultMiddleware` (a comma string, or an array in v4), its option is not `false` and
`enable` is truthy (`checkIfIgnore` tests `!opts.enable`); then `match`/`ignore` (match wins when
both are set) limit the paths it applies to.
"""

from __future__ import annotations

from dataclasses import dataclass

from eggshield.checks import _path_matching as pathmatch
from eggshield.checks.context import CheckContext
from eggshield.eggconfig.model import MISSING
from eggshield.js.values import JSArray, Loc, Unknown

DEFAULT_MIDDLEWARE = ("csrf", "hsts", "methodnoallow", "noopen", "nosniff", "csp", "xssProtection", "xframe", "dta")


@dataclass(frozen=True)
class SubState:
    """The outcome for one sub-middleware (`csrf`, `hsts`, `xframe`, ...)."""

    name: str
    state: str  # "on", "off", "unknown", "plugin-off"
    reason: str = ""  # why off/unknown, one phrase
    key: str | None = None  # the config key responsible
    loc: Loc | None = None
    limited: str = ""  # for "on": how match/ignore limit it ("" = every path)
    default_off: bool = False  # off only because Egg's default says so (the app never set it)

    @property
    def on(self) -> bool:
        return self.state == "on"


def plugin_off(ctx: CheckContext):
    entry = ctx.config.plugins.get("security")
    return entry if entry is not None and not entry.enable else None


def middleware_list(ctx: CheckContext) -> list[str] | Unknown:
    raw = ctx.config.get("security.defaultMiddleware")
    if raw is MISSING:
        return list(DEFAULT_MIDDLEWARE)
    if isinstance(raw, str):
        return [n.strip() for n in raw.split(",") if n.strip()]
    if isinstance(raw, JSArray | list) and all(isinstance(n, str) for n in raw):
        return [n.strip() for n in raw]
    if isinstance(raw, Unknown):
        return Unknown(f"`security.defaultMiddleware` depends on {raw.reason}")
    return Unknown(f"`security.defaultMiddleware` is {raw!r}, neither a string nor an array of names")


def sub_state(ctx: CheckContext, name: str, *, paths: bool = True) -> SubState:
    """The outcome for `name`; `paths=False` leaves match/ignore out (the CSRF rules judge them themselves)."""
    if plugin_off(ctx) is not None:
        entry = ctx.config.plugins["security"]
        return SubState(name, "plugin-off", "the security plugin is disabled", "plugin.security", entry.source)
    names = middleware_list(ctx)
    if isinstance(names, Unknown):
        return SubState(name, "unknown", names.reason, "security.defaultMiddleware")
    if name not in names:
        return SubState(name, "off", f"`{name}` is not in `security.defaultMiddleware`",
                        "security.defaultMiddleware", ctx.config.loc("security.defaultMiddleware"))
    key = f"security.{name}"
    opt = ctx.config.get(key)
    if opt is False:
        return SubState(name, "off", f"`{key} = false`", key, ctx.config.loc(key))
    if isinstance(opt, Unknown):
        return SubState(name, "unknown", f"`{key}` depends on {opt.reason}", key, ctx.config.loc(key))
    if not isinstance(opt, dict):
        return SubState(name, "unknown", f"`{key}` is not an object", key, ctx.config.loc(key))
    enable = opt.get("enable", MISSING)
    ekey = f"{key}.enable"
    if isinstance(enable, Unknown):
        return SubState(name, "unknown", f"`{ekey}` depends on {enable.reason}", ekey, ctx.config.loc(ekey))
    if not enable:
        loc = ctx.config.loc(ekey)
        return SubState(name, "off", f"`{ekey}` is {_js(enable)}", ekey, loc,
                        default_off=loc is None or loc.default)
    return _limited(ctx, name, opt, key) if paths else SubState(name, "on", key=key)


def _limited(ctx: CheckContext, name: str, opt: dict, key: str) -> SubState:
    if opt.get("match"):
        patterns = pathmatch.compile_patterns(opt["match"])
        if all(p.judged for p in patterns) and pathmatch.covers_every_path(patterns):
            return SubState(name, "on", key=key)
        return SubState(name, "on", key=f"{key}.match", loc=ctx.config.loc(f"{key}.match"),
                        limited="only on paths matching " + ", ".join(p.source for p in patterns))
    ignore_name = "ignore" if opt.get("ignore") else "blackUrls" if opt.get("blackUrls") else None
    if ignore_name:  # egg-security uses the deprecated `blackUrls` as `ignore` when ignore is unset
        patterns = pathmatch.compile_patterns(opt[ignore_name])
        ikey = f"{key}.{ignore_name}"
        if any(p.judged for p in patterns) and pathmatch.covers_every_path(patterns):
            return SubState(name, "off", f"`{ikey}` matches every path", ikey, ctx.config.loc(ikey))
        return SubState(name, "on", key=ikey, loc=ctx.config.loc(ikey),
                        limited="except on paths matching " + ", ".join(p.source for p in patterns))
    return SubState(name, "on", key=key)


def _js(value) -> str:
    if value is MISSING:
        return "not set"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)
