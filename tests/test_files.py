"""Safe walking and reading: every hostile input costs one clear line, never a hang or a crash."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from eggshield.finding import InputProblem
from eggshield.project.files import read_source, walk

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def make(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def rels(paths, root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in paths)


def walked(root: Path, **kw) -> tuple[list[str], list[InputProblem]]:
    problems: list[InputProblem] = []
    files = rels(walk(root, problems=problems, **kw), root)
    return files, problems


# -- walk: what is a source and what is skipped ------------------------------------------------

def test_walk_yields_sources_and_skips_what_egg_never_loads(tmp_path):
    make(tmp_path, {
        "package.json": "{}",
        "app/controller/home.js": "",
        "app/controller/admin/user.ts": "",
        "app/controller/logs/view.js": "",  # a controller folder named like an output dir
        "app/controller/test/ping.js": "",  # Egg loads test/ under app/controller: kept
        "app/service/a.mjs": "", "app/service/b.cjs": "", "app/service/c.mts": "", "app/service/d.cts": "",
        "app/view/x.jsx": "", "app/view/y.tsx": "",
        "app/public/js/bundle.js": "",  # static assets
        "app/typings.d.ts": "", "app/x.d.mts": "",
        "app/README.md": "", "app/data.json": "",
        "node_modules/egg/index.js": "",
        "app/node_modules/x/index.js": "",
        ".git/hooks/pre-commit.js": "", ".github/x.js": "",
        "run/application_config.js": "", "logs/x.js": "", "coverage/lcov.js": "",
        "dist/app.js": "", "build/app.js": "",
        "test/app.test.js": "", "tests/x.js": "", "lib/test/x.js": "",
        "lib/build/tool.js": "",  # not next to package.json: source, not output
        "lib/util.js": "",
    })
    files, problems = walked(tmp_path)
    assert files == [
        "app/controller/admin/user.ts", "app/controller/home.js", "app/controller/logs/view.js",
        "app/controller/test/ping.js",
        "app/service/a.mjs", "app/service/b.cjs", "app/service/c.mts", "app/service/d.cts",
        "app/view/x.jsx", "app/view/y.tsx", "lib/build/tool.js", "lib/util.js",
    ]
    assert problems == []


def test_walk_skips_compiled_js_next_to_ts(tmp_path):
    make(tmp_path, {
        "package.json": "{}",
        "app/controller/home.ts": "", "app/controller/home.js": "", "app/controller/home.js.map": "",
        "app/controller/home.d.ts": "",
        "app/controller/plain.js": "",
        "app/view/page.tsx": "", "app/view/page.js": "",
        "lib/esm.mts": "", "lib/esm.mjs": "",
        "config/config.default.ts": "", "config/config.default.js": "",
    })
    files, problems = walked(tmp_path)
    assert files == ["app/controller/home.ts", "app/controller/plain.js", "app/view/page.tsx",
                     "config/config.default.ts", "lib/esm.mts"]
    assert problems == []


def test_walk_skips_tsconfig_outdir(tmp_path):
    make(tmp_path, {
        "package.json": "{}",
        "tsconfig.json": '{\n  // comment\n  "compilerOptions": { "outDir": "./out" }\n}',
        "out/app/controller/home.js": "",
        "app/controller/home.ts": "",
    })
    assert walked(tmp_path)[0] == ["app/controller/home.ts"]


def test_walk_order_is_stable(tmp_path):
    make(tmp_path, {f"app/c{i}/f{j}.js": "" for i in range(5) for j in range(5)})
    first = list(walk(tmp_path))
    assert first == list(walk(tmp_path)) and len(first) == 25


# -- walk: hostile trees ------------------------------------------------------------------------

def test_walk_symlink_loop_is_one_problem(tmp_path):
    make(tmp_path, {"app/controller/home.js": "", "app/service/s.js": ""})
    os.symlink("..", tmp_path / "app" / "controller" / "up")  # points at app/
    os.symlink(".", tmp_path / "app" / "service" / "self")
    files, problems = walked(tmp_path)
    assert files == ["app/controller/home.js", "app/service/s.js"]
    assert sorted(str(p) for p in problems) == [
        "app/controller/up: symlink loop: points to its own ancestor directory; not followed",
        "app/service/self: symlink loop: points to its own ancestor directory; not followed",
    ]


def test_walk_self_referencing_link_is_one_problem(tmp_path):
    make(tmp_path, {"app/a.js": ""})
    os.symlink("loop.js", tmp_path / "app" / "loop.js")
    files, problems = walked(tmp_path)
    assert files == ["app/a.js"]
    assert [str(p) for p in problems] == ["app/loop.js: symlink loop (the link resolves to itself); not followed"]


def test_walk_links_out_of_the_tree_are_not_followed(tmp_path):
    outside = make(tmp_path / "outside", {"secret.js": "x", "lib/evil.js": ""})
    tree = make(tmp_path / "tree", {"app/home.js": ""})
    os.symlink(outside / "secret.js", tree / "app" / "stolen.js")
    os.symlink(outside / "lib", tree / "app" / "vendored")
    os.symlink(outside / "notes.txt", tree / "app" / "README.txt")  # not a source: ignored silently
    files, problems = walked(tree)
    assert files == ["app/home.js"]
    assert len(problems) == 2
    messages = {p.path: p.message for p in problems}
    assert messages["app/stolen.js"].startswith("symlink points outside the scanned tree (-> ")
    assert messages["app/vendored"].startswith("symlink points outside the scanned tree (-> ")


def test_walk_follows_in_tree_links_once(tmp_path):
    make(tmp_path, {"shared/util.js": "", "app/home.js": "", "node_modules/pkg/index.js": ""})
    os.symlink(tmp_path / "shared", tmp_path / "app" / "shared")  # alias of a walked dir
    os.symlink(tmp_path / "shared" / "util.js", tmp_path / "app" / "util.js")  # alias of a walked file
    os.symlink(tmp_path / "node_modules" / "pkg", tmp_path / "app" / "pkg")  # reaches a skipped dir
    files, problems = walked(tmp_path)
    assert files == ["app/home.js", "app/pkg/index.js", "shared/util.js"]
    assert problems == []


def test_walk_broken_symlink_is_one_problem(tmp_path):
    make(tmp_path, {"app/a.js": ""})
    os.symlink("gone.js", tmp_path / "app" / "b.js")
    os.symlink("gone-dir", tmp_path / "app" / "docs")  # not source-named: silently ignored
    files, problems = walked(tmp_path)
    assert files == ["app/a.js"]
    assert [str(p) for p in problems] == ["app/b.js: broken symlink (-> gone.js); not analysed"]


def test_walk_huge_file_is_one_problem_with_size_and_limit(tmp_path):
    make(tmp_path, {"app/big.js": "x" * 5000, "app/small.js": "y"})
    files, problems = walked(tmp_path, max_bytes=4096)
    assert files == ["app/small.js"]
    assert [str(p) for p in problems] == [
        "app/big.js: too large: 5,000 bytes, over the 4,096-byte limit; not analysed"]


def test_walk_ignores_fifo_and_does_not_hang(tmp_path):
    make(tmp_path, {"app/a.js": ""})
    os.mkfifo(tmp_path / "app" / "pipe.js")
    assert walked(tmp_path) == (["app/a.js"], [])


def test_walk_problem_paths_are_relative_to_the_tree(tmp_path):
    make(tmp_path, {"apps/one/app/big.js": "x" * 100})
    problems: list[InputProblem] = []
    list(walk(tmp_path / "apps" / "one" / "app", max_bytes=10, problems=problems, tree=tmp_path))
    assert [p.path for p in problems] == ["apps/one/app/big.js"]


@pytest.mark.skipif(IS_ROOT, reason="root reads through chmod 000; the PermissionError path is covered "
                                    "by test_walk_unreadable_directory_simulated")
def test_walk_unreadable_directory(tmp_path):
    make(tmp_path, {"app/locked/a.js": "", "app/b.js": ""})
    (tmp_path / "app" / "locked").chmod(0)
    try:
        files, problems = walked(tmp_path)
    finally:
        (tmp_path / "app" / "locked").chmod(0o755)
    assert files == ["app/b.js"]
    assert [str(p) for p in problems] == [
        "app/locked: unreadable directory: permission denied; its files are not analysed"]


def test_walk_unreadable_directory_simulated(tmp_path, monkeypatch):
    """Tests run as root, where chmod 000 stops nothing: simulate the kernel's refusal instead."""
    make(tmp_path, {"app/locked/a.js": "", "app/b.js": ""})
    real_scandir = os.scandir

    def scandir(path):
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    files, problems = walked(tmp_path)
    assert files == ["app/b.js"]
    assert [str(p) for p in problems] == [
        "app/locked: unreadable directory: permission denied; its files are not analysed"]


def test_walk_root_that_is_not_a_directory(tmp_path):
    make(tmp_path, {"a.js": ""})
    problems: list[InputProblem] = []
    assert list(walk(tmp_path / "a.js", problems=problems)) == []
    assert [p.message for p in problems] == ["cannot walk: not a directory"]


# -- read_source ----------------------------------------------------------------------------------

def test_read_source_plain_and_bom(tmp_path):
    make(tmp_path, {"a.js": "const a = 'é';\n", "b.js": b"\xef\xbb\xbfmodule.exports = {};\n"})
    assert read_source(tmp_path / "a.js", tmp_path) == "const a = 'é';\n"
    assert read_source(tmp_path / "b.js", tmp_path) == "module.exports = {};\n"
    assert read_source("a.js", tmp_path) == "const a = 'é';\n"  # relative to the root


def problem(result) -> str:
    assert isinstance(result, InputProblem), result
    return str(result)


def test_read_source_binary(tmp_path):
    make(tmp_path, {"app/img.js": b"GIF89a\x00\x01\x02"})
    assert problem(read_source(tmp_path / "app/img.js", tmp_path)) == \
        "app/img.js: binary file (NUL byte at offset 6); not analysed"


def test_read_source_not_utf8_is_reported_not_guessed(tmp_path):
    make(tmp_path, {"latin.js": b"// ok\nconst s = 'caf\xe9';\n"})
    assert problem(read_source(tmp_path / "latin.js", tmp_path)) == \
        "latin.js: not valid UTF-8 (byte 0xe9 on line 2, offset 20); not analysed"


def test_read_source_utf16(tmp_path):
    make(tmp_path, {"w.js": "x = 1".encode("utf-16")})
    assert problem(read_source(tmp_path / "w.js", tmp_path)) == "w.js: UTF-16 encoded; only UTF-8 is analysed"


def test_read_source_too_large(tmp_path):
    make(tmp_path, {"big.js": "x" * 3_000_001})
    assert problem(read_source(tmp_path / "big.js", tmp_path)) == \
        "big.js: too large: 3,000,001 bytes, over the 2,000,000-byte limit; not analysed"
    assert problem(read_source(tmp_path / "big.js", tmp_path, max_bytes=10)).endswith(
        "3,000,001 bytes, over the 10-byte limit; not analysed")


def test_read_source_vanished(tmp_path):
    assert problem(read_source(tmp_path / "gone.js", tmp_path)) == "gone.js: vanished: the file no longer exists"


def test_read_source_directory_in_place_of_a_file(tmp_path):
    (tmp_path / "app" / "router.js").mkdir(parents=True)
    assert problem(read_source(tmp_path / "app/router.js", tmp_path)) == "app/router.js: is a directory, not a file"


def test_read_source_fifo_does_not_block(tmp_path):
    os.mkfifo(tmp_path / "pipe.js")
    start = time.monotonic()
    assert problem(read_source(tmp_path / "pipe.js", tmp_path)) == \
        "pipe.js: unreadable: not a regular file (a FIFO); not read"
    assert time.monotonic() - start < 1


def test_read_source_symlink_out_of_tree(tmp_path):
    make(tmp_path, {"outside/secret.js": "s", "tree/a.js": ""})
    os.symlink(tmp_path / "outside" / "secret.js", tmp_path / "tree" / "s.js")
    text = problem(read_source(tmp_path / "tree/s.js", tmp_path / "tree"))
    assert text.startswith("s.js: symlink points outside the scanned tree (-> ")
    assert text.endswith("outside/secret.js); not read")
    assert problem(read_source(tmp_path / "outside/secret.js", tmp_path / "tree")).endswith(
        "outside the scanned tree; not read")


def test_read_source_broken_and_looping_links(tmp_path):
    os.symlink("nowhere.js", tmp_path / "b.js")
    os.symlink("l.js", tmp_path / "l.js")
    assert problem(read_source(tmp_path / "b.js", tmp_path)) == "b.js: broken symlink (-> nowhere.js); not read"
    assert problem(read_source(tmp_path / "l.js", tmp_path)).startswith("l.js: symlink")


@pytest.mark.skipif(IS_ROOT, reason="root reads through chmod 000; covered by the simulated test below")
def test_read_source_permission_denied(tmp_path):
    make(tmp_path, {"secret.js": "x"})
    (tmp_path / "secret.js").chmod(0)
    assert problem(read_source(tmp_path / "secret.js", tmp_path)) == "secret.js: unreadable: permission denied"


def test_read_source_permission_denied_simulated(tmp_path, monkeypatch):
    """As root chmod 000 does not stop a read, so make open() refuse the way the kernel would."""
    make(tmp_path, {"secret.js": "x"})

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    assert problem(read_source(tmp_path / "secret.js", tmp_path)) == "secret.js: unreadable: permission denied"


# -- speed ----------------------------------------------------------------------------------------

def test_walk_10k_files_is_fast(tmp_path):
    make(tmp_path, {"package.json": "{}"})
    for d in range(100):
        folder = tmp_path / "app" / "service" / f"d{d}"
        folder.mkdir(parents=True)
        for f in range(100):
            (folder / f"f{f}.js").write_text("module.exports = 1;\n")
    start = time.perf_counter()
    count = sum(1 for _ in walk(tmp_path))
    elapsed = time.perf_counter() - start
    assert count == 10_000
    assert elapsed < 3, f"walk of 10k files took {elapsed:.2f}s"
