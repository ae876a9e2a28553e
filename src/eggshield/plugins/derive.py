"""The surface of a plugin the knowledge base does not know, read from its own files.

An Egg plugin is an Egg load unit: what it adds is in `app/extend/<object>.js` (the keys of the
exported object), in its `app.js`/`agent.js` (`app.x = ...`, `app.addSingleton('x')`,
middleware pushed into `coreMiddleware`/`appMiddleware`/`config.middleware`, `app.view.use('x')`,
`app.passport.use('x')`), and in `app/{service,controller,middleware,router,schedule}`. Local
plugins (`path:` entries, `lib/plugin/*`) and installed packages (`node_modules/<pkg>`) are read
the same way. Nothing is run.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from eggshield.js.parse import SyntaxProblem, parse, text
from eggshield.plugins.codeindex import classify
from eggshield.plugins.knowledge import PluginSpec, Surface
from eggshield.project.files import is_source_name, read_source

_EXTEND_RECEIVERS = {"application": "app", "agent": "agent", "context": "ctx", "helper": "helper",
                     "request": "request", "response": "response"}
_SOURCE_EXTS = (".js", ".ts", ".cjs", ".mjs")
_MW_LISTS = ("coreMiddleware", "coreMiddlewares", "appMiddleware", "appMiddlewares", "middleware")
MAX_FILES = 400
_IDENT = re.compile(r"^[A-Za-z_$][\w$]*$")


@dataclass
class Activation:
    """Something the plugin does by itself once enabled (so no call in the app is needed)."""

    what: str
    path: Path
    line: int | None = None


@dataclass
class DerivedSurface:
    adds: list[Surface] = field(default_factory=list)
    app_middleware: list[str] = field(default_factory=list)
    config: list[str] = field(default_factory=list)
    activations: list[Activation] = field(default_factory=list)
    view_engines: list[str] = field(default_factory=list)
    strategies: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    files_read: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.adds or self.app_middleware or self.activations or self.view_engines or self.strategies)


def camel(name: str) -> str:
    """Egg's loader naming: `foo_bar` / `foo-bar` -> `fooBar` (FileLoader's default caseStyle)."""
    parts = re.split(r"[_-]", name)
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def _first(directory: Path, stem: str) -> Path | None:
    for ext in _SOURCE_EXTS:
        candidate = directory / f"{stem}{ext}"
        if candidate.is_file():
            return candidate
    return None


def _tree(path: Path, root: Path, out: DerivedSurface):
    source = read_source(path, root)
    if not isinstance(source, str):
        out.problems.append(str(source))
        return None
    try:
        return parse(source.encode("utf-8"), path)
    except SyntaxProblem as exc:
        out.problems.append(f"{path.name}: {exc}")
        return None


def _exported_object(root_node):
    """The object literal a module exports (`module.exports = {}`, `exports.x =`, `export default {}`)."""
    keys: list[tuple[str, int]] = []
    stack = [root_node]
    while stack:
        node = stack.pop()
        if node.type == "assignment_expression":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            lhs = text(left) if left is not None else ""
            if lhs in ("module.exports", "exports.default", "module.exports.default") and right is not None \
                    and right.type in ("object", "class"):
                keys.extend(_object_keys(right))
            elif lhs.startswith("exports.") and lhs.count(".") == 1 and lhs not in ("exports.default",
                                                                                   "exports.__esModule"):
                keys.append((lhs.split(".")[1], node.start_point[0] + 1))
            continue
        if node.type == "export_statement":
            value = node.child_by_field_name("value") or next(
                (c for c in node.named_children if c.type == "object"), None)
            if value is None:
                value = next((c for c in node.named_children if c.type in ("class_declaration", "class")), None)
            if value is not None and value.type in ("object", "class_declaration", "class"):
                keys.extend(_object_keys(value))
            continue
        stack.extend(node.named_children)
    return keys


def _object_keys(obj) -> list[tuple[str, int]]:
    """Keys of an object literal, or the members of a class (egg 4 extends are classes)."""
    if obj.type in ("class_declaration", "class"):
        obj = obj.child_by_field_name("body") or obj
    keys = []
    for child in obj.named_children:
        if child.type == "pair":
            key = child.child_by_field_name("key")
            if key is not None:
                keys.append((text(key).strip("'\""), child.start_point[0] + 1))
        elif child.type in ("method_definition", "public_field_definition", "field_definition"):
            name = child.child_by_field_name("name") or child.child_by_field_name("property")
            if name is not None and text(name) != "constructor":
                keys.append((text(name).lstrip("#"), child.start_point[0] + 1))
        elif child.type == "shorthand_property_identifier":
            keys.append((text(child), child.start_point[0] + 1))
    return keys


def _boot_file(path: Path, root: Path, out: DerivedSurface) -> None:
    tree = _tree(path, root, out)
    if tree is None:
        return
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.named_children)
        if node.type == "assignment_expression":
            left = node.child_by_field_name("left")
            if left is not None and left.type == "member_expression":
                receiver = classify(left.child_by_field_name("object"), None)
                prop = left.child_by_field_name("property")
                if receiver in ("app", "agent") and prop is not None and text(prop) not in ("config",):
                    out.adds.append(Surface(receiver, text(prop)))
            continue
        if node.type != "call_expression":
            continue
        fn = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        first = args.named_children[0] if args is not None and args.named_children else None
        literal = text(first).strip("'\"`") if first is not None and first.type == "string" else None
        if fn is None or fn.type != "member_expression":
            continue
        method = text(fn.child_by_field_name("property"))
        owner = fn.child_by_field_name("object")
        owner_text = text(owner) if owner is not None else ""
        line = node.start_point[0] + 1
        if method in ("push", "unshift", "splice") and owner_text.split(".")[-1] in _MW_LISTS and literal:
            out.activations.append(Activation(f"installs middleware '{literal}'", path, line))
        elif method == "addSingleton" and literal:
            out.adds.append(Surface("app", literal))
            out.adds.append(Surface("agent", literal))
        elif method == "use" and owner_text.endswith("view") and literal:
            out.view_engines.append(literal)
        elif method == "use" and owner_text.endswith("passport"):
            if literal:
                out.strategies.append(literal)
        elif method in ("beforeStart", "messenger") or owner_text.endswith("messenger"):
            continue


def derive_surface(plugin_dir: Path) -> DerivedSurface:
    """Read a plugin directory (installed package or local plugin) and say what it adds."""
    out = DerivedSurface()
    try:
        pkg = json.loads((plugin_dir / "package.json").read_text("utf-8")) if (plugin_dir / "package.json").is_file() else {}
    except (OSError, ValueError):
        pkg = {}
    meta = pkg.get("eggPlugin") if isinstance(pkg, dict) else None
    if isinstance(meta, dict):
        deps = meta.get("dependencies") or meta.get("dep") or []
        out.dependencies = [str(d) for d in deps if isinstance(d, str)]
        out.env = [str(e) for e in meta.get("env") or [] if isinstance(e, str)]
    base = plugin_dir
    if not ((base / "app").is_dir() or _first(base, "app") or _first(base, "agent")):
        # egg 4 packages ship TypeScript sources (src/) and compiled code (dist/)
        for sub in ("src", "dist/commonjs", "dist/esm", "dist"):
            if (base / sub / "app").is_dir() or _first(base / sub, "app") or (base / sub / "config").is_dir():
                base = base / sub
                break
    extend_dir = base / "app" / "extend"
    if extend_dir.is_dir():
        for entry in sorted(extend_dir.iterdir()):
            stem = entry.name.split(".", 1)[0]
            receiver = _EXTEND_RECEIVERS.get(stem)
            if receiver is None or not is_source_name(entry.name):
                continue
            tree = _tree(entry, plugin_dir, out)
            out.files_read += 1
            if tree is not None:
                out.adds.extend(Surface(receiver, key) for key, _ in _exported_object(tree.root_node)
                                if _IDENT.match(key))
    for stem in ("app", "agent"):
        boot = _first(base, stem)
        if boot is not None:
            out.files_read += 1
            _boot_file(boot, plugin_dir, out)
    for sub, receiver in (("service", "service"), ("controller", "controller")):
        for rel in _module_names(base / "app" / sub):
            out.adds.append(Surface(receiver, rel))
    out.app_middleware = _module_names(base / "app" / "middleware")
    router = _first(base / "app", "router")
    if router is not None:
        out.activations.append(Activation("registers routes of its own", router))
    schedules = _module_files(base / "app" / "schedule")
    if schedules:
        out.activations.append(Activation(f"runs {len(schedules)} scheduled task(s)", schedules[0]))
    config_default = _first(base / "config", "config.default")
    if config_default is not None:
        tree = _tree(config_default, plugin_dir, out)
        if tree is not None:
            out.config = sorted({key for key, _ in _exported_object(tree.root_node)})
    seen: set[Surface] = set()
    out.adds = [s for s in out.adds if not (s in seen or seen.add(s))]
    return out


def _module_files(directory: Path) -> list[Path]:
    found: list[Path] = []
    if not directory.is_dir():
        return found
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if is_source_name(name):
                found.append(Path(dirpath) / name)
                if len(found) >= MAX_FILES:
                    return found
    return found


def _module_names(directory: Path) -> list[str]:
    """First-level names Egg's loader gives the files of a directory (`a/b_c.js` -> `a`, `b_c.js` -> `bC`)."""
    names: list[str] = []
    for path in _module_files(directory):
        rel = path.relative_to(directory)
        name = camel(rel.parts[0].split(".", 1)[0])
        if name not in names:
            names.append(name)
    return names


def spec_from_surface(name: str, package: str | None, derived: DerivedSurface, where: str) -> PluginSpec:
    """A knowledge entry built from a plugin's files, marked as derived."""
    adds = list(derived.adds) + [Surface("middleware", m) for m in derived.app_middleware]
    always = "; ".join(f"{a.what}" for a in derived.activations) or None
    cost = "middleware" if derived.activations else ("resource" if any(
        s.receiver in ("app", "agent") for s in derived.adds) else "api")
    return PluginSpec(
        name=name, packages=(package,) if package else (), what=f"surface read from {where}",
        usage=("Used when code reaches what its files add: " + ", ".join(str(s) for s in adds[:12])
               + (" ..." if len(adds) > 12 else "")) if adds else "No API found in its files.",
        source=where, adds=tuple(adds), app_middleware=tuple(derived.app_middleware), config=tuple(derived.config),
        always=always, dependencies=tuple(derived.dependencies), env=tuple(derived.env), cost=cost, derived=True,
        detector="view-engine" if derived.view_engines else None,
        view_engine=derived.view_engines[0] if derived.view_engines else None)
