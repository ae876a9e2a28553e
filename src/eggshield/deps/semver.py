"""npm's semver, ported from node-semver 7.x so that ranges mean here what they mean to npm.

A lockfile, an advisory and `package.json` all speak node-semver: `^0.2.3` is `<0.3.0`, a
prerelease only satisfies a range whose comparator names the same `major.minor.patch`,
`1.2 - 3` is `>=1.2.0 <4.0.0-0`. Getting one of these wrong silently hides a vulnerable
version, so this module follows node-semver's own algorithm (regexes, desugaring, the
prerelease rule) step by step rather than reinventing it; tests replay node-semver's
fixture tables and compare against the node-semver that ships inside npm.

OSV ranges (introduced / fixed / last_affected / limit events) are evaluated with npm's
version order, prereleases included, as `npm audit` does (`includePrerelease: true`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache, total_ordering

MAX_LENGTH = 256
MAX_SAFE_INTEGER = 2**53 - 1
_MAX_SAFE_BUILD_LENGTH = MAX_LENGTH - 6


class InvalidVersion(ValueError):
    """Not a semver version (message names the text)."""


class InvalidRange(ValueError):
    """Not a semver range (message names the text)."""


# -- the regular expressions of node-semver's internal/re.js ---------------------------------

_LETTERDASHNUMBER = "[a-zA-Z0-9-]"
_SAFE = ((r"\s", 1), (r"\d", MAX_LENGTH), (_LETTERDASHNUMBER, _MAX_SAFE_BUILD_LENGTH))


def _safe(value: str) -> str:
    """node-semver bounds greedy tokens to keep its regexes linear; do the same."""
    for token, bound in _SAFE:
        value = value.replace(token + "*", f"{token}{{0,{bound}}}").replace(token + "+", f"{token}{{1,{bound}}}")
    return value


_src: dict[str, str] = {}


def _tok(name: str, value: str) -> None:
    _src[name] = value


_tok("NUMERICIDENTIFIER", r"0|[1-9]\d*")
_tok("NUMERICIDENTIFIERLOOSE", r"\d+")
_tok("NONNUMERICIDENTIFIER", rf"\d*[a-zA-Z-]{_LETTERDASHNUMBER}*")
_tok("MAINVERSION", rf"({_src['NUMERICIDENTIFIER']})\.({_src['NUMERICIDENTIFIER']})\.({_src['NUMERICIDENTIFIER']})")
_tok("MAINVERSIONLOOSE", rf"({_src['NUMERICIDENTIFIERLOOSE']})\.({_src['NUMERICIDENTIFIERLOOSE']})\."
                         rf"({_src['NUMERICIDENTIFIERLOOSE']})")
_tok("PRERELEASEIDENTIFIER", f"(?:{_src['NONNUMERICIDENTIFIER']}|{_src['NUMERICIDENTIFIER']})")
_tok("PRERELEASEIDENTIFIERLOOSE", f"(?:{_src['NONNUMERICIDENTIFIER']}|{_src['NUMERICIDENTIFIERLOOSE']})")
_tok("PRERELEASE", rf"(?:-({_src['PRERELEASEIDENTIFIER']}(?:\.{_src['PRERELEASEIDENTIFIER']})*))")
_tok("PRERELEASELOOSE", rf"(?:-?({_src['PRERELEASEIDENTIFIERLOOSE']}(?:\.{_src['PRERELEASEIDENTIFIERLOOSE']})*))")
_tok("BUILDIDENTIFIER", f"{_LETTERDASHNUMBER}+")
_tok("BUILD", rf"(?:\+({_src['BUILDIDENTIFIER']}(?:\.{_src['BUILDIDENTIFIER']})*))")
_tok("FULLPLAIN", f"v?{_src['MAINVERSION']}{_src['PRERELEASE']}?{_src['BUILD']}?")
_tok("FULL", f"^{_src['FULLPLAIN']}$")
_tok("LOOSEPLAIN", rf"[v=\s]*{_src['MAINVERSIONLOOSE']}{_src['PRERELEASELOOSE']}?{_src['BUILD']}?")
_tok("LOOSE", f"^{_src['LOOSEPLAIN']}$")
_tok("GTLT", "((?:<|>)?=?)")
_tok("XRANGEIDENTIFIERLOOSE", rf"{_src['NUMERICIDENTIFIERLOOSE']}|x|X|\*")
_tok("XRANGEIDENTIFIER", rf"{_src['NUMERICIDENTIFIER']}|x|X|\*")
_tok("XRANGEPLAIN", rf"[v=\s]*({_src['XRANGEIDENTIFIER']})(?:\.({_src['XRANGEIDENTIFIER']})"
                    rf"(?:\.({_src['XRANGEIDENTIFIER']})(?:{_src['PRERELEASE']})?{_src['BUILD']}?)?)?")
_tok("XRANGEPLAINLOOSE", rf"[v=\s]*({_src['XRANGEIDENTIFIERLOOSE']})(?:\.({_src['XRANGEIDENTIFIERLOOSE']})"
                         rf"(?:\.({_src['XRANGEIDENTIFIERLOOSE']})(?:{_src['PRERELEASELOOSE']})?{_src['BUILD']}?)?)?")
_tok("XRANGE", rf"^{_src['GTLT']}\s*{_src['XRANGEPLAIN']}$")
_tok("XRANGELOOSE", rf"^{_src['GTLT']}\s*{_src['XRANGEPLAINLOOSE']}$")
_tok("LONETILDE", "(?:~>?)")
_tok("TILDETRIM", rf"(\s*){_src['LONETILDE']}\s+")
_tok("TILDE", f"^{_src['LONETILDE']}{_src['XRANGEPLAIN']}$")
_tok("TILDELOOSE", f"^{_src['LONETILDE']}{_src['XRANGEPLAINLOOSE']}$")
_tok("LONECARET", r"(?:\^)")
_tok("CARETTRIM", rf"(\s*){_src['LONECARET']}\s+")
_tok("CARET", f"^{_src['LONECARET']}{_src['XRANGEPLAIN']}$")
_tok("CARETLOOSE", f"^{_src['LONECARET']}{_src['XRANGEPLAINLOOSE']}$")
_tok("COMPARATORLOOSE", rf"^{_src['GTLT']}\s*({_src['LOOSEPLAIN']})$|^$")
_tok("COMPARATOR", rf"^{_src['GTLT']}\s*({_src['FULLPLAIN']})$|^$")
_tok("COMPARATORTRIM", rf"(\s*){_src['GTLT']}\s*({_src['LOOSEPLAIN']}|{_src['XRANGEPLAIN']})")
_tok("HYPHENRANGE", rf"^\s*({_src['XRANGEPLAIN']})\s+-\s+({_src['XRANGEPLAIN']})\s*$")
_tok("HYPHENRANGELOOSE", rf"^\s*({_src['XRANGEPLAINLOOSE']})\s+-\s+({_src['XRANGEPLAINLOOSE']})\s*$")
_tok("STAR", r"(<|>)?=?\s*\*")
_tok("GTE0", r"^\s*>=\s*0\.0\.0\s*$")
_tok("GTE0PRE", r"^\s*>=\s*0\.0\.0-0\s*$")


def _compile(name: str) -> re.Pattern[str]:
    # JavaScript's `$` (no m flag) only matches at the very end; Python's also before a final \n.
    return re.compile(_safe(_src[name]).replace("$", r"\Z"), re.ASCII)


_RE = {name: _compile(name) for name in _src}
_BUILD_STRIP = re.compile(_src["BUILD"], re.ASCII)  # node-semver strips build metadata unbounded
_SPACES = re.compile(r"\s+")
_NUMERIC = re.compile(r"^[0-9]+\Z")


# -- versions --------------------------------------------------------------------------------

def _compare_identifiers(a: int | str, b: int | str) -> int:
    anum = isinstance(a, int) or bool(_NUMERIC.match(a))
    bnum = isinstance(b, int) or bool(_NUMERIC.match(b))
    if anum and bnum:
        a, b = int(a), int(b)
    if a == b:
        return 0
    if anum and not bnum:
        return -1
    if bnum and not anum:
        return 1
    return -1 if a < b else 1  # type: ignore[operator]


@total_ordering
class Version:
    """A parsed version; ordering is npm's (build metadata ignored, prereleases lower)."""

    __slots__ = ("major", "minor", "patch", "prerelease", "build", "raw", "version")

    def __init__(self, text: str, loose: bool = False):
        if not isinstance(text, str):
            raise InvalidVersion(f"Invalid Version: {text!r} is not a string")
        if len(text) > MAX_LENGTH:
            raise InvalidVersion(f"version is longer than {MAX_LENGTH} characters")
        m = _RE["LOOSE" if loose else "FULL"].match(text.strip())
        if not m:
            raise InvalidVersion(f"Invalid Version: {text}")
        self.raw = text
        self.major, self.minor, self.patch = int(m.group(1)), int(m.group(2)), int(m.group(3))
        for part in (self.major, self.minor, self.patch):
            if part > MAX_SAFE_INTEGER:
                raise InvalidVersion(f"Invalid Version: {text} (component too large)")
        pre = m.group(4)
        self.prerelease: tuple[int | str, ...] = tuple(
            int(p) if _NUMERIC.match(p) and int(p) < MAX_SAFE_INTEGER else p for p in pre.split(".")
        ) if pre else ()
        self.build: tuple[str, ...] = tuple(m.group(5).split(".")) if m.group(5) else ()
        self.version = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            self.version += "-" + ".".join(str(p) for p in self.prerelease)

    def __str__(self) -> str:
        return self.version

    def __repr__(self) -> str:
        return f"Version({self.version!r})"

    def compare_main(self, other: Version) -> int:
        a = (self.major, self.minor, self.patch)
        b = (other.major, other.minor, other.patch)
        return (a > b) - (a < b)

    def compare_pre(self, other: Version) -> int:
        if self.prerelease and not other.prerelease:
            return -1
        if not self.prerelease and other.prerelease:
            return 1
        if not self.prerelease and not other.prerelease:
            return 0
        i = 0
        while True:
            a = self.prerelease[i] if i < len(self.prerelease) else None
            b = other.prerelease[i] if i < len(other.prerelease) else None
            if a is None and b is None:
                return 0
            if b is None:
                return 1
            if a is None:
                return -1
            if a != b:
                return _compare_identifiers(a, b)
            i += 1

    def compare(self, other: Version) -> int:
        if other.version == self.version:
            return 0
        return self.compare_main(other) or self.compare_pre(other)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.compare(other) == 0

    def __lt__(self, other: Version) -> bool:
        return self.compare(other) < 0

    def __hash__(self) -> int:
        return hash(self.version)


@lru_cache(maxsize=65536)
def _parse_cached(text: str, loose: bool) -> Version:
    return Version(text, loose)


def parse(text: str, loose: bool = False) -> Version | None:
    """The version, or None when `text` is not one (like `semver.parse`)."""
    if not isinstance(text, str):
        return None
    try:
        return _parse_cached(text, loose)
    except InvalidVersion:
        return None


def valid(text: str, loose: bool = False) -> str | None:
    v = parse(text, loose)
    return v.version if v else None


def compare(a: str | Version, b: str | Version, loose: bool = False) -> int:
    va = a if isinstance(a, Version) else _parse_cached(a, loose)
    vb = b if isinstance(b, Version) else _parse_cached(b, loose)
    return va.compare(vb)


def version_key(text: str) -> Version:
    """sort(key=version_key): npm order, raises InvalidVersion on junk."""
    return _parse_cached(text, True)


def _cmp(a: Version, op: str, b: Version) -> bool:
    c = a.compare(b)
    if op in ("", "=", "=="):
        return c == 0
    if op == ">":
        return c > 0
    if op == ">=":
        return c >= 0
    if op == "<":
        return c < 0
    if op == "<=":
        return c <= 0
    raise InvalidRange(f"Invalid operator: {op}")


# -- comparators and ranges ------------------------------------------------------------------

@dataclass(frozen=True)
class Comparator:
    operator: str  # '', '<', '<=', '>', '>='
    semver: Version | None  # None = ANY
    value: str

    @classmethod
    def parse(cls, comp: str, loose: bool) -> Comparator:
        comp = " ".join(comp.strip().split())
        m = _RE["COMPARATORLOOSE" if loose else "COMPARATOR"].match(comp)
        if not m:
            raise InvalidRange(f"Invalid comparator: {comp}")
        op = m.group(1) or ""
        if op == "=":
            op = ""
        if not m.group(2):
            return cls("", None, "")
        v = Version(m.group(2), loose)
        return cls(op, v, op + v.version)

    def test(self, version: Version) -> bool:
        if self.semver is None:
            return True
        return _cmp(version, self.operator, self.semver)


def _is_x(part: str | None) -> bool:
    return not part or part.lower() == "x" or part == "*"


def _invalid_xrange_order(M, m, p) -> bool:
    return (_is_x(M) and not _is_x(m)) or (_is_x(m) and bool(p) and not _is_x(p))


def _replace_tilde(comp: str, loose: bool, incpr: bool) -> str:
    z = "-0" if incpr else ""

    def repl(mt: re.Match) -> str:
        M, m, p, pr = mt.group(1), mt.group(2), mt.group(3), mt.group(4)
        if _is_x(M):
            return ""
        if _is_x(m):
            return f">={M}.0.0{z} <{int(M) + 1}.0.0-0"
        if _is_x(p):
            return f">={M}.{m}.0{z} <{M}.{int(m) + 1}.0-0"
        if pr:
            return f">={M}.{m}.{p}-{pr} <{M}.{int(m) + 1}.0-0"
        return f">={M}.{m}.{p} <{M}.{int(m) + 1}.0-0"

    return _RE["TILDELOOSE" if loose else "TILDE"].sub(repl, comp, count=1)


def _replace_caret(comp: str, loose: bool, incpr: bool) -> str:
    z = "-0" if incpr else ""

    def repl(mt: re.Match) -> str:
        M, m, p, pr = mt.group(1), mt.group(2), mt.group(3), mt.group(4)
        if _is_x(M):
            return ""
        if _is_x(m):
            return f">={M}.0.0{z} <{int(M) + 1}.0.0-0"
        if _is_x(p):
            if M == "0":
                return f">={M}.{m}.0{z} <{M}.{int(m) + 1}.0-0"
            return f">={M}.{m}.0{z} <{int(M) + 1}.0.0-0"
        low = f">={M}.{m}.{p}-{pr}" if pr else f">={M}.{m}.{p}"
        if M == "0":
            if m == "0":
                return f"{low} <{M}.{m}.{int(p) + 1}-0"
            return f"{low} <{M}.{int(m) + 1}.0-0"
        return f"{low} <{int(M) + 1}.0.0-0"

    return _RE["CARETLOOSE" if loose else "CARET"].sub(repl, comp, count=1)


def _replace_xrange(comp: str, loose: bool, incpr: bool) -> str:
    comp = comp.strip()

    def repl(mt: re.Match) -> str:
        ret = mt.group(0)
        gtlt, M, m, p = mt.group(1), mt.group(2), mt.group(3), mt.group(4)
        if _invalid_xrange_order(M, m, p):
            return comp
        xM = _is_x(M)
        xm = xM or _is_x(m)
        xp = xm or _is_x(p)
        any_x = xp
        if gtlt == "=" and any_x:
            gtlt = ""
        pr = "-0" if incpr else ""
        if xM:
            return "<0.0.0-0" if gtlt in (">", "<") else "*"
        if gtlt and any_x:
            mm: int | str = 0 if xm else m
            pp: int | str = 0
            MM: int | str = M
            if gtlt == ">":
                gtlt = ">="
                if xm:
                    MM, mm, pp = int(M) + 1, 0, 0
                else:
                    mm, pp = int(m) + 1, 0
            elif gtlt == "<=":
                gtlt = "<"
                if xm:
                    MM = int(M) + 1
                else:
                    mm = int(m) + 1
            if gtlt == "<":
                pr = "-0"
            return f"{gtlt}{MM}.{mm}.{pp}{pr}"
        if xm:
            return f">={M}.0.0{pr} <{int(M) + 1}.0.0-0"
        if xp:
            return f">={M}.{m}.0{pr} <{M}.{int(m) + 1}.0-0"
        return ret

    return _RE["XRANGELOOSE" if loose else "XRANGE"].sub(repl, comp, count=1)


def _hyphen_replace(incpr: bool):
    def repl(mt: re.Match) -> str:
        frm, fM, fm, fp, fpr = mt.group(1), mt.group(2), mt.group(3), mt.group(4), mt.group(5)
        to, tM, tm, tp, tpr = mt.group(7), mt.group(8), mt.group(9), mt.group(10), mt.group(11)
        if _is_x(fM):
            frm = ""
        elif _is_x(fm):
            frm = f">={fM}.0.0{'-0' if incpr else ''}"
        elif _is_x(fp):
            frm = f">={fM}.{fm}.0{'-0' if incpr else ''}"
        elif fpr:
            frm = f">={frm}"
        else:
            frm = f">={frm}{'-0' if incpr else ''}"
        if _is_x(tM):
            to = ""
        elif _is_x(tm):
            to = f"<{int(tM) + 1}.0.0-0"
        elif _is_x(tp):
            to = f"<{tM}.{int(tm) + 1}.0-0"
        elif tpr:
            to = f"<={tM}.{tm}.{tp}-{tpr}"
        elif incpr:
            to = f"<{tM}.{tm}.{int(tp) + 1}-0"
        else:
            to = f"<={to}"
        return f"{frm} {to}".strip()

    return repl


def _parse_comparator(comp: str, loose: bool, incpr: bool) -> str:
    comp = _RE["BUILD"].sub("", comp, count=1)
    comp = " ".join(_replace_caret(c, loose, incpr) for c in comp.strip().split())
    comp = " ".join(_replace_tilde(c, loose, incpr) for c in comp.strip().split())
    comp = " ".join(_replace_xrange(c, loose, incpr) for c in _SPACES.split(comp))
    return _RE["STAR"].sub("", comp.strip(), count=1)


def _is_null_set(c: Comparator) -> bool:
    return c.value == "<0.0.0-0"


@lru_cache(maxsize=4096)
def _parse_range_part(part: str, loose: bool, incpr: bool) -> tuple[Comparator, ...]:
    part = _BUILD_STRIP.sub("", part)
    part = _RE["HYPHENRANGELOOSE" if loose else "HYPHENRANGE"].sub(_hyphen_replace(incpr), part, count=1)
    part = _RE["COMPARATORTRIM"].sub(lambda mt: (mt.group(1) or "") + (mt.group(2) or "") + (mt.group(3) or ""),
                                     part)
    part = _RE["TILDETRIM"].sub(lambda mt: (mt.group(1) or "") + "~", part)
    part = _RE["CARETTRIM"].sub(lambda mt: (mt.group(1) or "") + "^", part)
    comps = " ".join(_parse_comparator(c, loose, incpr) for c in part.split(" "))
    gte0 = _RE["GTE0PRE" if incpr else "GTE0"]
    items = [gte0.sub("", c.strip(), count=1) for c in _SPACES.split(comps)]
    if loose:
        items = [c for c in items if _RE["COMPARATORLOOSE"].match(c)]
    seen: dict[str, Comparator] = {}
    for text in items:
        c = Comparator.parse(text, loose)
        if _is_null_set(c):
            return (c,)
        seen[c.value] = c
    if len(seen) > 1 and "" in seen:
        del seen[""]
    return tuple(seen.values())


class Range:
    """A parsed range: a union (`||`) of comparator sets, each an intersection."""

    __slots__ = ("raw", "loose", "include_prerelease", "set")

    def __init__(self, text: str, loose: bool = False, include_prerelease: bool = False):
        if not isinstance(text, str):
            raise InvalidRange(f"Invalid SemVer Range: {text!r} is not a string")
        self.loose = loose
        self.include_prerelease = include_prerelease
        self.raw = _SPACES.sub(" ", text.strip())
        try:
            sets = [_parse_range_part(p.strip(), loose, include_prerelease) for p in self.raw.split("||")]
        except InvalidVersion as exc:
            raise InvalidRange(str(exc)) from None
        sets = [s for s in sets if s]
        if not sets:
            raise InvalidRange(f"Invalid SemVer Range: {self.raw}")
        if len(sets) > 1:
            first = sets[0]
            sets = [s for s in sets if not _is_null_set(s[0])] or [first]
            if len(sets) > 1:
                for s in sets:
                    if len(s) == 1 and s[0].value == "":
                        sets = [s]
                        break
        self.set: list[tuple[Comparator, ...]] = sets

    @property
    def range(self) -> str:
        return "||".join(" ".join(c.value.strip() for c in comps) for comps in self.set)

    def __str__(self) -> str:
        return self.range

    def __repr__(self) -> str:
        return f"Range({self.raw!r})"

    def test(self, version: str | Version) -> bool:
        if not version:
            return False
        if isinstance(version, str):
            try:
                version = _parse_cached(version, self.loose)
            except InvalidVersion:
                return False
        return any(self._test_set(s, version) for s in self.set)

    def _test_set(self, comps: tuple[Comparator, ...], version: Version) -> bool:
        for c in comps:
            if not c.test(version):
                return False
        if version.prerelease and not self.include_prerelease:
            # ^1.2.3-pr.1 lets 1.2.3-pr.2 in, but not 1.2.4-alpha: only prereleases of a
            # [major, minor, patch] tuple some comparator names explicitly.
            for c in comps:
                if c.semver is None:
                    continue
                if c.semver.prerelease and c.semver.compare_main(version) == 0:
                    return True
            return False
        return True


@lru_cache(maxsize=8192)
def _range_cached(text: str, loose: bool, incpr: bool) -> Range:
    return Range(text, loose, incpr)


def parse_range(text: str, loose: bool = False, include_prerelease: bool = False) -> Range | None:
    try:
        return _range_cached(text, loose, include_prerelease)
    except (InvalidRange, InvalidVersion, TypeError):
        return None


def valid_range(text: str, loose: bool = False, include_prerelease: bool = False) -> str | None:
    r = parse_range(text, loose, include_prerelease)
    return None if r is None else (r.range or "*")


def satisfies(version: str | Version, range_text: str, loose: bool = False,
              include_prerelease: bool = False) -> bool:
    r = parse_range(range_text, loose, include_prerelease)
    return bool(r and r.test(version))


def max_satisfying(versions: Iterable[str], range_text: str, loose: bool = False,
                   include_prerelease: bool = False) -> str | None:
    r = parse_range(range_text, loose, include_prerelease)
    if r is None:
        return None
    best: str | None = None
    best_v: Version | None = None
    for text in versions:
        if r.test(text):
            v = parse(text, loose)
            if v is not None and (best_v is None or best_v.compare(v) < 0):
                best, best_v = text, v
    return best


def diff(a: str, b: str) -> str | None:
    """'major', 'minor', 'patch', 'prerelease' (or pre*) between two versions, like `semver.diff`."""
    v1, v2 = _parse_cached(a, True), _parse_cached(b, True)
    c = v1.compare(v2)
    if c == 0:
        return None
    high, low = (v1, v2) if c > 0 else (v2, v1)
    if low.prerelease and not high.prerelease:
        if not low.patch and not low.minor:
            return "major"
        if low.compare_main(high) == 0:
            return "minor" if low.minor and not low.patch else "patch"
    prefix = "pre" if high.prerelease else ""
    if v1.major != v2.major:
        return prefix + "major"
    if v1.minor != v2.minor:
        return prefix + "minor"
    if v1.patch != v2.patch:
        return prefix + "patch"
    return "prerelease"


# -- OSV ranges ------------------------------------------------------------------------------

_ZERO = Version("0.0.0-0")


def _event_version(text: str) -> Version | None:
    if text == "0":
        return _ZERO
    return parse(text, loose=True)


def osv_range_affects(events: list[dict], version: Version) -> bool:
    """OSV's evaluation of one ECOSYSTEM/SEMVER range (introduced/fixed/last_affected/limit).

    Events are sorted by version and walked in order, as the OSV schema specifies; prereleases
    count (npm audit tests advisories with includePrerelease). Unparsable event versions are
    skipped rather than guessed at.
    """
    parsed: list[tuple[Version, int, str]] = []
    order = {"introduced": 0, "fixed": 1, "last_affected": 2, "limit": 3}
    for event in events:
        if not isinstance(event, dict):
            continue
        for kind, rank in order.items():
            value = event.get(kind)
            if isinstance(value, str):
                v = _event_version(value)
                if v is not None:
                    parsed.append((v, rank, kind))
    parsed.sort(key=lambda item: (_SortKey(item[0]), item[1]))
    limits = [v for v, _, kind in parsed if kind == "limit"]
    if limits and all(version.compare(lim) >= 0 for lim in limits):
        return False
    affected = False
    for v, _, kind in parsed:
        if kind == "introduced" and version.compare(v) >= 0:
            affected = True
        elif (kind == "fixed" and version.compare(v) >= 0) or (kind == "last_affected" and version.compare(v) > 0):
            affected = False
    return affected


@total_ordering
class _SortKey:
    __slots__ = ("v",)

    def __init__(self, v: Version):
        self.v = v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SortKey) and self.v.compare(other.v) == 0

    def __lt__(self, other: _SortKey) -> bool:
        return self.v.compare(other.v) < 0
