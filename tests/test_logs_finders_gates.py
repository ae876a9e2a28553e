"""The facts the finders' gates stand on, checked rather than assumed: what re.IGNORECASE equates
with ASCII letters (over every code point), what `\\s` and the name-prefix class match, that every
secret name ends with one of `sensitive.NAME_ENDS`, and that `regex_gates.needs` only ever states
necessary conditions: random patterns (literals in any case, classes, repeats, alternations,
groups, scoped flags, anchors, look-arounds) and texts made to match them must always pass."""

from __future__ import annotations

import random
import re
import string

import pytest

from eggshield.logs import regex_gates, sensitive, signals
from eggshield.logs.regex_gates import FOLD, fold, needs

EVERY_CHAR = "".join(map(chr, range(0x110000)))


def test_fold_knows_every_character_re_ignorecase_equates_with_an_ascii_letter():
    specials = {}
    for letter in string.ascii_lowercase:
        for ch in re.findall(letter, EVERY_CHAR, re.I):
            if ch not in (letter, letter.upper()):
                specials[ch] = letter
    assert specials == {chr(k): v for k, v in FOLD.items()}
    for ch in string.printable:  # and an ASCII character that is not a letter matches only itself
        if not ch.isalpha():
            assert re.findall(re.escape(ch), EVERY_CHAR, re.I) == [ch]
    assert fold("PA\u017f\u017fWORD \u212aEY p\u0130n P\u0131N") == "password key pin pin"


def test_the_classes_the_finders_rebuild_by_hand():
    # `\s` is str.isspace(); on ASCII it is the class spelt out in sensitive._KEY_OP_REVERSED0
    assert set(re.findall(r"\s", EVERY_CHAR)) == {c for c in EVERY_CHAR if c.isspace()}
    assert {c for c in map(chr, range(128)) if c.isspace()} == set("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f ")
    # ASSIGN's prefix class under re.I: ASCII word characters and FOLD's four, which every letter of a
    # secret name can match (so a name and its prefix are one run of the class)
    word = set(re.findall(r"[A-Za-z0-9_]", EVERY_CHAR, re.I))
    assert word == set(string.ascii_letters + string.digits + "_") | {chr(k) for k in FOLD}
    for letter in set("".join(_names())) - set("密码口令"):
        assert set(re.findall(re.escape(letter), EVERY_CHAR, re.I)) <= word, letter
    # digits: a str pattern's \d is every decimal digit, which the ASCII path never sees
    assert len(re.findall(r"\d", EVERY_CHAR)) > 600


def _language(items) -> set[str]:
    """Every string a small pattern (literals, groups, alternations, `?`) matches."""
    out = {""}
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            out = {s + chr(av) for s in out}
        elif name == "SUBPATTERN":
            out = {s + t for s in out for t in _language(list(av[3]))}
        elif name == "BRANCH":
            out = {s + t for s in out for b in av[1] for t in _language(list(b))}
        elif name == "IN":
            out = {s + chr(c) for s in out for o, c in av if str(o) == "LITERAL"}
        elif name == "MAX_REPEAT" and av[0] == 0 and av[1] == 1:
            out = out | {s + t for s in out for t in _language(list(av[2]))}
        else:
            raise AssertionError(f"unexpected {name} in SECRET_NAMES")
    return out


def _names() -> set[str]:
    return _language(list(re._parser.parse(sensitive.SECRET_NAMES, 0)))


def test_every_secret_name_ends_with_one_of_name_ends():
    names = _names()
    assert {"password", "passwd", "client_secret", "clientsecret", "access_key_secret", "密码", "security_code"} <= names
    for name in names:
        assert name.endswith(sensitive.NAME_ENDS), name
    for end in sensitive.NAME_ENDS:  # and none is there for nothing
        assert any(name.endswith(end) for name in names), end


def test_the_words_read_off_the_finders_patterns():
    by_label = {label: n for label, _rx, _g, _k, n in sensitive._vendor_plan()}
    assert by_label["AWS access key id"].alts == ((("ABIA", "ACCA", "AKIA", "ASIA"),),)
    assert set(by_label["GitHub token"].alts[0][0]) == {"github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"}
    assert sum(1 for n in by_label.values() if n is not None) >= 12  # all but the (?i:...) AWS secret
    assert sensitive._BEARER_NEEDS.alts == ((("Bearer", "Basic", "Token"),),)
    auth = next(s for s in signals.signatures() if s.kind == "auth_failure" and s.where == "message")
    gate = needs(auth.regex)
    assert gate.icase and gate.met_by("login failed for user bob") and not gate.met_by('signup {"password":"x"}')
    assert needs(re.compile(r"^/(?:\.env|wp-admin)", re.I)) is None  # anchored: re tries it once anyway
    assert needs(re.compile(r"^abc", re.M)) is not None
    assert needs(re.compile(r"\d+|x")) is None  # a branch with no words: nothing can be ruled out


# --- needs() on random patterns: it may only state what every match implies ----------------------

LETTERS = "aksiKSIz"
ODD = "\u017f\u212a\u0131\u0130"


class _Gen:
    def __init__(self, rnd: random.Random):
        self.rnd = rnd

    def pattern(self, depth: int = 0) -> tuple[str, list]:
        """(pattern text, a recipe to build a matching string) for a random sequence."""
        rnd = self.rnd
        parts, recipe = [], []
        for _ in range(rnd.randint(1, 4)):
            p, r = self.atom(depth)
            q, rep = rnd.choice([("", (1, 1)), ("", (1, 1)), ("?", (0, 1)), ("*", (0, 2)), ("+", (1, 3)),
                                 ("{2}", (2, 2)), ("{1,3}", (1, 3)), ("+?", (1, 2))])
            if q and (p.startswith(("\\b", "^", "$", "(?=", "(?!", "(?<")) or p == ""):
                q, rep = "", (1, 1)
            elif p.startswith("(") and q in ("*", "+", "+?"):
                q, rep = "{1,2}", (1, 2)  # an unbounded repeat of a group of repeats backtracks for minutes
            parts.append(p + q)
            recipe.append(("rep", r, rep))
        return "".join(parts), recipe

    def atom(self, depth: int) -> tuple[str, list]:
        rnd = self.rnd
        k = rnd.random()
        if k < 0.45:
            word = "".join(rnd.choice(LETTERS + "-_.=:密") for _ in range(rnd.randint(1, 4)))
            return re.escape(word), [("lit", ch) for ch in word]
        if k < 0.6:
            cls, chars = rnd.choice([("[sz]", "sz"), ("[a-c]", "abc"), (r"\d", "19"), (r"\w", "aK_"), (".", "x-"),
                                     ("[^x]", "yk"), ("[kK]", "kK"), ("[=:]", "=:")])
            return cls, [("any", chars)]
        if k < 0.7:
            return rnd.choice([r"\b", "^", "$", "(?=k)", "(?!x)", "(?<=s)", r"\B"]), []
        if depth < 2:
            n = rnd.randint(1, 3)
            alts = [self.pattern(depth + 1) for _ in range(n)]
            head = rnd.choice(["(?:", "(", "(?i:", "(?-i:"])
            flag = {"(?i:": True, "(?-i:": False}.get(head)
            return head + "|".join(p for p, _ in alts) + ")", [("alt", [r for _, r in alts], flag)]
        return "x", [("lit", "x")]

    def build(self, recipe: list, icase: bool) -> str:
        rnd = self.rnd
        out = []
        for step in recipe:
            if step[0] == "rep":
                for _ in range(rnd.randint(*step[2])):
                    out.append(self.build(step[1], icase))
            elif step[0] == "lit":
                ch = step[1]
                if icase and ch.isascii() and ch.isalpha():
                    variants = [ch.lower(), ch.upper()] + [o for o in ODD if fold(o) == ch.lower()]
                    ch = rnd.choice(variants)
                out.append(ch)
            elif step[0] == "any":
                out.append(rnd.choice(step[1]))
            elif step[0] == "alt":
                flag = step[2]
                out.append(self.build(rnd.choice(step[1]), icase if flag is None else flag))
        return "".join(out)


def test_needs_never_rules_out_a_text_its_pattern_matches():
    rnd = random.Random(7)
    gen = _Gen(rnd)
    checked = gated = ruled_out = 0
    for _ in range(4000):
        text, recipe = gen.pattern()
        flags = rnd.choice([0, re.I])
        try:
            rx = re.compile(text, flags)
        except re.error:
            continue  # e.g. a look-behind of varying width
        gate = needs(rx)
        gated += gate is not None
        for _ in range(6):
            s = rnd.choice(["", "x ", "Z"]) + gen.build([("rep", recipe, (1, 1))], bool(flags)) + rnd.choice(["", " y"])
            if rx.search(s):
                checked += 1
                assert gate is None or gate.met_by(fold(s) if gate.icase else s), (text, flags, s, gate)
            elif gate is not None and not gate.met_by(fold(s) if gate.icase else s):
                ruled_out += 1
    assert checked > 10000 and gated > 1500 and ruled_out > 100, (checked, gated, ruled_out)


@pytest.mark.parametrize("pattern,flags,text", [
    (r"A(?:KIA|SIA)\d", 0, "ASIA1"),
    (r"pa(?:ss|wd)?word", re.I, "PAſſWORD"),
    (r"\bto(?=k)ken\b", re.I, "toKen"),
    (r"(?i:aws)_secret", 0, "AWS_secret"),
    (r"密码(?:错误|失败)", re.I, "密码失败"),
    (r"x[kK]y+z{2}", 0, "xKyyzz"),
])
def test_needs_on_shapes_the_data_files_use(pattern, flags, text):
    rx = re.compile(pattern, flags)
    assert rx.search(text)
    gate = needs(rx)
    assert gate is not None and gate.met_by(fold(text) if gate.icase else text)
    assert not gate.met_by("")


def test_any_in_is_any():
    test = regex_gates.any_in(["ab", "c'd", "\\", "密"])
    for text in ["xab", "c'd", "a\\", "密码", "", "a b", "cd"]:
        assert test(text) == any(w in text for w in ["ab", "c'd", "\\", "密"])
    assert regex_gates.any_in([])("anything") is False
