"""What an error response gives away: stack traces, file paths, module names, SQL, config dumps.

Patterns are anchored on shapes, not words, so a page that merely mentions "error" is not a
leak: a V8 stack frame (`at fn (/abs/file.js:12:5)`), an absolute path to a .js/.ts file,
database driver error codes and messages, and the sections of egg-onerror's development page
(`Request Details`, `AppInfo` with the config dump, shown only in env `local`, egg-facts §2).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field

from eggshield.probe.client import Exchange

_STACK_FRAME = re.compile(r"\bat (?:async )?[\w$.<>\[\] ]*\(?(?:file://)?(/[^\s():]+|[A-Za-z]:\\[^\s():]+):\d+:\d+\)?")
_ABS_PATH = re.compile(r"(?<![\w.:/])(/(?:home|root|usr|opt|srv|var|app|tmp|Users|data|workspace|www)/[\w@.\-/]+\.(?:js|ts|mjs|cjs|json))\b"
                       r"|\b([A-Za-z]:\\[\w@.\-\\]+\.(?:js|ts|json))\b")
_MODULES = re.compile(r"node_modules[/\\]((?:@[\w.-]+[/\\])?[\w.-]+)")
_SQL = [
    (re.compile(r"You have an error in your SQL syntax", re.I), "MySQL syntax error"),
    (re.compile(r"\bER_[A-Z_]{4,}\b"), "MySQL driver error code"),
    (re.compile(r"\bSQLITE_(?:ERROR|CONSTRAINT|BUSY)\b"), "SQLite error"),
    (re.compile(r"syntax error at or near \"", re.I), "PostgreSQL syntax error"),
    (re.compile(r"\bSequelize\w*Error\b"), "Sequelize error"),
    (re.compile(r"\bORA-\d{5}\b"), "Oracle error"),
    (re.compile(r"\bMongo(?:Server)?Error\b|\bE11000 duplicate key\b"), "MongoDB error"),
    (re.compile(r"\b(?:SELECT\s+[\w*,\s`\".]+\s+FROM|INSERT\s+INTO|UPDATE\s+[`\"\w.]+\s+SET|DELETE\s+FROM)\s+[`\"\w.]+", re.I),
     "SQL statement"),
]
_LOCAL_PAGE = ('class="request-title"', "Request Details", "AppInfo")
_CONFIG_DUMP = re.compile(r"coreMiddleware|\bkeys: '<String len: \d+>'|\"coreMiddleware\"")
#: egg-onerror's production pages: the body Egg sends when it leaks nothing (egg-facts §2)
PROD_HTML = re.compile(r"^<h2>(?:Internal Server Error, real status: \d+|\d{3} [\w' -]+)</h2>$")


@dataclass
class Leak:
    kind: str  # "stack", "path", "module", "sql", "dev-page", "config", "json-stack"
    detail: str
    snippet: str = ""


@dataclass
class Disclosure:
    exchange: Exchange
    leaks: list[Leak] = field(default_factory=list)

    def kinds(self) -> set[str]:
        return {leak.kind for leak in self.leaks}


def _snippet(text: str, start: int, end: int, width: int = 90) -> str:
    a, b = max(0, start - 30), min(len(text), end + width - 30)
    return " ".join(text[a:b].split())


def visible_text(exchange: Exchange) -> str:
    """The body as a reader would see it: HTML entities decoded, JSON strings unescaped."""
    text = exchange.text
    ctype = (exchange.header("content-type") or "").lower()
    if "json" in ctype:
        try:
            return json.dumps(json.loads(text), ensure_ascii=False, indent=1).replace("\\n", "\n")
        except ValueError:
            return text
    if "html" in ctype:
        return html.unescape(text)
    return text


def is_dev_error_page(exchange: Exchange) -> bool:
    """egg-onerror's ErrorView: only rendered in env `local` (isProd is false, env not unittest)."""
    text = exchange.text
    return all(marker in text for marker in _LOCAL_PAGE)


def json_stack(exchange: Exchange) -> bool:
    """A JSON error body with a `stack` member: egg-onerror adds it for 5xx outside prod envs."""
    if "json" not in (exchange.header("content-type") or "").lower():
        return False
    try:
        doc = json.loads(exchange.text)
    except ValueError:
        return False
    return isinstance(doc, dict) and isinstance(doc.get("stack"), str)


def inspect(exchange: Exchange) -> Disclosure:
    out = Disclosure(exchange)
    if not exchange.ok or not exchange.body:
        return out
    text = visible_text(exchange)
    if is_dev_error_page(exchange):
        out.leaks.append(Leak("dev-page", "egg-onerror's development error page (env local): stack, request headers, "
                                          "cookies and the application config"))
        m = _CONFIG_DUMP.search(text)
        if m:
            out.leaks.append(Leak("config", "the application config is dumped in the page",
                                  _snippet(text, m.start(), m.end())))
    if json_stack(exchange):
        out.leaks.append(Leak("json-stack", "the JSON error carries `stack` (egg-onerror does this outside prod envs, "
                                            "or the app sends err.stack itself)"))
    m = _STACK_FRAME.search(text)
    if m:
        out.leaks.append(Leak("stack", "a stack trace", _snippet(text, m.start(), m.end())))
    m = _ABS_PATH.search(text)
    if m:
        out.leaks.append(Leak("path", f"a server file path ({m.group(0)[:120]})", _snippet(text, m.start(), m.end())))
    modules = sorted(set(_MODULES.findall(text)))
    if modules:
        out.leaks.append(Leak("module", "module names: " + ", ".join(modules[:8]) + (" …" if len(modules) > 8 else "")))
    for pattern, what in _SQL:
        m = pattern.search(text)
        if m:
            out.leaks.append(Leak("sql", what, _snippet(text, m.start(), m.end())))
            break
    return out
