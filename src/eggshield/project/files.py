"""Safe walking and reading of a scanned tree.

Everything eggshield reads from a project comes through here, so that a hostile or broken
tree (symlink loops, links out of the tree, FIFOs, binary or huge files) costs one clear
`InputProblem` line per file and never a hang, a crash or a read outside the tree.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from eggshield.finding import InputProblem

MAX_BYTES = 2_000_000

SOURCE_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx")
TS_SUFFIXES = (".ts", ".mts", ".cts", ".tsx")
_DECLARATION_SUFFIXES = (".d.ts", ".d.mts", ".d.cts")
# A .js/.mjs/.cjs/.jsx next to a TS file of the same stem is tsc output (egg TS apps compile in place).
_COMPILED_FROM = {".js": (".ts", ".tsx"), ".jsx": (".tsx",), ".mjs": (".mts",), ".cjs": (".cts",)}

# Skipped wherever they appear.
SKIP_ANYWHERE = frozenset({"node_modules"})
# Skipped next to a package.json: what Egg, test runners and compilers write there.
SKIP_AT_PACKAGE_ROOT = frozenset({"run", "logs", "coverage", "dist", "build", "test", "tests", "__tests__"})
# Test folders are skipped anywhere except under app/, where Egg's loader would load them.
TEST_DIRS = frozenset({"test", "tests", "__tests__"})

_OUTDIR_RE = re.compile(r'"outDir"\s*:\s*"([^"]+)"')


def is_source_name(name: str) -> bool:
    """JS/TS source by name; declaration files describe types only and are never loaded."""
    return name.endswith(SOURCE_SUFFIXES) and not name.endswith(_DECLARATION_SUFFIXES)


def display_path(path: str | os.PathLike, root: str | os.PathLike) -> str:
    """How a path is shown in problems: relative to the tree, forward slashes; absolute if outside."""
    p, r = os.path.abspath(path), os.path.abspath(root)
    if p == r:
        return "."
    if p.startswith(r.rstrip(os.sep) + os.sep):
        return Path(os.path.relpath(p, r)).as_posix()
    return Path(p).as_posix()


def _within(real: str, tree_real: str) -> bool:
    return real == tree_real or real.startswith(tree_real.rstrip(os.sep) + os.sep)


def too_large_message(size: int, limit: int) -> str:
    return f"too large: {size:,} bytes, over the {limit:,}-byte limit; not analysed"


def _compiled_output(name: str, names: set[str]) -> bool:
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        return False
    sources = _COMPILED_FROM.get("." + suffix)
    return bool(sources) and any(stem + s in names for s in sources)


def _output_dirs(pkg_dir: str) -> set[str]:
    """tsconfig `outDir` below a package root: compiled output, not source."""
    try:
        with open(os.path.join(pkg_dir, "tsconfig.json"), encoding="utf-8", errors="replace") as fh:
            text = fh.read(200_000)
    except OSError:
        return set()
    out = set()
    for value in _OUTDIR_RE.findall(text):
        target = os.path.normpath(os.path.join(pkg_dir, value))
        if target != os.path.normpath(pkg_dir) and _within(target, pkg_dir):
            out.add(target)
    return out


# app/ subfolders Egg's loader never requires: egg-static's public/, templates, and the front-end
# sources of SSR boilerplates (egg-vue-webpack-boilerplate's app/web, DoraCMS's app/assets)
FRONTEND_IN_APP = frozenset({"public", "web", "assets"})


def _skip_dir(name: str, parent_name: str, is_pkg_root: bool, in_app: bool) -> bool:
    # Egg's loader globs without dot files, so hidden dirs (.git, .github, ...) are never code.
    if name.startswith(".") or name in SKIP_ANYWHERE:
        return True
    if parent_name == "app" and name in FRONTEND_IN_APP:
        return True  # static assets and front-end bundles: browser code, not what Egg loads
    if in_app:
        return False
    if is_pkg_root and name in SKIP_AT_PACKAGE_ROOT:
        return True
    return name in TEST_DIRS


def walk(root: str | os.PathLike, *, max_bytes: int = MAX_BYTES,
         problems: list[InputProblem] | None = None,
         tree: str | os.PathLike | None = None) -> Iterator[Path]:
    """Yield the JS/TS sources under `root` once each, in a stable order.

    Problems (links out of the tree, loops, files over `max_bytes`, unreadable dirs) are
    appended to `problems`, one line each; content problems are left to read_source().
    `tree` (default `root`) is the scanned tree: links that leave it are not followed and
    problem paths are shown relative to it. Symlinks are followed only after every real
    directory has been walked, so a file reached both ways is reported under its real path,
    and a link back to an ancestor is reported as a loop instead of recursing.
    """
    problems = problems if problems is not None else []
    root_s = os.path.abspath(root)
    tree_s = os.path.abspath(tree) if tree is not None else root_s
    tree_real = os.path.realpath(tree_s)

    def problem(path: str, message: str) -> None:
        problems.append(InputProblem(display_path(path, tree_s), message))

    try:
        st = os.stat(root_s)
    except OSError as exc:
        problem(root_s, f"cannot walk: {exc.strerror or exc}")
        return
    if not stat.S_ISDIR(st.st_mode):
        problem(root_s, "cannot walk: not a directory")
        return
    seen_dirs: set[tuple[int, int]] = {(st.st_dev, st.st_ino)}
    seen_files: set[tuple[int, int]] = set()
    outputs: set[str] = set()
    stack: list[tuple[str, bool]] = [(root_s, os.path.basename(root_s) == "app")]
    deferred: list[tuple[str, bool]] = []

    while stack or deferred:
        if not stack:
            link, in_app = deferred.pop(0)
            follow = _follow_link(link, in_app, tree_real, seen_dirs, seen_files, max_bytes, problem)
            if isinstance(follow, tuple):
                stack.append(follow)
            elif follow is not None:
                yield Path(follow)
            continue
        d, in_app = stack.pop()
        try:
            with os.scandir(d) as it:
                entries = sorted(it, key=lambda e: e.name)
        except FileNotFoundError:
            problem(d, "vanished during the scan")
            continue
        except PermissionError:
            problem(d, "unreadable directory: permission denied; its files are not analysed")
            continue
        except OSError as exc:
            problem(d, f"unreadable directory: {exc.strerror or exc}; its files are not analysed")
            continue
        names = {e.name for e in entries}
        is_pkg_root = "package.json" in names
        if is_pkg_root and "tsconfig.json" in names:
            outputs |= _output_dirs(d)
        parent_name = os.path.basename(d)
        subdirs: list[tuple[str, bool]] = []
        for entry in entries:
            name = entry.name
            try:
                if entry.is_symlink():
                    if not _skip_dir(name, parent_name, is_pkg_root, in_app):
                        deferred.append((entry.path, in_app))
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if _skip_dir(name, parent_name, is_pkg_root, in_app) or entry.path in outputs:
                        continue
                    dst = entry.stat(follow_symlinks=False)
                    seen_dirs.add((dst.st_dev, dst.st_ino))
                    subdirs.append((entry.path, in_app or name == "app"))
                    continue
                if not is_source_name(name) or _compiled_output(name, names):
                    continue
                if not entry.is_file(follow_symlinks=False):
                    continue  # FIFOs, sockets, devices: never code, never opened
                fst = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # deleted while listing: nothing to analyse
            except OSError as exc:
                problem(entry.path, f"unreadable: {exc.strerror or exc}")
                continue
            key = (fst.st_dev, fst.st_ino)
            if key in seen_files:
                continue
            seen_files.add(key)
            if fst.st_size > max_bytes:
                problem(entry.path, too_large_message(fst.st_size, max_bytes))
                continue
            yield Path(entry.path)
        stack.extend(reversed(subdirs))


def admit(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES,
          problems: list[InputProblem] | None = None, tree: str | os.PathLike) -> bool:
    """Apply walk()'s rules to one file found by name (app.js next to package.json)."""
    problems = problems if problems is not None else []
    path_s, tree_s = os.path.abspath(path), os.path.abspath(tree)

    def problem(p: str, message: str) -> None:
        problems.append(InputProblem(display_path(p, tree_s), message))

    if os.path.islink(path_s):
        followed = _follow_link(path_s, False, os.path.realpath(tree_s), set(), set(), max_bytes, problem)
        return isinstance(followed, str)
    try:
        st = os.lstat(path_s)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    if st.st_size > max_bytes:
        problem(path_s, too_large_message(st.st_size, max_bytes))
        return False
    return True


def _follow_link(link: str, in_app: bool, tree_real: str, seen_dirs: set, seen_files: set,
                 max_bytes: int, problem) -> tuple[str, bool] | str | None:
    """Decide about one symlink: a dir to walk (tuple), a file to yield (str), or nothing."""
    name = os.path.basename(link)
    source_named = is_source_name(name)
    try:
        st = os.stat(link)
    except FileNotFoundError:
        if source_named:
            problem(link, f"broken symlink (-> {os.readlink(link)}); not analysed")
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            problem(link, "symlink loop (the link resolves to itself); not followed")
        elif source_named:
            problem(link, f"unreadable: {exc.strerror or exc}")
        return None
    is_dir = stat.S_ISDIR(st.st_mode)
    if not is_dir and not source_named:
        return None
    target = os.path.realpath(link)
    if not _within(target, tree_real):
        problem(link, f"symlink points outside the scanned tree (-> {target}); not followed")
        return None
    key = (st.st_dev, st.st_ino)
    if is_dir:
        if key in seen_dirs:
            parent_real = os.path.realpath(os.path.dirname(link))
            if _within(parent_real, target):
                problem(link, "symlink loop: points to its own ancestor directory; not followed")
            return None  # an alias of a directory already walked
        seen_dirs.add(key)
        return (link, in_app or name == "app")
    if not stat.S_ISREG(st.st_mode) or key in seen_files:
        return None
    seen_files.add(key)
    if st.st_size > max_bytes:
        problem(link, too_large_message(st.st_size, max_bytes))
        return None
    return link


@lru_cache(maxsize=8192)
def _real_dir(directory: str) -> str:
    return os.path.realpath(directory)


def _realpath(path: str) -> str:
    """realpath with the parent's resolution cached: a full realpath lstat()s every component,
    which is most of the cost of reading thousands of files from a few hundred directories.
    The scanned tree is assumed not to be rearranged while one process scans it."""
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            return os.path.realpath(path)
    except OSError:
        return os.path.realpath(path)
    parent, name = os.path.split(path)
    return os.path.join(_real_dir(parent), name)


_KIND_NAMES = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"))


def read_bytes(path: str | os.PathLike, root: str | os.PathLike, *,
               max_bytes: int = MAX_BYTES) -> bytes | InputProblem:
    """The bytes of a regular file inside `root`, or the one-line reason it cannot be had.

    Opens non-blocking and checks the file type on the open descriptor, so a FIFO or device
    put where a source file should be cannot hang or flood the scan.
    """
    root_s = os.path.abspath(root)
    path_s = os.path.join(root_s, path) if not os.path.isabs(path) else os.path.abspath(path)
    shown = display_path(path_s, root_s)

    def bad(message: str) -> InputProblem:
        return InputProblem(shown, message)

    if not _within(path_s, root_s):
        return bad("outside the scanned tree; not read")
    real = _realpath(path_s)
    if not _within(real, _real_dir(root_s)):
        return bad(f"symlink points outside the scanned tree (-> {real}); not read")
    try:
        fd = os.open(path_s, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        if os.path.islink(path_s):
            return bad(f"broken symlink (-> {os.readlink(path_s)}); not read")
        return bad("vanished: the file no longer exists")
    except IsADirectoryError:
        return bad("is a directory, not a file")
    except PermissionError:
        return bad("unreadable: permission denied")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return bad("symlink loop; not read")
        return bad(f"unreadable: {exc.strerror or exc}")
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            return bad("is a directory, not a file")
        if not stat.S_ISREG(st.st_mode):
            kind = next((label for test, label in _KIND_NAMES if test(st.st_mode)), "a special file")
            return bad(f"unreadable: not a regular file ({kind}); not read")
        if st.st_size > max_bytes:
            return bad(too_large_message(st.st_size, max_bytes))
        chunks = []
        remaining = max_bytes + 1
        # Ask for the size fstat gave (+1 to see EOF): a fixed large request would allocate that
        # much per call, which dominates the cost of reading thousands of small sources.
        want = st.st_size + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, want))
            want = 1 << 16
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        return bad(f"unreadable: {exc.strerror or exc}")
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        return bad(too_large_message(len(data), max_bytes) + " (it grew while being read)")
    return data


def decode_utf8(data: bytes, shown: str, *, binary_check: bool = True) -> str | InputProblem:
    """UTF-8 (BOM allowed) or a problem: a guessed encoding would shift every line and column."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return InputProblem(shown, "UTF-16 encoded; only UTF-8 is analysed")
    if binary_check:
        nul = data.find(b"\x00")
        if nul != -1:
            return InputProblem(shown, f"binary file (NUL byte at offset {nul}); not analysed")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start:exc.start + 1].hex()
        return InputProblem(shown, f"not valid UTF-8 (byte 0x{byte} on line {line}, offset {exc.start}); "
                                   "not analysed")


def read_source(path: str | os.PathLike, root: str | os.PathLike, *,
                max_bytes: int = MAX_BYTES) -> str | InputProblem:
    """Text of a JS/TS source inside `root`, or one clear line saying why it was not read."""
    data = read_bytes(path, root, max_bytes=max_bytes)
    if isinstance(data, InputProblem):
        return data
    root_s = os.path.abspath(root)
    shown = display_path(os.path.join(root_s, path), root_s)
    return decode_utf8(data, shown)


def read_text(path: str | os.PathLike, root: str | os.PathLike, *,
              max_bytes: int = 200_000_000) -> str | InputProblem:
    """Text of a metadata file (package.json, lockfiles): larger limit, same failure lines."""
    data = read_bytes(path, root, max_bytes=max_bytes)
    if isinstance(data, InputProblem):
        return data
    root_s = os.path.abspath(root)
    return decode_utf8(data, display_path(os.path.join(root_s, path), root_s))
