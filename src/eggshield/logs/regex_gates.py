"""Words a regular expression cannot match without: a few substring tests that rule it out first.

Python's `re` tries a pattern at every position of a text, so a 30-way alternation costs ~15 µs on
an 80-character record even when the record holds none of its words; `w in text` runs at C speed.
`needs(rx)` reads the words off the parsed pattern, so they can never disagree with it:

  - literal characters in a row form a word; a zero-width assertion (`\\b`, `^`, look-arounds) between
    them does not break it (they stay adjacent in the text); anything else does;
  - a sequence needs every part; an alternation needs one of its branches; a repeat of at least one
    needs its body; an optional part, a character class with a range or category, `.` need nothing;
  - a literal run just before an alternation is carried into each branch (`A(?:KIA|SIA)` → AKIA, ASIA);
  - under re.IGNORECASE words are lowercase ASCII and compared with `fold(text)`: re.I matches `ſ`
    (U+017F) for s, `K` (U+212A) for k and `İ`/`ı` for i, which `str.lower()` alone would miss; a
    pattern character with other case variants ends the word.

The result is a necessary condition only: a text that passes may still not match.
"""

from __future__ import annotations

import re
from collections.abc import Callable

try:  # the parser behind `re`: private, so its absence or a change of shape only costs the gate
    from re import _constants as _C
    from re import _parser as _P
except ImportError:  # pragma: no cover - Python without re._parser
    _C = _P = None

#: non-ASCII characters that re.IGNORECASE matches with an ASCII letter (the whole list, checked
#: against every code point in tests/test_logs_finders_gates.py)
FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
MAX_WORDS = 64  # a run expanded through character classes stops growing past this many words


def fold(text: str) -> str:
    """`text` as an IGNORECASE gate compares it: every character re.I equates with an ASCII letter
    becomes that letter in lowercase (ASCII text: just `lower()`)."""
    return text.lower() if text.isascii() else text.translate(FOLD).lower()


class Needs:
    """Alternatives of clauses of words: a text can match only if, for some alternative, every
    clause has one of its words in the text (`fold`ed first when `icase`)."""

    __slots__ = ("alts", "icase", "met_by")

    def __init__(self, alts: tuple[tuple[tuple[str, ...], ...], ...], icase: bool):
        self.alts = alts
        self.icase = icase
        #: `met_by(text)`: the test as one boolean expression (`'a' in t and ('b' in t or ...) or ...`),
        #: which Python runs several times faster than loops over the tuples; the words go in as
        #: `repr` literals, so no text of the pattern is ever code
        expr = " or ".join("(" + " and ".join("(" + " or ".join(f"{w!r} in t" for w in clause) + ")"
                                              for clause in alt) + ")" for alt in alts)
        self.met_by = eval(f"lambda t: bool({expr})", {"__builtins__": {"bool": bool}})

    def __repr__(self) -> str:
        return f"Needs({self.alts!r}, icase={self.icase})"


def any_in(words) -> Callable[[str], bool]:
    """`lambda t: any(w in t for w in words)`, as one `or` expression: half the cost of the loop."""
    words = tuple(words)
    return Needs(((words,),), False).met_by if words else (lambda t: False)


def needs(rx: re.Pattern) -> Needs | None:
    """The words `rx` cannot match without, None when no useful list can be read off it."""
    if _P is None or not isinstance(rx.pattern, str):
        return None
    try:
        tree = _P.parse(rx.pattern, rx.flags)
        if _anchored(list(tree), bool(tree.state.flags & re.MULTILINE)):
            return None  # tried at the start only: cheaper than any list of words
        icase = bool(tree.state.flags & re.IGNORECASE)
        dnf = _seq(list(tree), icase, None)
    except Exception:  # noqa: BLE001 - an unknown parser shape only means no gate
        return None
    if dnf is None:
        return None
    alts = _tidy(dnf)
    return Needs(alts, icase) if alts is not None else None


def _anchored(items, multiline: bool) -> bool:
    """Every branch starts with `\\A` (or `^` without MULTILINE): `re` fails such a pattern at once
    everywhere but at the start."""
    if not items:
        return False
    op, av = items[0]
    if op is _C.AT:
        return av is _C.AT_BEGINNING_STRING or (av is _C.AT_BEGINNING and not multiline)
    if op is _C.BRANCH:
        return all(_anchored(list(b), multiline) for b in av[1])
    if op is _C.SUBPATTERN:
        return _anchored(list(av[3]), multiline)
    return False


# A DNF is a list of alternatives; an alternative is a list of clauses; a clause is a set of words.
# None stands for "no condition".


def _char(code: int, icase: bool) -> str | None:
    """A pattern character as the gate compares it; None when re.I lets it match a character `fold`
    does not turn into it."""
    ch = chr(code)
    if not icase:
        return ch
    if ch.isascii():
        return ch.lower()
    return ch if ch.lower() == ch == ch.upper() else None  # uncased: re.I matches only itself


def _class_chars(items, icase: bool) -> set[str] | None:
    """The characters a `[...]` of plain literals matches, None for anything wider."""
    out = set()
    for op, av in items:
        if op is not _C.LITERAL:
            return None
        ch = _char(av, icase)
        if ch is None:
            return None
        out.add(ch)
    return out if len(out) <= 8 else None


_REPEATS = tuple(op for op in (getattr(_C, n, None) for n in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"))
                 if op is not None) if _C else ()


def _seq(items, icase: bool, prefix: set[str] | None) -> list | None:
    """The DNF of a sequence of parser items; `prefix`: words the text holds just before it."""
    clauses: list[set[str]] = []
    multi: list | None = None  # the first part with several alternatives, kept as such
    run: set[str] | None = set(prefix) if prefix else None

    def flush() -> None:
        nonlocal run
        if run:
            clauses.append(run)
        run = None

    for op, av in items:
        if op is _C.LITERAL:
            ch = _char(av, icase)
            if ch is None:
                flush()
            else:
                run = {w + ch for w in run} if run else {ch}
        elif op is _C.IN:
            chars = _class_chars(av, icase)
            if chars is None:
                flush()
            elif run and len(run) * len(chars) <= MAX_WORDS:
                run = {w + c for w in run for c in chars}
            else:
                flush()
                run = chars
        elif op is _C.AT or op is _C.ASSERT or op is _C.ASSERT_NOT:
            continue  # zero width: the characters on either side stay adjacent
        elif op is _C.BRANCH:
            multi = _and(clauses, multi, _branch(av[1], icase, run))
            run = None  # carried into every branch
        elif op is _C.SUBPATTERN:
            if (av[1] | av[2]) & re.IGNORECASE:
                flush()  # case sensitivity changes inside: no words from it
                continue
            multi = _and(clauses, multi, _seq(list(av[3]), icase, run))
            run = None
        elif op in _REPEATS and av[0] >= 1:
            flush()
            multi = _and(clauses, multi, _seq(list(av[2]), icase, None))
        else:  # optional parts, ranges, categories, `.`, back references, atomic groups: no words
            flush()
    flush()
    if multi is not None:
        return [alt + clauses for alt in multi]
    return [clauses] if clauses else None


def _branch(branches, icase: bool, prefix: set[str] | None) -> list | None:
    out = []
    for b in branches:
        sub = _seq(list(b), icase, prefix)  # never None when a prefix is carried in
        if sub is None:
            return None
        out.extend(sub)
    return out


def _and(clauses: list, multi: list | None, sub: list | None) -> list | None:
    """Adds the conjunct `sub` to (`clauses`, `multi`); returns the new `multi`."""
    if sub is None:
        return multi
    if len(sub) == 1:
        clauses.extend(sub[0])
        return multi
    if multi is None:
        return sub
    # a second part with alternatives: one clause of it, each alternative's most telling clause
    words: set[str] = set()
    for alt in sub:
        if not alt:
            return multi
        words |= max(alt, key=_score)
    clauses.append(words)
    return multi


def _score(clause: set[str]) -> int:
    return min(len(w) for w in clause)


def _tidy(dnf: list) -> tuple | None:
    """Drops clauses that tell little (single characters, when the alternative has better), merges
    one-clause alternatives into one clause, puts first the clauses that are cheapest to rule out
    (fewest words, then longest)."""
    alts = []
    single: set[str] = set()
    for alt in dnf:
        if not alt:
            return None  # an alternative with no condition: nothing can be ruled out
        good = [c for c in alt if _score(c) >= 2] or [max(alt, key=_score)]
        good = _minimal(good)
        if len(good) == 1:
            single |= good[0]
        else:
            alts.append(tuple(tuple(sorted(c, key=lambda w: (-len(w), w))) for c in
                              sorted(good, key=lambda c: (len(c), -_score(c)))))
    if single:
        words = tuple(sorted(_shortest(single), key=lambda w: (-len(w), w)))
        alts.append((words,))
    return tuple(alts)


def _minimal(clauses: list[set[str]]) -> list[set[str]]:
    out = []
    for c in clauses:
        c = _shortest(c)
        if c not in out:
            out.append(c)
    return out


def _shortest(words: set[str]) -> set[str]:
    """A word that contains another word of the same clause adds nothing to it."""
    return {w for w in words if not any(o != w and o in w for o in words)}
