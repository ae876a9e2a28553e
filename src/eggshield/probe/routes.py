"""Routes an Egg app declares, read from its router files (never run).

Understood: `router.get('/x', ...)` and the other verbs (`del`, `all` too), the named form
`router.get('name', '/x', ...)`, `router.resources('posts', '/posts', ctrl)` (Egg's seven REST
routes), `app.router` / `this.app.router` / `const { router } = app`, and egg-router-plus
namespaces: `const r = app.router.namespace('/api')` or `router.namespace('/api').get(...)`,
nested. A path Egg would only know at run time (a variable, a RegExp) is skipped with a note.
"""

from __future__ import annotations

from pathlib import Path

import tree_sitter as ts

from eggshield.finding import InputProblem
from eggshield.js.parse import SyntaxProblem, parse, text
from eggshield.js.parse import descendants as _walk
from eggshield.probe.model import Route
from eggshield.project.files import read_source
from eggshield.project.model import EggProject

VERBS = {"get": "GET", "post": "POST", "put": "PUT", "patch": "PATCH", "delete": "DELETE", "del": "DELETE",
         "head": "HEAD", "options": "OPTIONS", "all": "ALL"}
#: Egg's resources map (@eggjs/router `REST_MAP`): action -> (method, suffix). Egg registers only
#: the actions the controller has; the probe cannot know which, and a missing one answers 404.
RESOURCES = (("index", "GET", ""), ("new", "GET", "/new"), ("show", "GET", "/:id"), ("edit", "GET", "/:id/edit"),
             ("create", "POST", ""), ("update", "PATCH", "/:id"), ("update", "PUT", "/:id"),
             ("destroy", "DELETE", "/:id"))


def _string(node: ts.Node | None) -> str | None:
    """The value of a string literal, or a template literal without substitutions."""
    if node is None:
        return None
    if node.type == "string":
        return text(node)[1:-1]
    if node.type == "template_string" and not any(c.type == "template_substitution" for c in node.children):
        return text(node)[1:-1]
    return None


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return prefix.rstrip("/") + ("/" + path.lstrip("/") if path not in ("", "/") else "")


class _RouterFile:
    def __init__(self, tree: ts.Tree, rel: str):
        self.rel = rel
        self.root = tree.root_node
        self.prefixes: dict[str, str] = {}  # variable name -> router prefix
        self.routes: list[Route] = []
        self.notes: list[str] = []

    def receiver(self, node: ts.Node) -> str | None:
        """The prefix of the router `node` evaluates to, or None when it is not a router."""
        node = _unwrap(node)
        if node.type == "identifier":
            name = text(node)
            if name in self.prefixes:
                return self.prefixes[name]
            return "" if name == "router" else None
        if node.type == "member_expression":
            prop = node.child_by_field_name("property")
            return "" if prop is not None and text(prop) == "router" else None
        if node.type == "call_expression":
            fn = _unwrap(node.child_by_field_name("function"))
            if fn is not None and fn.type == "member_expression":
                prop = fn.child_by_field_name("property")
                if prop is not None and text(prop) == "namespace":
                    base = self.receiver(fn.child_by_field_name("object"))
                    args = _args(node)
                    sub = _string(args[0]) if args else None
                    if base is not None and sub is not None:
                        return _join(base, sub)
        return None

    def collect_variables(self) -> None:
        # two passes so `const api = router.namespace(...)` after `const { router } = app` resolves
        for _ in range(2):
            for n in _walk(self.root):
                if n.type != "variable_declarator":
                    continue
                name, value = n.child_by_field_name("name"), n.child_by_field_name("value")
                if name is None or value is None:
                    continue
                if name.type == "identifier":
                    prefix = self.receiver(value)
                    if prefix is not None:
                        self.prefixes[text(name)] = prefix
                elif name.type == "object_pattern" and _unwrap(value).type in ("identifier", "member_expression"):
                    for child in name.named_children:
                        key = child if child.type == "shorthand_property_identifier_pattern" else None
                        if key is not None and text(key) == "router":
                            self.prefixes["router"] = ""

    def collect_routes(self) -> None:
        for n in _walk(self.root):
            if n.type != "call_expression":
                continue
            fn = _unwrap(n.child_by_field_name("function"))
            if fn is None or fn.type != "member_expression":
                continue
            prop = fn.child_by_field_name("property")
            verb = text(prop) if prop is not None else ""
            if verb not in VERBS and verb not in ("resources", "resource"):
                continue
            prefix = self.receiver(fn.child_by_field_name("object"))
            if prefix is None:
                continue
            args = _args(n)
            line = n.start_point[0] + 1
            strings = [_string(a) for a in args[:2]]
            if verb in VERBS and args and args[0].type == "array":
                # router.get([ '/a', '/b' ], ...): koa-router registers each path
                for item in args[0].named_children:
                    value = _string(item)
                    if value is not None and value.startswith("/"):
                        self.routes.append(Route(VERBS[verb], _join(prefix, value), "router", self.rel, line))
                continue
            if verb in VERBS:
                path = None
                if strings and strings[0] is not None and strings[0].startswith("/"):
                    path = strings[0]
                elif len(strings) > 1 and strings[0] is not None and strings[1] is not None:
                    path = strings[1]  # router.get('name', '/path', ...)
                if path is None:
                    what = "a RegExp" if args and args[0].type == "regex" else "a value known only at run time"
                    self.notes.append(f"{self.rel}:{line}: route path is {what}; not probed")
                    continue
                self.routes.append(Route(VERBS[verb], _join(prefix, path), "router", self.rel, line))
            else:
                base = strings[1] if len(strings) > 1 and strings[1] is not None else strings[0] if strings else None
                if base is None or not base.startswith("/"):
                    self.notes.append(f"{self.rel}:{line}: resources path known only at run time; not probed")
                    continue
                for _action, method, suffix in RESOURCES:
                    self.routes.append(Route(method, _join(prefix, base + suffix), "router", self.rel, line))


def _unwrap(node: ts.Node | None) -> ts.Node | None:
    while node is not None and node.type in ("parenthesized_expression", "as_expression", "non_null_expression",
                                              "await_expression"):
        node = node.named_children[0] if node.named_children else None
    return node


def _args(call: ts.Node) -> list[ts.Node]:
    args = call.child_by_field_name("arguments")
    return [a for a in args.named_children if a.type != "comment"] if args is not None else []


def routes_from_source(source: str, rel: str) -> tuple[list[Route], list[str]]:
    """Routes in one router file's source text (SyntaxProblem when it does not parse)."""
    tree = parse(source.encode("utf-8"), rel)
    rf = _RouterFile(tree, rel)
    rf.collect_variables()
    rf.collect_routes()
    return rf.routes, rf.notes


def discover_routes(project: EggProject) -> tuple[list[Route], list[str], list[InputProblem]]:
    """Every route of the app's router files: (routes in file order, notes, unreadable files)."""
    routes: list[Route] = []
    notes: list[str] = []
    problems: list[InputProblem] = []
    for path in project.router_files:
        rel = project.rel(Path(path))
        source = read_source(path, project.scan_root)
        if isinstance(source, InputProblem):
            problems.append(source)
            continue
        try:
            found, file_notes = routes_from_source(source, rel)
        except SyntaxProblem as exc:
            problems.append(InputProblem(rel, str(exc)))
            continue
        routes.extend(found)
        notes.extend(file_notes)
    if project.router_files and not routes and not problems:
        notes.append("no route found in the router files (routes registered by decorators or helpers?): "
                     "give --route for the paths to probe")
    seen: set[tuple[str, str]] = set()
    unique = []
    for r in routes:
        if (r.method, r.path) not in seen:
            seen.add((r.method, r.path))
            unique.append(r)
    return unique, notes, problems


def parse_route_option(spec: str) -> Route:
    """`--route` values: `/path` or `METHOD /path` (METHOD defaults to GET for reads, POST for the matrix)."""
    spec = spec.strip()
    method, _, path = spec.partition(" ")
    if not path:
        method, path = "", spec
    method = method.upper()
    if method and method not in set(VERBS.values()):
        raise ValueError(f"--route {spec!r}: unknown method {method}")
    if not path.startswith("/"):
        raise ValueError(f"--route {spec!r}: the path must start with / (routes are on the target origin)")
    return Route(method or "ANY", path, "user")
