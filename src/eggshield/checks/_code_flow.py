"""Does a value in the app's code come from the request? A small, syntax-only, per-function taint model.

Enough to tell `ctx.redirect(ctx.query.next)` from `ctx.redirect('/user/' + ctx.params.id)`:
request input is `ctx.query|queries|params|headers|header|get()`, `ctx.request.body|query|...`,
tegg/midway decorated parameters (`@HTTPQuery() url`), and local variables assigned from them.
"Leading" input is input that decides the *start* of a string (its scheme and host): the case that
matters for redirects and outbound requests. Nothing is run; calls into other functions are not
followed (their result is not request input), which keeps false positives rare and misses some
flows through services.
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter as ts

from eggshield.checks._code_query import CTX_NAMES, FUNCTION_TYPES, chain, is_ctx_expr, snippet, unwrap
from eggshield.js.parse import descendants, text

# ctx.<prop> and ctx.request.<prop> that carry client-controlled data, with the kind they are
CTX_INPUT = {"query": "query", "queries": "query", "params": "params", "headers": "header", "header": "header"}
REQUEST_INPUT = {**CTX_INPUT, "body": "body", "files": "body", "rawBody": "body"}
# decorated handler parameters (tegg, midway) bound to request input
DECORATOR_INPUT = {"HTTPQuery": "query", "HTTPQueries": "query", "HTTPBody": "body", "HTTPParam": "params",
                   "HTTPHeaders": "header", "Query": "query", "Queries": "query", "Body": "body",
                   "Param": "params", "Headers": "header"}
# functions and methods that return (a form of) their input: the start of the string stays the attacker's
PASS_FUNCTIONS = frozenset({"decodeURIComponent", "decodeURI", "unescape", "String", "encodeURI"})
PASS_METHODS = frozenset({"toString", "trim", "trimStart", "trimEnd", "toLowerCase", "toUpperCase", "concat",
                          "replace", "replaceAll", "normalize", "valueOf", "format"})
PASS_CONSTRUCTORS = frozenset({"URL", "String"})


@dataclass(frozen=True)
class Input:
    kind: str  # query, body, params, header, upload; "param" for a parameter of the function itself
    expr: str  # the source expression, for evidence
    index: int | None = None  # for "param": its position

    @property
    def is_header(self) -> bool:
        return self.kind == "header"


@dataclass(frozen=True)
class _Taint:
    input: Input
    leading: bool  # the variable's value starts with request input


_NO_TAINT = _Taint(Input("", ""), False)


class Flow:
    """Request input inside one function (and the closures it contains)."""

    def __init__(self, fn: ts.Node | None, ctx_names: frozenset[str] = CTX_NAMES, params_as_input: bool = False):
        """`params_as_input`: treat the function's own parameters as inputs ("param" kind), to learn
        which parameters of a service method decide where it sends a request."""
        self.fn = fn
        self.params_as_input = params_as_input
        self.ctx_names = set(ctx_names)
        self.vars: dict[str, _Taint] = {}
        self.aliases: dict[str, str] = {}  # name -> "ctx" | "request"
        if fn is None:
            return
        self._params(fn)
        bindings = [n for n in _descendants(fn) if n.type in ("variable_declarator", "assignment_expression")]
        for _ in range(2):  # a second pass catches uses before (loop-carried) definitions
            for node in bindings:
                if node.type == "variable_declarator":
                    self._bind(node.child_by_field_name("name"), node.child_by_field_name("value"))
                else:
                    self._bind(node.child_by_field_name("left"), node.child_by_field_name("right"))

    # -- setup -----------------------------------------------------------------------------------
    def _params(self, fn: ts.Node) -> None:
        params = fn.child_by_field_name("parameters")
        if params is None:
            single = fn.child_by_field_name("parameter")  # `url => ...`
            if single is not None and single.type == "identifier" and self.params_as_input:
                self.vars[text(single)] = _Taint(Input("param", text(single), 0), True)
            return
        for index, p in enumerate(c for c in params.named_children if c.type != "comment"):
            name_node = p.child_by_field_name("pattern") if p.type in ("required_parameter", "optional_parameter") else p
            if name_node is not None and name_node.type == "assignment_pattern":
                name_node = name_node.child_by_field_name("left")
            if name_node is None or name_node.type != "identifier":
                continue
            name = text(name_node)
            if self.params_as_input and name not in self.ctx_names:
                self.vars[name] = _Taint(Input("param", name, index), True)
            annotation = p.child_by_field_name("type")
            if annotation is not None and "Context" in text(annotation):
                self.ctx_names.add(name)
            for deco in (c for c in p.children if c.type == "decorator"):
                expr = deco.named_children[0] if deco.named_children else None
                callee = expr.child_by_field_name("function") if expr is not None and expr.type == "call_expression" else expr
                label = text(callee) if callee is not None else ""
                if label in DECORATOR_INPUT:
                    self.vars[name] = _Taint(Input(DECORATOR_INPUT[label], f"@{label}() {name}"), True)
                elif label == "Context":
                    self.ctx_names.add(name)
            if name in self.ctx_names and self.vars.get(name, _NO_TAINT).input.kind == "param":
                del self.vars[name]  # `@Context() ctx`, `ctx: Context`: the request itself, not a value

    def _bind(self, target: ts.Node | None, value: ts.Node | None) -> None:
        if target is None or value is None:
            return
        value = unwrap(value)
        if target.type == "identifier":
            name = text(target)
            if is_ctx_expr(value, frozenset(self.ctx_names)) and not _is_request(value):
                self.aliases[name] = "ctx"
                return
            if _is_request(value) and self._is_ctx_root(value):
                self.aliases[name] = "request"
                return
            found = self.source(value)
            if found is not None:
                self.vars[name] = _Taint(found, self.leading(value) is not None)
            return
        if target.type == "object_pattern":
            if self._is_ctx_root(value):
                self._destructure(target, "request" if _is_request(value) else "ctx")
                return
            found = self.source(value)
            if found is not None:
                for name in _bound_names(target):
                    self.vars[name] = _Taint(found, True)

    def _destructure(self, pattern: ts.Node, of: str) -> None:
        """`const { query, request: { body } } = ctx`: bind what is request input, alias what is ctx/request."""
        table = CTX_INPUT if of == "ctx" else REQUEST_INPUT
        for child in pattern.named_children:
            if child.type == "shorthand_property_identifier_pattern":
                key, bound = text(child), child
            elif child.type == "pair_pattern":
                key_node, bound = child.child_by_field_name("key"), child.child_by_field_name("value")
                key = text(key_node).strip("'\"") if key_node is not None else ""
            else:
                continue
            if bound is not None and bound.type == "assignment_pattern":
                bound = bound.child_by_field_name("left")
            if bound is None:
                continue
            if key in table:
                for name in _bound_names(bound):
                    self.vars[name] = _Taint(Input(table[key], f"{of}.{key}"), True)
            elif key == "request" and of == "ctx":
                if bound.type == "object_pattern":
                    self._destructure(bound, "request")
                elif bound.type in ("identifier", "shorthand_property_identifier_pattern"):
                    self.aliases[text(bound)] = "request"
            elif key == "ctx" and bound.type in ("identifier", "shorthand_property_identifier_pattern"):
                self.aliases[text(bound)] = "ctx"

    def _is_ctx_root(self, node: ts.Node) -> bool:
        root, props = chain(node)
        props = [p for p in props if p not in ("ctx",)] if root.type == "this" else props
        if any(p not in ("request",) for p in props):
            return False
        if root.type == "this":
            return True
        name = text(root) if root.type == "identifier" else ""
        return name in self.ctx_names or self.aliases.get(name) in ("ctx", "request")

    # -- queries ---------------------------------------------------------------------------------
    def input_of(self, node: ts.Node) -> Input | None:
        """The request input `node` itself reads (`ctx.query.url`, `body.next`, a tainted variable)."""
        node = unwrap(node)
        if node.type == "identifier":
            taint = self.vars.get(text(node))
            return taint.input if taint else None
        if node.type not in ("member_expression", "subscript_expression", "call_expression"):
            return None
        root, props = chain(node)
        if root.type == "identifier":
            name = text(root)
            if name in self.vars:
                return self.vars[name].input
            if name in self.ctx_names or self.aliases.get(name) == "ctx":
                return _from_ctx(props, node)
            if self.aliases.get(name) == "request":
                return _from_request(props, node)
            return None
        if root.type == "this":
            return _from_ctx(props[1:] if props[:1] == ["ctx"] else props, node)
        return None

    def source(self, expr: ts.Node | None) -> Input | None:
        """Request input anywhere inside `expr`."""
        if expr is None:
            return None
        stack = [expr]
        while stack:
            node = stack.pop()
            if node.type in FUNCTION_TYPES:
                continue
            found = self.input_of(node)
            if found is not None:
                return found
            stack.extend(reversed(node.named_children))
        return None

    def leading(self, expr: ts.Node | None, depth: int = 0) -> Input | None:
        """Request input that decides the start of the value `expr` evaluates to."""
        if expr is None or depth > 40:
            return None
        node = unwrap(expr)
        while node.type == "binary_expression" and text(node.child_by_field_name("operator") or node) == "+":
            node = unwrap(node.child_by_field_name("left"))  # 'a' + b + c: only the leftmost part decides the start
        t = node.type
        depth += 1
        if t == "identifier":
            taint = self.vars.get(text(node))
            return taint.input if taint and taint.leading else None
        if t == "binary_expression":
            op = node.child_by_field_name("operator")
            op_text = text(op) if op is not None else ""
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if op_text == "+":
                return self.leading(left, depth)
            if op_text in ("||", "??"):
                return self.leading(left, depth) or self.leading(right, depth)
            return None
        if t == "ternary_expression":
            return self.leading(node.child_by_field_name("consequence"), depth) or self.leading(
                node.child_by_field_name("alternative"), depth)
        if t == "template_string":
            parts = [c for c in node.named_children if c.type != "comment"]
            if parts and parts[0].type == "template_substitution":
                inner = [c for c in parts[0].named_children if c.type != "comment"]
                return self.leading(inner[0], depth) if inner else None
            return None
        if t == "new_expression":
            ctor = node.child_by_field_name("constructor")
            args = node.child_by_field_name("arguments")
            first = [a for a in args.named_children if a.type != "comment"][:1] if args is not None else []
            if ctor is not None and text(ctor) in PASS_CONSTRUCTORS and first:
                return self.leading(first[0], depth)
            return None
        if t == "call_expression":
            callee = unwrap(node.child_by_field_name("function"))
            args = node.child_by_field_name("arguments")
            arg_nodes = [a for a in args.named_children if a.type != "comment"] if args is not None else []
            if callee.type == "identifier" and text(callee) in PASS_FUNCTIONS and arg_nodes:
                return self.leading(arg_nodes[0], depth)
            if callee.type == "member_expression":
                method = text(callee.child_by_field_name("property"))
                receiver = callee.child_by_field_name("object")
                if method in PASS_METHODS and receiver is not None and self.leading(receiver, depth) is not None:
                    return self.leading(receiver, depth)
                if method in ("resolve", "format") and text(receiver) == "url" and arg_nodes:
                    return self.leading(arg_nodes[-1], depth)
            found = self.input_of(node)
            return found if found is not None and found.kind == "header" else None  # ctx.get('x')
        if t in ("member_expression", "subscript_expression"):
            root, _ = chain(node)
            if root.type == "identifier" and text(root) in self.vars:
                return self.vars[text(root)].input if self.vars[text(root)].leading else None
            return self.input_of(node)
        return None

    def guard(self, expr: ts.Node) -> str | None:
        """A condition in this function that looks like it validates the input in `expr`, e.g.
        `if (!url.startsWith('/'))`, `if (ctx.isSafeDomain(host))`, `allowed.includes(next)`."""
        if self.fn is None:
            return None
        names = {text(n) for n in _descendants(expr) if n.type == "identifier" and text(n) in self.vars}
        exprs = {text(unwrap(expr))} | names
        for node in _descendants(self.fn):
            cond = None
            if node.type in ("if_statement", "while_statement") or node.type == "ternary_expression":
                cond = node.child_by_field_name("condition")
            if cond is None:
                continue
            for sub in _descendants(cond):
                if sub.type == "call_expression" and any(e and e in text(sub) for e in exprs):
                    return snippet(cond, 80)
                if sub.type == "binary_expression" and text(sub.child_by_field_name("operator") or sub) in (
                        "===", "!==", "==", "!=") and any(e and e in text(sub) for e in exprs) and any(
                        c.type in ("string", "template_string", "member_expression") for c in sub.named_children):
                    return snippet(cond, 80)
        return None


def _from_ctx(props: list[str], node: ts.Node) -> Input | None:
    if not props:
        return None
    head = props[0]
    if head in CTX_INPUT:
        return Input(CTX_INPUT[head], snippet(node, 60))
    if head == "get" and props[1:2] == ["()"]:
        return Input("header", snippet(node, 60))
    if head == "request":
        return _from_request(props[1:], node)
    if head in ("getFileStream", "multipart", "getFileStreams") and props[1:2] == ["()"]:
        return Input("upload", snippet(node, 60))
    return None


def _from_request(props: list[str], node: ts.Node) -> Input | None:
    if not props:
        return None
    head = props[0]
    if head in REQUEST_INPUT:
        return Input(REQUEST_INPUT[head], snippet(node, 60))
    if head == "get" and props[1:2] == ["()"]:
        return Input("header", snippet(node, 60))
    return None


def _is_request(node: ts.Node) -> bool:
    _, props = chain(node)
    return bool(props) and props[-1] == "request"


def _bound_names(pattern: ts.Node) -> list[str]:
    if pattern.type in ("identifier", "shorthand_property_identifier_pattern"):
        return [text(pattern)]
    out = []
    for n in _descendants(pattern):
        if n.type in ("shorthand_property_identifier_pattern",):
            out.append(text(n))
        elif n.type == "identifier" and n.parent is not None and n.parent.type in (
                "pair_pattern", "array_pattern", "assignment_pattern", "rest_pattern"):
            field = n.parent.child_by_field_name("key") if n.parent.type == "pair_pattern" else None
            if field is None or field.id != n.id:
                out.append(text(n))
    return out


def _descendants(node: ts.Node):
    return descendants(node, named=True)


def returns(fn: ts.Node) -> list[ts.Node]:
    """The values a function can return: `return x` statements (not of nested functions) or an arrow's body."""
    body = fn.child_by_field_name("body")
    if body is None:
        return []
    if body.type != "statement_block":
        return [body]
    out: list[ts.Node] = []
    stack = list(body.named_children)
    while stack:
        node = stack.pop()
        if node.type in FUNCTION_TYPES or node.type == "class_declaration":
            continue
        if node.type == "return_statement":
            value = [c for c in node.named_children if c.type != "comment"]
            out.append(value[0] if value else node)
            continue
        stack.extend(node.named_children)
    return out
