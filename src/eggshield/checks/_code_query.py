"""Searching the app's parsed sources with tree-sitter queries (shared by the code-aware config checks).

Config rules often hinge on what the code does: a redirect only matters if the code redirects
to request input, an upload list only matters if uploads are served back. These helpers find the
calls and member accesses once, with compiled queries, so each rule reads a few nodes instead of
walking every tree in Python.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import tree_sitter as ts

from eggshield.js.parse import _language, kind_of, text
from eggshield.js.values import Loc

FUNCTION_TYPES = frozenset({
    "function_declaration", "function_expression", "arrow_function", "method_definition",
    "generator_function_declaration", "generator_function", "function",
})

# Receivers that are the request context in Egg code: koa middleware `ctx`, class controllers and
# services `this.ctx`, egg 1 generator controllers `this`, tegg `@Context() ctx`.
CTX_NAMES = frozenset({"ctx", "context"})

_STRINGS = """
[(string (string_fragment) @s) (template_string (string_fragment) @s)]
"""


@cache
def _query(kind: str, source: str) -> ts.Query:
    return ts.Query(_language(kind), source)


@dataclass(frozen=True)
class Hit:
    """One matched node with the file it is in."""

    path: Path
    node: ts.Node  # the call_expression / member_expression
    name: str  # the matched property or function name

    @property
    def line(self) -> int:
        return self.node.start_point[0] + 1

    @property
    def receiver(self) -> ts.Node | None:
        """`a.b` of `a.b.c(...)`: the object the matched property is read from."""
        target = self.node.child_by_field_name("function") if self.node.type == "call_expression" else self.node
        return target.child_by_field_name("object") if target is not None and target.type == "member_expression" else None

    @property
    def args(self) -> list[ts.Node]:
        args = self.node.child_by_field_name("arguments") if self.node.type == "call_expression" else None
        return [a for a in args.named_children if a.type != "comment"] if args is not None else []


class _Index:
    """Every member access by property name and every plain call by callee name, for one tree.

    Built once per file with two queries (tree traversal happens in C), so the many lookups the
    rules make are dictionary hits instead of a traversal of every file per lookup."""

    def __init__(self, path: Path, tree: ts.Tree):
        kind = kind_of(path)
        # keyed by the raw bytes of the name; values are the name nodes, in document order
        self._props: dict[bytes, list[ts.Node]] = {}
        self._callees: dict[bytes, list[ts.Node]] = {}
        for query, into, capture in ((_MEMBER_PROPERTY, self._props, "prop"), (_CALL_NAME, self._callees, "name")):
            found = ts.QueryCursor(_query(kind, query)).captures(tree.root_node).get(capture, [])
            found.sort(key=lambda n: n.start_byte)
            for node in found:
                into.setdefault(node.text, []).append(node)

    def members(self, name: str) -> list[ts.Node]:
        """The member_expression nodes whose property is `name`."""
        return [n.parent for n in self._props.get(name.encode(), ())]

    def named_calls(self, name: str) -> list[ts.Node]:
        return [n.parent for n in self._callees.get(name.encode(), ())]


_MEMBER_PROPERTY = "(member_expression property: (property_identifier) @prop)"
_CALL_NAME = "(call_expression function: (identifier) @name)"
# one scan's index at a time: keyed by the identity of its `sources` dict, which keeps the trees alive
_INDEX_OWNER: list = [None]
_INDEXES: dict[Path, _Index] = {}


def _index(sources: dict[Path, ts.Tree], path: Path) -> _Index:
    if _INDEX_OWNER[0] is not sources:
        _INDEXES.clear()
        _INDEX_OWNER[0] = sources
    found = _INDEXES.get(path)
    if found is None:
        found = _INDEXES[path] = _Index(path, sources[path])
    return found


def calls_by_property(sources: dict[Path, ts.Tree], *names: str) -> Iterator[Hit]:
    """Every `x.<name>(...)` call in the sources, in file order."""
    for path in sources:
        index = _index(sources, path)
        for name in names:
            for member in index.members(name):
                parent = member.parent
                if parent is not None and parent.type == "call_expression" and parent.child_by_field_name(
                        "function") == member:
                    yield Hit(path, parent, name)


def calls_by_name(sources: dict[Path, ts.Tree], *names: str) -> Iterator[Hit]:
    """Every plain `<name>(...)` call."""
    for path in sources:
        index = _index(sources, path)
        for name in names:
            for call in index.named_calls(name):
                yield Hit(path, call, name)


def members_by_property(sources: dict[Path, ts.Tree], *names: str) -> Iterator[Hit]:
    """Every `x.<name>` member access (calls included)."""
    for path in sources:
        index = _index(sources, path)
        for name in names:
            for member in index.members(name):
                yield Hit(path, member, name)


def string_fragments(node: ts.Node, path: Path) -> list[str]:
    """The literal text pieces inside `node` (string and template literals), in order."""
    cursor = ts.QueryCursor(_query(kind_of(path), _STRINGS))
    found = cursor.captures(node).get("s", [])
    return [text(n) for n in sorted(found, key=lambda n: n.start_byte)]


def enclosing_function(node: ts.Node) -> ts.Node | None:
    cur = node.parent
    while cur is not None:
        if cur.type in FUNCTION_TYPES:
            return cur
        cur = cur.parent
    return None


def unwrap(node: ts.Node) -> ts.Node:
    """Strip parentheses, `await`, TypeScript casts and non-null assertions."""
    while node is not None and node.type in _WRAPPERS:
        inner = [c for c in node.named_children if c.type != "comment"]
        if not inner:
            break
        node = inner[-1] if node.type == "type_assertion" else inner[0]
    return node


_WRAPPERS = frozenset({"parenthesized_expression", "await_expression", "as_expression", "non_null_expression",
                       "satisfies_expression", "type_assertion"})


def chain(node: ts.Node) -> tuple[ts.Node, list[str]]:
    """`this.ctx.request.body.url` -> (this, ['ctx', 'request', 'body', 'url']); calls keep their callee path.

    Computed members with a literal key give that key; any other computed key gives '*'.
    """
    props: list[str] = []
    node = unwrap(node)
    while True:
        if node.type == "member_expression":
            prop = node.child_by_field_name("property")
            props.append(text(prop) if prop is not None else "*")
            node = unwrap(node.child_by_field_name("object"))
        elif node.type == "subscript_expression":
            index = node.child_by_field_name("index")
            key = "*"
            if index is not None and index.type == "string":
                key = text(index)[1:-1]
            props.append(key)
            node = unwrap(node.child_by_field_name("object"))
        elif node.type == "call_expression" and node.child_by_field_name("function") is not None:
            props.append("()")
            node = unwrap(node.child_by_field_name("function"))
        else:
            break
    props.reverse()
    return node, props


def is_ctx_expr(node: ts.Node | None, ctx_names: frozenset[str] = CTX_NAMES) -> bool:
    """`ctx`, `this.ctx`, `this` (egg 1 generator controllers), `ctx.response`/`ctx.request`."""
    if node is None:
        return False
    root, props = chain(node)
    props = [p for p in props if p not in ("response", "request")]
    if root.type == "this":
        return props in ([], ["ctx"])
    return root.type == "identifier" and text(root) in ctx_names and props == []


def loc_of(project, path: Path, node: ts.Node) -> Loc:
    return Loc(path=project.rel(path), line=node.start_point[0] + 1, column=node.start_point[1] + 1)


def snippet(node: ts.Node, limit: int = 120) -> str:
    s = " ".join(text(node).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


_MEMO: dict[str, object] = {}
_MEMO_OWNER: list = [None]  # the one CheckContext the memo belongs to (only the current scan is kept alive)


def memo(ctx, name: str, compute):
    """Compute a per-scan fact once (several rules ask whether the session is used, ...)."""
    if _MEMO_OWNER[0] is not ctx:
        _MEMO.clear()
        _MEMO_OWNER[0] = ctx
    if name not in _MEMO:
        _MEMO[name] = compute(ctx)
    return _MEMO[name]


def js(value) -> str:
    """A config value as the JS it came from, for evidence: true/false/null, quoted strings, [..]."""
    if value is True or value is False or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(js(v) for v in value) + "]"
    if isinstance(value, int | float):
        return json.dumps(value)
    return str(value)
