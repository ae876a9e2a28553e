"""Does the app use a plugin? Each plugin's reasoned usage rule (data/plugin_surfaces.toml) applied
to the code index, the resolved config and the app's files.

Evidence, strongest first: code reaching what the plugin adds; config the app sets that makes the
plugin act (`cors.origin`, `jwt.enable = true`); files the plugin loads or serves (app/io,
app/schedule, app/public); templates for a view engine the config maps. Plugins that work with
no call at all (onerror, security, logrotator, a plugin that installs its own middleware) are
"active"; a plugin another enabled plugin depends on is "required". Anything else is unused,
with the confidence the knowledge allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from eggshield.eggconfig.model import MISSING, ResolvedConfig
from eggshield.js.values import JSArray, JSObject, Loc, Unknown
from eggshield.plugins import appfiles
from eggshield.plugins.codeindex import CodeIndex, Ref
from eggshield.plugins.derive import DerivedSurface
from eggshield.plugins.knowledge import PluginSpec
from eggshield.plugins.model import ACTIVE, UNKNOWN, UNUSED, USED, Evidence, Usage

MAX_EVIDENCE = 3


@dataclass
class UsageInputs:
    project: object  # EggProject
    config: ResolvedConfig
    index: CodeIndex
    parse_failures: int = 0
    _views: dict | None = field(default=None, repr=False)

    @property
    def config_gap(self) -> str | None:
        """Why the app's config is only partly known (a config file that did not evaluate), if it is."""
        files = {self.rel(p) for p in self.project.config_files.values()}
        for problem in self.config.problems:
            if problem.path in files:
                return f"{problem.path}: {problem.message}"
        for note in self.config.notes:
            head = note.split(":", 1)[0]
            if head in files and "unknown" in note:
                return note
        return None

    def app_path(self, value: str) -> Path:
        """A directory from the config, remapped to src/ for midway-style apps whose baseDir is src/."""
        path = Path(value) if Path(value).is_absolute() else self.project.root / value
        source_dir = self.project.source_dir
        if source_dir and source_dir != self.project.root and not path.exists() \
                and path.is_relative_to(self.project.root / "app"):
            return source_dir / path.relative_to(self.project.root)
        return path

    def rel(self, path: Path) -> str:
        return self.project.rel(path)

    @property
    def base(self) -> Path:
        return self.project.source_dir or self.project.root

    def view_files(self) -> list[Path]:
        """Templates under view.root (egg-view's default: app/view)."""
        if self._views is None:
            roots = self.config.get("view.root")
            if isinstance(roots, str):
                dirs = [Path(p.strip()) for p in roots.split(",") if p.strip()]
            elif isinstance(roots, list):
                dirs = [Path(p) for p in roots if isinstance(p, str)]
            else:
                dirs = [self.base / "app" / "view"]
            files: list[Path] = []
            for d in dirs:
                files.extend(appfiles.walk_files(self.app_path(str(d))).files)
            self._views = {"files": files}
        return self._views["files"]


def _refs_outside(refs: list[Ref], own_dir: Path | None) -> list[Ref]:
    if own_dir is None:
        return refs
    return [r for r in refs if not r.path.is_relative_to(own_dir)]


def _code_evidence(spec: PluginSpec, inputs: UsageInputs, own_dir: Path | None) -> list[Evidence]:
    out: list[Evidence] = []
    for surface in spec.adds:
        if surface.receiver == "call":
            refs = inputs.index.calls(surface.member)
        else:
            refs = inputs.index.members(surface.receiver, surface.member)
        for ref in _refs_outside(refs, own_dir)[:1]:
            out.append(Evidence(str(surface), inputs.rel(ref.path), ref.line))
    for name in spec.call_names:
        for ref in _refs_outside(inputs.index.calls(name), own_dir)[:1]:
            out.append(Evidence(f"{name}()", inputs.rel(ref.path), ref.line))
    out.sort(key=lambda e: (e.path or "", e.line or 0))
    return out


def _set_by_app_under(value, loc: Loc | None) -> Loc | None:
    """The first app-set location at or below a config value (for `key.*`)."""
    if loc is not None and not loc.default and not isinstance(value, JSObject):
        if isinstance(value, JSArray | list) and not value:
            return None  # an empty list configures nothing
        return loc
    if isinstance(value, JSObject):
        for key, child in value.items():
            found = _set_by_app_under(child, value.locs.get(key))
            if found is not None:
                return found
    return None


def _literal(raw: str):
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(raw)
    except ValueError:
        return raw


def config_evidence(rules: tuple[str, ...], config: ResolvedConfig) -> list[Evidence]:
    out: list[Evidence] = []
    for rule in rules:
        if "=" in rule:
            key, _, raw = rule.partition("=")
            value = config.get(key)
            loc = config.loc(key)
            if value is not MISSING and not isinstance(value, Unknown) and value == _literal(raw) \
                    and loc is not None and not loc.default:
                out.append(Evidence(f"config {key} = {raw}", loc.path, loc.line))
            continue
        key = rule.removesuffix(".*")
        value = config.get(key)
        if value is MISSING:
            continue
        found = _set_by_app_under(value, config.loc(key))
        if found is not None:
            out.append(Evidence(f"config {key}", found.path, found.line))
    return out


def _middleware_evidence(names: tuple[str, ...], inputs: UsageInputs, own_dir: Path | None) -> list[Evidence]:
    out: list[Evidence] = []
    listed = inputs.config.get("middleware")
    loc = inputs.config.loc("middleware")
    for name in names:
        if isinstance(listed, list) and name in listed and loc is not None and not loc.default:
            out.append(Evidence(f"config.middleware includes '{name}'", loc.path, loc.line))
        for ref in _refs_outside(inputs.index.members("middleware", name), own_dir)[:1]:
            out.append(Evidence(f"app.middleware.{name}", inputs.rel(ref.path), ref.line))
    return out


def _static_dir(inputs: UsageInputs) -> Usage:
    value = inputs.config.get("static.dir")
    if isinstance(value, Unknown):
        return Usage(UNKNOWN, reason=f"static.dir is {value.reason}")
    items = value if isinstance(value, list) else [value]
    dirs: list[str] = []
    for item in items:
        if isinstance(item, JSObject):
            item = item.get("dir")
        if isinstance(item, str):
            dirs.append(item)
    if not dirs:
        return Usage(UNKNOWN, reason="static.dir is not a path eggshield can read")
    outside: list[str] = []
    for d in dirs:
        path = inputs.app_path(d)
        scan = appfiles.walk_files(path, limit=1)
        if scan.files:
            return Usage(USED, [Evidence("files to serve", inputs.rel(path) + "/")])
        if not path.resolve().is_relative_to(inputs.project.root.resolve()):
            outside.append(inputs.rel(path))
    if outside:
        return Usage(UNKNOWN, confidence="low", reason=f"static.dir {', '.join(outside)} is outside the app "
                                                        "(filled at deploy time?); eggshield cannot see it")
    loc = inputs.config.loc("static.dir")
    if loc is not None and not loc.default:
        return Usage(UNKNOWN, confidence="low", reason=f"the app sets static.dir ({loc}) to a directory that is not "
                                                        "in the source tree (a build output?)")
    shown = ", ".join(inputs.rel(inputs.app_path(d)) for d in dirs)
    return Usage(UNUSED, reason=f"static.dir ({shown}) holds no files", confidence="high")


def _render_refs(inputs: UsageInputs) -> list[Ref]:
    refs = [*inputs.index.members("ctx", "render"), *inputs.index.members("ctx", "renderView")]
    return sorted(refs, key=lambda r: (str(r.path), r.line))


def _view_engine(spec: PluginSpec, inputs: UsageInputs, own_dir: Path | None) -> Usage:
    engine = spec.view_engine or spec.name
    direct = [*inputs.index.pairs("viewEngine", engine), *inputs.index.members("app", engine)]
    direct = _refs_outside(direct, own_dir)
    if direct:
        ref = direct[0]
        return Usage(USED, [Evidence(f"view engine '{engine}' named in code", inputs.rel(ref.path), ref.line)])
    mapping = inputs.config.get("view.mapping")
    exts = [ext for ext, name in mapping.items() if name == engine] if isinstance(mapping, JSObject) else []
    is_default = inputs.config.get("view.defaultViewEngine") == engine
    if not exts and not is_default:
        return Usage(UNUSED, confidence="high", reason=f"neither view.mapping nor view.defaultViewEngine names "
                                                        f"'{engine}', so egg-view never picks it")
    renders = _render_refs(inputs)
    for ref in renders:
        return Usage(USED, [Evidence(f"ctx.render (engine '{engine}' mapped: "
                                     f"{', '.join(exts) or 'default engine'})", inputs.rel(ref.path), ref.line)])
    templates = [f for f in inputs.view_files() if is_default or f.suffix in exts]
    if templates:
        return Usage(USED, [Evidence(f"{len(templates)} template(s) for '{engine}' (nothing renders them in "
                                     "the code eggshield read)", inputs.rel(templates[0]))], confidence="medium")
    return Usage(UNUSED, confidence="medium",
                 reason=f"'{engine}' is mapped ({', '.join(exts) or 'default engine'}) but no ctx.render call "
                        "and no template of that kind was found")


def _passport_strategy(spec: PluginSpec, inputs: UsageInputs) -> Usage:
    name = spec.strategy or spec.name
    refs = [*inputs.index.string_calls("authenticate", name), *inputs.index.string_calls("mount", name)]
    if refs:
        ref = sorted(refs, key=lambda r: (str(r.path), r.line))[0]
        return Usage(USED, [Evidence(f"passport strategy '{name}'", inputs.rel(ref.path), ref.line)])
    return Usage(UNUSED, confidence="high",
                 reason=f"no app.passport.authenticate('{name}') / mount('{name}') call")


def evaluate(spec: PluginSpec | None, inputs: UsageInputs, *, own_dir: Path | None = None,
             derived: DerivedSurface | None = None) -> Usage:
    """The usage of one plugin (its `adds`, config, files, detector); dependencies come later."""
    if spec is None:
        return Usage(UNKNOWN, confidence="low",
                     reason="unknown surface: not in eggshield's knowledge base and its package is not installed "
                            "here (install dependencies, or record why it is on)")
    if spec.always:
        evidence = []
        if derived is not None:
            evidence = [Evidence(a.what, inputs.rel(a.path), a.line) for a in derived.activations[:MAX_EVIDENCE]]
        return Usage(ACTIVE, evidence, reason=spec.always)
    evidence = _code_evidence(spec, inputs, own_dir)
    evidence += config_evidence(spec.config_use, inputs.config)
    evidence += _middleware_evidence(spec.app_middleware, inputs, own_dir)
    if spec.files:
        found = appfiles.first_match(inputs.base, spec.files)
        if found is not None and (own_dir is None or not found.is_relative_to(own_dir)):
            evidence.append(Evidence("files it loads", inputs.rel(found)))
    if spec.view_text:
        hit = appfiles.template_hits(inputs.view_files(), spec.view_text)
        if hit is not None:
            evidence.append(Evidence(f"template uses {hit[2]}", inputs.rel(hit[0]), hit[1]))
    if evidence:
        return Usage(USED, evidence[:MAX_EVIDENCE])
    if spec.detector == "static-dir":
        usage = _static_dir(inputs)
    elif spec.detector == "view-engine":
        usage = _view_engine(spec, inputs, own_dir)
    elif spec.detector == "passport-strategy":
        usage = _passport_strategy(spec, inputs)
    else:
        usage = None
    gap = inputs.config_gap if (spec.config_use or spec.detector in ("static-dir", "view-engine")) else None
    if gap and (usage is None or usage.state == UNUSED):
        return Usage(UNKNOWN, confidence="low", reason=f"its usage rule reads the app's config, which is only "
                                                        f"partly known ({gap})")
    if usage is not None:
        return usage
    looked = [str(s) for s in spec.adds[:6]] + list(spec.config_use[:3]) + list(spec.files[:2])
    confidence = "medium" if spec.derived or inputs.parse_failures else "high"
    if not looked:
        return Usage(UNKNOWN, confidence="low", reason="its files add no API eggshield can look for")
    return Usage(UNUSED, confidence=confidence, reason="looked for " + ", ".join(looked)
                 + (f"; {inputs.parse_failures} file(s) could not be parsed" if inputs.parse_failures else ""))
