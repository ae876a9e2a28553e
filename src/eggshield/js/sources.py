"""Parse every server-side source of an app once; syntax errors become one problem line per file."""

from __future__ import annotations

from pathlib import Path

import tree_sitter as ts

from eggshield.finding import InputProblem
from eggshield.js.parse import SyntaxProblem, parse
from eggshield.project.files import read_source
from eggshield.project.model import EggProject


def parse_sources(project: EggProject, on_file=None) -> tuple[dict[Path, ts.Tree], list[InputProblem]]:
    trees: dict[Path, ts.Tree] = {}
    problems: list[InputProblem] = []
    for path in project.source_files:
        if on_file is not None:
            on_file(path)
        if path.suffix == ".json":
            continue
        source = read_source(path, project.scan_root)
        if isinstance(source, InputProblem):
            problems.append(source)
            continue
        try:
            trees[path] = parse(source.encode("utf-8"), path)
        except SyntaxProblem as exc:
            problems.append(InputProblem(project.rel(path), str(exc)))
    return trees, problems
