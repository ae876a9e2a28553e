"""tree-sitter parsing: one parser per grammar, chosen by file extension."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import tree_sitter as ts
import tree_sitter_javascript as ts_js
import tree_sitter_typescript as ts_ts

TS_EXTS = {".ts", ".mts", ".cts"}
TSX_EXTS = {".tsx"}


class SyntaxProblem(Exception):
    """The file does not parse; the message is one line with the first error position."""


@cache
def _language(kind: str) -> ts.Language:
    if kind == "ts":
        return ts.Language(ts_ts.language_typescript())
    if kind == "tsx":
        return ts.Language(ts_ts.language_tsx())
    return ts.Language(ts_js.language())


@cache
def parser_for(kind: str) -> ts.Parser:
    return ts.Parser(_language(kind))


def kind_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in TS_EXTS:
        return "ts"
    if suffix in TSX_EXTS:
        return "tsx"
    return "js"


def parse(source: bytes, path: str | Path) -> ts.Tree:
    """Parse, raising SyntaxProblem on the first error node (tree-sitter recovers silently otherwise)."""
    tree = parser_for(kind_of(path)).parse(source)
    root = tree.root_node
    if root.has_error:
        bad = first_error(root)
        line, col = (bad.start_point[0] + 1, bad.start_point[1] + 1) if bad else (1, 1)
        what = "unexpected token" if bad is not None and bad.is_error else "missing token"
        raise SyntaxProblem(f"syntax error at line {line}, column {col}: {what}")
    return tree


def first_error(node: ts.Node) -> ts.Node | None:
    if node.is_error or node.is_missing:
        return node
    if not node.has_error:
        return None
    for child in node.children:
        found = first_error(child)
        if found is not None:
            return found
    return node


def text(node: ts.Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""


def descendants(node: ts.Node, *, named: bool = False):
    """The node and everything below it, in source order (iterative: deep trees don't hit recursion limits)."""
    stack = [node]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(reversed(cur.named_children if named else cur.children))
