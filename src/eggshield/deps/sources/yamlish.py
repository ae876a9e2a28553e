"""The YAML that pnpm and yarn berry write into lockfiles, and nothing more.

Both tools emit a narrow, regular subset: block mappings by indentation, quoted or plain
scalars, one-line flow maps/lists (`{integrity: sha512-...}`, `[x64]`) and block lists.
Parsing that subset line by line is several times faster than a general YAML parser on a
50 MB lockfile and needs no dependency; anything outside it (anchors, block scalars, tabs)
is a clear error with its line number rather than a silent misreading.
"""

from __future__ import annotations

import json
import re


class YamlError(ValueError):
    """Outside the lockfile subset; `line` is 1-based."""

    def __init__(self, message: str, line: int):
        super().__init__(f"line {line}: {message}")
        self.line = line


_PLAIN_CONSTANTS = {"true": True, "false": False, "null": None, "~": None}


def _scalar(text: str, line: int):
    text = text.strip()
    if not text:
        return None
    c = text[0]
    if c == "'":
        if len(text) < 2 or text[-1] != "'":
            raise YamlError(f"unterminated quoted string {text[:40]!r}", line)
        return text[1:-1].replace("''", "'")
    if c == '"':
        try:
            value = json.loads(text)
        except ValueError:
            raise YamlError(f"bad double-quoted string {text[:40]!r}", line) from None
        if not isinstance(value, str):
            raise YamlError(f"bad double-quoted string {text[:40]!r}", line)
        return value
    if c in "{[":
        value, end = _flow(text, 0, line)
        if text[end:].strip():
            raise YamlError(f"text after a flow collection: {text[end:end + 40]!r}", line)
        return value
    if c in "&*!|>":
        raise YamlError(f"unsupported YAML ({c!r}: anchors, tags and block scalars are not lockfile YAML)", line)
    if " #" in text:
        text = text.split(" #", 1)[0].rstrip()
    return _PLAIN_CONSTANTS.get(text, text)


def _flow(text: str, i: int, line: int):
    """Parse a flow collection starting at text[i]; returns (value, index after it)."""
    opener = text[i]
    closer = "}" if opener == "{" else "]"
    out: dict | list = {} if opener == "{" else []
    i += 1
    n = len(text)
    while True:
        while i < n and text[i] == " ":
            i += 1
        if i >= n:
            raise YamlError("unterminated flow collection", line)
        if text[i] == closer:
            return out, i + 1
        if isinstance(out, dict):
            key, i = _flow_item(text, i, line, stop=":")
            if i >= n or text[i] != ":":
                raise YamlError(f"expected ':' in flow mapping near {text[i:i + 30]!r}", line)
            i += 1
            while i < n and text[i] == " ":
                i += 1
            value, i = _flow_item(text, i, line, stop=",")
            out[str(key)] = value
        else:
            value, i = _flow_item(text, i, line, stop=",")
            out.append(value)
        while i < n and text[i] == " ":
            i += 1
        if i < n and text[i] == ",":
            i += 1
        elif i < n and text[i] == closer:
            continue
        else:
            raise YamlError("malformed flow collection", line)


def _flow_item(text: str, i: int, line: int, stop: str):
    n = len(text)
    if i < n and text[i] in "{[":
        return _flow(text, i, line)
    if i < n and text[i] in "'\"":
        q = text[i]
        j = i + 1
        while j < n:
            if text[j] == q:
                if q == "'" and j + 1 < n and text[j + 1] == "'":
                    j += 2
                    continue
                if q == '"' and text[j - 1] == "\\":
                    j += 1
                    continue
                break
            j += 1
        if j >= n:
            raise YamlError("unterminated quoted string in flow collection", line)
        return _scalar(text[i:j + 1], line), j + 1
    m = (_FLOW_VALUE if stop == "," else _FLOW_KEY).match(text, i)
    j = m.end()
    return _scalar(text[i:j], line), j


_FLOW_VALUE = re.compile(r"[^,}\]]*")
_FLOW_KEY = re.compile(r"(?:[^:]|:(?! |$))*")


def _split_key(content: str, line: int) -> tuple[str, str]:
    """`key: value` -> (key, value text); keys may be quoted and contain ': '."""
    if content[0] in "'\"":
        q = content[0]
        j = 1
        n = len(content)
        while j < n:
            if content[j] == q:
                if q == "'" and j + 1 < n and content[j + 1] == "'":
                    j += 2
                    continue
                if q == '"' and content[j - 1] == "\\":
                    j += 1
                    continue
                break
            j += 1
        if j >= n or not content[j + 1:].startswith(":"):
            raise YamlError(f"expected 'key:' near {content[:40]!r}", line)
        return _scalar(content[:j + 1], line), content[j + 2:]
    idx = content.find(": ")
    if idx == -1:
        if content.endswith(":"):
            return content[:-1], ""
        raise YamlError(f"expected 'key: value' near {content[:40]!r}", line)
    return content[:idx], content[idx + 2:]


def parse(text: str, key_lines: dict | None = None) -> dict:
    """The document as dicts/lists/str/bool/None. With `key_lines`, records the line of every
    key of the top two levels as key_lines[(parent_key, key)] (parent '' at the top)."""
    root: dict = {}
    # stack entries: [indent, container, parent container, key in parent, top-level key]
    stack: list[list] = [[-1, root, None, None, ""]]
    pending: tuple | None = None  # (indent, parent dict, key): a key whose value is a block below
    lineno = 0
    for raw in text.split("\n"):
        lineno += 1
        stripped = raw.lstrip(" ")
        if not stripped:
            continue
        first = stripped[0]
        if first == "#":
            continue
        if first in "\t\r\x0b\x0c" or (first == "-" and stripped.rstrip() in ("---", "...")):
            if not stripped.strip() or stripped.rstrip() == "---":
                continue
            if first == "\t":
                raise YamlError("tab indentation", lineno)
        indent = len(raw) - len(stripped)
        content = stripped.rstrip()
        is_item = content == "-" or content.startswith("- ")
        if pending is not None:
            p_indent, p_parent, p_key, p_top = pending
            pending = None
            if indent > p_indent or (is_item and indent == p_indent):
                container: dict | list = [] if is_item else {}
                p_parent[p_key] = container
                stack.append([p_indent, container, p_parent, p_key, p_top])
        while len(stack) > 1 and indent <= stack[-1][0] and not (
                is_item and isinstance(stack[-1][1], list) and indent == stack[-1][0]):
            stack.pop()
        top = stack[-1]
        container = top[1]
        if is_item:
            if not isinstance(container, list):
                raise YamlError("list item where a mapping key was expected", lineno)
            item = content[1:].strip()
            if item and item[0] not in "'\"{[" and (": " in item or item.endswith(":")):
                raise YamlError("mappings inside block lists are not lockfile YAML", lineno)
            container.append(_scalar(item, lineno))
            continue
        if not isinstance(container, dict):
            raise YamlError("mapping key inside a list", lineno)
        key, value = _split_key(content, lineno)
        key = str(key)
        if key_lines is not None and len(stack) <= 2:
            key_lines[(top[4] if len(stack) == 2 else "", key)] = lineno
        if value.strip() == "":
            container[key] = None
            pending = (indent, container, key, key if len(stack) == 1 else top[4])
        else:
            container[key] = _scalar(value, lineno)
    return root
