"""Does this error handler send the error's internals to the client? (tree-sitter, no code run)

Used by EGG-ERR-001 (custom `onerror` handlers in config) and EGG-ERR-002 (error-handling
middleware). Within one handler body it follows the caught error (`err.stack`, `err.message`,
the error object itself) through local variables into a response body (`ctx.body = …`,
`this.body = …`, `ctx.body.detail = …`), and it understands the guards Egg's own docs use: a
branch that only runs for client errors (`status < 500`, `err.expose`) or outside production
(`env === 'local'`) does not leak in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import tree_sitter as ts

from eggshield.js.parse import descendants as _walk
from eggshield.js.parse import text

# What reaching the client means, worst first.
STACK, INTERNALS, ERROR_OBJECT, MESSAGE = "stack", "internals", "error object", "message"
KIND_ORDER = (STACK, INTERNALS, ERROR_OBJECT, MESSAGE)
DESCRIBE = {
    STACK: "the stack trace (file paths, line numbers, library versions)",
    INTERNALS: "driver internals (SQL text, errno, host and port)",
    ERROR_OBJECT: "the error object (its enumerable fields: SQL text, errno, codes of the failing library)",
    MESSAGE: "the raw error message (for 5xx: SQL errors, file paths, internal host names)",
}

# Error properties that carry driver internals; others (`status`, `code`, `expose`, egg-validate's
# `errors`) are written for clients and are not reported.
INTERNAL_PROPS = frozenset({"sql", "sqlMessage", "sqlState", "errno", "syscall", "path", "address", "port",
                            "hostname", "cause", "response", "config", "request", "detail", "query", "parameters"})

FUNCTION_TYPES = frozenset({"function_declaration", "function_expression", "arrow_function", "method_definition",
                            "generator_function_declaration", "generator_function"})


@dataclass
class Leak:
    sink: ts.Node  # the assignment that sets the response body
    kinds: set[str] = field(default_factory=set)

    @property
    def worst(self) -> str:
        return next(k for k in KIND_ORDER if k in self.kinds)

    @property
    def line(self) -> int:
        return self.sink.start_point[0] + 1


# ---- guards ------------------------------------------------------------------------------------
# An atom of a condition and whether its TRUE branch is the dangerous case (a production 5xx).
_ATOMS: list[tuple[re.Pattern, bool]] = [
    (re.compile(r"status(?:Code)?\s*(?:>=\s*500|>\s*499|===?\s*5\d\d)"), True),
    (re.compile(r"status(?:Code)?\s*(?:<\s*500|<=\s*499|>=\s*400\s*&&[^&|]*<\s*500)"), False),
    (re.compile(r"status(?:Code)?\s*!==?\s*5\d\d"), False),
    (re.compile(r"!\s*[\w.]*expose\b"), True),
    (re.compile(r"\bexpose\b"), False),
    (re.compile(r"""(?:env|NODE_ENV)\s*!==?\s*['"](?:prod|production)['"]"""), False),
    (re.compile(r"""(?:env|NODE_ENV)\s*===?\s*['"](?:prod|production)['"]|\bisProd(?:uction)?\b"""), True),
    (re.compile(r"""(?:env|NODE_ENV)\s*!==?\s*['"](?:local|unittest|dev|development|test)['"]"""), True),
    (re.compile(r"""(?:env|NODE_ENV)\s*===?\s*['"](?:local|unittest|dev|development|test)['"]|\bisDev\b|\bisLocal\b"""),
     False),
]


def _polarity(condition: str) -> bool | None:
    """True: the condition holds for production 5xx errors; False: it never does; None: no guard / mixed."""
    negated = condition.strip().startswith("!(")
    seen: set[bool] = set()
    rest = condition
    for pattern, danger in _ATOMS:
        if pattern.search(rest):
            seen.add(danger)
            rest = pattern.sub(" ", rest)
    if len(seen) != 1:
        return None if not seen else _MIXED
    value = seen.pop()
    return (not value) if negated else value


_MIXED = object()  # a guard whose direction eggshield cannot tell: treated as guarding (no finding)


def _branch_of(parent: ts.Node, child: ts.Node) -> str | None:
    """'then' / 'else' when `child` is one branch of the conditional `parent`, else None."""
    if parent.type in ("ternary_expression", "if_statement"):
        if child == parent.child_by_field_name("consequence"):
            return "then"
        if child == parent.child_by_field_name("alternative"):
            return "else"
    elif parent.type == "binary_expression" and child == parent.child_by_field_name("right"):
        op = parent.child_by_field_name("operator")
        op = text(op) if op is not None else ""
        if op == "&&":
            return "then"
        if op in ("||", "??"):
            return "else"
    return None


def _condition(parent: ts.Node) -> ts.Node | None:
    if parent.type in ("ternary_expression", "if_statement"):
        return parent.child_by_field_name("condition")
    return parent.child_by_field_name("left")


def guarded(node: ts.Node, stop: ts.Node) -> bool:
    """Whether `node` only runs where an error's internals may be shown (4xx, outside production)."""
    child, parent = node, node.parent
    while parent is not None and child != stop:
        branch = _branch_of(parent, child)
        if branch is not None:
            cond = _condition(parent)
            polarity = _polarity(text(cond)) if cond is not None else None
            if polarity is _MIXED:
                return True
            if polarity is not None:
                runs_for_prod_5xx = polarity if branch == "then" else not polarity
                if not runs_for_prod_5xx:
                    return True
        child, parent = parent, parent.parent
    return False


# ---- taint -------------------------------------------------------------------------------------
def _in_condition(node: ts.Node, stop: ts.Node) -> bool:
    """Inside the test of a ternary or `if` below `stop`: read, not sent."""
    child, parent = node, node.parent
    while parent is not None and child != stop:
        if parent.type in ("ternary_expression", "if_statement") and child == parent.child_by_field_name("condition"):
            return True
        child, parent = parent, parent.parent
    return False


def _err_kind(ref: ts.Node) -> str | None:
    """What a reference to the error variable exposes, from how it is used."""
    parent = ref.parent
    if parent is None:
        return None
    if parent.type == "member_expression" and parent.child_by_field_name("object") == ref:
        prop = parent.child_by_field_name("property")
        name = text(prop) if prop is not None else ""
        grand = parent.parent
        if grand is not None and grand.type == "call_expression" and grand.child_by_field_name("function") == parent:
            return MESSAGE if name == "toString" else None
        if name == "stack":
            return STACK
        if name == "message":
            return MESSAGE
        if name in INTERNAL_PROPS:
            return INTERNALS
        return None
    if parent.type == "template_substitution":
        return MESSAGE
    if parent.type == "binary_expression":
        op = parent.child_by_field_name("operator")
        return MESSAGE if op is not None and text(op) == "+" else None
    if parent.type == "arguments":
        call = parent.parent
        callee = call.child_by_field_name("function") if call is not None else None
        name = text(callee) if callee is not None else ""
        if name in ("String",):
            return MESSAGE
        if name.endswith("inspect") or name.endswith("format"):
            return STACK
        if name == "JSON.stringify":
            return ERROR_OBJECT
        return None
    if parent.type in ("pair", "array", "spread_element", "assignment_expression", "return_statement",
                       "parenthesized_expression", "variable_declarator"):
        return ERROR_OBJECT
    return None


def _refs(expr: ts.Node, names: set[str]):
    """Identifier nodes in `expr` naming one of `names` (shorthand `{ err }` included)."""
    for n in _walk(expr):
        if n.type in ("identifier", "shorthand_property_identifier") and text(n) in names:
            yield n


def _kinds(expr: ts.Node, err_names: set[str], tainted: dict[str, set[str]], root: ts.Node) -> set[str]:
    kinds: set[str] = set()
    for ref in _refs(expr, err_names | set(tainted)):
        if guarded(ref, root) or _in_condition(ref, expr):
            continue
        name = text(ref)
        if name in tainted and name not in err_names:
            # a variable carrying error details: any use passes them on
            if ref.parent is not None and ref.parent.type == "member_expression" \
                    and ref.parent.child_by_field_name("object") == ref:
                continue
            kinds |= tainted[name]
            continue
        if ref.type == "shorthand_property_identifier":
            kinds.add(ERROR_OBJECT)
            continue
        kind = _err_kind(ref)
        if kind:
            kinds.add(kind)
    return kinds


def _root_identifier(node: ts.Node) -> ts.Node | None:
    while node is not None and node.type in ("member_expression", "subscript_expression"):
        node = node.child_by_field_name("object")
    return node if node is not None and node.type == "identifier" else None


def _is_body_target(left: ts.Node) -> bool:
    """`ctx.body`, `this.body`, `ctx.response.body`, `ctx.body.detail`, `this.ctx.body`."""
    node = left
    props: list[str] = []
    while node is not None and node.type in ("member_expression", "subscript_expression"):
        prop = node.child_by_field_name("property")
        props.append(text(prop) if prop is not None else "*")
        node = node.child_by_field_name("object")
    return "body" in props


def _taint_destructured(pattern: ts.Node, tainted: dict[str, set[str]]) -> None:
    for item in pattern.named_children:
        if item.type == "shorthand_property_identifier_pattern":
            prop, local = text(item), text(item)
        elif item.type == "pair_pattern":
            key, value = item.child_by_field_name("key"), item.child_by_field_name("value")
            if key is None or value is None or value.type != "identifier":
                continue
            prop, local = text(key), text(value)
        else:
            continue
        kind = STACK if prop == "stack" else MESSAGE if prop == "message" else INTERNALS if prop in INTERNAL_PROPS \
            else None
        if kind:
            tainted.setdefault(local, set()).add(kind)


def find_leaks(body: ts.Node, err_names: set[str]) -> list[Leak]:
    """Assignments in `body` that put details of the error named `err_names` into the response body."""
    tainted: dict[str, set[str]] = {}
    nodes = [n for n in _walk(body) if n.type in ("variable_declarator", "assignment_expression",
                                                  "augmented_assignment_expression")]
    for _ in range(2):  # a second pass catches variables assigned after their first use in source order
        for n in nodes:
            if n.type == "variable_declarator":
                name, value = n.child_by_field_name("name"), n.child_by_field_name("value")
                if name is None or value is None:
                    continue
                if value.type == "identifier" and text(value) in err_names and not guarded(n, body):
                    if name.type == "identifier":
                        err_names = err_names | {text(name)}  # `const e = err`: an alias
                    elif name.type == "object_pattern":
                        _taint_destructured(name, tainted)  # `const { message, stack } = err`
                    continue
                if name.type != "identifier":
                    continue
                kinds = _kinds(value, err_names, tainted, body)
                if kinds:
                    tainted.setdefault(text(name), set()).update(kinds)
            else:
                left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
                if left is None or right is None or _is_body_target(left):
                    continue
                target = _root_identifier(left)
                if target is None or text(target) in err_names:
                    continue
                kinds = _kinds(right, err_names, tainted, body)
                if kinds:
                    tainted.setdefault(text(target), set()).update(kinds)
    leaks: list[Leak] = []
    tainted = {k: v for k, v in tainted.items() if k not in err_names}
    for n in nodes:
        if n.type == "variable_declarator":
            continue
        left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
        if left is None or right is None or not _is_body_target(left):
            continue
        kinds = _kinds(right, err_names, tainted, body)
        if kinds:
            leaks.append(Leak(n, kinds))
    return leaks


def param_names(params: ts.Node | None) -> list[str]:
    """Plain parameter names of a function (`err`, `ctx`; `err: Error` → `err`)."""
    if params is None:
        return []
    if params.type == "identifier":
        return [text(params)]
    names = []
    for p in params.named_children:
        if p.type == "identifier":
            names.append(text(p))
        elif p.type in ("required_parameter", "optional_parameter", "assignment_pattern"):
            inner = p.child_by_field_name("pattern") or p.child_by_field_name("left")
            names.append(text(inner) if inner is not None and inner.type == "identifier" else "")
        elif p.type != "comment":
            names.append("")
    return names


def function_params(fn: ts.Node) -> list[str]:
    return param_names(fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter"))


def function_at(tree: ts.Tree, line: int, column: int | None) -> ts.Node | None:
    """The function node that starts at `line`:`column` (1-based), as the evaluator records JSFunction.loc."""
    point = (line - 1, max((column or 1) - 1, 0))
    node = tree.root_node.descendant_for_point_range(point, point)
    best = None
    while node is not None:
        if node.is_named and node.type in FUNCTION_TYPES and node.start_point[0] == line - 1:
            best = node
            if column is None or node.start_point[1] == point[1]:
                return node
        node = node.parent
    return best


def catch_handlers(root: ts.Node):
    """(error names, body) of every `catch (err) {…}` and `.catch(err => …)` under `root`."""
    for n in _walk(root):
        if n.type == "catch_clause":
            param = n.child_by_field_name("parameter")
            body = n.child_by_field_name("body")
            if param is not None and param.type == "identifier" and body is not None:
                yield {text(param)}, body
        elif n.type == "call_expression":
            callee = n.child_by_field_name("function")
            if callee is None or callee.type != "member_expression":
                continue
            prop = callee.child_by_field_name("property")
            if prop is None or text(prop) != "catch":
                continue
            args = n.child_by_field_name("arguments")
            for arg in (args.named_children if args is not None else []):
                if arg.type in ("arrow_function", "function_expression"):
                    names = function_params(arg)
                    body = arg.child_by_field_name("body")
                    if names and names[0] and body is not None:
                        yield {names[0]}, body
