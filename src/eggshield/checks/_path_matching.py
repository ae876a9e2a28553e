"""egg-path-matching semantics in Python: what a `match`/`ignore` pattern of egg-security covers.

egg-security hands each sub-middleware's `match`/`ignore` to egg-path-matching: a string goes
through path-to-regexp (`{end: false}`: a prefix match on whole segments, case-insensitive), a
RegExp is `.test()`ed against `ctx.path` (unanchored unless it says `^`), a function is called
with ctx, an array matches when any member does. Patterns are compiled here to Python regular
expressions; a pattern that cannot be translated faithfully is reported as unknown, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from eggshield.js.values import UNDEFINED, JSArray, JSFunction, JSRegExp, Unknown

# path-to-regexp@1.9 (egg 3) tokenizer, ported verbatim: escaped char | [prefix](:name[(re)] | (re))[modifier] | *
_PTR_TOKEN = re.compile(
    r"(\\.)|([/.])?(?:(?::(\w+)(?:\(((?:\\.|[^\\()])+)\))?|\(((?:\\.|[^\\()])+)\))([+*?])?|(\*))")

# Paths no exemption should cover all of: if a pattern matches every one, it matches every path.
PROBE_PATHS = (
    "/", "/login", "/logout", "/user", "/user/1", "/users/42/edit", "/account/password", "/api/user",
    "/admin/settings", "/post/create", "/cart/checkout", "/upload", "/a/b/c/d/e", "/zq9x", "/Order/Pay",
    "/x.json", "/v1/things/7", "/graphql", "/_internal",
)


@dataclass(frozen=True)
class Pattern:
    """One match/ignore member: a compiled regex, or why it cannot be judged statically."""

    source: str  # as written (for messages)
    regex: re.Pattern | None = None
    function: JSFunction | None = None
    unknown: str | None = None  # reason it cannot be judged

    def matches(self, path: str) -> bool | None:
        if self.regex is None:
            return None
        return bool(self.regex.search(path[:MAX_SUBJECT]))

    @property
    def judged(self) -> bool:
        return self.regex is not None


def path_to_regex(pattern: str) -> re.Pattern:
    """path-to-regexp(pattern, [], {end: false}) as egg-path-matching calls it (case-insensitive)."""
    out: list[str] = []
    pos = 0
    for m in _PTR_TOKEN.finditer(pattern):
        out.append(re.escape(pattern[pos:m.start()]))
        pos = m.end()
        escaped, prefix, name, capture, group, modifier, asterisk = m.groups()
        if escaped:
            out.append(re.escape(escaped[1]))
            continue
        prefix = prefix or ""
        delimiter = prefix or "/"
        body = capture or group or (".*" if asterisk else f"[^{re.escape(delimiter)}]+?")
        del name
        if modifier in ("+", "*"):
            body = f"{body}(?:{re.escape(delimiter)}{body})*"
        part = f"{re.escape(prefix)}({body})"
        out.append(f"(?:{part})?" if modifier in ("?", "*") else part)
    out.append(re.escape(pattern[pos:]))
    route = "".join(out)
    if route.endswith(r"/"):
        route = route[:-1]
    return re.compile("^" + route + r"(?:/(?=$))?(?=/|$)", re.IGNORECASE)


MAX_SUBJECT = 256  # longest path a pattern is ever tested against


def nested_quantifier(src: str) -> bool:
    """A quantified group that itself contains a quantifier (`(a+)+`): exponential backtracking in `re`."""
    stack: list[bool] = []  # per open group: does it contain a quantifier?
    i, in_class, closed_quantified = 0, False, False
    while i < len(src):
        ch = src[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            stack.append(False)
        elif ch == ")" and stack:
            closed_quantified = stack.pop()
            if closed_quantified and i + 1 < len(src) and src[i + 1] in "*+{":
                return True
            if closed_quantified and stack:
                stack[-1] = True
            i += 1
            continue
        elif ch in "*+{" and stack:
            stack[-1] = True
        i += 1
    return False


def js_regex(rx: JSRegExp) -> re.Pattern | None:
    """A JS RegExp as Python `re`, or None when the syntax differs in ways that matter (or could hang)."""
    src = rx.pattern
    if nested_quantifier(src) or len(src) > 2000:
        return None
    if "(?<" in src and not re.search(r"\(\?<[=!]", src):
        src = re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", src)
        src = re.sub(r"\\k<([A-Za-z_]\w*)>", r"(?P=\1)", src)
    if "[^]" in src or re.search(r"\\[cu]\{", src) or "\\u{" in src:
        return None
    flags = 0
    if "i" in rx.flags:
        flags |= re.IGNORECASE
    if "m" in rx.flags:
        flags |= re.MULTILINE
    if "s" in rx.flags:
        flags |= re.DOTALL
    if "y" in rx.flags:  # sticky from lastIndex 0, which egg-path-matching resets for /g only: anchored
        src = r"\A(?:" + src + ")"
    try:
        return re.compile(src, flags)
    except (re.error, OverflowError):
        return None


def compile_member(value) -> Pattern:
    if isinstance(value, str):
        try:
            compiled = path_to_regex(value[:2000])
        except re.error:
            return Pattern(source=repr(value), unknown="a path pattern eggshield cannot translate")
        if nested_quantifier(compiled.pattern):
            return Pattern(source=repr(value), unknown="a path pattern eggshield will not evaluate (nested repetition)")
        return Pattern(source=repr(value), regex=compiled)
    if isinstance(value, JSRegExp):
        compiled = js_regex(value)
        if compiled is None:
            why = ("a regular expression eggshield will not evaluate (nested repetition)"
                   if nested_quantifier(value.pattern) else "a regular expression Python cannot evaluate the same way")
            return Pattern(source=str(value), unknown=why)
        return Pattern(source=str(value), regex=compiled)
    if isinstance(value, JSFunction):
        if _always_true(value):
            return Pattern(source=f"function at {value.loc}", regex=re.compile(""), function=value)
        return Pattern(source=f"function at {value.loc}", function=value,
                       unknown=f"a function ({value.loc}) that runs per request")
    if isinstance(value, Unknown):
        return Pattern(source="<unknown>", unknown=f"a value that depends on {value.reason}")
    shown = "null" if value is None else "undefined" if value is UNDEFINED else repr(value)
    return Pattern(source=shown, unknown=f"an unsupported pattern value {shown} (egg-path-matching throws at startup)")


def compile_patterns(value) -> list[Pattern]:
    """`match`/`ignore` as egg-path-matching reads it: one pattern or an array of them."""
    if isinstance(value, JSArray | list):
        return [compile_member(v) for v in value]
    return [compile_member(value)]


def _always_true(fn: JSFunction) -> bool:
    body = re.sub(r"\s+", "", fn.source or "")
    return bool(re.fullmatch(r"(?:async)?(?:function\w*)?\(?\w*\)?(?:=>)?(?:true|\{returntrue;?\})", body))


def covers_every_path(patterns: list[Pattern]) -> bool:
    """True when the (judged) patterns together match every probe path."""
    return all(any(p.matches(path) for p in patterns if p.judged) for path in PROBE_PATHS)


def literal_prefix(p: Pattern) -> str | None:
    """The static path a pattern starts with (`/api/` for '/api/:x' or /^\\/api\\//), if anchored."""
    if p.regex is None:
        return None
    src = p.regex.pattern
    if src.startswith("^"):
        src = src[1:]
    elif src.startswith(r"\A(?:^"):
        src = src[6:]
    else:
        return None
    out = []
    i = 0
    while i < len(src):
        ch = src[i]
        if ch == "\\" and i + 1 < len(src) and not src[i + 1].isalnum():
            out.append(src[i + 1])
            i += 2
            continue
        if ch in ".^$*+?()[]{}|\\":
            # a quantifier makes the previous character optional: drop it from the prefix
            if ch in "*?{" and out:
                out.pop()
            break
        out.append(ch)
        i += 1
    return "".join(out)


def subtree_of(p: Pattern, prefix: str) -> bool:
    """Whether the pattern covers everything under `prefix` (so it is a prefix exemption, not one route)."""
    base = prefix.rstrip("/") or ""
    samples = [f"{base}/zq9x/deep/path", f"{base}/a"]
    return all(p.matches(s) for s in samples)


def route_sample(path: str) -> str:
    """A concrete path for a route pattern: '/user/:id' → '/user/1', '/files/*' → '/files/x'."""
    path = re.sub(r":\w+(\([^)]*\))?[?*+]?", "1", path)
    path = path.replace("(.*)", "x").replace("*", "x")[:MAX_SUBJECT]
    return path if path.startswith("/") else "/" + path
