"""Compare `eggshield config --format json` with Egg's own config dump (the oracle).

Egg's dump is not the config itself: `convertObject` masks values by key name, turns
functions, regexps, Buffers and Sets into strings, and CircularJSON writes repeated
objects as `~path` references (egg-facts §1 "Masking"). So eggshield's value is first put
through the same transformation (`expected_dump_value`), then compared. Rules here mirror
egg@3.34.0 `lib/core/utils.js` and egg@4.0.10 `src/lib/core/utils.ts`, which agree on all
inputs eggshield produces.
"""

from __future__ import annotations

import abc
import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

# config.dump.ignore defaults (egg 3 and 4): exact key names, plus /secret/i.
MASK_NAMES = frozenset({"pass", "pwd", "passd", "passwd", "password", "keys", "masterKey", "accessKey"})
_SECRET = re.compile("secret", re.IGNORECASE)

# Keys whose value Egg's own boot code changes before the dump is written. For these the dump
# holds a runtime value while a static resolver can only know the value the config files
# merge to, so eggshield's value may equal either the merged value (the launcher's
# `loaded_config` snapshot) or the final one. Any other loaded-vs-final difference fails
# the oracle (`undocumented_mutations`), so this list cannot silently grow stale.
RUNTIME_MUTATIONS: dict[str, str] = {
    "coreMiddleware": "plugins' app.js push their middleware names (static is spliced in before bodyParser)",
    "coreMiddlewares": "egg-core aliases it to the coreMiddleware array",
    "appMiddleware": "egg-core sets it to config.middleware at load",
    "appMiddlewares": "egg-core sets it to config.middleware at load",
    "bodyParser.onerror": "koa-bodyparser takes it out of the options object Egg hands it",
    "bodyParser.returnRawBody": "koa-bodyparser sets it on the options object Egg hands it",
    "i18n.dirs": "the i18n plugin appends config/locales of every load unit (absolute install paths)",
    "i18n.functionName": "egg-i18n (egg 3) sets the helper name '__'",
    "i18n.cookieMaxAge": "@eggjs/i18n (egg 4) converts it to milliseconds",
    "i18n.defaultLocale": "@eggjs/i18n (egg 4) normalizes it ('en_US' -> 'en-us')",
    "logger.type": "egg sets 'application'/'agent' when it creates the loggers",
    "logger.localStorage": "egg 3 attaches its AsyncLocalStorage when it creates the loggers",
    "multipart.checkFile": "egg-multipart compiles whitelist/fileExtensions into a function",
    "multipart.fieldSize": "egg-multipart converts sizes to bytes",
    "multipart.fileSize": "egg-multipart converts sizes to bytes",
    "security._protocolWhiteListSet": "egg-security (egg 3) builds a Set from protocolWhiteList",
    "security.domainWhiteList": "egg-security (egg 3) replaces it with a lowercased copy",
    "security.protocolWhiteList": "egg-security (egg 3) replaces it with a lowercased copy",
    "security.csrf.refererWhiteList": "egg-security (egg 3) replaces it with a lowercased copy",
    "security.*.matching": "egg-security compiles match/ignore of each enabled sub-middleware into a function",
    **{
        f"session.{k}": "koa-session fills its defaults into the config object Egg hands it"
        for k in ("autoCommit", "decode", "encode", "genid", "overwrite", "signed")
    },
}


def mutation_reason(path: str) -> str | None:
    for pattern, reason in RUNTIME_MUTATIONS.items():
        if fnmatch.fnmatchcase(path, pattern):
            return reason
    return None


def is_masked_key(key: str) -> bool:
    """A *hit* in Egg's dump: exact name (case-sensitive) or /secret/i anywhere in the name."""
    return key in MASK_NAMES or bool(_SECRET.search(key))


def js_length(s: str) -> int:
    """String length as JS counts it (UTF-16 code units), which `<String len: n>` reports."""
    return len(s.encode("utf-16-le")) // 2


# ---------------------------------------------------------------------------------------------
# matchers: expected values that are not a single JSON value


class Matcher(abc.ABC):
    @abc.abstractmethod
    def matches(self, actual) -> bool: ...


@dataclass(frozen=True)
class AnyFunction(Matcher):
    """Functions are compared by kind only: Egg prints the JS name, which static analysis
    may not know (inferred names, bound functions)."""

    def matches(self, actual) -> bool:
        return isinstance(actual, str) and bool(re.match(r"<(Function|AsyncFunction|GeneratorFunction|Class) ", actual))

    def __repr__(self) -> str:
        return "<Function *>"


@dataclass(frozen=True)
class Anything(Matcher):
    """A value eggshield says it cannot know (inside an array, where it cannot be skipped)."""

    def matches(self, actual) -> bool:
        return True

    def __repr__(self) -> str:
        return "<any>"


@dataclass(frozen=True)
class BufferJSON(Matcher):
    """A Buffer inside an array: JSON.stringify gives {type: 'Buffer', data: [...bytes]}."""

    length: int | None

    def matches(self, actual) -> bool:
        return (
            isinstance(actual, dict)
            and actual.get("type") == "Buffer"
            and isinstance(actual.get("data"), list)
            and (self.length is None or len(actual["data"]) == self.length)
        )


@dataclass(frozen=True)
class URLString(Matcher):
    """A URL object as egg 4 dumps it (its href) when eggshield knows only that it is a URL."""

    def matches(self, actual) -> bool:
        return isinstance(actual, str) and bool(re.match(r"[a-z][a-z0-9+.-]*:", actual))

    def __repr__(self) -> str:
        return "<URL href>"


@dataclass(frozen=True)
class InstalledPath(Matcher):
    """A path into an installed package: the fixture has no node_modules, so only the part
    after `node_modules/` is comparable."""

    suffix: str

    def matches(self, actual) -> bool:
        return isinstance(actual, str) and actual.replace("\\", "/").endswith("node_modules/" + self.suffix)

    def __repr__(self) -> str:
        return f"<…/node_modules/{self.suffix}>"


ABSENT = object()  # a key JSON.stringify drops (a function inside an object inside an array)


# The contract's markers, plus `$class` and `$object` (class instances: {"$object": "URL"}),
# which eggshield's data files use for values such as egg 4's favicon URL.
_MARKERS = frozenset({"$unknown", "$function", "$regexp", "$buffer", "$set", "$class", "$object"})


def _is_marker(v) -> bool:
    """eggshield's encoding of a non-JSON value: exactly one `$kind` key (+ `fallback`)."""
    return isinstance(v, dict) and len(set(v) & _MARKERS) == 1 and set(v) <= _MARKERS | {"fallback"}


def _kind(v: dict) -> str:
    return next(k for k in v if k in _MARKERS)


def is_unknown(v) -> bool:
    return _is_marker(v) and "$unknown" in v


# ---------------------------------------------------------------------------------------------
# eggshield value -> what Egg's dump would show


def expected_dump_value(key: str, value, major: int = 3):
    """What Egg's dump holds for `value` (eggshield's JSON encoding) stored under own key
    `key` of a plain object, on egg `major`. Returns a JSON value or a Matcher; an `$unknown`
    returns Anything.
    """
    hit = is_masked_key(key)
    if value is None:
        return None  # null/undefined are kept, even under a masked key
    if _is_marker(value):
        kind = _kind(value)
        if kind == "$unknown":
            return Anything()
        if kind in ("$function", "$class"):
            return AnyFunction()
        if kind == "$object":
            name = str(value["$object"])
            if name == "URL" and major >= 4 and not hit:
                return URLString()  # egg 4 dumps String(url); eggshield does not give the href
            return f"<{name}>"
        if kind == "$regexp":
            return "<RegExp>" if hit else value["$regexp"]
        if kind == "$buffer":
            return f"<Buffer len: {value['$buffer']}>"
        if kind == "$set":
            return "<Set>"
    if isinstance(value, dict):
        # plain objects are always recursed into, hit or not
        return {k: expected_dump_value(k, v, major) for k, v in value.items()}
    if hit:
        if isinstance(value, bool):
            return "<Boolean>"
        if isinstance(value, int | float):
            return "<Number>"
        if isinstance(value, str):
            return f"<String len: {js_length(value)}>"
        if isinstance(value, list):
            return "<Array>"
    if isinstance(value, list):
        return [expected_in_json(v, in_array=True) for v in value]  # arrays are not traversed
    return value


def expected_in_json(value, *, in_array: bool):
    """JSON.stringify of a value Egg left untouched (inside an array): no masking at all."""
    if _is_marker(value):
        kind = _kind(value)
        if kind == "$unknown":
            return Anything()
        if kind in ("$function", "$class"):
            return None if in_array else ABSENT
        if kind == "$object":
            return URLString() if value["$object"] == "URL" else Anything()  # toJSON / own props
        if kind in ("$regexp", "$set"):
            return {}
        if kind == "$buffer":
            n = value["$buffer"]
            return BufferJSON(n if isinstance(n, int) else None)
    if isinstance(value, dict):
        out = {k: expected_in_json(v, in_array=False) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not ABSENT}
    if isinstance(value, list):
        return [expected_in_json(v, in_array=True) for v in value]
    return value


def matches(expected, actual) -> bool:
    """Equality that keeps JSON types apart (True != 1) and understands Matchers."""
    if isinstance(expected, Matcher):
        return expected.matches(actual)
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return expected == actual
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(matches(expected[k], actual[k]) for k in expected)
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(map(matches, expected, actual))
    return type(expected) is type(actual) and expected == actual


# ---------------------------------------------------------------------------------------------
# reading Egg's dump


_SAFE = "\\x7e"  # what CircularJSON writes for the first '~' of a string
_UNESCAPE = re.compile(r"(?:^|([^\\]))\\x7e")


def decode_circular(root: dict) -> dict:
    """Undo circular-json-for-egg's encoding (it is CircularJSON.stringify, not JSON):
    a string starting with '~' is a reference to an object seen earlier (e.g. `coreMiddlewares`
    is `"~config~coreMiddleware"`), and the first '~' of any other string was written as `\\x7e`.
    """

    def unescape(s: str) -> str:
        s = _UNESCAPE.sub(lambda m: (m.group(1) or "") + "~", s, count=1)
        return s.replace("\\" + _SAFE, _SAFE, 1)

    refs: list[tuple[object, object, list[str]]] = []

    def walk(v, parent, key):
        if isinstance(v, str):
            if v.startswith("~"):
                refs.append((parent, key, [unescape(p) for p in v[1:].split("~")] if len(v) > 1 else []))
                return v
            return unescape(v)
        if isinstance(v, dict):
            for k in list(v):
                v[k] = walk(v[k], v, k)
        elif isinstance(v, list):
            for i in range(len(v)):
                v[i] = walk(v[i], v, i)
        return v

    root = json.loads(json.dumps(root))  # never mutate the caller's dump
    walk(root, None, None)
    for parent, key, path in refs:
        target = root
        for p in path:
            target = target[int(p)] if isinstance(target, list) else target[p]
        parent[key] = target
    return root


def localize_dump(value, base_dir: str):
    """Put the fixture's real path where the dump says `{baseDir}` (eggshield runs on the
    fixture itself), and turn paths into installed packages into InstalledPath matchers."""
    if isinstance(value, str):
        m = re.match(r"^\{(?:runtime|baseDir)\}/node_modules/(.+)$", value)
        if m:
            return InstalledPath(m.group(1))
        return value.replace("{baseDir}", base_dir)
    if isinstance(value, list):
        return [localize_dump(v, base_dir) for v in value]
    if isinstance(value, dict):
        return {k: localize_dump(v, base_dir) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# the comparison


@dataclass
class Mismatch:
    kind: str  # value | missing | extra | fallback | plugin | meta | mutation
    path: str
    eggshield: object = None
    egg: object = None
    note: str = ""

    def __str__(self) -> str:
        def show(v):
            if isinstance(v, Matcher):
                return repr(v)
            s = json.dumps(v, ensure_ascii=False, default=repr)
            return s if len(s) <= 160 else s[:157] + "..."

        text = {
            "missing": f"{self.path}: eggshield has no value, Egg has {show(self.egg)}",
            "extra": f"{self.path}: eggshield has {show(self.eggshield)}, Egg has no such key",
            "mutation": f"{self.path}: changed by Egg at runtime but not in compare.RUNTIME_MUTATIONS "
            f"(files give {show(self.eggshield)}, dump has {show(self.egg)})",
        }.get(self.kind, f"{self.path}: eggshield {show(self.eggshield)}, Egg {show(self.egg)}")
        return f"{self.kind:8} {text}" + (f"  [{self.note}]" if self.note else "")


@dataclass
class Comparison:
    mismatches: list[Mismatch] = field(default_factory=list)
    compared: int = 0  # leaves eggshield claimed to know and that were checked
    unknown: int = 0  # leaves eggshield reported as $unknown (not checked)
    lenient: list[str] = field(default_factory=list)  # paths accepted via RUNTIME_MUTATIONS

    def add(self, *args, **kwargs) -> None:
        self.mismatches.append(Mismatch(*args, **kwargs))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def compare_config(
    es: dict, final: dict, loaded: dict | None = None, *, major: int = 3, result: Comparison | None = None
) -> Comparison:
    """Walk eggshield's config against Egg's (already decoded, localized) dump.

    - every leaf eggshield knows must equal the dump after masking;
    - `$unknown` with a `fallback` must equal the dump (the harness sets no env vars);
    - keys only one side has are reported (config.local values leaking into prod, missing
      plugin defaults), except keys Egg adds at runtime (RUNTIME_MUTATIONS);
    - for RUNTIME_MUTATIONS paths the value from the files (`loaded`) is accepted too.
    """
    res = result or Comparison()
    _walk(es, final, loaded, "", res, major)
    return res


_MISSING = object()


def _walk(es: dict, final: dict, loaded, path: str, res: Comparison, major: int) -> None:
    for key in dict.fromkeys([*es, *final]):
        p = _join(path, key)
        ev = es.get(key, _MISSING)
        fv = final.get(key, _MISSING)
        lv = loaded.get(key, _MISSING) if isinstance(loaded, dict) else _MISSING
        reason = mutation_reason(p)
        if ev is _MISSING:
            if reason and lv is _MISSING:
                res.lenient.append(p)  # added at runtime; not knowable from the files
                continue
            res.add("missing", p, egg=fv if fv is not _MISSING else lv)
            continue
        if is_unknown(ev):
            res.unknown += 1
            if "fallback" in ev:
                exp = expected_dump_value(key, ev["fallback"], major)
                if fv is _MISSING or not matches(exp, fv):
                    res.add("fallback", p, ev["fallback"], None if fv is _MISSING else fv,
                            "no env var is set, so Egg must hold the fallback")
            continue
        if fv is _MISSING:
            if reason and lv is not _MISSING:
                res.lenient.append(p)  # removed at runtime (e.g. bodyParser.onerror)
                res.compared += 1
                if not matches(expected_dump_value(key, ev, major), lv):
                    res.add("value", p, ev, lv, "value from the config files")
                continue
            res.add("extra", p, ev)
            continue
        if isinstance(ev, dict) and not _is_marker(ev) and isinstance(fv, dict):
            _walk(ev, fv, lv if isinstance(lv, dict) else None, p, res, major)
            continue
        res.compared += 1
        exp = expected_dump_value(key, ev, major)
        if matches(exp, fv):
            continue
        if reason and lv is not _MISSING and matches(exp, lv):
            res.lenient.append(p)
            continue
        files = "(absent)" if lv is _MISSING else json.dumps(lv, default=repr)
        res.add("value", p, ev, fv, f"runtime-mutated: {reason}; the files give {files}" if reason else "")


def undocumented_mutations(loaded: dict, final: dict, path: str = "") -> list[Mismatch]:
    """Differences between the merged files and the final dump that RUNTIME_MUTATIONS does not
    explain: a harness self-check, so leniency is never granted to an unexplained key."""
    out: list[Mismatch] = []
    for key in dict.fromkeys([*loaded, *final]):
        p = _join(path, key)
        lv, fv = loaded.get(key, _MISSING), final.get(key, _MISSING)
        if isinstance(lv, dict) and isinstance(fv, dict) and not isinstance(lv, Matcher):
            out += undocumented_mutations(lv, fv, p)
        elif (lv is _MISSING or fv is _MISSING or not matches(lv, fv)) and not mutation_reason(p):
            out.append(Mismatch("mutation", p, None if lv is _MISSING else lv, None if fv is _MISSING else fv))
    return out


def compare_plugins(es_plugins: dict, dump_plugins: dict, base_dir: str, *, ts: bool, result: Comparison) -> None:
    """The enabled set must agree; for plugins on both sides `package` must too, and an
    app-relative `from` (`config/plugin.js:4`) must name the file Egg took the entry from."""
    for name in sorted(set(es_plugins) | set(dump_plugins)):
        e, d = es_plugins.get(name, {}), dump_plugins.get(name, {})
        e_on, d_on = bool(e.get("enable")), bool(d.get("enable"))
        if e_on != d_on:
            note = "re-enabled implicitly, needed by " + ",".join(d.get("dependents", [])) if d.get("implicitEnable") else ""
            result.add("plugin", f"{name}.enable", e_on if name in es_plugins else "(absent)", d_on, note)
            continue
        if not (e and d):
            continue
        if e.get("package") and d.get("package") and e["package"] != d["package"]:
            result.add("plugin", f"{name}.package", e["package"], d["package"])
        src = e.get("from")
        if isinstance(src, str) and _is_app_file(src) and isinstance(d.get("from"), str):
            want = app_file_in_dump(src, ts=ts)
            if d["from"].replace("{baseDir}", base_dir) != want.replace("{baseDir}", base_dir):
                result.add("plugin", f"{name}.from", src, d["from"])


def _is_app_file(prov: str) -> bool:
    """eggshield writes app files as `config/x.js:12`; package defaults as `pkg@ver file`."""
    return " " not in prov and "@" not in prov.split("/")[0]


def app_file_in_dump(prov: str, *, ts: bool) -> str:
    """The meta entry Egg would write for an eggshield provenance `config/x.ts:12`: the
    absolute file Egg loaded, i.e. the compiled `.js` for a TS app."""
    file = re.sub(r":\d+(:\d+)?$", "", prov)
    if ts and file.endswith(".ts"):
        file = file[:-3] + ".js"
    return "{baseDir}/" + str(PurePosixPath(file))


def meta_lookup(meta: dict, dotted: str, default=None):
    """Find `a.b.c` in Egg's nested meta (or a config), allowing keys that contain dots
    ('siteFile./favicon.ico'); `default` when there is no such key."""
    parts = dotted.split(".")
    node = meta
    i = 0
    while i < len(parts):
        if not isinstance(node, dict):
            return default
        for j in range(len(parts), i, -1):
            k = ".".join(parts[i:j])
            if k in node:
                node, i = node[k], j
                break
        else:
            return default
    return node


# Files Egg's loader reads from config/ (egg-facts §1 "Files read"): Egg's meta can only ever
# name one of these. A module they require ('./biz') shows up under the config file.
_LOADER_FILE = re.compile(r"^config/(config|plugin)(\.[\w-]+)?\.(c|m)?(js|ts|json)$")


# Set by egg-core's loadConfig after the merge (aliases of coreMiddleware / middleware), so no
# file is recorded for them in Egg's meta; pointing at the `middleware` line is fine.
_LOADER_ALIASES = frozenset({"coreMiddlewares", "appMiddleware", "appMiddlewares"})


def compare_meta(provenance: dict, meta: dict, *, ts: bool, result: Comparison, config: dict | None = None) -> None:
    """For leaves eggshield attributes to an app file, Egg's meta must name that file; and a
    leaf Egg attributes to an app file must not be attributed to a package by eggshield.

    Skipped: leaves eggshield reports `$unknown` (e.g. `process.env.X` with nothing set: Egg
    skipped the undefined value, so it has no meta, though the file would set it), and for
    provenance in a module a config file requires, Egg names that config file instead.
    """
    for dotted, prov in provenance.items():
        if not isinstance(prov, str):
            continue
        if config is not None and is_unknown(meta_lookup(config, dotted)):
            continue
        if dotted.split(".")[0] in _LOADER_ALIASES:
            continue
        got = meta_lookup(meta, dotted)
        if _is_app_file(prov):
            if isinstance(got, dict):
                continue  # eggshield attributes a whole object; Egg's meta is per leaf
            file = re.sub(r":\d+(:\d+)?$", "", prov)
            if not _LOADER_FILE.match(file):
                if not (isinstance(got, str) and got.startswith("{baseDir}/config/")):
                    result.add("meta", dotted, prov, got, "set in a module the app's config requires")
                continue
            want = app_file_in_dump(prov, ts=ts)
            if got != want:
                result.add("meta", dotted, prov, got)
        elif isinstance(got, str) and got.startswith("{baseDir}/config/"):
            result.add("meta", dotted, prov, got, "Egg says the app set it")


def format_report(name: str, source: str, res: Comparison) -> str:
    lines = [f"{name}: {len(res.mismatches)} mismatch(es) against Egg's dump ({source}); "
             f"{res.compared} leaves compared, {res.unknown} unknown, {len(res.lenient)} runtime-mutated"]
    lines += ["  " + str(m) for m in res.mismatches]
    return "\n".join(lines)
