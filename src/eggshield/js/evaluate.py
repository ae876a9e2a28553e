"""Static evaluation of Egg config modules: the subset of JS that config files use, never run.

A small interpreter over tree-sitter nodes. It knows literals, objects, arrays, templates,
arithmetic, `appInfo`, `path`, local `require`/`import`, assignments (with aliasing, so
`const config = exports = {}` works) and calls of functions defined in the evaluated code.
Anything else becomes an `Unknown` that says why. No code of the scanned project is executed.
"""

from __future__ import annotations

import contextlib
import json
import math
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tree_sitter as ts

from eggshield.js.parse import SyntaxProblem, parse, text
from eggshield.js.values import (
    UNDEFINED,
    JSArray,
    JSFunction,
    JSObject,
    JSRegExp,
    Loc,
    Opaque,
    Unknown,
    from_json,
)

MAX_CALL_DEPTH = 24
MAX_STEPS = 200_000
SOURCE_EXTS = (".ts", ".js", ".mjs", ".cjs", ".mts", ".cts", ".json")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


class EvalError(Exception):
    """The module cannot be evaluated (syntax error, unreadable, or it would throw)."""


class _Return(Exception):
    def __init__(self, value):
        self.value = value


@dataclass(frozen=True)
class ModuleRef:
    """A required package or Node builtin: only a few members (path.*) are understood."""

    name: str


@dataclass(frozen=True)
class _Builtin:
    owner: str  # "path", "Object", "string", "array", ...
    name: str
    this: object = None


class Scope:
    __slots__ = ("vars", "parent")

    def __init__(self, parent: Scope | None = None):
        self.vars: dict[str, object] = {}
        self.parent = parent

    def lookup(self, name: str):
        scope = self
        while scope is not None:
            if name in scope.vars:
                return scope, scope.vars[name]
            scope = scope.parent
        return None, None

    def assign(self, name: str, value) -> bool:
        scope, _ = self.lookup(name)
        if scope is None:
            return False
        scope.vars[name] = value
        return True


@dataclass
class Module:
    path: Path
    rel: str
    exports: object
    module_obj: JSObject
    scope: Scope
    esm_default: object = UNDEFINED
    is_esm: bool = False

    @property
    def value(self):
        """What Egg takes from the module: the default export when there is one, else module.exports."""
        if self.esm_default is not UNDEFINED:
            return self.esm_default
        exported = self.module_obj.get("exports", UNDEFINED)
        if isinstance(exported, JSObject) and exported.get("__esModule") is True and "default" in exported:
            return exported["default"]
        return exported


class Evaluator:
    """Evaluates modules of one app. `rel` turns an absolute path into the path users see."""

    def __init__(self, rel: Callable[[Path], str], read: Callable[[Path], str]):
        self._rel = rel
        self._read = read
        self._modules: dict[Path, Module] = {}
        self._loading: set[Path] = set()
        self.notes: list[str] = []
        self._depth = 0
        self._steps = 0
        self._uncertain: list[str] = []
        self._module: Module | None = None

    # ---- modules -------------------------------------------------------------------------
    def load(self, path: Path) -> Module:
        path = path.resolve()
        if path in self._modules:
            return self._modules[path]
        if path in self._loading:
            raise EvalError(f"circular require of {self._rel(path)}")
        self._loading.add(path)
        try:
            source = self._read(path)
            rel = self._rel(path)
            module_obj = JSObject(loc=Loc(rel, 1))
            exports = JSObject(loc=Loc(rel, 1))
            module_obj.set("exports", exports, None)
            scope = Scope()
            scope.vars.update({
                "module": module_obj, "exports": exports, "__dirname": path.parent.as_posix(),
                "__filename": path.as_posix(), "require": _Builtin("global", "require"),
            })
            mod = Module(path=path, rel=rel, exports=exports, module_obj=module_obj, scope=scope)
            if path.suffix == ".json":
                try:
                    module_obj.set("exports", from_json(json.loads(source), Loc(rel, 1), plain=True), None)
                except ValueError as exc:
                    raise EvalError(f"{rel}: invalid JSON: {exc}") from None
                self._modules[path] = mod
                return mod
            try:
                tree = parse(source.encode("utf-8"), path)
            except SyntaxProblem as exc:
                raise EvalError(str(exc)) from None
            outer, self._module = self._module, mod
            saved_uncertain, self._uncertain = self._uncertain, []
            try:
                self._exec_block(tree.root_node.named_children, scope)
            except _Return:
                pass
            except RecursionError:
                raise EvalError("too deeply nested to evaluate") from None
            finally:
                self._module = outer
                self._uncertain = saved_uncertain
            self._modules[path] = mod
            return mod
        finally:
            self._loading.discard(path)

    def call(self, fn, args: list, this=UNDEFINED):
        """Call a function value: a function from evaluated code, or a known builtin."""
        if isinstance(fn, _Builtin):
            return self._call_builtin(fn, args)
        if not isinstance(fn, JSFunction) or fn.impl is None:
            return Unknown(f"call of {_describe(fn)} not evaluated")
        if self._depth >= MAX_CALL_DEPTH:
            return Unknown("call nesting too deep to evaluate")
        node, closure, module = fn.impl
        scope = Scope(closure)
        params = node.child_by_field_name("parameters") or node.child_by_field_name("parameter")
        if params is not None and params.type in ("identifier",):
            scope.vars[text(params)] = args[0] if args else UNDEFINED
        elif params is not None:
            i = 0
            for p in params.named_children:
                if p.type in ("comment",):
                    continue
                if p.type in ("required_parameter", "optional_parameter"):
                    pat = p.child_by_field_name("pattern")
                    default = p.child_by_field_name("value")
                else:
                    pat, default = p, None
                if pat is None:
                    continue
                if pat.type == "rest_pattern":
                    self._bind(pat.named_children[0], JSArray(args[i:]), scope)
                    break
                value = args[i] if i < len(args) else UNDEFINED
                if value is UNDEFINED and default is not None:
                    value = self.eval(default, scope)
                self._bind(pat, value, scope)
                i += 1
        body = node.child_by_field_name("body")
        outer, self._module = self._module, module
        self._depth += 1
        try:
            if body is None:
                return UNDEFINED
            if body.type != "statement_block":
                return self.eval(body, scope)
            try:
                self._exec_block(body.named_children, scope)
            except _Return as ret:
                return ret.value
            return UNDEFINED
        finally:
            self._depth -= 1
            self._module = outer

    # ---- statements ----------------------------------------------------------------------
    def _exec_block(self, statements, scope: Scope) -> None:
        # function declarations are hoisted
        for st in statements:
            if st.type == "function_declaration" or (st.type == "export_statement" and _decl_type(st) == "function_declaration"):
                decl = st if st.type == "function_declaration" else st.child_by_field_name("declaration")
                name = decl.child_by_field_name("name")
                if name is not None:
                    scope.vars[text(name)] = self._function(decl, scope)
        for st in statements:
            self._exec(st, scope)

    def _exec(self, node: ts.Node, scope: Scope) -> None:
        self._steps += 1
        if self._steps > MAX_STEPS:
            raise EvalError("evaluation budget exceeded (a loop or a very large module)")
        t = node.type
        if t == "expression_statement":
            for child in node.named_children:
                self.eval(child, scope)
        elif t in ("lexical_declaration", "variable_declaration"):
            for decl in node.named_children:
                if decl.type != "variable_declarator":
                    continue
                name = decl.child_by_field_name("name")
                value_node = decl.child_by_field_name("value")
                value = self.eval(value_node, scope) if value_node is not None else UNDEFINED
                if isinstance(value, JSFunction) and not value.name and name.type == "identifier":
                    value = _renamed(value, text(name))
                self._bind(name, value, scope, declare=True)
        elif t == "return_statement":
            value = self.eval(node.named_children[0], scope) if node.named_children else UNDEFINED
            if self._uncertain:
                value = Unknown(f"returned only when {self._uncertain[-1]}")
            raise _Return(value)
        elif t == "if_statement":
            cond_node = node.child_by_field_name("condition")
            cond = self.eval(cond_node, scope)
            alt = node.child_by_field_name("alternative")
            truth = _truthy(cond)
            if truth is True:
                self._exec(node.child_by_field_name("consequence"), scope)
            elif truth is False:
                if alt is not None:
                    self._exec(alt, scope)
            else:
                where = f"`{_short(text(cond_node))}` ({self._loc(cond_node)})"
                self._uncertain.append(where)
                try:
                    self._exec(node.child_by_field_name("consequence"), scope)
                    if alt is not None:
                        self._exec(alt, scope)
                finally:
                    self._uncertain.pop()
        elif t == "else_clause":
            for child in node.named_children:
                self._exec(child, scope)
        elif t == "statement_block":
            self._exec_block(node.named_children, Scope(scope))
        elif t == "try_statement":
            body = node.child_by_field_name("body")
            self._exec(body, scope)
            fin = node.child_by_field_name("finalizer")
            if fin is not None:
                self._exec(fin.named_children[-1] if fin.named_children else fin, scope)
        elif t == "export_statement":
            self._export(node, scope)
        elif t == "import_statement":
            self._import(node, scope)
        elif t in ("function_declaration", "comment", "empty_statement", "class_declaration",
                   "interface_declaration", "type_alias_declaration", "ambient_declaration",
                   "abstract_class_declaration", "module", "internal_module", "import_alias", "hash_bang_line"):
            if t == "class_declaration":
                name = node.child_by_field_name("name")
                if name is not None:
                    scope.vars[text(name)] = Unknown(f"class {text(name)}")
        elif t == "for_in_statement" and self._for_in(node, scope):
            pass
        elif t in ("for_statement", "for_in_statement", "while_statement", "do_statement", "switch_statement"):
            what = {"for_in_statement": "for…in/of loop", "for_statement": "for loop"}.get(t, t.replace("_statement", ""))
            self.notes.append(f"{self._loc(node)}: {what} over values eggshield cannot know; what it sets is unknown")
            self._taint_assignments(node, scope, f"set in a loop or switch ({self._loc(node)})")
        elif t == "enum_declaration":
            name = node.child_by_field_name("name")
            if name is not None:
                scope.vars[text(name)] = self._enum(node)
        elif t == "throw_statement":
            if not self._uncertain:
                raise EvalError(f"line {node.start_point[0] + 1}: the module throws when loaded")
        else:
            self.notes.append(f"{self._loc(node)}: statement `{t}` not evaluated")

    def _for_in(self, node: ts.Node, scope: Scope) -> bool:
        """Run a for…of over a known array (or for…in over a known object's keys); False if unknown."""
        left = node.child_by_field_name("left")
        right = self.eval(node.child_by_field_name("right"), scope)
        is_of = any(c.type == "of" for c in node.children)
        if is_of and isinstance(right, list):
            items = list(right)
        elif not is_of and isinstance(right, JSObject):
            items = list(right.keys())
        else:
            return False
        if len(items) > 10_000 or left is None:
            return False
        body = node.child_by_field_name("body")
        for item in items:
            inner = Scope(scope)
            self._bind(left, item, inner, declare=True)
            self._exec(body, inner)
        return True

    def _enum(self, node: ts.Node) -> JSObject:
        """A TypeScript enum as the object tsc emits (numeric members also map back to their names)."""
        obj = JSObject(loc=self._loc(node))
        body = node.child_by_field_name("body")
        counter = 0
        for member in body.named_children if body is not None else []:
            if member.type == "enum_assignment":
                key = self._prop_key(member.child_by_field_name("name"), Scope())
                value = self.eval(member.child_by_field_name("value"), Scope())
            elif member.type in ("property_identifier", "string"):
                key, value = self._prop_key(member, Scope()), counter
            else:
                continue
            if key is None:
                continue
            obj.set(key, value, self._loc(member))
            if isinstance(value, int | float) and not isinstance(value, bool):
                obj.set(_to_string(value), key, self._loc(member))
                counter = value + 1
        return obj

    def _taint_function(self, fn: JSFunction, reason: str) -> None:
        """A callback handed to code we don't run: what it assigns becomes unknown, not silently stale."""
        node, closure, module = fn.impl
        body = node.child_by_field_name("body")
        if body is None:
            return
        outer, self._module = self._module, module
        try:
            self._taint_assignments(body, Scope(closure), reason)
        finally:
            self._module = outer

    def _taint_assignments(self, node: ts.Node, scope: Scope, reason: str) -> None:
        """Assignments inside code we don't run make their targets unknown rather than stale.

        Only targets eggshield already knows (a variable in scope, a property of a known object)
        are touched; anything else that code assigns was never part of the config model.
        """
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type in ("assignment_expression", "augmented_assignment_expression"):
                left = n.child_by_field_name("left")
                if left is not None and self._known_target(left, scope):
                    saved, self._uncertain = self._uncertain, []
                    try:
                        self._assign(left, Unknown(reason), scope, n)
                    except EvalError:
                        pass
                    finally:
                        self._uncertain = saved
                continue
            if n.type == "call_expression":  # arr.push(x) / Object.assign(target, ...) in unrun code
                callee = n.child_by_field_name("function")
                if callee is not None and callee.type == "member_expression":
                    prop = text(callee.child_by_field_name("property"))
                    obj_node = callee.child_by_field_name("object")
                    args = n.child_by_field_name("arguments")
                    target_node = obj_node if prop in ("push", "unshift", "splice") else (
                        args.named_children[0] if prop == "assign" and args is not None and args.named_children else None)
                    if target_node is not None and self._known_target(target_node, scope):
                        with contextlib.suppress(EvalError):
                            self._assign(target_node, Unknown(reason), scope, n)
            if n.type in ("function_expression", "arrow_function", "function_declaration"):
                continue
            stack.extend(n.named_children)

    def _known_target(self, left: ts.Node, scope: Scope) -> bool:
        if left.type == "identifier":
            return scope.lookup(text(left))[0] is not None
        if left.type in ("member_expression", "subscript_expression"):
            try:
                obj = self.eval(left.child_by_field_name("object"), scope)
            except EvalError:
                return False
            return isinstance(obj, JSObject | JSArray)
        return False

    def _export(self, node: ts.Node, scope: Scope) -> None:
        mod = self._module
        mod.is_esm = True
        decl = node.child_by_field_name("declaration")
        value_node = node.child_by_field_name("value")
        is_default = any(c.type == "default" for c in node.children)
        exports = mod.module_obj.get("exports")
        if value_node is None and decl is None and any(c.type == "=" for c in node.children):
            expr = next((c for c in node.named_children if c.type != "comment"), None)
            mod.module_obj.set("exports", self.eval(expr, scope), self._loc(node))  # TS `export = value`
            return
        if value_node is not None:
            value = self.eval(value_node, scope)
            if is_default:
                mod.esm_default = value
                return
            # TS `export = value`
            mod.module_obj.set("exports", value, self._loc(node))
            return
        if decl is not None:
            if decl.type in ("lexical_declaration", "variable_declaration"):
                self._exec(decl, scope)
                for d in decl.named_children:
                    n = d.child_by_field_name("name") if d.type == "variable_declarator" else None
                    if n is not None and n.type == "identifier" and isinstance(exports, JSObject):
                        exports.set(text(n), scope.lookup(text(n))[1], self._loc(d))
            elif decl.type == "enum_declaration":
                self._exec(decl, scope)
                name = decl.child_by_field_name("name")
                if name is not None and isinstance(exports, JSObject):
                    exports.set(text(name), scope.lookup(text(name))[1], self._loc(decl))
            elif decl.type in ("function_declaration", "class_declaration"):
                name = decl.child_by_field_name("name")
                if name is not None:
                    value = scope.lookup(text(name))[1] if decl.type == "function_declaration" else Unknown("class")
                    if is_default:
                        mod.esm_default = value
                    elif isinstance(exports, JSObject):
                        exports.set(text(name), value, self._loc(decl))
            return
        # export { a, b as c } [from './x'];  export * from './x'
        source = node.child_by_field_name("source")
        other = self._require(_string_value(source), node) if source is not None else None
        if other is not None and not any(c.type == "export_clause" for c in node.named_children):
            if isinstance(other, _LoadedModule) and isinstance(exports, JSObject):
                ns = _esm_namespace(other.module)
                for k, v in ns.items():
                    if k != "default":
                        exports.set(k, v, ns.locs.get(k))
            else:
                self.notes.append(f"{self._loc(node)}: `export *` from a module eggshield cannot read")
            return
        for clause in node.named_children:
            if clause.type != "export_clause":
                continue
            for spec in clause.named_children:
                name = spec.child_by_field_name("name")
                alias = spec.child_by_field_name("alias") or name
                value = self._member(other, text(name)) if other is not None else scope.lookup(text(name))[1]
                if text(alias) == "default":
                    mod.esm_default = value
                elif isinstance(exports, JSObject):
                    exports.set(text(alias), value, self._loc(spec))

    def _import(self, node: ts.Node, scope: Scope) -> None:
        source = node.child_by_field_name("source")
        if source is None and not any(c.type == "import_require_clause" for c in node.named_children):
            return
        if any(c.type == "type" for c in node.children):  # import type ...
            return
        for clause in node.named_children:
            if clause.type == "import_require_clause":  # TS: import path = require('path')
                name = next((c for c in clause.named_children if c.type == "identifier"), None)
                src = clause.child_by_field_name("source")
                if name is not None and src is not None:
                    target = self._require(_string_value(src), node)
                    scope.vars[text(name)] = self._default_of(target) if not isinstance(target, _LoadedModule) \
                        else target.module.module_obj.get("exports")
                return
        target = self._require(_string_value(source), node) if source is not None else None
        for clause in node.named_children:
            if clause.type != "import_clause":
                continue
            for part in clause.named_children:
                if part.type == "identifier":
                    scope.vars[text(part)] = self._default_of(target)
                elif part.type == "namespace_import":
                    scope.vars[text(part.named_children[0])] = target
                elif part.type == "named_imports":
                    for spec in part.named_children:
                        if spec.type != "import_specifier":
                            continue
                        name = spec.child_by_field_name("name")
                        alias = spec.child_by_field_name("alias") or name
                        value = self._member(target, text(name))
                        if value is UNDEFINED and isinstance(target, _LoadedModule):
                            value = Unknown(f"`{text(name)}` from '{_string_value(source)}' (not found statically)")
                        scope.vars[text(alias)] = value

    def _default_of(self, target):
        if isinstance(target, ModuleRef):
            return target
        if isinstance(target, _LoadedModule):
            return target.module.value
        return target

    # ---- require -------------------------------------------------------------------------
    def _require(self, spec, node: ts.Node):
        if not isinstance(spec, str):
            return Unknown(f"require of a computed path ({self._loc(node)})")
        if spec.startswith("node:"):
            spec = spec[5:]
        if not spec.startswith((".", "/")):
            return ModuleRef(spec)
        base = self._module.path.parent
        target = self._resolve_local(base, spec)
        if target is None:
            return Unknown(f"require('{spec}'): file not found")
        try:
            mod = self.load(target)
        except EvalError as exc:
            self.notes.append(f"{self._loc(node)}: require('{spec}'): {exc}")
            return Unknown(f"require('{spec}') could not be evaluated: {exc}")
        return _LoadedModule(mod)

    @staticmethod
    def _resolve_local(base: Path, spec: str) -> Path | None:
        candidate = (base / spec)
        if candidate.is_file():
            return candidate
        stem = str(candidate)
        if stem.endswith(".js"):  # TS sources import './x.js' meaning ./x.ts
            for ext in (".ts", ".mts"):
                alt = Path(stem[:-3] + ext)
                if alt.is_file():
                    return alt
        for ext in SOURCE_EXTS:
            alt = Path(stem + ext)
            if alt.is_file():
                return alt
        if candidate.is_dir():
            for ext in SOURCE_EXTS:
                alt = candidate / f"index{ext}"
                if alt.is_file():
                    return alt
        return None

    # ---- binding and assignment ------------------------------------------------------------
    def _bind(self, pattern: ts.Node, value, scope: Scope, declare: bool = True) -> None:
        t = pattern.type
        if t in ("identifier", "shorthand_property_identifier_pattern"):
            if declare or not scope.assign(text(pattern), value):
                scope.vars[text(pattern)] = value
        elif t == "object_pattern":
            used: list[str] = []
            for prop in pattern.named_children:
                if prop.type == "shorthand_property_identifier_pattern":
                    key = text(prop)
                    used.append(key)
                    self._bind(prop, self._member(value, key), scope, declare)
                elif prop.type == "object_assignment_pattern":
                    left = prop.child_by_field_name("left")
                    key = text(left)
                    used.append(key)
                    v = self._member(value, key)
                    if v is UNDEFINED:
                        v = self.eval(prop.child_by_field_name("right"), scope)
                    self._bind(left, v, scope, declare)
                elif prop.type == "pair_pattern":
                    key = self._prop_key(prop.child_by_field_name("key"), scope)
                    used.append(str(key))
                    self._bind(prop.child_by_field_name("value"), self._member(value, key), scope, declare)
                elif prop.type == "rest_pattern":
                    if isinstance(value, JSObject):
                        rest = JSObject({k: v for k, v in value.items() if k not in used})
                        rest.locs = {k: v for k, v in value.locs.items() if k not in used}
                    else:
                        rest = value if isinstance(value, Unknown) else UNDEFINED
                    self._bind(prop.named_children[0], rest, scope, declare)
        elif t == "array_pattern":
            for i, el in enumerate(pattern.named_children):
                if el.type == "rest_pattern":
                    rest = JSArray(value[i:]) if isinstance(value, list) else value
                    self._bind(el.named_children[0], rest, scope, declare)
                    break
                self._bind(el, self._member(value, i), scope, declare)
        elif t == "assignment_pattern":
            v = value
            if v is UNDEFINED:
                v = self.eval(pattern.child_by_field_name("right"), scope)
            self._bind(pattern.child_by_field_name("left"), v, scope, declare)
        elif t in ("member_expression", "subscript_expression"):
            self._assign(pattern, value, scope, pattern)
        elif t == "parenthesized_expression" and pattern.named_children:
            self._bind(pattern.named_children[0], value, scope, declare)

    def _assign(self, left: ts.Node, value, scope: Scope, at: ts.Node) -> None:
        if self._uncertain and not isinstance(value, Unknown):
            old = self.eval(left, scope)
            if not _same(old, value):
                value = Unknown(f"set only when {self._uncertain[-1]}")
        t = left.type
        if t == "identifier":
            if not scope.assign(text(left), value):
                scope.vars[text(left)] = value
            return
        if t in ("member_expression", "subscript_expression"):
            target = self.eval(left.child_by_field_name("object"), scope)
            if t == "member_expression":
                key = text(left.child_by_field_name("property"))
            else:
                key = _key_str(self.eval(left.child_by_field_name("index"), scope))
            loc = self._loc(at)
            if isinstance(target, JSObject):
                if key is None:
                    self.notes.append(f"{loc}: assignment to a computed key not evaluated")
                    return
                if isinstance(value, JSFunction) and not value.name:
                    value = _renamed(value, key)
                target.set(key, value, loc)
            elif isinstance(target, JSArray) and isinstance(key, str) and key.isdigit():
                idx = int(key)
                while len(target) <= idx:
                    target.append(UNDEFINED)
                target[idx] = value
            elif target is UNDEFINED or target is None:
                if not self._uncertain:
                    what = "undefined" if target is UNDEFINED else "null"
                    raise EvalError(
                        f"line {at.start_point[0] + 1}: `{_short(text(left.child_by_field_name('object')))}` is {what} "
                        f"here, so loading the config would throw TypeError (cannot set '{key}')")
            elif isinstance(target, Unknown):
                self.notes.append(f"{loc}: assignment to `{_short(text(left))}` on an unknown object")
            return
        if t in ("object_pattern", "array_pattern"):
            self._bind(left, value, scope, declare=False)
            return
        if t in ("parenthesized_expression", "non_null_expression", "as_expression") and left.named_children:
            self._assign(left.named_children[0], value, scope, at)

    # ---- expressions ---------------------------------------------------------------------
    def eval(self, node: ts.Node | None, scope: Scope):  # noqa: C901 - a dispatch over node types
        if node is None:
            return UNDEFINED
        self._steps += 1
        if self._steps > MAX_STEPS:
            raise EvalError("evaluation budget exceeded (a loop or a very large module)")
        t = node.type
        if t == "string":
            return _string_value(node)
        if t == "number":
            return _number(text(node))
        if t == "true":
            return True
        if t == "false":
            return False
        if t == "null":
            return None
        if t == "undefined":
            return UNDEFINED
        if t == "template_string":
            return self._template(node, scope)
        if t == "regex":
            pat = node.child_by_field_name("pattern")
            flags = node.child_by_field_name("flags")
            return JSRegExp(text(pat) if pat else "", text(flags) if flags else "")
        if t in ("identifier", "shorthand_property_identifier"):
            name = text(node)
            found, value = scope.lookup(name)
            if found is not None:
                return value
            return _GLOBALS.get(name, Unknown(f"`{name}` is not defined in this module")) if name != "undefined" else UNDEFINED
        if t == "object":
            return self._object(node, scope)
        if t == "array":
            arr = JSArray(loc=self._loc(node))
            for el in node.named_children:
                if el.type == "comment":
                    continue
                if el.type == "spread_element":
                    src = self.eval(el.named_children[0], scope)
                    if isinstance(src, list):
                        arr.extend(src)
                    else:
                        arr.append(Unknown(f"spread of {_describe(src)}"))
                else:
                    arr.append(self.eval(el, scope))
            return arr
        if t in ("parenthesized_expression", "non_null_expression", "as_expression", "satisfies_expression",
                 "type_assertion", "await_expression"):
            kids = [c for c in node.named_children if c.type not in ("type_arguments", "comment")]
            if t == "type_assertion":
                kids = [c for c in kids if c.type != "type_arguments"]
            inner = kids[-1] if t == "type_assertion" else kids[0] if kids else None
            return self.eval(inner, scope)
        if t == "sequence_expression":
            value = UNDEFINED
            for child in node.named_children:
                value = self.eval(child, scope)
            return value
        if t == "assignment_expression":
            value = self.eval(node.child_by_field_name("right"), scope)
            self._assign(node.child_by_field_name("left"), value, scope, node)
            return value
        if t == "augmented_assignment_expression":
            return self._augmented(node, scope)
        if t == "member_expression":
            obj = self.eval(node.child_by_field_name("object"), scope)
            prop = text(node.child_by_field_name("property"))
            if (obj is UNDEFINED or obj is None) and node.child_by_field_name("optional_chain") is not None:
                return UNDEFINED
            return self._member(obj, prop, node)
        if t == "subscript_expression":
            obj = self.eval(node.child_by_field_name("object"), scope)
            key = self.eval(node.child_by_field_name("index"), scope)
            if isinstance(key, Unknown):
                return Unknown(f"computed key `{_short(text(node))}`")
            return self._member(obj, key if isinstance(key, int) else _key_str(key), node)
        if t == "binary_expression":
            return self._binary(node, scope)
        if t == "unary_expression":
            return self._unary(node, scope)
        if t == "ternary_expression":
            cond = self.eval(node.child_by_field_name("condition"), scope)
            truth = _truthy(cond)
            if truth is None:
                return Unknown(f"depends on `{_short(text(node.child_by_field_name('condition')))}`")
            return self.eval(node.child_by_field_name("consequence" if truth else "alternative"), scope)
        if t in ("arrow_function", "function_expression", "function", "generator_function", "method_definition"):
            return self._function(node, scope)
        if t == "call_expression":
            return self._call_expr(node, scope)
        if t == "new_expression":
            return self._new(node, scope)
        if t == "this":
            return Unknown("`this`")
        if t == "class":
            return Unknown("class expression")
        return Unknown(f"`{_short(text(node))}` ({t.replace('_', ' ')}) not evaluated")

    def _object(self, node: ts.Node, scope: Scope) -> JSObject:
        obj = JSObject(loc=self._loc(node))
        previous = None
        for child in node.children:  # tree-sitter accepts `{ a: 1,, b: 2 }`; Node does not
            if child.type == "," and previous == ",":
                raise EvalError(f"syntax error at line {child.start_point[0] + 1}, column {child.start_point[1] + 1}: "
                                "unexpected ',' (Node refuses to load this file)")
            previous = child.type
        for prop in node.named_children:
            t = prop.type
            if t == "pair":
                key = self._prop_key(prop.child_by_field_name("key"), scope)
                value = self.eval(prop.child_by_field_name("value"), scope)
                if key is None:
                    self.notes.append(f"{self._loc(prop)}: computed key not evaluated")
                    continue
                if isinstance(value, JSFunction) and not value.name:
                    value = _renamed(value, key)
                obj.set(key, value, self._loc(prop))
            elif t == "shorthand_property_identifier":
                obj.set(text(prop), self.eval(prop, scope), self._loc(prop))
            elif t == "method_definition":
                key = self._prop_key(prop.child_by_field_name("name"), scope)
                if key is not None:
                    obj.set(key, self._function(prop, scope), self._loc(prop))
            elif t == "spread_element":
                src = self.eval(prop.named_children[0], scope)
                if isinstance(src, JSObject):
                    for k, v in src.items():
                        obj.set(k, v, src.locs.get(k))
                elif src is UNDEFINED or src is None or isinstance(src, str | int | float | bool):
                    pass
                else:
                    self.notes.append(f"{self._loc(prop)}: spread of {_describe(src)}: its keys are unknown")
        return obj

    def _prop_key(self, key: ts.Node | None, scope: Scope) -> str | None:
        if key is None:
            return None
        if key.type in ("property_identifier", "identifier", "private_property_identifier"):
            return text(key)
        if key.type == "string":
            return _string_value(key)
        if key.type == "number":
            return _key_str(_number(text(key)))
        if key.type == "computed_property_name":
            value = self.eval(key.named_children[0], scope) if key.named_children else UNDEFINED
            return _key_str(value)
        return None

    def _template(self, node: ts.Node, scope: Scope):
        parts: list[str] = []
        unknown: list[str] = []
        for child in node.named_children:
            if child.type == "string_fragment":
                parts.append(text(child))
            elif child.type == "escape_sequence":
                parts.append(_unescape(text(child)))
            elif child.type == "template_substitution":
                value = self.eval(child.named_children[0] if child.named_children else None, scope)
                if isinstance(value, Unknown):
                    unknown.append(value.reason)
                    parts.append("${" + value.reason + "}")
                else:
                    parts.append(_to_string(value))
        if unknown:
            env_var = None
            return Unknown(f"template `{''.join(parts)}`", env_var)
        return "".join(parts)

    def _function(self, node: ts.Node, scope: Scope) -> JSFunction:
        name_node = node.child_by_field_name("name")
        params = node.child_by_field_name("parameters") or node.child_by_field_name("parameter")
        names: list[str] = []
        if params is not None:
            if params.type == "identifier":
                names.append(text(params))
            else:
                names.extend(_short(text(p), 30) for p in params.named_children if p.type != "comment")
        is_async = any(c.type == "async" for c in node.children)
        return JSFunction(
            loc=self._loc(node), name=text(name_node) if name_node is not None else "",
            source=_short(text(node), 400), params=tuple(names), is_async=is_async,
            impl=(node, scope, self._module))

    def _call_expr(self, node: ts.Node, scope: Scope):
        callee_node = node.child_by_field_name("function")
        args_node = node.child_by_field_name("arguments")
        if callee_node.type == "identifier" and text(callee_node) == "require" and scope.lookup("require")[0] is not None:
            args = [self.eval(a, scope) for a in args_node.named_children if a.type != "comment"]
            target = self._require(args[0] if args else None, node)
            if isinstance(target, _LoadedModule):
                mod = target.module
                return _esm_namespace(mod) if mod.is_esm else mod.module_obj.get("exports")
            return target
        if callee_node.type == "import":  # dynamic import()
            return Unknown("dynamic import()")
        fn = self.eval(callee_node, scope)
        args: list = []
        if args_node is not None:
            for a in args_node.named_children:
                if a.type == "comment":
                    continue
                if a.type == "spread_element":
                    src = self.eval(a.named_children[0], scope)
                    if isinstance(src, list):
                        args.extend(src)
                    else:
                        return Unknown(f"call `{_short(text(node))}` with spread arguments")
                else:
                    args.append(self.eval(a, scope))
        if isinstance(fn, Unknown) or (isinstance(fn, _Builtin) and fn.owner not in ("path", "identity")):
            for arg in args:
                if isinstance(arg, JSFunction) and arg.impl is not None and not (
                        isinstance(fn, _Builtin) and fn.owner == "array" and fn.name in ("map", "filter", "forEach")):
                    self._taint_function(arg, f"set in a callback of `{_short(text(callee_node))}()`, not evaluated")
        if isinstance(fn, Unknown):
            return Unknown(f"call `{_short(text(callee_node))}()`: {fn.reason}")
        if isinstance(fn, JSFunction):
            if fn.is_async:
                pass  # the awaited value is what config code sees
            return self.call(fn, args)
        if isinstance(fn, _Builtin):
            result = self._call_builtin(fn, args)
            if isinstance(result, Unknown) and result.reason == "__unsupported__":
                return Unknown(f"call `{_short(text(callee_node))}()` not evaluated")
            return result
        return Unknown(f"call `{_short(text(callee_node))}()` not evaluated")

    def _new(self, node: ts.Node, scope: Scope):
        ctor = text(node.child_by_field_name("constructor"))
        args_node = node.child_by_field_name("arguments")
        args = [self.eval(a, scope) for a in args_node.named_children] if args_node is not None else []
        if ctor == "RegExp" and args and isinstance(args[0], str):
            flags = args[1] if len(args) > 1 and isinstance(args[1], str) else ""
            return JSRegExp(args[0], flags)
        if ctor == "RegExp" and args and isinstance(args[0], JSRegExp):
            return args[0]
        if ctor == "Set":
            items = args[0] if args and isinstance(args[0], list) else []
            return Opaque("Set", [_plain(i) for i in items])
        if ctor == "Map":
            return Opaque("Object", "Map")
        return Unknown(f"`new {ctor}(...)` not evaluated")

    def _augmented(self, node: ts.Node, scope: Scope):
        left = node.child_by_field_name("left")
        op = text(node.child_by_field_name("operator"))
        current = self.eval(left, scope)
        if op in ("||=", "&&=", "??="):
            truth = _truthy(current)
            if op == "??=":
                need = current is UNDEFINED or current is None
            elif truth is None:
                value = Unknown(f"depends on `{_short(text(left))}`")
                self._assign(left, value, scope, node)
                return value
            else:
                need = (not truth) if op == "||=" else truth
            if not need:
                return current
            value = self.eval(node.child_by_field_name("right"), scope)
        else:
            right = self.eval(node.child_by_field_name("right"), scope)
            value = _arith(op[:-1], current, right)
        self._assign(left, value, scope, node)
        return value

    def _binary(self, node: ts.Node, scope: Scope):
        op = text(node.child_by_field_name("operator"))
        left = self.eval(node.child_by_field_name("left"), scope)
        if op in ("||", "&&", "??"):
            if op == "??":
                if isinstance(left, Unknown):
                    right = self.eval(node.child_by_field_name("right"), scope)
                    return Unknown(left.reason, left.env_var, right) if left.env_var else left
                return self.eval(node.child_by_field_name("right"), scope) if left is UNDEFINED or left is None else left
            truth = _truthy(left)
            if truth is None:
                right = self.eval(node.child_by_field_name("right"), scope)
                if op == "||" and isinstance(left, Unknown):
                    return Unknown(left.reason, left.env_var, right)
                return Unknown(f"depends on `{_short(text(node))}`")
            if op == "||":
                return left if truth else self.eval(node.child_by_field_name("right"), scope)
            return self.eval(node.child_by_field_name("right"), scope) if truth else left
        right = self.eval(node.child_by_field_name("right"), scope)
        if op in ("===", "!==", "==", "!="):
            if isinstance(left, Unknown) or isinstance(right, Unknown):
                return Unknown(f"depends on `{_short(text(node))}`")
            eq = _same(left, right) if op in ("===", "!==") else _loose_eq(left, right)
            return eq if op in ("===", "==") else not eq
        if op == "instanceof" or op == "in":
            return Unknown(f"`{op}` not evaluated")
        return _arith(op, left, right)

    def _unary(self, node: ts.Node, scope: Scope):
        op = text(node.child_by_field_name("operator"))
        if op == "delete":
            return self._delete(node.child_by_field_name("argument"), scope)
        value = self.eval(node.child_by_field_name("argument"), scope)
        if op == "void":
            return UNDEFINED
        if op == "typeof":
            return _typeof(value)
        if isinstance(value, Unknown):
            return Unknown(value.reason, value.env_var) if op == "!" else value
        if op == "!":
            truth = _truthy(value)
            return None if truth is None else not truth
        if op == "-":
            n = _to_number(value)
            return -n if n is not None else Unknown(f"-{_describe(value)}")
        if op == "+":
            n = _to_number(value)
            return n if n is not None else Unknown(f"+{_describe(value)}")
        return Unknown(f"unary `{op}` not evaluated")

    def _delete(self, target: ts.Node, scope: Scope) -> bool:
        if target is None or target.type not in ("member_expression", "subscript_expression"):
            return True
        obj = self.eval(target.child_by_field_name("object"), scope)
        if target.type == "member_expression":
            key = text(target.child_by_field_name("property"))
        else:
            key = _key_str(self.eval(target.child_by_field_name("index"), scope))
        if isinstance(obj, JSObject) and key is not None:
            if self._uncertain:
                obj.set(key, Unknown(f"deleted only when {self._uncertain[-1]}"), self._loc(target))
            else:
                obj.pop(key, None)
                obj.locs.pop(key, None)
        return True

    def _member(self, obj, key, node: ts.Node | None = None):
        if isinstance(obj, _LoadedModule):
            obj = obj.module.module_obj.get("exports") if not obj.module.is_esm else _esm_namespace(obj.module)
        if isinstance(obj, Unknown):
            return Unknown(obj.reason)
        if obj is _PROCESS_ENV:
            return Unknown(f"process.env.{key}", env_var=str(key))
        if obj is _PROCESS:
            if key == "env":
                return _PROCESS_ENV
            return Unknown(f"process.{key}")
        if isinstance(obj, ModuleRef):
            if obj.name in _EGG_MODULES and key in _IDENTITY_WRAPPERS:
                return _Builtin("identity", key)
            if obj.name in ("path", "path/posix") and key in _PATH_FUNCS:
                return _Builtin("path", key)
            if obj.name in ("path", "path/posix") and key == "sep":
                return "/"
            return Unknown(f"{obj.name}.{key}")
        if isinstance(obj, JSObject):
            if not isinstance(key, str):
                key = _key_str(key)
            if key in obj:
                return obj[key]
            if isinstance(obj, OpenObject):
                return Unknown(f"{obj.label}.{key}")
            if key in _OBJECT_METHODS:
                return _Builtin("object", key, obj)
            return UNDEFINED
        if isinstance(obj, list):
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                idx = int(key)
                return obj[idx] if 0 <= idx < len(obj) else UNDEFINED
            if key == "length":
                return len(obj)
            if key in _ARRAY_METHODS:
                return _Builtin("array", key, obj)
            return UNDEFINED
        if isinstance(obj, str):
            if key == "length":
                return len(obj)
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                idx = int(key)
                return obj[idx] if 0 <= idx < len(obj) else UNDEFINED
            if key in _STRING_METHODS:
                return _Builtin("string", key, obj)
            return UNDEFINED
        if isinstance(obj, _Builtin) and obj.owner == "global":
            if obj.name == "Number" and key in _NUMBER_CONSTANTS:
                return _NUMBER_CONSTANTS[key]
            if obj.name in _NAMESPACES and key in _NAMESPACES[obj.name]:
                return _Builtin(obj.name, key)
            return Unknown(f"{obj.name}.{key}")
        if isinstance(obj, int | float) and key in ("toString", "toFixed"):
            return _Builtin("number", key, obj)
        if obj is UNDEFINED or obj is None:
            where = f" at {self._loc(node)}" if node is not None else ""
            if self._uncertain:
                return Unknown(f"property `{key}` of {'undefined' if obj is UNDEFINED else 'null'}")
            raise EvalError(f"reading '{key}' of {'undefined' if obj is UNDEFINED else 'null'}{where}: loading would throw TypeError")
        if isinstance(obj, JSFunction | JSRegExp | Opaque | bool):
            if isinstance(obj, JSRegExp) and key in ("source", "flags"):
                return obj.pattern if key == "source" else obj.flags
            return Unknown(f"property `{key}` of {_describe(obj)}")
        return Unknown(f"property `{key}` of {_describe(obj)}")

    def _call_builtin(self, fn: _Builtin, args: list):  # noqa: C901 - dispatch table
        owner, name, this = fn.owner, fn.name, fn.this
        if any(isinstance(a, Unknown) for a in args) and not (owner == "Object" and name == "assign"):
            first = next(a for a in args if isinstance(a, Unknown))
            if owner == "global" and len(args) == 1 and first.has_fallback:
                # Number(process.env.PORT || 7001): keep the variable and convert the fallback
                converted = self._call_builtin(fn, [first.fallback])
                if not isinstance(converted, Unknown):
                    return Unknown(first.reason, first.env_var, converted)
            return Unknown(first.reason, first.env_var)
        if owner == "path":
            return _path_call(name, args)
        if owner == "identity":
            return args[0] if args else UNDEFINED
        if owner == "global":
            if name in ("String",):
                return _to_string(args[0]) if args else ""
            if name in ("Number", "parseInt", "parseFloat"):
                n = _to_number(args[0]) if args else 0
                if n is None:
                    return Unknown(f"{name}() of a non-number")
                return int(n) if name == "parseInt" and not math.isnan(n) else n
            if name == "Boolean":
                truth = _truthy(args[0]) if args else False
                return Unknown("Boolean() of unknown") if truth is None else truth
            return Unknown("__unsupported__")
        if owner == "Object":
            if name == "assign" and args:
                target = args[0]
                if not isinstance(target, JSObject):
                    return Unknown("Object.assign on a non-object")
                for src in args[1:]:
                    if isinstance(src, JSObject):
                        for k, v in src.items():
                            target.set(k, v, src.locs.get(k))
                    elif isinstance(src, Unknown):
                        self.notes.append(f"Object.assign from an unknown source ({src.reason})")
                return target
            if name == "freeze" and args:
                return args[0]
            if name == "keys" and args and isinstance(args[0], JSObject):
                return JSArray(list(args[0].keys()))
            if name == "values" and args and isinstance(args[0], JSObject):
                return JSArray(list(args[0].values()))
            return Unknown("__unsupported__")
        if owner == "JSON" and name == "parse" and args and isinstance(args[0], str):
            try:
                return from_json(json.loads(args[0]), None, plain=True)
            except ValueError:
                return Unknown("JSON.parse of invalid JSON")
        if owner == "JSON" and name == "stringify" and args:
            from eggshield.js.values import is_known, to_json
            if is_known(args[0]):
                return json.dumps(to_json(args[0]), separators=(",", ":"), ensure_ascii=False)
        if owner == "Math" and all(isinstance(a, int | float) for a in args):
            func = {"floor": math.floor, "ceil": math.ceil, "round": lambda x: math.floor(x + 0.5),
                    "max": max, "min": min, "abs": abs, "pow": pow}.get(name)
            if func is not None and args:
                return func(*args)
        if owner == "string" and isinstance(this, str):
            return _string_method(this, name, args)
        if owner == "array" and isinstance(this, list):
            return self._array_method(this, name, args)
        if owner == "object" and isinstance(this, JSObject) and name == "hasOwnProperty" and args:
            return _key_str(args[0]) in this
        if owner == "number" and name == "toString":
            return _to_string(this)
        return Unknown("__unsupported__")

    def _array_method(self, arr: list, name: str, args: list):
        if name == "join":
            sep = args[0] if args and isinstance(args[0], str) else ","
            if any(isinstance(v, Unknown) for v in arr):
                return Unknown("join of unknown items")
            return sep.join("" if v is None or v is UNDEFINED else _to_string(v) for v in arr)
        if name == "concat":
            out = JSArray(arr)
            for a in args:
                if isinstance(a, list):
                    out.extend(a)
                else:
                    out.append(a)
            return out
        if name in ("map", "filter", "forEach") and args and isinstance(args[0], JSFunction):
            results = [self.call(args[0], [v, i]) for i, v in enumerate(arr)]
            if name == "map":
                return JSArray(results)
            if name == "forEach":
                return UNDEFINED
            keep = []
            for v, r in zip(arr, results, strict=True):
                truth = _truthy(r)
                if truth is None:
                    return Unknown("filter with an unknown predicate")
                if truth:
                    keep.append(v)
            return JSArray(keep)
        if name == "includes" and args:
            return any(_same(v, args[0]) for v in arr)
        if name == "indexOf" and args:
            return next((i for i, v in enumerate(arr) if _same(v, args[0])), -1)
        if name == "slice":
            return JSArray(arr[slice(*[int(a) for a in args[:2] if isinstance(a, int | float)])])
        if name == "push":
            arr.extend(args)
            return len(arr)
        return Unknown("__unsupported__")

    def _loc(self, node: ts.Node) -> Loc:
        rel = self._module.rel if self._module is not None else "?"
        return Loc(rel, node.start_point[0] + 1, node.start_point[1] + 1)


@dataclass(frozen=True)
class _LoadedModule:
    module: Module


def _esm_namespace(mod: Module) -> JSObject:
    ns = JSObject()
    exports = mod.module_obj.get("exports")
    if isinstance(exports, JSObject):
        for k, v in exports.items():
            ns.set(k, v, exports.locs.get(k))
    if mod.esm_default is not UNDEFINED:
        ns.set("default", mod.esm_default, None)
    return ns


class OpenObject(JSObject):
    """An object whose unlisted keys are unknown, not undefined (appInfo of a framework that adds its own)."""

    __slots__ = ("label",)

    def __init__(self, *args, label: str = "object", **kwargs):
        super().__init__(*args, **kwargs)
        self.label = label


_EGG_MODULES = {"egg", "@eggjs/core", "@eggjs/tegg", "@eggjs/tegg-config", "midway", "@midwayjs/core"}
_IDENTITY_WRAPPERS = {"defineConfig", "defineConfigFactory", "definePluginFactory", "definePlugin"}
_NUMBER_CONSTANTS = {"MAX_VALUE": 1.7976931348623157e308, "MAX_SAFE_INTEGER": 2**53 - 1,
                     "MIN_SAFE_INTEGER": -(2**53 - 1), "POSITIVE_INFINITY": math.inf,
                     "NEGATIVE_INFINITY": -math.inf, "EPSILON": 2.220446049250313e-16}
_PROCESS = object()
_PROCESS_ENV = object()
_PATH_FUNCS = {"join", "resolve", "dirname", "basename", "extname", "normalize", "relative", "isAbsolute"}
_OBJECT_METHODS = {"hasOwnProperty"}
_ARRAY_METHODS = {"join", "concat", "map", "filter", "forEach", "includes", "indexOf", "slice", "push"}
_STRING_METHODS = {"split", "trim", "toLowerCase", "toUpperCase", "concat", "toString", "includes", "startsWith",
                   "endsWith", "slice", "substring", "replace", "repeat", "padStart", "padEnd", "indexOf",
                   "trimStart", "trimEnd"}
_NAMESPACES = {
    "Object": {"assign", "freeze", "keys", "values"},
    "JSON": {"parse", "stringify"},
    "Math": {"floor", "ceil", "round", "max", "min", "abs", "pow"},
}
_GLOBALS: dict[str, object] = {
    "process": _PROCESS,
    "Object": _Builtin("global", "Object"),
    "JSON": _Builtin("global", "JSON"),
    "Math": _Builtin("global", "Math"),
    "String": _Builtin("global", "String"),
    "Number": _Builtin("global", "Number"),
    "Boolean": _Builtin("global", "Boolean"),
    "parseInt": _Builtin("global", "parseInt"),
    "parseFloat": _Builtin("global", "parseFloat"),
    "Infinity": math.inf,
    "NaN": math.nan,
}


def _decl_type(export_node: ts.Node) -> str | None:
    decl = export_node.child_by_field_name("declaration")
    return decl.type if decl is not None else None


def _renamed(fn: JSFunction, name: str) -> JSFunction:
    return JSFunction(loc=fn.loc, name=name, source=fn.source, params=fn.params, is_async=fn.is_async, impl=fn.impl)


def _short(s: str, limit: int = 80) -> str:
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _describe(value) -> str:
    if isinstance(value, Unknown):
        return f"unknown value ({value.reason})"
    if isinstance(value, ModuleRef):
        return f"module '{value.name}'"
    if isinstance(value, JSFunction):
        return f"function {value.name or '(anonymous)'}"
    if value is UNDEFINED:
        return "undefined"
    return type(value).__name__


def _string_value(node: ts.Node | None) -> str | None:
    if node is None or node.type != "string":
        return None
    out: list[str] = []
    for child in node.named_children:
        if child.type == "string_fragment":
            out.append(text(child))
        elif child.type == "escape_sequence":
            out.append(_unescape(text(child)))
    return "".join(out)


def _unescape(seq: str) -> str:
    body = seq[1:]
    if not body:
        return ""
    if body[0] in _ESCAPES and len(body) == 1:
        return _ESCAPES[body[0]]
    if body[0] == "x" and len(body) == 3:
        return chr(int(body[1:], 16))
    if body[0] == "u":
        hexpart = body[2:-1] if body.startswith("u{") else body[1:]
        try:
            return chr(int(hexpart, 16))
        except ValueError:
            return body
    if body[0] in "\r\n":  # line continuation
        return ""
    return body


def _number(raw: str):
    s = raw.replace("_", "")
    try:
        if s.endswith("n"):
            return int(s[:-1], 0)
        low = s.lower()
        if low.startswith(("0x", "0o", "0b")):
            return int(s, 0)
        if re.fullmatch(r"0[0-7]+", s):
            return int(s, 8)
        if re.fullmatch(r"\d+", s):
            return int(s)
        value = float(s)
        return int(value) if value.is_integer() and abs(value) < 2**53 and "e" not in low else value
    except ValueError:
        return math.nan


def _key_str(value) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _to_string(value)
    if value is None:
        return "null"
    return None


def _to_string(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, list):
        return ",".join("" if v is None or v is UNDEFINED else _to_string(v) for v in value)
    if isinstance(value, JSRegExp):
        return str(value)
    if isinstance(value, JSObject):
        return "[object Object]"
    return str(value)


def _to_number(value):
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int | float):
        return value
    if value is None:
        return 0
    if value is UNDEFINED:
        return math.nan
    if isinstance(value, str):
        s = value.strip()
        if not s:
            return 0
        try:
            return _number(s) if re.fullmatch(r"[0-9.eExXoObB_+-]+|0x[0-9a-fA-F]+", s) else math.nan
        except ValueError:
            return math.nan
    return None


def _truthy(value):
    if isinstance(value, Unknown):
        return None
    if value is UNDEFINED or value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return not (value == 0 or (isinstance(value, float) and math.isnan(value)))
    if isinstance(value, str):
        return value != ""
    return True


def _typeof(value) -> str | Unknown:
    if isinstance(value, Unknown):
        return Unknown(f"typeof {value.reason}")
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, JSFunction | _Builtin):
        return "function"
    return "object"


def _same(a, b) -> bool:
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return a is b


def _loose_eq(a, b) -> bool:
    if (a is None or a is UNDEFINED) and (b is None or b is UNDEFINED):
        return True
    if isinstance(a, str | int | float | bool) and isinstance(b, str | int | float | bool):
        if type(a) is type(b):
            return a == b
        na, nb = _to_number(a), _to_number(b)
        return na == nb
    return _same(a, b)


def _arith(op: str, left, right):
    if isinstance(left, Unknown) or isinstance(right, Unknown):
        u = left if isinstance(left, Unknown) else right
        return Unknown(u.reason, u.env_var)
    if op == "+" and (isinstance(left, str | list | JSObject) or isinstance(right, str | list | JSObject)):
        if isinstance(left, JSFunction) or isinstance(right, JSFunction):
            return Unknown("string of a function")
        return _to_string(left) + _to_string(right)
    a, b = _to_number(left), _to_number(right)
    if a is None or b is None:
        return Unknown(f"`{op}` on {_describe(left)} and {_describe(right)}")
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            if b == 0:
                return math.nan if a == 0 else math.copysign(math.inf, a)
            q = a / b
            return int(q) if isinstance(a, int) and isinstance(b, int) and a % b == 0 else q
        if op == "%":
            return math.fmod(a, b) if b else math.nan
        if op == "**":
            return a**b
        if op in ("<", ">", "<=", ">="):
            return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
        if op in ("|", "&", "^", "<<", ">>", ">>>"):
            ia, ib = int(a) & 0xFFFFFFFF, int(b) & 0xFFFFFFFF
            r = {"|": ia | ib, "&": ia & ib, "^": ia ^ ib, "<<": (ia << (ib & 31)) & 0xFFFFFFFF,
                 ">>": ia >> (ib & 31), ">>>": ia >> (ib & 31)}[op]
            return r - (1 << 32) if op != ">>>" and r >= 1 << 31 else r
    except (OverflowError, ValueError, ZeroDivisionError):
        return math.nan
    return Unknown(f"operator `{op}` not evaluated")


def _path_call(name: str, args: list):
    if not all(isinstance(a, str) for a in args):
        return Unknown(f"path.{name}() of non-strings")
    if name == "join":
        joined = posixpath.join(*[a for a in args if a != ""]) if any(args) else "."
        normal = posixpath.normpath(joined) if joined else "."
        return normal + "/" if joined.endswith("/") and not normal.endswith("/") else normal
    if name == "resolve":
        out = ""
        for a in args:
            out = a if a.startswith("/") else posixpath.join(out, a) if out else a
        if not out.startswith("/"):
            return Unknown("path.resolve() relative to the process's working directory")
        return posixpath.normpath(out)
    if name == "dirname":
        return posixpath.dirname(args[0]) if args else "."
    if name == "basename":
        base = posixpath.basename(args[0]) if args else ""
        if len(args) > 1 and base.endswith(args[1]):
            base = base[: -len(args[1])]
        return base
    if name == "extname":
        return posixpath.splitext(args[0])[1] if args else ""
    if name == "normalize":
        return posixpath.normpath(args[0]) if args else "."
    if name == "isAbsolute":
        return bool(args) and args[0].startswith("/")
    if name == "relative" and len(args) == 2:
        return posixpath.relpath(args[1], args[0])
    return Unknown(f"path.{name}()")


def _string_method(s: str, name: str, args: list):
    a0 = args[0] if args else UNDEFINED
    if name == "split":
        if a0 is UNDEFINED:
            return JSArray([s])
        if isinstance(a0, str):
            return JSArray(list(s) if a0 == "" else s.split(a0))
        return Unknown("split by a regexp")
    if name in ("trim", "trimStart", "trimEnd"):
        return {"trim": s.strip, "trimStart": s.lstrip, "trimEnd": s.rstrip}[name]()
    if name == "toLowerCase":
        return s.lower()
    if name == "toUpperCase":
        return s.upper()
    if name == "toString":
        return s
    if name == "concat":
        return s + "".join(_to_string(a) for a in args)
    if name in ("includes", "startsWith", "endsWith", "indexOf") and isinstance(a0, str):
        return {"includes": a0 in s, "startsWith": s.startswith(a0), "endsWith": s.endswith(a0),
                "indexOf": s.find(a0)}[name]
    if name in ("slice", "substring") and all(isinstance(a, int | float) for a in args):
        idx = [int(a) for a in args]
        return s[slice(*idx)] if name == "slice" else s[max(0, min(idx)) : max(idx)] if len(idx) == 2 else s[idx[0]:]
    if name == "replace" and len(args) == 2 and isinstance(a0, str) and isinstance(args[1], str):
        return s.replace(a0, args[1], 1)
    if name == "repeat" and isinstance(a0, int):
        return s * a0
    if name in ("padStart", "padEnd") and isinstance(a0, int):
        fill = args[1] if len(args) > 1 and isinstance(args[1], str) else " "
        return s.rjust(a0, fill[:1] or " ") if name == "padStart" else s.ljust(a0, fill[:1] or " ")
    return Unknown("__unsupported__")


def _plain(value):
    if isinstance(value, JSRegExp):
        return str(value)
    return value


_GLOBALS["require"] = _Builtin("global", "require")
