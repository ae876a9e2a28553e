"""Why each plugin is on: a comment next to its entry in plugin.js, or `.eggshield.toml`.

    // orders and users live in MySQL (app/service/*)
    mysql: { enable: true, package: 'egg-mysql' },

    # .eggshield.toml
    [plugins.mysql]
    why = "orders and users live in MySQL"

A comment counts when it sits on the lines right above the entry (a contiguous block), at the end
of the entry's first line, or inside the entry's object. Commented-out code (`// exports.static =
true;`), generator markers (`// doraAdsPluginBegin`) and boilerplate (`// had enabled by egg`,
`@type Egg.EggPlugin`, lint pragmas) are not reasons.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter as ts

from eggshield.js.parse import text

POLICY_FILE = ".eggshield.toml"
_BOILERPLATE = re.compile(
    r"had enabled by egg|add you build-in plugin|@type\s+\{?Egg|eslint|prettier|ts-ignore|ts-expect-error|"
    r"eggshield-ignore|^\s*-+\s*$|^\s*$|^\s*plugin\s*$|^PLUGIN_\w+$", re.I)
_MARKER = re.compile(r"^\s*[A-Za-z][\w-]*(Begin|End|BEGIN|END|_BEGIN|_END)\s*$")
_CODE = re.compile(r"(^|\s)(exports\.|module\.exports|require\(|import\s)|\benable\s*:|\bpackage\s*:|=\s*(true|false)\s*;?\s*$"
                   r"|^\s*[\w$]+\s*:\s*(true|false|\{)\s*,?\s*$|^\s*[{}],?\s*$")


@dataclass(frozen=True)
class Justification:
    text: str
    where: str  # "config/plugin.js:4" or ".eggshield.toml"


@dataclass
class PluginPolicy:
    """The `[plugins.<name>]` tables of `.eggshield.toml` (the rest of that file is the suppress box's)."""

    why: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    problems: list[str] = field(default_factory=list)


def load_plugin_policy(app_root: Path, shown: str = POLICY_FILE) -> PluginPolicy:
    policy = PluginPolicy()
    path = app_root / POLICY_FILE
    if not path.is_file():
        return policy
    policy.source = shown
    try:
        raw = path.read_bytes()
        if len(raw) > 1_000_000:
            policy.problems.append(f"{shown}: larger than 1000000 bytes; [plugins] not read")
            return policy
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        policy.problems.append(f"{shown}: {exc}; [plugins] justifications not read")
        return policy
    table = data.get("plugins", {})
    if not isinstance(table, dict):
        policy.problems.append(f"{shown}: plugins must be a table ([plugins.<name>] why = \"...\"); ignored")
        return policy
    for name, entry in table.items():
        why = entry.get("why") if isinstance(entry, dict) else entry if isinstance(entry, str) else None
        if isinstance(why, str) and why.strip():
            policy.why[name] = why.strip()
        else:
            policy.problems.append(f"{shown}: [plugins.{name}] needs why = \"<reason>\"; ignored")
    return policy


def _clean(comment: str) -> str:
    body = comment.strip()
    if body.startswith("//"):
        body = body[2:]
    elif body.startswith("/*"):
        body = body[2:].removesuffix("*/")
    lines = [re.sub(r"^\s*\*+\s?", "", line).strip() for line in body.splitlines()]
    return " ".join(line for line in lines if line).strip()


def is_reason(comment_text: str) -> bool:
    body = comment_text.strip()
    if not body or len(body) < 3:
        return False
    return not (_BOILERPLATE.search(body) or _MARKER.match(body) or _CODE.search(body))


def _entry_node(root: ts.Node, line: int) -> ts.Node | None:
    """The pair / assignment statement that defines the plugin entry starting on `line` (1-based)."""
    row = line - 1
    lines = (root.text or b"").split(b"\n")
    if row >= len(lines):
        return None
    col = len(lines[row]) - len(lines[row].lstrip())
    node = root.named_descendant_for_point_range((row, col), (row, col))
    best = None
    while node is not None:
        if node.start_point[0] == row and node.type in ("pair", "expression_statement", "lexical_declaration",
                                                         "variable_declaration", "export_statement",
                                                         "assignment_expression", "shorthand_property_identifier"):
            best = node
        if node.start_point[0] < row:
            break
        node = node.parent
    return best


def comment_near(tree: ts.Tree, line: int) -> str | None:
    """The reason written next to the entry on `line`, or None."""
    root = tree.root_node
    entry = _entry_node(root, line)
    start_row = entry.start_point[0] if entry is not None else line - 1
    end_row = entry.end_point[0] if entry is not None else line - 1
    comments: list[ts.Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.end_point[0] < start_row - 30 or node.start_point[0] > end_row:
            continue
        if node.type == "comment":
            comments.append(node)
        stack.extend(node.children)
    comments.sort(key=lambda n: n.start_point)
    lines = (root.text or b"").split(b"\n")

    def alone(node: ts.Node) -> bool:  # nothing but the comment on its first line
        row, col = node.start_point
        return row < len(lines) and not lines[row][:col].strip()

    found: list[str] = []
    # the contiguous block of comments right above the entry
    expect = start_row - 1
    above: list[str] = []
    for node in reversed([c for c in comments if c.end_point[0] < start_row]):
        if node.end_point[0] != expect or not alone(node):
            break
        above.insert(0, _clean(text(node)))
        expect = node.start_point[0] - 1
    found.extend(above)
    # trailing on the first line, or inside the entry's object
    found.extend(_clean(text(c)) for c in comments if start_row <= c.start_point[0] <= end_row)
    reasons = [t for t in found if is_reason(t)]
    return " ".join(reasons) if reasons else None
