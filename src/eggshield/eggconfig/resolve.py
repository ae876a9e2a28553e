"""Static configuration resolution: Egg's loader order and merge, with no project code run."""

from __future__ import annotations

from pathlib import Path

from eggshield.eggconfig import plugins as plugin_list
from eggshield.eggconfig.defaults import data_major, load_defaults, placeholder_values, unit_layer
from eggshield.eggconfig.merge import extend
from eggshield.eggconfig.model import ResolvedConfig
from eggshield.finding import InputProblem
from eggshield.js.evaluate import EvalError, Evaluator
from eggshield.js.values import JSArray, JSFunction, JSObject, Loc, Unknown, from_json
from eggshield.project.model import EggProject

CONFIG_EXTS = (".ts", ".js", ".mjs", ".cjs", ".mts", ".cts")


def app_file_order(names: dict, env: str, scope: str) -> list[str]:
    """Egg's `getTypeFiles`: default (legacy fallback), scope, env, scope_env."""
    order = ["default" if "default" in names else "legacy"]
    if env == "default":
        return [name for name in order if name in names]
    if scope:
        order.append(scope)
    order.append(env)
    if scope:
        order.append(f"{scope}_{env}")
    return [name for name in order if name in names]


def make_evaluator(project: EggProject) -> Evaluator:
    from eggshield.project.files import read_source

    def read(path: Path) -> str:
        # Files outside the scanned tree are read only when resolution asks for them on purpose: an
        # upper framework or a plugin hoisted into a parent node_modules. They are parsed, never run.
        inside = path.resolve().is_relative_to(project.scan_root)
        result = read_source(path, project.scan_root if inside else path.resolve().parent)
        if isinstance(result, InputProblem):
            raise EvalError(result.message)
        return result

    return Evaluator(rel=project.rel, read=read)


def appinfo_object(project: EggProject, env: str, scope: str) -> JSObject:
    info = JSObject()
    base = project.root.as_posix()
    info.set("name", project.name, None)
    info.set("baseDir", base, None)
    info.set("env", env, None)
    info.set("scope", scope, None)
    info.set("HOME", Unknown("appInfo.HOME (EGG_HOME or the server user's home directory)"), None)
    info.set("root", base if env in ("local", "unittest") else Unknown(
        "appInfo.root (the server's HOME outside local/unittest)"), None)
    info.set("pkg", from_json(project.pkg, plain=True), None)
    return info


def _mark_default(obj):
    if isinstance(obj, JSObject):
        for key, loc in list(obj.locs.items()):
            obj.locs[key] = Loc(loc.path, loc.line, loc.column, default=True)
        for value in obj.values():
            _mark_default(value)
    return obj


class _Loader:
    def __init__(self, project: EggProject, env: str, scope: str):
        self.project = project
        self.env = env
        self.scope = scope
        self.evaluator = make_evaluator(project)
        self.notes: list[str] = []
        self.problems: list[InputProblem] = []
        self.appinfo = appinfo_object(project, env, scope)

    def module_value(self, path: Path, *, is_app: bool, app_config: JSObject | None = None):
        """Evaluate one config/plugin module the way Egg's loadFile uses it."""
        try:
            value = self.evaluator.load(path).value
        except EvalError as exc:
            self.problems.append(InputProblem(self.project.rel(path), str(exc)))
            return None
        if isinstance(value, JSFunction):
            if value.is_async and (self.project.egg_major or 3) < 4:
                self.notes.append(f"{self.project.rel(path)}: an async config function contributes nothing in "
                                  "egg < 4 (Egg does not await it)")
                return None
            args = [self.appinfo] if is_app else [self.appinfo, app_config or JSObject()]
            try:
                value = self.evaluator.call(value, args)
            except EvalError as exc:
                self.problems.append(InputProblem(self.project.rel(path), str(exc)))
                return None
        if isinstance(value, Unknown):
            self.notes.append(f"{self.project.rel(path)}: exports {value.reason}; its values are unknown")
            return None
        return value

    def plugin_unit_files(self, plugin_dir: Path) -> dict[str, Path]:
        files: dict[str, Path] = {}
        config_dir = plugin_dir / "config"
        for name in ("default", self.env):
            for ext in CONFIG_EXTS:
                candidate = config_dir / f"config.{name}{ext}"
                if candidate.is_file():
                    files["default" if name == "default" else "env"] = candidate
                    break
        return files


def resolve(project: EggProject, env: str = "prod", scope: str = "") -> ResolvedConfig:
    loader = _Loader(project, env, scope)
    major, stand_in = data_major(project.egg_major)
    if stand_in:
        loader.notes.append(stand_in)
    defaults = load_defaults(major)
    fill = placeholder_values(project.name, project.root.as_posix(), env, project.egg_version or defaults.version)

    # plugins: framework list, then the app's plugin files in Egg's order
    entries = plugin_list.framework_entries(defaults)
    frameworks, missing = upper_frameworks(project)
    if missing:
        loader.notes.append(f"framework '{missing}' is not installed here: the defaults it adds are unknown")
    for fw_dir in frameworks:  # each framework's plugin list, lowest first, before the app's
        for file_name in app_file_order(_config_files(fw_dir, "plugin"), env, scope):
            path = _config_files(fw_dir, "plugin")[file_name]
            value = _mark_default(loader.module_value(path, is_app=False))
            plugin_list.apply_plugin_file(entries, value, loader.notes, project.rel(path))
    for file_name in app_file_order(project.plugin_files, env, scope):
        path = project.plugin_files[file_name]
        value = loader.module_value(path, is_app=True)
        plugin_list.apply_plugin_file(entries, value, loader.notes, project.rel(path))
    for entry in entries.values():
        if not entry.framework_default or entry.name not in defaults.units:
            entry.known_defaults = False
    plugin_dirs: dict[str, Path] = {}
    for name, entry in entries.items():
        if not entry.framework_default:
            found = plugin_list.read_package_meta(entry, project.root)
            if found is not None:
                plugin_dirs[name] = found
            elif plugin_list.apply_known_metadata(entry):
                loader.notes.append(f"plugin '{name}' ({entry.package}) is not installed here; its env list and "
                                    "dependencies come from eggshield's plugin knowledge base")
    enabled = plugin_list.finalize(entries, env, loader.notes)
    order = plugin_list.load_order(enabled, entries, defaults.load_order)

    # the app's own config files (default, then env), evaluated once
    app_layers: dict[str, list[tuple[str, object]]] = {"default": [], "env": []}
    for file_name in app_file_order(project.config_files, env, scope):
        path = project.config_files[file_name]
        layer = "default" if file_name in ("default", "legacy") else "env"
        value = loader.module_value(path, is_app=True)
        if value is not None:
            app_layers[layer].append((project.rel(path), value))
    app_config = JSObject()
    for _, value in app_layers["default"] + app_layers["env"]:
        extend(app_config, value)

    config = from_json(defaults.initial, Loc(f"{defaults.framework_package}@{defaults.version} loader", default=True))
    files: list[str] = []
    for layer in ("default", "env"):
        for name in order:
            entry = entries[name]
            if entry.framework_default and name in defaults.units:
                value = unit_layer(defaults, name, env, layer, fill)
            elif name in plugin_dirs:
                unit = loader.plugin_unit_files(plugin_dirs[name]).get(layer)
                value = loader.module_value(unit, is_app=False, app_config=app_config) if unit else None
                value = _mark_default(value)
                entry.known_defaults = True
            else:
                value = None
                if layer == "default" and not entry.framework_default:
                    loader.notes.append(f"plugin '{name}' ({entry.package or entry.path or '?'}) is not installed "
                                        "here; its defaults are unknown")
            extend(config, value)
        for name in defaults.units:
            if defaults.units[name].get("kind") == "framework":
                extend(config, unit_layer(defaults, name, env, layer, fill))
        for fw_dir in frameworks:
            fw_files = _config_files(fw_dir, "config")
            for file_name in app_file_order(fw_files, env, scope):
                if ("default" if file_name in ("default", "legacy") else "env") == layer:
                    value = loader.module_value(fw_files[file_name], is_app=False, app_config=app_config)
                    extend(config, _mark_default(value))
        for rel, value in app_layers[layer]:
            files.append(rel)
            extend(config, value)
    _add_loader_aliases(config, project, defaults)
    _add_runtime_middleware(config, order, defaults)

    return ResolvedConfig(
        env=env, scope=scope, config=config, plugins=entries, egg_major=project.egg_major,
        egg_version=project.egg_version, defaults_major=major, files=files,
        notes=loader.notes + loader.evaluator.notes, problems=loader.problems)


def _add_loader_aliases(config: JSObject, project: EggProject, defaults) -> None:
    """What egg-core's loadConfig sets after merging: `pkg`, and the middleware list aliases."""
    label = Loc(f"{defaults.framework_package}@{defaults.version} loader", default=True)
    if "pkg" in config and config.locs.get("pkg") is not None and config.locs["pkg"].default:
        config.set("pkg", from_json(project.pkg, label, plain=True), label)
    core = config.get("coreMiddleware")
    core = core if isinstance(core, list) else JSArray()
    config.set("coreMiddleware", core, config.locs.get("coreMiddleware", label))
    config.set("coreMiddlewares", core, config.locs.get("coreMiddleware", label))
    app_mw = config.get("middleware")
    app_mw = app_mw if isinstance(app_mw, list) else JSArray()
    config.set("appMiddleware", app_mw, label)  # set by the loader, after every file
    config.set("appMiddlewares", app_mw, label)


def _add_runtime_middleware(config: JSObject, order: list[str], defaults) -> None:
    """Plugins push their middleware into `coreMiddleware` when they boot; Egg's dump shows the result."""
    core = config.get("coreMiddleware")
    if not isinstance(core, list):
        return
    core = JSArray(core, loc=getattr(core, "loc", None))
    for name in order:
        unit = defaults.units.get(name) or {}
        names = list(unit.get("runtime_core_middleware") or [])
        if name == "multipart" and config.get("multipart", {}).get("mode") == "file":
            names += unit.get("runtime_core_middleware_conditional") or []
        for mw in names:
            if mw in core:
                continue
            if mw == "static" and "bodyParser" in core:
                core.insert(core.index("bodyParser"), mw)
            else:
                core.append(mw)
    config["coreMiddleware"] = core
    config["coreMiddlewares"] = core


def _config_files(root: Path, kind: str) -> dict[str, Path]:
    """config/<kind>.<name>.<ext> files of a framework package, keyed like EggProject.config_files."""
    out: dict[str, Path] = {}
    config_dir = root / "config"
    if not config_dir.is_dir():
        return out
    for path in sorted(config_dir.iterdir()):
        if path.suffix not in CONFIG_EXTS or path.name.endswith(".d.ts") or not path.is_file():
            continue
        stem = path.name[: -len(path.suffix)]
        if stem == kind:
            out.setdefault("legacy", path)
        elif stem.startswith(kind + "."):
            out.setdefault(stem[len(kind) + 1:], path)
    return out


def _package_dir(name: str, base: Path, pkg: dict) -> Path | None:
    spec = {**pkg.get("devDependencies", {}), **pkg.get("dependencies", {})}.get(name, "")
    if isinstance(spec, str) and spec.startswith(("file:", "link:")):
        candidate = (base / spec.split(":", 1)[1]).resolve()
        if candidate.is_dir():
            return candidate
    if name.startswith((".", "/")):
        candidate = (base / name).resolve()
        return candidate if candidate.is_dir() else None
    for parent in [base, *base.parents][:8]:
        candidate = parent / "node_modules" / name
        if (candidate / "package.json").is_file():
            return candidate.resolve()
    return None


def upper_frameworks(project: EggProject) -> tuple[list[Path], str | None]:
    """Installed frameworks between egg and the app (egg.framework chains), lowest first; and the
    name of the first one that is not installed, if any. Their config files are read statically."""
    import json

    chain: list[Path] = []
    name, base, pkg = project.framework, project.root, project.pkg
    seen: set[str] = set()
    while name and name not in ("egg", "@eggjs/core") and name not in seen and len(chain) < 4:
        seen.add(name)
        found = _package_dir(name, base, pkg)
        if found is None:
            return chain, name
        chain.insert(0, found)
        try:
            pkg = json.loads((found / "package.json").read_text("utf-8"))
        except (OSError, ValueError):
            break
        name = (pkg.get("egg") or {}).get("framework") if isinstance(pkg.get("egg"), dict) else None
        base = found
    return chain, None
