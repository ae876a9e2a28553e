"""Every way the app's code reaches `app.x`, `ctx.x`, `helper.x`, ... in one pass over the parsed sources.

Egg code reaches plugin APIs through a handful of receivers: `app` (also `this.app`, `ctx.app`,
`agent`), the request context (`ctx`, `this.ctx`, `this` in egg 1 middleware and in
`app/extend/context.js`), `helper`, `ctx.request`/`ctx.response`, `app.middleware` in routers, and
`service`/`controller` (plugins contribute services and controllers). The index records, per file,
each member read on such a receiver, including destructuring
(`const { mysql } = this.app`, `const { app: { redis } } = this`), string subscripts
(`app['mysql']`), tegg injection (`@Inject() redis`), bare calls (`__('x')`) and calls whose first
argument is a string (`passport.authenticate('github')`). Usage rules then only look names up.

`app.get('x')` is not a lookup: in Egg it registers a GET route (Application delegates the router
verbs: egg-core@5.5.1 lib/egg.js:399), so no usage rule reads it; plugins are reached as properties (`app.mysql.get('db1')` is the
multi-client accessor of an `app.addSingleton` plugin, and counts as a use of `app.mysql`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import tree_sitter as ts

from eggshield.js.parse import _language, kind_of, text

_MEMBERS = "(member_expression object: (_) @obj property: (property_identifier) @prop) @m"
_SUBSCRIPTS = "(subscript_expression object: (_) @obj index: (string (string_fragment) @prop)) @m"
_DESTRUCTURING = "(variable_declarator name: (object_pattern) @pat value: (_) @val) @d"
_BARE_CALLS = "(call_expression function: (identifier) @name) @call"
_STRING_ARG_CALLS = """
(call_expression
  function: (member_expression property: (property_identifier) @prop)
  arguments: (arguments . (string (string_fragment) @arg))) @call
"""
_STRING_PAIRS = "(pair key: (property_identifier) @k value: (string (string_fragment) @v)) @p"
# One query, one pass per file; the pattern index says which of the above matched.
_ALL = "\n".join((_MEMBERS, _SUBSCRIPTS, _DESTRUCTURING, _BARE_CALLS, _STRING_ARG_CALLS, _STRING_PAIRS))

_UNWRAP = frozenset({"parenthesized_expression", "as_expression", "non_null_expression", "satisfies_expression",
                     "type_assertion", "await_expression"})
_APP_NAMES = {"app": "app", "application": "app", "agent": "agent"}
_CTX_NAMES = frozenset({"ctx", "context"})
_EXTEND_ROLES = {"application": "app", "agent": "agent", "context": "ctx", "helper": "helper",
                 "request": "request", "response": "response"}


@cache
def _query(kind: str, source: str) -> ts.Query:
    return ts.Query(_language(kind), source)


@dataclass(frozen=True)
class Ref:
    """One reach of a receiver's member (`app.mysql`), bare call (`__()`), or string-argument call."""

    kind: str  # "member", "call" or "string-call"
    receiver: str  # app, agent, ctx, helper, request, response, middleware ("" for calls)
    name: str  # member / function / method name
    path: Path
    line: int
    arg: str = ""  # first string argument of a string-call, or the value of a `key: 'value'` pair

    def where(self, rel) -> str:
        return f"{rel(self.path)}:{self.line}"


@dataclass
class CodeIndex:
    refs: list[Ref] = field(default_factory=list)
    by_member: dict[tuple[str, str], list[Ref]] = field(default_factory=dict)
    by_call: dict[str, list[Ref]] = field(default_factory=dict)
    by_string_call: dict[tuple[str, str], list[Ref]] = field(default_factory=dict)
    string_pairs: dict[tuple[str, str], list[Ref]] = field(default_factory=dict)

    def add(self, ref: Ref) -> None:
        self.refs.append(ref)
        if ref.kind == "member":
            self.by_member.setdefault((ref.receiver, ref.name), []).append(ref)
        elif ref.kind == "call":
            self.by_call.setdefault(ref.name, []).append(ref)
        elif ref.kind == "string-call":
            self.by_string_call.setdefault((ref.name, ref.arg), []).append(ref)
        elif ref.kind == "pair":
            self.string_pairs.setdefault((ref.name, ref.arg), []).append(ref)

    def members(self, receiver: str, name: str) -> list[Ref]:
        return self.by_member.get((receiver, name), [])

    def calls(self, name: str) -> list[Ref]:
        return self.by_call.get(name, [])

    def string_calls(self, method: str, arg: str) -> list[Ref]:
        return self.by_string_call.get((method, arg), [])

    def pairs(self, key: str, value: str) -> list[Ref]:
        return self.string_pairs.get((key, value), [])


def this_role(path: Path, extend_files: set[Path], middleware_files: set[Path]) -> str | None:
    """What `this` is in a file: the extended object in app/extend/*, ctx in (egg 1) middleware."""
    if path in extend_files:
        return _EXTEND_ROLES.get(path.name.split(".", 1)[0])
    if path in middleware_files:
        return "ctx"
    return None


def classify(node: ts.Node | None, this_is: str | None) -> str | None:
    """Which Egg receiver an expression denotes, if any."""
    while node is not None and node.type in _UNWRAP:
        node = next((c for c in node.named_children if c.type not in ("type_annotation",)), None)
    if node is None:
        return None
    if node.type == "identifier":
        name = text(node)
        if name in _APP_NAMES:
            return _APP_NAMES[name]
        if name in _CTX_NAMES:
            return "ctx"
        if name in ("helper", "request", "response"):
            return name
        if name in ("middleware", "middlewares"):
            return "middleware"
        if name in ("service", "controller"):
            return name
        return None
    if node.type == "this":
        return this_is
    if node.type == "member_expression":
        prop = node.child_by_field_name("property")
        name = text(prop) if prop is not None else ""
        if name in _APP_NAMES:
            return _APP_NAMES[name]
        if name == "ctx":
            return "ctx"
        if name in ("helper", "service", "controller"):
            return name
        inner = classify(node.child_by_field_name("object"), this_is)
        if name in ("middleware", "middlewares") and inner in ("app", "agent"):
            return "middleware"
        if name in ("request", "response") and inner == "ctx":
            return name
        return None
    return None


def _line(node: ts.Node) -> int:
    return node.start_point[0] + 1


def _pattern_refs(pattern: ts.Node, receiver: str | None, path: Path) -> Iterator[Ref]:
    """Members named in `{ a, b: alias, app: { redis }, c = 1 }` taken from `receiver`."""
    for child in pattern.named_children:
        if child.type == "shorthand_property_identifier_pattern":
            if receiver:
                yield Ref("member", receiver, text(child), path, _line(child))
        elif child.type == "object_assignment_pattern":
            left = child.child_by_field_name("left")
            if receiver and left is not None and left.type == "shorthand_property_identifier_pattern":
                yield Ref("member", receiver, text(left), path, _line(left))
        elif child.type == "pair_pattern":
            key = child.child_by_field_name("key")
            value = child.child_by_field_name("value")
            name = text(key).strip("'\"") if key is not None else ""
            if value is not None and value.type == "object_pattern":
                nested = _APP_NAMES.get(name) or ("ctx" if name == "ctx" else None)
                if nested is None and receiver == "app" and name in ("middleware", "middlewares"):
                    nested = "middleware"
                if nested is None and name in ("helper", "service", "controller"):
                    nested = name
                if nested is None and receiver == "ctx" and name in ("request", "response"):
                    nested = name
                if receiver and nested is None:
                    yield Ref("member", receiver, name, path, _line(key))
                yield from _pattern_refs(value, nested, path)
            elif receiver and name:
                yield Ref("member", receiver, name, path, _line(key))


def _inject_refs(root: ts.Node, path: Path) -> Iterator[Ref]:
    """tegg `@Inject() private readonly redis: Redis`: the app object named like the field (or the string given)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type in ("public_field_definition", "property_declaration", "field_definition"):
            decorators = [c for c in node.children if c.type == "decorator"]
            for deco in decorators:
                call = next((c for c in deco.named_children if c.type == "call_expression"), None)
                fn = call.child_by_field_name("function") if call is not None else None
                if fn is None or text(fn) not in ("Inject", "EggQualifier"):
                    continue
                args = call.child_by_field_name("arguments")
                first = args.named_children[0] if args is not None and args.named_children else None
                if first is not None and first.type == "string":
                    name = text(first).strip("'\"`")
                else:
                    prop = node.child_by_field_name("name") or node.child_by_field_name("property")
                    name = text(prop) if prop is not None else ""
                if name:
                    yield Ref("member", "app", name, path, _line(node))
            continue
        if node.type in ("class_body", "class_declaration", "class", "program", "export_statement",
                         "abstract_class_declaration", "expression_statement"):
            stack.extend(node.named_children)


def index_file(path: Path, tree: ts.Tree, this_is: str | None) -> list[Ref]:
    kind = kind_of(path)
    root = tree.root_node
    out: list[Ref] = []
    if not root.text or not any(tok in root.text for tok in (b"app", b"ctx", b"agent", b"this", b"helper",
                                                                 b"middleware", b"__", b"gettext", b"(")):
        return out
    for pattern, caps in ts.QueryCursor(_query(kind, _ALL)).matches(root):
        if pattern in (0, 1):  # member or string subscript
            receiver = classify(caps["obj"][0], this_is)
            if receiver:
                out.append(Ref("member", receiver, text(caps["prop"][0]), path, _line(caps["m"][0])))
        elif pattern == 2:
            out.extend(_pattern_refs(caps["pat"][0], classify(caps["val"][0], this_is), path))
        elif pattern == 3:
            out.append(Ref("call", "", text(caps["name"][0]), path, _line(caps["call"][0])))
        elif pattern == 4:
            out.append(Ref("string-call", "", text(caps["prop"][0]), path, _line(caps["call"][0]),
                           arg=text(caps["arg"][0])))
        elif pattern == 5:
            key = text(caps["k"][0])
            if key in ("viewEngine", "defaultViewEngine"):
                out.append(Ref("pair", "", key, path, _line(caps["p"][0]), arg=text(caps["v"][0])))
    if b"Inject" in root.text or b"EggQualifier" in root.text:
        out.extend(_inject_refs(root, path))
    return out


def build_index(sources: dict[Path, ts.Tree], project) -> CodeIndex:
    index = CodeIndex()
    extend_files, middleware_files = set(project.extend_files), set(project.middleware_files)
    for path in sorted(sources):
        for ref in index_file(path, sources[path], this_role(path, extend_files, middleware_files)):
            index.add(ref)
    for refs in (*index.by_member.values(), *index.by_call.values(), *index.by_string_call.values(),
                 *index.string_pairs.values()):
        refs.sort(key=lambda r: (str(r.path), r.line))
    return index
