"""`json.dumps(obj, indent=2, ensure_ascii=False)`, byte for byte, several times faster.

With `indent`, the stdlib falls back to its pure-Python encoder, a chain of generators that
costs more than building the report itself (SARIF and `logs analyze --format json` run to
megabytes). This walks the same JSON types with one plain recursive function and the stdlib's
own C string encoder; anything else (other types, circular data) goes back to `json.dumps`,
so errors are the stdlib's too (a document holding `Encoded` parts cannot go back: there a
value json.dumps rejects is still a TypeError, naming `Encoded`). tests/test_render_jsondump.py compares both on random documents.
"""

from __future__ import annotations

import json
from json.encoder import INFINITY, encode_basestring

_NEWLINES = ["\n" + "  " * n for n in range(32)]
_int_repr = int.__repr__
_float_repr = float.__repr__


class _Unsupported(Exception):
    """A value json.dumps would reject or call `default` for: let it speak."""


class Encoded:
    """A value already encoded with `dumps(value, level)` at the level where it is placed: written
    as it is. Big reports encode each finding as soon as it is built, so the whole tree of small
    dicts is never alive at once (the garbage collector walks every live one, again and again)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def dumps(obj, level: int = 0) -> str:
    """`json.dumps(obj, indent=2, ensure_ascii=False)`, every line after the first indented by
    `level` more steps (what `.replace("\\n", "\\n" + "  " * level)` would give)."""
    out: list[str] = []
    try:
        _value(obj, level, out)
    except (_Unsupported, RecursionError):
        text = json.dumps(obj, indent=2, ensure_ascii=False)  # raises what the stdlib raises
        return text.replace("\n", "\n" + "  " * level) if level else text
    return "".join(out)


def _newline(level: int) -> str:
    return _NEWLINES[level] if level < 32 else "\n" + "  " * level


def _float(v: float) -> str:
    if v != v:
        return "NaN"
    if v == INFINITY:
        return "Infinity"
    if v == -INFINITY:
        return "-Infinity"
    return _float_repr(v)


def _scalar(v) -> str | None:
    """The JSON text of a str/None/bool/int/float (the stdlib's order of checks), else None."""
    if isinstance(v, str):
        return encode_basestring(v)
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return _int_repr(v)
    if isinstance(v, float):
        return _float(v)
    return None


def _key(k) -> str:
    if isinstance(k, str):
        return encode_basestring(k)
    if isinstance(k, float):
        return encode_basestring(_float(k))
    if k is True:
        return '"true"'
    if k is False:
        return '"false"'
    if k is None:
        return '"null"'
    if isinstance(k, int):
        return '"' + _int_repr(k) + '"'
    raise _Unsupported


def _value(v, level: int, out: list[str]) -> None:
    t = type(v)
    if t is str:
        out.append(encode_basestring(v))
    elif t is dict:
        _dict(v, level, out)
    elif t is list:
        _list(v, level, out)
    elif t is Encoded:
        out.append(v.text)
    else:
        s = _scalar(v)
        if s is not None:
            out.append(s)
        elif isinstance(v, (list, tuple)):
            _list(v, level, out)
        elif isinstance(v, dict):
            _dict(v, level, out)
        else:
            raise _Unsupported


def _dict(d: dict, level: int, out: list[str]) -> None:
    if not d:
        out.append("{}")
        return
    append = out.append
    inner = _newline(level + 1)
    sep = "{" + inner
    for k, v in d.items():
        key = encode_basestring(k) if type(k) is str else _key(k)
        t = type(v)
        if t is str:
            append(f"{sep}{key}: {encode_basestring(v)}")
        elif t is int:
            append(f"{sep}{key}: {_int_repr(v)}")
        elif v is None:
            append(f"{sep}{key}: null")
        elif t is dict:
            append(f"{sep}{key}: ")
            _dict(v, level + 1, out)
        elif t is list:
            append(f"{sep}{key}: ")
            _list(v, level + 1, out)
        else:
            append(f"{sep}{key}: ")
            _value(v, level + 1, out)
        sep = "," + inner
    append(_newline(level) + "}")


def _list(items, level: int, out: list[str]) -> None:
    if not items:
        out.append("[]")
        return
    append = out.append
    inner = _newline(level + 1)
    sep = "[" + inner
    for v in items:
        t = type(v)
        if t is str:
            append(sep + encode_basestring(v))
        elif t is dict:
            append(sep)
            _dict(v, level + 1, out)
        else:
            append(sep)
            _value(v, level + 1, out)
        sep = "," + inner
    append(_newline(level) + "]")
