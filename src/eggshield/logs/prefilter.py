"""Necessary conditions of every signal and secret, cheap enough to test on every record (for `skim`).

A record can only carry something `analyze.prepare` reports if one of these holds; everything else
about it is then irrelevant. Each test here is implied by the finder it stands for:

  - an error record's name, status and properties come from a `nodejs.` message (textfmt.fill_error);
  - a message or text signature only runs when its field holds one of its hint words
    (`signals._plan` gates; lowercased, as the gates compare);
  - a status in a message needs `status` or `GET `-style text (signals.STATUS);
  - a secret finder only runs when one of `sensitive._triggers` gates opens (words, `@`, `+`, a run
    of 4+3 digits);
  - log forging needs a control character;
  - a URL signature only runs on a URL `signals.SAFE_URL` does not cover, and a path signature on
    the path, so a URL is cleared by running those directly (memoised: URLs repeat).

Bodies are compared lowercased with every digit read as 0, so that `page=12` and `page=13` share one
memo entry; the words are normalised the same way, which keeps every test a necessary condition.
Only plain ASCII bodies are judged (what `lines.Block` holds): a non-ASCII character could lowercase
into a hint word.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from eggshield.logs import sensitive, signals
from eggshield.logs.record import LogRecord

_DIGITS = bytes.maketrans(b"123456789", b"000000000")  # bytes: translate() on str is 8x slower
CONTROL = re.compile(b"[\x00-\x08\x0b-\x1f\x7f]")
METHODS = ("get ", "post ", "put ", "patch ", "delete ", "head ", "options ")
MEMO_SIZE = 20000


def normalise(text: str) -> bytes:
    """`text` (ASCII) lowercased, every digit read as 0."""
    return text.encode("ascii").lower().translate(_DIGITS)


@lru_cache(maxsize=2)
def trigger_words(secrets: bool) -> tuple[bytes, ...] | None:
    """Words one of which a body must hold to carry anything; None when no such list can be made
    (a message or text signature without hint words: every body must then be judged in full)."""
    words = {"nodejs.", "status", *METHODS}
    gates = signals._plan()[1]
    for where in ("message", "text"):
        if any(s.where == where for s in signals.signatures()):
            if where not in gates:
                return None
            words.update(gates[where])
    if secrets:
        words.update(sensitive.KV_WORDS)
        words.update(("bearer", "basic", "token", "eyj", "-----begin", "@", "+", "sess", "sid="))
        words.update(p.lower() for p in sensitive.VENDOR_PREFIXES)
        words.update(("0000000", "0000 000", "0000-000"))  # sensitive.LONG_NUMBER, digits read as 0
    norm = {normalise(w) for w in words if w.isascii()}
    # a word that contains another is implied by it: test the shortest only
    return tuple(sorted(w for w in norm if not any(o != w and o in w for o in norm)))


def body_quiet_judge(secrets: bool) -> Callable[[str], bool]:
    """A function telling whether a record body (message and continuation lines, plain ASCII) is quiet."""
    words = trigger_words(secrets)
    if words is None:
        return lambda body: False
    memo: dict[bytes, bool] = {}
    control = CONTROL.search

    def quiet(body: str) -> bool:
        norm = body.encode("ascii").lower().translate(_DIGITS)
        verdict = memo.get(norm)
        if verdict is None:
            verdict = control(norm) is None
            if verdict:
                for w in words:
                    if w in norm:
                        verdict = False
                        break
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            memo[norm] = verdict
        return verdict

    return quiet


def record_quiet_judge(secrets: bool) -> Callable[[LogRecord], bool]:
    """A function telling whether a parsed record (text or JSON format) is quiet: the same tests as
    `skim` applies to a block's records, on the record's fields. For the line-by-line readers (JSON
    logs, `logs watch`), which then skip `analyze.prepare` on most records.

    Beyond skim's tests it requires what only a parser sets from trigger words anyway (an error name,
    properties, the control-chars flag), so it holds for a record however it was made."""
    quiet_body = body_quiet_judge(secrets)

    def quiet(rec: LogRecord) -> bool:
        if rec.level == "ERROR" or rec.error_name is not None or rec.props:
            return False
        flags = rec.flags
        if flags and ("out-of-order" in flags or "control-chars" in flags):
            return False
        url = rec.url
        if url is not None and not url_is_quiet(url):
            return False
        text = rec.text
        return text.isascii() and quiet_body(text)

    return quiet


@lru_cache(maxsize=MEMO_SIZE)
def url_is_quiet(url: str) -> bool:
    """True when no URL or path signature can match `url` (signals._signals_of's own tests, run directly)."""
    if signals.SAFE_URL.fullmatch(url) is None:
        return False
    path = url.split("?", 1)[0]
    return not any(sig.regex.search(path) for sig in _path_signatures())


@lru_cache(maxsize=1)
def _path_signatures() -> tuple:
    return tuple(s for s in signals.signatures() if s.where == "path")
