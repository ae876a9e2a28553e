"""Are uploads served back from the app's own origin? (upload handlers that write into the static dir)

An uploaded `.html` or `.svg` is harmless in a bucket on another domain and stored XSS when the app
writes it under `app/public` and egg-static serves it at `/public/...`. This module finds upload
handlers (`ctx.getFileStream()`, `ctx.multipart()`, `ctx.request.files`) whose file also writes a
file (`fs.createWriteStream`, `writeFile`, `rename`, `copyFile`, fs-extra `move`/`copy`) to a path
inside a directory egg-static serves: a literal `app/public`, a configured `static.dir`, or a value
read from `config.static`. Paths are followed through local variables and `app.config.*` reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import tree_sitter as ts

from eggshield.checks._code_query import (
    FUNCTION_TYPES,
    Hit,
    calls_by_name,
    calls_by_property,
    chain,
    enclosing_function,
    is_ctx_expr,
    members_by_property,
    snippet,
    string_fragments,
    unwrap,
)
from eggshield.checks.context import CheckContext
from eggshield.js.parse import text
from eggshield.js.values import Unknown

UPLOAD_CALLS = ("getFileStream", "getFileStreams", "multipart", "saveRequestFiles")
# write call -> index of its destination argument
WRITE_DEST = {"createWriteStream": 0, "writeFile": 0, "writeFileSync": 0, "outputFile": 0, "outputFileSync": 0,
              "rename": 1, "renameSync": 1, "copyFile": 1, "copyFileSync": 1, "move": 1, "moveSync": 1,
              "copy": 1, "copySync": 1, "cp": 1}
DEFAULT_STATIC = "app/public"


@dataclass(frozen=True)
class ServedWrite:
    path: Path
    node: ts.Node
    served_dir: str  # which static dir (or config read) the destination is in
    dest: str  # the destination expression as written


def upload_files(ctx: CheckContext) -> set[Path]:
    """Source files that read uploaded files."""
    found = {h.path for h in calls_by_property(ctx.sources, *UPLOAD_CALLS) if is_ctx_expr(h.receiver)}
    for h in members_by_property(ctx.sources, "files"):
        root, props = chain(h.node)
        if props[-2:] == ["request", "files"] or (root.type == "identifier" and text(root) == "request"):
            found.add(h.path)
    return found


def served_dirs(ctx: CheckContext) -> list[str]:
    """The dirs egg-static serves, as path tails relative to the app root (or absolute when outside it)."""
    if not ctx.config.plugin_enabled("static"):
        return []
    value = ctx.config.get("static.dir")
    values = value if isinstance(value, list) else [value]
    out = []
    root = ctx.project.root.resolve().as_posix()
    for v in values:
        if not isinstance(v, str) or not v:
            continue
        v = v.replace("\\", "/").replace("{baseDir}", root)
        out.append(v[len(root):].strip("/") if v.startswith(root + "/") else v)
    return out or [DEFAULT_STATIC]


def uploads_served_back(ctx: CheckContext) -> list[ServedWrite]:
    dirs = served_dirs(ctx)
    if not dirs:
        return []
    files = upload_files(ctx)
    if not files:
        return []
    hits: list[Hit] = [h for h in (*calls_by_property(ctx.sources, *WRITE_DEST), *calls_by_name(ctx.sources, *WRITE_DEST))
                       if h.path in files]
    out: list[ServedWrite] = []
    for hit in hits:
        args = hit.args
        index = WRITE_DEST[hit.name]
        if len(args) <= index:
            continue
        dest = args[index]
        pieces = _Pieces(ctx, hit.path, enclosing_function(hit.node))
        pieces.collect(dest, depth=0)
        where = pieces.served(dirs)
        if where:
            out.append(ServedWrite(hit.path, hit.node, where, snippet(dest, 80)))
    return out


class _Pieces:
    """String pieces and config reads a path expression is built from, following local variables."""

    def __init__(self, ctx: CheckContext, path: Path, fn: ts.Node | None):
        self.ctx, self.path, self.fn = ctx, path, fn
        self.fragments: list[str] = []
        self.config_reads: list[str] = []
        self.mentions_base = False

    def collect(self, node: ts.Node, depth: int) -> None:
        if depth > 4:
            return
        node = unwrap(node)
        self.fragments.extend(string_fragments(node, self.path))
        body = text(node)
        if "baseDir" in body or "process.cwd" in body or "__dirname" in body:
            self.mentions_base = True
        for sub in _walk(node):
            if sub.type in ("member_expression", "subscript_expression") and (
                    sub.parent is None or sub.parent.type not in ("member_expression", "subscript_expression")):
                self._config_read(sub)
            elif sub.type == "identifier":
                self._follow(text(sub), depth)

    def _config_read(self, node: ts.Node) -> None:
        _, props = chain(node)
        if "config" not in props:
            return
        key = [p for p in props[props.index("config") + 1:] if p not in ("()", "*")]
        if not key:
            return
        dotted = ".".join(key)
        self.config_reads.append(dotted)
        value = self.ctx.config.get(dotted)
        if isinstance(value, str):
            self.fragments.append(value)
        elif isinstance(value, Unknown):
            self.fragments.append(value.reason)

    def _follow(self, name: str, depth: int) -> None:
        if self.fn is None:
            return
        for node in _walk(self.fn):
            if node.type != "variable_declarator":
                continue
            target, value = node.child_by_field_name("name"), node.child_by_field_name("value")
            if target is None or value is None:
                continue
            if target.type == "identifier" and text(target) == name:
                self.collect(value, depth + 1)
            elif target.type == "object_pattern" and name in _pattern_names(target):
                # `const { public_uploads_path } = app.config.static`: a read of that config object
                _, props = chain(value)
                if "config" in props:
                    key = [p for p in props[props.index("config") + 1:] if p not in ("()", "*")]
                    self.config_reads.append(".".join([*key, name]))
                    found = self.ctx.config.get([*key, name])
                    if isinstance(found, str):
                        self.fragments.append(found)

    def served(self, dirs: list[str]) -> str | None:
        for read in self.config_reads:
            if read == "static" or read.startswith("static."):
                return f"config.{read}"
        joined = "/".join(f.replace("\\", "/") for f in self.fragments)
        segments = [s for s in re.split(r"/+", joined) if s and s != "."]
        for d in dirs:
            if d.startswith("/"):
                if d.rstrip("/") in re.sub(r"/+", "/", "/" + joined):
                    return d
                continue
            want = [s for s in PurePosixPath(d).parts if s not in (".", "")]
            if not want or (len(want) == 1 and not self.mentions_base):
                continue
            if any(segments[i:i + len(want)] == want for i in range(len(segments) - len(want) + 1)):
                return d
        return None


def _pattern_names(pattern: ts.Node) -> set[str]:
    names = set()
    for n in _walk(pattern):
        if n.type == "shorthand_property_identifier_pattern" or n.type == "identifier" and n.parent is not None and n.parent.type == "pair_pattern":
            names.add(text(n))
    return names


def _walk(node: ts.Node):
    stack = [node]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(c for c in reversed(cur.named_children) if c.type not in FUNCTION_TYPES or c is node)
