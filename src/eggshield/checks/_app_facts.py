"""Facts the CSRF and header rules read from the app's own code (parsed once, upstream).

Routes and their methods (router files), `app.jsonp()` calls and their options, session-based
login (`ctx.session.user = ...`), `ctx.rotateCsrfSecret()`, and code that sets or removes a
security header by hand. tree-sitter queries over `ctx.sources`; nothing is executed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import tree_sitter as ts

from eggshield.checks._knowledge import header_names
from eggshield.js.parse import _language, kind_of, text
from eggshield.js.values import UNDEFINED, JSArray, JSRegExp, Loc, Unknown

STATE_CHANGING = {"post": "POST", "put": "PUT", "patch": "PATCH", "del": "DELETE", "delete": "DELETE",
                  "all": "ALL"}
ROUTE_METHODS = {*STATE_CHANGING, "get", "head", "options", "resources", "resource"}
# session keys that mean "this session carries who is logged in"
AUTH_KEY = re.compile(
    r"^(user|users?_?id|uid|user_?info|user_?name|account(_?id)?|login(_?user)?|logged_?in|is_?log(ged_?)?in|"
    r"auth(ed|enticated|_?user)?|current_?user|admin(_?id|_?user|_?info)?|member(_?id)?|passport|"
    r"(access_?)?token|me|profile|identity|principal)$", re.IGNORECASE)

_CALLS = """
(call_expression
  function: (member_expression object: (_) @obj property: (property_identifier) @prop)
  arguments: (arguments) @args) @call
"""
_SESSION_MEMBER = """
(member_expression object: (member_expression property: (property_identifier) @s) property: (property_identifier) @key) @m
(subscript_expression object: (member_expression property: (property_identifier) @s) index: (string) @key) @m
"""
_STRINGS = "(string) @s"
_ASSIGN = "(assignment_expression left: (member_expression) @left right: (_) @right) @a"
_IMPORTS = """
(call_expression function: (identifier) @f arguments: (arguments . (string) @mod))
(import_statement source: (string) @mod)
"""


@dataclass(frozen=True)
class Route:
    method: str  # POST, PUT, PATCH, DELETE, ALL, GET...
    path: str
    loc: Loc


@dataclass(frozen=True)
class JsonpCall:
    loc: Loc
    csrf: object = UNDEFINED  # the call's own option (UNDEFINED = not given: config.jsonp applies)
    white_list: object = UNDEFINED


@dataclass(frozen=True)
class HeaderTouch:
    header: str  # lower-case header name
    action: str  # "set", "remove", "off" (ctx.securityOptions.X = { enable: false })
    loc: Loc


@dataclass
class CodeFacts:
    routes: list[Route] = field(default_factory=list)
    routes_complete: bool = True  # False when some route paths could not be read statically
    jsonp_calls: list[JsonpCall] = field(default_factory=list)
    session_auth: list[Loc] = field(default_factory=list)  # reads or writes of ctx.session.<user-ish key>
    session_login: list[Loc] = field(default_factory=list)  # writes: ctx.session.user = ..., ctx.login(user)
    renders: list[Loc] = field(default_factory=list)  # ctx.render()/renderView()/renderString(): HTML pages
    rotates_csrf: list[Loc] = field(default_factory=list)
    header_touches: list[HeaderTouch] = field(default_factory=list)
    helmet: list[Loc] = field(default_factory=list)

    @property
    def state_changing_routes(self) -> list[Route]:
        return [r for r in self.routes if r.method in ("POST", "PUT", "PATCH", "DELETE", "ALL")]

    def sets(self, header: str) -> list[HeaderTouch]:
        return [t for t in self.header_touches if t.header == header and t.action == "set"]

    def removes(self, header: str) -> list[HeaderTouch]:
        return [t for t in self.header_touches if t.header == header and t.action in ("remove", "off")]


@cache
def _query(kind: str, source: str) -> ts.Query:
    return ts.Query(_language(kind), source)


def _run(path: Path, tree: ts.Tree, source: str):
    return ts.QueryCursor(_query(kind_of(path), source)).matches(tree.root_node)


def _str(node: ts.Node | None) -> str | None:
    """The value of a string literal or a template without substitutions, else None."""
    if node is None:
        return None
    if node.type == "string":
        return "".join(text(c) for c in node.named_children if c.type in ("string_fragment", "escape_sequence"))
    if node.type == "template_string" and not any(c.type == "template_substitution" for c in node.named_children):
        return text(node)[1:-1]
    return None


def _literal(node: ts.Node):
    """A literal option value (true/false/string/regex/array of them), else Unknown."""
    t = node.type
    if t in ("true", "false"):
        return t == "true"
    if t in ("null", "undefined"):
        return None if t == "null" else UNDEFINED
    s = _str(node)
    if s is not None:
        return s
    if t == "regex":
        pattern = node.child_by_field_name("pattern")
        flags = node.child_by_field_name("flags")
        return JSRegExp(text(pattern) if pattern else "", text(flags) if flags else "")
    if t == "array":
        return JSArray([_literal(c) for c in node.named_children if c.type != "comment"])
    return Unknown(f"`{_short(text(node))}` in code")


def _short(s: str, limit: int = 60) -> str:
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _loc(rel: str, node: ts.Node) -> Loc:
    return Loc(rel, node.start_point[0] + 1, node.start_point[1] + 1)


def collect(project, sources: dict[Path, ts.Tree]) -> CodeFacts:
    facts = CodeFacts()
    router_files = {p.resolve() for p in project.router_files} | set(project.router_files)
    names = [n.encode() for n in header_names()]
    for path, tree in sources.items():
        # Each query runs only on files whose text can hold a match: most files need none.
        src = tree.root_node.text or b""
        rel = project.rel(path)
        is_router = path in router_files or path.resolve() in router_files
        if is_router or any(w in src for w in _CALL_WORDS):
            _calls(facts, path, tree, rel, is_router)
        if b"session" in src:
            _session(facts, path, tree, rel)
        low = src.lower()
        if b"securityoptions" in low or any(n in low for n in names):
            _headers(facts, path, tree, rel)
        if b"helmet" in src:
            _imports(facts, path, tree, rel)
    return facts


_CALL_WORDS = (b"jsonp", b"rotateCsrfSecret", b"render", b"login")


def _calls(facts: CodeFacts, path: Path, tree: ts.Tree, rel: str, is_router: bool) -> None:
    namespaces: dict[str, str] = {}
    matches = _run(path, tree, _CALLS)
    if is_router:  # `const api = app.router.namespace('/api')` prefixes the routes declared on `api`
        for _, caps in matches:
            call = caps["call"][0]
            if text(caps["prop"][0]) == "namespace" and call.parent is not None \
                    and call.parent.type == "variable_declarator":
                name = call.parent.child_by_field_name("name")
                first = caps["args"][0].named_children[:1]
                prefix = _str(first[0]) if first else None
                if name is not None and prefix is not None:
                    namespaces[text(name)] = prefix
    for _, caps in matches:
        prop = text(caps["prop"][0])
        call = caps["call"][0]
        args = [c for c in caps["args"][0].named_children if c.type != "comment"]
        obj = text(caps["obj"][0])
        if prop == "jsonp" and (obj == "app" or obj.endswith(".app")):
            facts.jsonp_calls.append(_jsonp_call(rel, call, args))
        elif prop == "rotateCsrfSecret":
            facts.rotates_csrf.append(_loc(rel, call))
        elif prop in ("render", "renderView", "renderString") and (obj == "this" or obj.endswith("ctx")):
            facts.renders.append(_loc(rel, call))
        elif prop == "login" and (obj == "this" or obj.endswith("ctx")) and args:  # egg-passport
            facts.session_login.append(_loc(rel, call))
        elif is_router and prop in ROUTE_METHODS and _is_router_object(obj, namespaces):
            _route(facts, rel, call, prop, args, namespaces.get(obj, ""))


def _is_router_object(obj: str, namespaces: dict[str, str]) -> bool:
    return obj in namespaces or obj in ("app", "router", "this.app") or obj.endswith("router") \
        or obj.endswith("Router")


def _route(facts: CodeFacts, rel: str, call: ts.Node, prop: str, args: list[ts.Node], prefix: str) -> None:
    strings = [_str(a) for a in args[:2]]
    path = None
    if len(strings) == 2 and strings[0] is not None and strings[1] is not None and strings[1].startswith("/"):
        path = strings[1]  # router.post('name', '/path', ...)
    elif strings and strings[0] is not None:
        path = strings[0]
    if path is None:
        if prop in STATE_CHANGING or prop.startswith("resource"):
            facts.routes_complete = False
        return
    path = prefix.rstrip("/") + path if prefix else path
    loc = _loc(rel, call)
    if prop.startswith("resource"):
        base = path.rstrip("/") or ""
        facts.routes.extend([Route("POST", base or "/", loc), Route("PUT", f"{base}/:id", loc),
                             Route("PATCH", f"{base}/:id", loc), Route("DELETE", f"{base}/:id", loc)])
        return
    facts.routes.append(Route(STATE_CHANGING.get(prop, prop.upper()), path, loc))


def _jsonp_call(rel: str, call: ts.Node, args: list[ts.Node]) -> JsonpCall:
    loc = _loc(rel, call)
    if not args:
        return JsonpCall(loc)
    opts = args[0]
    if opts.type != "object":
        unknown = Unknown(f"options `{_short(text(opts))}` are not a literal")
        return JsonpCall(loc, csrf=unknown, white_list=unknown)
    csrf: object = UNDEFINED
    white: object = UNDEFINED
    for pair in opts.named_children:
        if pair.type == "spread_element":
            unknown = Unknown(f"options spread `{_short(text(pair))}`")
            csrf = csrf if csrf is not UNDEFINED else unknown
            white = white if white is not UNDEFINED else unknown
            continue
        if pair.type == "shorthand_property_identifier":
            name = text(pair)
            if name in ("csrf", "whiteList"):
                value = Unknown(f"variable `{name}`")
                csrf, white = (value, white) if name == "csrf" else (csrf, value)
            continue
        if pair.type != "pair":
            continue
        key_node = pair.child_by_field_name("key")
        key = _str(key_node) if key_node is not None and key_node.type == "string" else text(key_node)
        value_node = pair.child_by_field_name("value")
        if key == "csrf" and value_node is not None:
            csrf = _literal(value_node)
        elif key == "whiteList" and value_node is not None:
            white = _literal(value_node)
    return JsonpCall(loc, csrf=csrf, white_list=white)


def _session(facts: CodeFacts, path: Path, tree: ts.Tree, rel: str) -> None:
    for _, caps in _run(path, tree, _SESSION_MEMBER):
        if text(caps["s"][0]) != "session":
            continue
        key_node = caps["key"][0]
        key = _str(key_node) if key_node.type == "string" else text(key_node)
        if key and AUTH_KEY.match(key):
            member = caps["m"][0]
            facts.session_auth.append(_loc(rel, member))
            parent = member.parent
            if parent is not None and parent.type == "assignment_expression" \
                    and parent.child_by_field_name("left") == member:
                facts.session_login.append(_loc(rel, member))
    for _, caps in _run(path, tree, _ASSIGN):  # ctx.session = { user, ... }
        left, right = caps["left"][0], caps["right"][0]
        prop = left.child_by_field_name("property")
        if prop is None or text(prop) != "session" or right.type != "object":
            continue
        for member in right.named_children:
            key = member.child_by_field_name("key") if member.type == "pair" else member
            name = _str(key) if key is not None and key.type == "string" else (text(key) if key is not None else "")
            if name and AUTH_KEY.match(name):
                facts.session_auth.append(_loc(rel, left))
                facts.session_login.append(_loc(rel, left))
                break


def _headers(facts: CodeFacts, path: Path, tree: ts.Tree, rel: str) -> None:
    names = header_names()
    captures = ts.QueryCursor(_query(kind_of(path), _STRINGS)).captures(tree.root_node)
    for node in captures.get("s", []):
        value = (_str(node) or "").lower()
        if value not in names:
            continue
        action = _header_action(node)
        if action:
            facts.header_touches.append(HeaderTouch(value, action, _loc(rel, node)))
    for _, caps in _run(path, tree, _ASSIGN):  # ctx.securityOptions.xframe = { enable: false }
        left, right = caps["left"][0], caps["right"][0]
        obj, prop = left.child_by_field_name("object"), left.child_by_field_name("property")
        if obj is None or prop is None or not text(obj).endswith("securityOptions") or right.type != "object":
            continue
        name = text(prop)
        for pair in right.named_children:
            if pair.type == "pair" and text(pair.child_by_field_name("key")) == "enable" \
                    and text(pair.child_by_field_name("value")) == "false":
                header = next((h for h, mw in names.items() if mw == name), name.lower())
                facts.header_touches.append(HeaderTouch(header, "off", _loc(rel, left)))


def _header_action(node: ts.Node) -> str | None:
    parent = node.parent
    if parent is None:
        return None
    if parent.type == "arguments" and parent.named_children and parent.named_children[0] == node:
        call = parent.parent
        fn = call.child_by_field_name("function") if call is not None else None
        prop = fn.child_by_field_name("property") if fn is not None and fn.type == "member_expression" else None
        name = text(prop) if prop is not None else ""
        if name in ("set", "setHeader", "append", "header", "writeHead"):
            return "set"
        if name in ("remove", "removeHeader"):
            return "remove"
        return None
    if parent.type == "subscript_expression":
        up = parent.parent
        if up is not None and up.type == "unary_expression" and text(up).startswith("delete"):
            return "remove"
        if up is not None and up.type == "assignment_expression" and up.child_by_field_name("left") == parent:
            return "set"
        return None
    if parent.type == "pair" and parent.child_by_field_name("key") == node:
        obj = parent.parent
        args = obj.parent if obj is not None else None
        call = args.parent if args is not None and args.type == "arguments" else None
        fn = call.child_by_field_name("function") if call is not None else None
        prop = fn.child_by_field_name("property") if fn is not None and fn.type == "member_expression" else None
        if prop is not None and text(prop) in ("set", "setHeader", "writeHead"):
            return "set"
    return None


def _imports(facts: CodeFacts, path: Path, tree: ts.Tree, rel: str) -> None:
    for _, caps in _run(path, tree, _IMPORTS):
        fn = caps.get("f")
        if fn and text(fn[0]) != "require":
            continue
        mod = _str(caps["mod"][0]) or ""
        if mod in ("helmet", "koa-helmet") or mod.endswith("/helmet"):
            facts.helmet.append(_loc(rel, caps["mod"][0]))


_CACHE: list[tuple[object, CodeFacts]] = []


def facts_for(ctx) -> CodeFacts:
    """CodeFacts for a CheckContext, computed once per scan of an app (several rules read them)."""
    for sources, facts in _CACHE:
        if sources is ctx.sources:
            return facts
    facts = collect(ctx.project, ctx.sources)
    _CACHE.append((ctx.sources, facts))
    del _CACHE[:-4]
    return facts
