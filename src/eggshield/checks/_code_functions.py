"""Judging a function a config holds (multipart `whitelist`, cors `origin`) from its syntax tree.

Config functions are never run. The evaluator keeps the tree-sitter node of functions it saw
(`JSFunction.impl[0]`); a function known only by its source text (data files, truncated text) is
parsed on its own. Either way the decision is made on the tree, not on regexes over text.
"""

from __future__ import annotations

import re

import tree_sitter as ts

from eggshield.checks._code_flow import Flow, returns
from eggshield.checks._code_query import FUNCTION_TYPES, chain, unwrap
from eggshield.js.parse import SyntaxProblem, parse, text
from eggshield.js.values import JSFunction


def function_node(fn: JSFunction) -> ts.Node | None:
    impl = fn.impl
    if isinstance(impl, tuple) and impl and isinstance(impl[0], ts.Node):
        return impl[0]
    if not fn.source or fn.source.endswith("…"):
        return None
    try:
        tree = parse(f"({fn.source});".encode(), "fn.ts" if ":" in fn.source.split("=>")[0] else "fn.js")
    except SyntaxProblem:
        return None
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type in FUNCTION_TYPES:
            return node
        stack.extend(reversed(node.named_children))
    return None


def _truthy_literal(node: ts.Node) -> bool:
    node = unwrap(node)
    t = node.type
    if t == "true" or t in ("object", "array", "regex", "arrow_function", "function_expression"):
        return True
    if t == "number":
        try:
            return float(text(node).replace("_", "")) != 0
        except ValueError:
            return True
    if t == "string":
        return len(text(node)) > 2
    if t == "template_string":
        return bool(text(node).strip("`"))
    return t == "unary_expression" and text(node).replace(" ", "") in ("!0", "!''", '!""', "!null", "!undefined",
                                                                        "!false")


def accepts_everything(fn_node: ts.Node) -> bool:
    """Every path returns a truthy constant and nothing throws: `() => true`, `name => { return 1 }`."""
    values = returns(fn_node)
    if not values:
        return False
    body = fn_node.child_by_field_name("body")
    if body is not None and body.type == "statement_block" and _throws(body):
        return False
    return all(v.type != "return_statement" and _truthy_literal(v) for v in values)


def _throws(node: ts.Node) -> bool:
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.type == "throw_statement":
            return True
        if cur.type in FUNCTION_TYPES and cur is not node:
            continue
        stack.extend(cur.named_children)
    return False


def unanchored_extension_test(fn_node: ts.Node) -> str | None:
    """`name => /\\.(png|jpg)/i.test(name)`: a pattern that also matches `x.png.html`. Returns the regex text."""
    values = returns(fn_node)
    if len(values) != 1:
        return None
    call = unwrap(values[0])
    if call.type != "call_expression":
        return None
    callee = call.child_by_field_name("function")
    if callee is None or callee.type != "member_expression" or text(callee.child_by_field_name("property")) != "test":
        return None
    receiver = unwrap(callee.child_by_field_name("object"))
    if receiver.type != "regex":
        return None
    pattern = receiver.child_by_field_name("pattern")
    body = text(pattern) if pattern is not None else ""
    if not body or body.endswith("$") or re.search(r"\$\)*$", body):
        return None
    return text(receiver)


def reflects_origin(fn_node: ts.Node) -> str | None:
    """A cors `origin(ctx)` that hands back the request's Origin on every path that allows anything,
    with no comparison against a list or pattern. Returns the expression returned, else None."""
    params = fn_node.child_by_field_name("parameters") or fn_node.child_by_field_name("parameter")
    first = None
    if params is not None:
        if params.type == "identifier":
            first = text(params)
        else:
            for p in params.named_children:
                node = p.child_by_field_name("pattern") if p.type in ("required_parameter", "optional_parameter") else p
                if node is not None and node.type == "identifier":
                    first = text(node)
                    break
    flow = Flow(fn_node, frozenset({first} if first else set()) | frozenset({"ctx"}))
    reflected = None
    for value in returns(fn_node):
        if value.type == "return_statement":
            continue
        found = flow.leading(value)
        if found is not None and found.kind == "header" and "origin" in found.expr.lower():
            reflected = found.expr
    if reflected is None or _compares(fn_node):
        return None
    return reflected


def _compares(fn_node: ts.Node) -> bool:
    """Any allowlist-looking check: `===`/`!==` against a value, `.includes/.indexOf/.test/.match/
    .endsWith/.startsWith/.has/.some`, `isSafeDomain(...)`."""
    stack = [fn_node]
    while stack:
        node = stack.pop()
        if node.type == "binary_expression":
            op = node.child_by_field_name("operator")
            if op is not None and text(op) in ("===", "!==", "==", "!="):
                sides = [unwrap(node.child_by_field_name("left")), unwrap(node.child_by_field_name("right"))]
                if not any(s.type in ("null", "undefined") or text(s) in ("''", '""', "undefined") for s in sides):
                    return True
        elif node.type == "call_expression":
            callee = node.child_by_field_name("function")
            _, props = chain(callee) if callee is not None else (None, [])
            name = props[-1] if props else (text(callee) if callee is not None else "")
            if name in ("includes", "indexOf", "test", "match", "endsWith", "startsWith", "has", "some",
                        "isSafeDomain", "find", "exec"):
                return True
        stack.extend(node.named_children)
    return False
