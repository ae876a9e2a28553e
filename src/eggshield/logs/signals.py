"""What one record says, as security signals (data: `data/log_signatures.toml`).

A signal is cheap and local: "this record is a CSRF failure", "this URL holds a UNION SELECT".
Counting them per IP or user over time is `windows`' job; turning them into findings is the
`checks/logs_*` rules' job.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from urllib.parse import unquote

from eggshield.logs.record import LogRecord
from eggshield.logs.regex_gates import Needs, any_in, fold, needs

# `GET /x 404`, `status=401`, `"status":403`: how access-log middleware and apps write statuses
STATUS = re.compile(r"(?:\bstatus(?:Code)?\"?\s*[=:]\s*\"?|\b(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S+ )"
                    r"([1-5]\d\d)\b")
STATUS_SIGNAL = {401: ("auth_failure", "EGG-LOG-101"), 403: ("forbidden", "EGG-LOG-102"),
                 404: ("not_found", "EGG-LOG-107")}
# who an auth failure was about, when the app wrote it: `for user bob`, `username=bob`, `"username":"bob"`
USER_IN_MESSAGE = re.compile(
    r"(?:\bfor (?:user|account)\s+|\b(?:user(?:name)?|login|account|email)\"?\s*[=:]\s*\"?)([^\s\"',;&)]{1,128})",
    re.I)


_STATUS_NEEDS = needs(STATUS)  # `status` or an HTTP method, case-sensitive
_USER_NEEDS = needs(USER_IN_MESSAGE)  # user, login, account or email, re.I


# a URL of letters, digits, '/', '-', '_' and simple key=value pairs cannot hold any payload signature
SAFE_URL = re.compile(r"[A-Za-z0-9/_-]*(?:\?[A-Za-z0-9_-]+=[A-Za-z0-9_.-]*(?:&[A-Za-z0-9_-]+=[A-Za-z0-9_.-]*)*)?")


@dataclass(frozen=True)
class Signal:
    kind: str
    rule: str
    evidence: str  # the matched text (not yet masked)
    status: int | None = None


@dataclass(frozen=True)
class Signature:
    kind: str
    rule: str
    where: str
    regex: re.Pattern
    status: int | None
    needs_url: re.Pattern | None
    hint: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def prefilters() -> dict[str, re.Pattern]:
    """One alternation per field: a record whose field matches none of it skips every signature of that field."""
    by_where: dict[str, list[str]] = {}
    for sig in signatures():
        by_where.setdefault(sig.where, []).append(f"(?:{sig.regex.pattern})")
    return {w: re.compile("|".join(ps), re.IGNORECASE) for w, ps in by_where.items()}


@lru_cache(maxsize=4096)
def _error_status(name: str) -> int | None:
    for sig in signatures():
        if sig.where == "error" and sig.status and sig.regex.search(name):
            return sig.status
    return 500 if name == "InternalServerError" else None


@lru_cache(maxsize=1)
def signatures() -> tuple[Signature, ...]:
    data = tomllib.loads(resources.files("eggshield.data").joinpath("log_signatures.toml").read_text("utf-8"))
    out = []
    for s in data["signal"]:
        flags = 0 if s.get("case") else re.IGNORECASE
        out.append(Signature(kind=s["kind"], rule=s["rule"], where=s["where"], regex=re.compile(s["pattern"], flags),
                             status=s.get("status"),
                             needs_url=re.compile(s["needs_url"], re.I) if s.get("needs_url") else None,
                             hint=tuple(s.get("hint", ()))))
    return tuple(out)


def decoded(url: str) -> str:
    """Percent-decode up to three times (`%252e` → `%2e` → `.`), '+' as space in the query."""
    out = url
    for _ in range(3):
        nxt = unquote(out)
        if nxt == out:
            break
        out = nxt
    return out.replace("+", " ")


@lru_cache(maxsize=1)
def _plan() -> tuple[tuple[Signature, ...], dict[str, tuple[str, ...]]]:
    """The signatures, and per field the union of their hints when every signature of that field has hints:
    one pass of substring tests then rules out the whole field (most records carry no hint word at all)."""
    sigs = signatures()
    gates: dict[str, tuple[str, ...]] = {}
    for where in {s.where for s in sigs}:
        of = [s for s in sigs if s.where == where]
        if all(s.hint for s in of):
            gates[where] = tuple(sorted({h for s in of for h in s.hint}))
    return sigs, gates


def body_of(text: str) -> str:
    """A record's text without stack frames (`    at ...`): they hold paths, not events or data."""
    if "\n    at " not in text:
        return text
    return "\n".join(ln for ln in text.split("\n") if not ln.startswith("    at "))


#: signals by what they depend on, for records of at most MEMO_TEXT characters: Egg logs repeat the same
#: records (a CSRF failure's text is identical every time, an error differs only in its time)
_memo: dict[tuple, tuple[Signal, ...]] = {}
MEMO_TEXT = 2048
MEMO_SIZE = 4096
_HASHABLE = (int, str, float, bool, type(None))


def signals_of(rec: LogRecord, body: str | None = None) -> list[Signal]:
    """Every signal one record carries; one per kind. `body` is `body_of(rec.text)` when the caller has it."""
    if len(rec.text) > MEMO_TEXT:
        return _signals_of(rec, body)
    status = rec.props.get("status") if rec.props else None
    if not isinstance(status, _HASHABLE):
        return _signals_of(rec, body)
    # everything _signals_of reads from the record (body is derived from text)
    key = (rec.url, rec.text, rec.message, rec.error_name, rec.error_message, rec.level, rec.flags, status,
           type(status))
    hit = _memo.get(key)
    if hit is None:
        if len(_memo) >= MEMO_SIZE:
            _memo.clear()
        hit = _memo[key] = tuple(_signals_of(rec, body))
    return list(hit)


def _signals_of(rec: LogRecord, body: str | None = None) -> list[Signal]:
    found: dict[str, Signal] = {}
    raw_url = rec.url
    if raw_url:
        plain = SAFE_URL.fullmatch(raw_url) is not None
        url = None if plain else decoded(raw_url)
        path = raw_url.split("?", 1)[0]
        path = decoded(path) if "%" in path or "+" in path else path
    else:
        url = path = None
    subjects = {"url": url, "path": path, "error": rec.error_name, "message": rec.message,
                "text": body if body is not None else body_of(rec.text)}
    gates = _field_gates()
    lowered: dict[str, str] = {}
    live = []
    for where, subject in subjects.items():
        if not subject:
            continue
        if where == "url":
            if prefilters()["url"].search(url + " " + raw_url) is None:
                continue
        else:
            gate = gates.get(where)
            if gate is not None:
                low = lowered[where] = subject.lower()
                if not gate(low):
                    continue
        live.append(where)
    if not live:
        return _tail(rec, found)
    for sig, hinted, needs_words in _live_signatures(tuple(live)):
        if sig.kind in found:
            continue
        where = sig.where
        subject = subjects[where]
        if hinted is not None:
            low = lowered.get(where)
            if low is None:
                low = lowered[where] = subject.lower()
            if not hinted(low):
                continue
        target = subject if where != "url" or sig.kind != "log_forging" else raw_url or ""
        if needs_words is not None:  # words the pattern cannot match without (regex_gates)
            if not needs_words.icase:
                probe = target
            elif target is subject and where in lowered and subject.isascii():
                probe = lowered[where]  # fold() of ASCII is lower()
            else:
                probe = fold(target)
            if not needs_words.met_by(probe):
                continue
        m = sig.regex.search(target)
        if not m:
            continue
        if sig.needs_url is not None and not (raw_url and sig.needs_url.search(raw_url)):
            continue
        evidence = (raw_url or "") if where in ("url", "path") else _evidence(rec, m)
        found[sig.kind] = Signal(sig.kind, sig.rule, evidence, sig.status)
    return _tail(rec, found)


@lru_cache(maxsize=64)
def _live_signatures(live: tuple[str, ...]) -> tuple[tuple[Signature, Callable[[str], bool] | None, Needs | None], ...]:
    """The signatures of the fields a record has something in, in data-file order (first of a kind wins),
    each with its hint test and the words its pattern cannot match without."""
    return tuple((s, any_in(s.hint) if s.hint else None, _needs(s.regex)) for s in signatures() if s.where in live)


@lru_cache(maxsize=256)
def _needs(rx: re.Pattern) -> Needs | None:
    return needs(rx)


@lru_cache(maxsize=1)
def _field_gates() -> dict[str, Callable[[str], bool]]:
    """`_plan()`'s gates, each as one test (`regex_gates.any_in`)."""
    return {where: any_in(words) for where, words in _plan()[1].items()}


def _tail(rec: LogRecord, found: dict[str, Signal]) -> list[Signal]:
    """Signals from the status, level and parser flags, after the signature matches."""
    if "csrf_failure" in found:
        found.pop("forbidden", None)  # a CSRF failure is a 403 too; it is reported as what it is
    if "traversal_blocked" in found:
        found.pop("traversal_payload", None)
    status = status_of(rec)
    if status in STATUS_SIGNAL:
        kind, rule = STATUS_SIGNAL[status]
        if kind not in found and not (kind == "forbidden" and "csrf_failure" in found):
            found[kind] = Signal(kind, rule, _evidence(rec, None), status)
    if rec.level == "ERROR" or (rec.error_name and status is not None and status >= 500):
        found["error"] = Signal("error", "EGG-LOG-112", error_type(rec), status)
    if "control-chars" in rec.flags and "orphan" not in rec.flags:  # headerless bytes are damage, not forging
        found.setdefault("log_forging", Signal("log_forging", "EGG-LOG-117", _control_evidence(rec.text)))
    elif "out-of-order" in rec.flags:
        found.setdefault("log_forging", Signal("log_forging", "EGG-LOG-117",
                                               "record dated earlier than the one before it: " + rec.message[:120]))
    return list(found.values())


def status_of(rec: LogRecord) -> int | None:
    """The HTTP status a record implies: its error's `status` property, a known error name, or the message."""
    st = rec.props.get("status") if rec.props else None
    if isinstance(st, int):
        return st
    if rec.error_name:
        status = _error_status(rec.error_name)
        if status is not None:
            return status
    msg = rec.message
    if not msg or (_STATUS_NEEDS is not None and not _STATUS_NEEDS.met_by(msg)):
        return None
    m = STATUS.search(msg)
    return int(m.group(1)) if m else None


def user_of(rec: LogRecord) -> str | None:
    """The user a record is about: ctx.userId from the prefix, else a name in the message."""
    if rec.user:
        return rec.user
    msg = rec.message or ""
    if _USER_NEEDS is not None and not _USER_NEEDS.met_by(fold(msg)):
        return None
    m = USER_IN_MESSAGE.search(msg)
    return m.group(1) if m else None


def error_type(rec: LogRecord) -> str:
    """`ForbiddenError` / `Error: order lookup failed` → a stable name for counting error kinds."""
    if rec.error_name:
        if rec.error_name in ("Error", "TypeError", "RangeError") and rec.error_message:
            msg = re.sub(r"\d+", "N", rec.error_message)[:80]
            return f"{rec.error_name}: {msg}"
        return rec.error_name
    return "(" + re.sub(r"\d+", "N", (rec.message or "")[:60]) + ")"


def _evidence(rec: LogRecord, m: re.Match | None) -> str:
    first = rec.message or ""
    if m is not None and m.start() > len(first):
        line_start = rec.text.rfind("\n", 0, m.start()) + 1
        line_end = rec.text.find("\n", m.end())
        return rec.text[line_start: line_end if line_end >= 0 else None][:300]
    return first[:300]


def _control_evidence(text: str) -> str:
    m = re.search("[\x00-\x08\x0b-\x1f\x7f\x9b]", text)
    start = max(0, (m.start() if m else 0) - 40)
    return text[start: start + 120]
