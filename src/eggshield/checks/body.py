"""Request bodies and uploads: Egg's `bodyParser` (koa-bodyparser + co-body + qs) and `multipart`
(egg-multipart / @eggjs/multipart). Strategy 4.

Sizes are read the way Egg reads them (the `bytes` package: '1mb', '2GB', '512kb', or a number of
bytes). Upload extensions are judged with `data/upload_extensions.toml`.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources

from eggshield.checks._code_functions import accepts_everything, function_node, unanchored_extension_test
from eggshield.checks._code_query import js, loc_of, memo
from eggshield.checks._code_uploads import uploads_served_back
from eggshield.checks.context import CheckContext
from eggshield.checks.registry import rule
from eggshield.eggconfig.model import MISSING
from eggshield.finding import SEVERITY_RANK
from eggshield.js.values import UNDEFINED, JSFunction, Unknown

KB, MB, GB = 1024, 1024**2, 1024**3
_UNITS = {"b": 1, "kb": KB, "mb": MB, "gb": GB, "tb": 1024**4, "pb": 1024**5}
_BYTES = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*(kb|mb|gb|tb|pb|b)?\s*$", re.IGNORECASE)

# Egg's defaults (egg-facts §2) and where a raised value starts to matter
BODY_LIMITS = {"jsonLimit": "json", "formLimit": "form", "textLimit": "text", "xmlLimit": "xml"}
BODY_LOW, BODY_MEDIUM = 10 * MB, 100 * MB
QS_DEFAULTS = {"arrayLimit": 100, "depth": 5, "parameterLimit": 1000}
MULTIPART_LIMITS = {  # key: (kind, low above, medium above, Egg's default)
    "fileSize": ("bytes", 100 * MB, GB, "'10mb'"),
    "fieldSize": ("bytes", 10 * MB, 100 * MB, "'100kb'"),
    "files": ("count", 100, 1000, "10"),
    "fields": ("count", 1000, 10000, "10"),
}

REFS_BODY = ("https://www.eggjs.org/basics/controller#body",
             "https://github.com/koajs/bodyparser/tree/v4.x#options",
             "https://cheatsheetseries.owasp.org/cheatsheets/Denial_of_Service_Cheat_Sheet.html")
REFS_UPLOAD = ("https://www.eggjs.org/basics/controller#file",
               "https://github.com/eggjs/multipart#whitelist",
               "https://cheatsheetseries.owasp.org/cheatsheets/File_Upload_Cheat_Sheet.html",
               "https://cwe.mitre.org/data/definitions/434.html")


def parse_bytes(value) -> int | None:
    """'2gb' -> 2147483648, 1048576 -> 1048576; None when it is no size (what the `bytes` package rejects)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        m = _BYTES.match(value)
        if m:
            return int(float(m.group(1)) * _UNITS[(m.group(2) or "b").lower()])
    return None


def human(n: int) -> str:
    for unit, size in (("gb", GB), ("mb", MB), ("kb", KB)):
        if n >= size:
            return f"{n / size:g}{unit}"
    return f"{n}b"


@cache
def extension_data() -> dict:
    return tomllib.loads(resources.files("eggshield.data").joinpath("upload_extensions.toml").read_text("utf-8"))


def categorize(extensions) -> dict[str, list[str]]:
    """{category: [extensions in it]} for the dangerous members of a list."""
    out: dict[str, list[str]] = {}
    for name, cat in extension_data()["categories"].items():
        members = set(cat["extensions"])
        hit = [e for e in extensions if e in members]
        if hit:
            out[name] = hit
    return out


def _normalize_ext(e) -> str | None:
    if not isinstance(e, str):
        return None
    e = e.strip().lower()
    return e if e.startswith(".") or e == "" else "." + e


def _body_on(ctx: CheckContext) -> bool:
    return ctx.config.get("bodyParser.enable") is not False


def _enabled_types(ctx: CheckContext) -> set[str]:
    types = ctx.config.get("bodyParser.enableTypes")
    if isinstance(types, list):
        return {str(t) for t in types}
    return {"json", "form"}


def _size_finding(ctx, rule_id, key, value, low, medium, what, fix, kind="bytes"):
    """One finding for a size/count limit, or None; Unknowns with a literal fallback are judged on it."""
    from_fallback = False
    if isinstance(value, Unknown):
        if not value.has_fallback:
            return ctx.finding(rule_id, key=key, severity="low", confidence="low",
                               message=f"Needs review: {what} depends on {value.reason}.",
                               evidence=f"{key} = <{value.reason}>", fix=fix)
        value, from_fallback = value.fallback, True
    n = parse_bytes(value) if kind == "bytes" else (int(value) if isinstance(value, int | float)
                                                    and not isinstance(value, bool) else None)
    if n is None or n <= low:
        return None
    severity = "medium" if n > medium and not from_fallback else "low"
    shown = js(value) + (f" ({human(n)})" if kind == "bytes" and not isinstance(value, str) else "")
    return ctx.finding(
        rule_id, key=key, severity=severity, confidence="low" if from_fallback else None,
        message=f"{what[0].upper() + what[1:]} is {value if isinstance(value, str) else shown} in env '{ctx.env}'"
                + (" (the literal fallback of an environment variable)" if from_fallback else "")
                + ": one request can make a worker hold or write that much.",
        evidence=f"{key} = {shown}", fix=fix)


# --------------------------------------------------------------------------------------------- bodyParser
@rule(id="EGG-CFG-020", title="Body parser size limits raised far above Egg's defaults", strategy=4,
      severity="medium", cwe=770, references=REFS_BODY)
def body_limits(ctx: CheckContext):
    """## What
    Egg parses JSON and urlencoded bodies in memory, up to `bodyParser.jsonLimit` / `formLimit`
    (default `'1mb'` each; `textLimit` and `xmlLimit` count only when `enableTypes` adds `text` or
    `xml`). Fires when a limit that applies is above 10 MB (low) or above 100 MB (medium).

    ## Why it matters
    co-body buffers the whole body and then runs `JSON.parse` or `qs.parse` on it, on the event
    loop. A few concurrent requests of hundreds of megabytes exhaust memory or block every other
    request for seconds: a cheap denial of service (CWE-770). Seed strategy 4.

    ## How to fix
    Keep the global limit small and raise it only where needed, e.g. with a route-level parser or
    by streaming large payloads as multipart:

    ```js
    // config/config.default.js
    config.bodyParser = { jsonLimit: '1mb', formLimit: '1mb' };
    ```

    ## Not reported
    Limits up to 10 MB; `textLimit`/`xmlLimit` while those types are not enabled (adding `text` or
    `xml` to `enableTypes` is not reported by itself: co-body reads them as plain strings, no XML
    parser runs); `bodyParser.enable = false`; values only `config.local` sets when scanning `prod`.
    """
    if not _body_on(ctx):
        return
    types = _enabled_types(ctx)
    for key, kind in BODY_LIMITS.items():
        if kind not in types:
            continue
        value = ctx.config.get(f"bodyParser.{key}")
        if value is MISSING or value is UNDEFINED:
            continue
        found = _size_finding(
            ctx, "EGG-CFG-020", f"bodyParser.{key}", value, BODY_LOW, BODY_MEDIUM,
            f"the {kind} body limit",
            f"`config.bodyParser = {{ {key}: '1mb' }}`; accept large uploads as multipart streams instead.")
        if found is not None:
            yield found


@rule(id="EGG-CFG-021", title="Lenient JSON parsing (bodyParser.strict off)", strategy=4, severity="low", cwe=20,
      references=REFS_BODY)
def body_strict(ctx: CheckContext):
    """## What
    `bodyParser.strict: false` makes the JSON parser accept any JSON value as a body, not only
    objects and arrays: `"admin"`, `42`, `true`, `null` become `ctx.request.body`.

    ## Why it matters
    Controllers and validators written for objects meet strings and numbers: `body.role` is
    `undefined` instead of a validation error, `Object.keys(body)` of a string enumerates
    characters, and type-confused values reach queries (CWE-20). Seed strategy 4.

    ## How to fix
    ```js
    // config/config.default.js
    config.bodyParser = { strict: true }; // Egg's default
    ```

    ## Not reported
    `strict: true` (the default); JSON parsing disabled through `enableTypes`.
    """
    if not _body_on(ctx) or "json" not in _enabled_types(ctx):
        return
    value = ctx.config.get("bodyParser.strict")
    if isinstance(value, Unknown):
        yield ctx.finding("EGG-CFG-021", key="bodyParser.strict", severity="low", confidence="low",
                          message=f"Needs review: whether JSON bodies must be objects depends on {value.reason}.",
                          evidence=f"bodyParser.strict = <{value.reason}>", fix="`config.bodyParser = { strict: true }`")
    elif value is False or value == 0:
        yield ctx.finding("EGG-CFG-021", key="bodyParser.strict",
                          message="`bodyParser.strict = false`: a JSON body may be a bare string, number or boolean, "
                                  "which handlers written for objects do not expect.",
                          evidence="bodyParser.strict = false", fix="`config.bodyParser = { strict: true }`")


@rule(id="EGG-CFG-022", title="Form body (qs) parsing limits raised", strategy=4, severity="low", cwe=770,
      references=(*REFS_BODY, "https://github.com/ljharb/qs#parsing-objects"))
def body_query_string(ctx: CheckContext):
    """## What
    Urlencoded bodies are parsed by `qs` with `bodyParser.queryString` options; Egg's defaults are
    `arrayLimit: 100`, `depth: 5`, `parameterLimit: 1000`. Fires when any is raised (low; medium
    when raised a hundredfold or more).

    ## Why it matters
    These limits bound how much work and memory one form body can cost: deep nesting and huge
    parameter counts make `qs.parse` slow and build large object graphs, and high array limits turn
    `a[99999]=x` into sparse arrays of that length (CWE-770). Seed strategy 4.

    ## How to fix
    ```js
    // config/config.default.js
    config.bodyParser = { queryString: { arrayLimit: 100, depth: 5, parameterLimit: 1000 } };
    ```

    ## Not reported
    Values at or below the defaults; form parsing disabled through `enableTypes`.
    """
    if not _body_on(ctx) or "form" not in _enabled_types(ctx):
        return
    for key, default in QS_DEFAULTS.items():
        dotted = f"bodyParser.queryString.{key}"
        value = ctx.config.get(dotted)
        if isinstance(value, Unknown):
            if not value.has_fallback:
                yield ctx.finding("EGG-CFG-022", key=dotted, severity="low", confidence="low",
                                  message=f"Needs review: `{key}` depends on {value.reason}.",
                                  evidence=f"{dotted} = <{value.reason}>",
                                  fix=f"`config.bodyParser = {{ queryString: {{ {key}: {default} }} }}`")
                continue
            value = value.fallback
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if value == float("inf") or value > default:
            big = value == float("inf") or value >= default * 100
            yield ctx.finding(
                "EGG-CFG-022", key=dotted, severity="medium" if big else "low",
                message=f"`{key}` for form bodies is raised from {default} to {value:g}: one request can make qs "
                        "build that many entries or levels.",
                evidence=f"{dotted} = {value:g} (Egg's default {default})",
                fix=f"`config.bodyParser = {{ queryString: {{ {key}: {default} }} }}`")


@rule(id="EGG-CFG-027", title="Body parsing lets prototype keys through", strategy=4, severity="medium", cwe=1321,
      references=(*REFS_BODY, "https://github.com/hapijs/bourne", "https://cwe.mitre.org/data/definitions/1321.html"))
def body_prototype_keys(ctx: CheckContext):
    """## What
    co-body parses JSON with bourne and by default rejects bodies carrying `__proto__`
    (`onProtoPoisoning: 'error'`). Fires when `bodyParser.onProtoPoisoning` is `'ignore'` (the key
    is kept) or when `bodyParser.queryString.allowPrototypes` is `true` (form fields may overwrite
    `Object.prototype` names such as `hasOwnProperty` or `toString` on the parsed object).

    ## Why it matters
    A body object with an own `__proto__` key is what prototype-pollution gadgets in deep-merge and
    clone helpers (`extend`, `lodash.merge` before its fixes, hand-written merges) need to change
    every object in the process (CWE-1321). Seed strategy 4.

    ## How to fix
    ```js
    // config/config.default.js
    config.bodyParser = {
      onProtoPoisoning: 'error', // or 'remove'
      queryString: { allowPrototypes: false },
    };
    ```

    ## Not reported
    `'error'` (the default) and `'remove'`; `allowPrototypes` unset or false.
    """
    if not _body_on(ctx):
        return
    types = _enabled_types(ctx)
    proto = ctx.config.get("bodyParser.onProtoPoisoning")
    if "json" in types and isinstance(proto, str) and proto.lower() == "ignore":
        yield ctx.finding("EGG-CFG-027", key="bodyParser.onProtoPoisoning",
                          message="`bodyParser.onProtoPoisoning = 'ignore'`: JSON bodies keep their `__proto__` keys, "
                                  "ready for any deep merge to pollute Object.prototype.",
                          evidence="bodyParser.onProtoPoisoning = 'ignore'",
                          fix="`config.bodyParser = { onProtoPoisoning: 'error' }` (or 'remove')")
    allow = ctx.config.get("bodyParser.queryString.allowPrototypes")
    if "form" in types and allow is True:
        yield ctx.finding("EGG-CFG-027", key="bodyParser.queryString.allowPrototypes", severity="low",
                          message="`queryString.allowPrototypes = true`: form fields named like Object.prototype "
                                  "members (`hasOwnProperty`, `toString`) overwrite them on the parsed body.",
                          evidence="bodyParser.queryString.allowPrototypes = true",
                          fix="Remove `allowPrototypes` from `config.bodyParser.queryString`.")


# --------------------------------------------------------------------------------------------- multipart
def _multipart_on(ctx: CheckContext) -> bool:
    return ctx.config.plugin_enabled("multipart")


def _served(ctx: CheckContext):
    return memo(ctx, "uploads_served_back", uploads_served_back)


def _served_note(ctx: CheckContext) -> str:
    served = _served(ctx)
    if not served:
        return ""
    first = served[0]
    return (f" Uploads are written into the statically served `{first.served_dir}` "
            f"({loc_of(ctx.project, first.path, first.node)}), so they are served back from the app's origin.")


WHITELIST_FIX = """Accept only what the feature needs, with an explicit list (it replaces Egg's built-in list):

```js
// config/config.default.js
config.multipart = {
  whitelist: [ '.jpg', '.jpeg', '.png', '.gif', '.webp', '.pdf' ],
  fileSize: '10mb',
};
```
Store uploads outside `app/public` (or on another domain), under generated names, and serve them
with `Content-Disposition: attachment` when they must come back from the app."""


@rule(id="EGG-CFG-023", title="Multipart whitelist function accepts every file", strategy=4, severity="high",
      cwe=434, references=REFS_UPLOAD)
def multipart_accept_all(ctx: CheckContext):
    """## What
    `multipart.whitelist` may be a function `(filename) => boolean` that replaces Egg's extension
    check. Fires when that function returns a truthy constant on every path (`filename => true`,
    `() => 1`), or when it only tests an unanchored pattern such as `/\\.(jpg|png)/.test(name)`,
    which also matches `avatar.png.html` (medium). The function is judged on its syntax tree,
    never run.

    ## Why it matters
    Any file type is then accepted: HTML, SVG and JavaScript become stored XSS as soon as they are
    served back from the app's origin, and `.php`/`.jsp` files become code on servers that execute
    them (CWE-434). Seed strategy 4.

    ## How to fix
    {fix}

    ## Not reported
    Functions that look at the filename (other than an unanchored test); whitelist arrays (see
    EGG-CFG-024); the multipart plugin disabled.
    """
    if not _multipart_on(ctx):
        return
    value = ctx.config.get("multipart.whitelist")
    if not isinstance(value, JSFunction):
        return
    node = function_node(value)
    if node is None:
        yield ctx.finding("EGG-CFG-023", key="multipart.whitelist", severity="low", confidence="low",
                          message="Needs review: `multipart.whitelist` is a function eggshield could not read; check "
                                  "that it rejects active and executable file types.",
                          evidence=f"multipart.whitelist = {value.source or value.loc}", fix=WHITELIST_FIX)
        return
    source = " ".join(value.source.split())[:100]
    if accepts_everything(node):
        yield ctx.finding("EGG-CFG-023", key="multipart.whitelist",
                          message="`multipart.whitelist` accepts every file name, so any file type can be uploaded, "
                                  "including .html, .svg, .js and .php." + _served_note(ctx),
                          evidence=f"multipart.whitelist = {source}", fix=WHITELIST_FIX)
        return
    regex = unanchored_extension_test(node)
    if regex:
        yield ctx.finding("EGG-CFG-023", key="multipart.whitelist", severity="medium", confidence="medium",
                          message=f"`multipart.whitelist` tests the name with {regex}, which is not anchored at the "
                                  "end: `photo.png.html` passes." + _served_note(ctx),
                          evidence=f"multipart.whitelist = {source}",
                          fix="Anchor the pattern (`/\\.(png|jpe?g)$/i`) or use an array whitelist.\n\n" + WHITELIST_FIX)


multipart_accept_all.__doc__ = multipart_accept_all.__doc__.replace("{fix}", WHITELIST_FIX.replace("\n", "\n    "))


_SEVERITY_BY_CATEGORY = {  # (not served back, served back from the app's origin)
    "browser_active": ("medium", "high"),
    "server_executable": ("medium", "medium"),
    "native_code": ("low", "medium"),
    "style": (None, "low"),
}


@rule(id="EGG-CFG-024", title="Upload whitelist allows dangerous file extensions", strategy=4, severity="medium",
      cwe=434, references=REFS_UPLOAD)
def multipart_dangerous_extensions(ctx: CheckContext):
    """## What
    `multipart.fileExtensions` adds extensions to Egg's built-in upload list; an array
    `multipart.whitelist` replaces the list. Fires when either lets in extensions that are
    dangerous to accept, by category (`data/upload_extensions.toml`):

    * browser-active (`.html .htm .xhtml .svg .xml .js .jsx .shtml` …): medium, high when uploads
      are written to a statically served directory;
    * executed by common web servers (`.php .phtml .jsp .asp .aspx .cgi` …): medium;
    * native code and scripts (`.exe .dll .so .node .sh .bat .jar` …): low, medium when served back;
    * stylesheets: low, and only when served back.

    ## Why it matters
    Served from the app's origin, an uploaded HTML or SVG page runs script as the app (stored XSS);
    a `.php` dropped where nginx + PHP-FPM or a shared host serves files runs as code; binaries
    served from a trusted domain are a malware host (CWE-434). Seed strategy 4.

    ## How to fix
    Remove the entries, or replace the list with exactly what the feature needs:

    ```js
    // config/config.default.js
    config.multipart = { whitelist: [ '.jpg', '.jpeg', '.png', '.pdf' ] };
    ```

    ## Not reported
    `fileExtensions` while an array `whitelist` is set (Egg ignores it then); harmless extensions
    (`.doc`, `.pptx`, `.apk`, `.heapsnapshot`, …); Egg's own built-in list (see EGG-CFG-025).
    """
    if not _multipart_on(ctx):
        return
    whitelist = ctx.config.get("multipart.whitelist")
    if isinstance(whitelist, list):
        key = "multipart.whitelist"
        values = whitelist
    elif whitelist in (MISSING, None, UNDEFINED):
        key = "multipart.fileExtensions"
        values = ctx.config.get(key)
        if not isinstance(values, list):
            return
    else:
        return
    exts = [e for e in (_normalize_ext(v) for v in values) if e]
    cats = categorize(exts)
    served = bool(_served(ctx))
    severity = None
    parts = []
    for name, members in cats.items():
        sev = _SEVERITY_BY_CATEGORY[name][1 if served else 0]
        if sev is None:
            continue
        if severity is None or SEVERITY_RANK[sev] > SEVERITY_RANK[severity]:
            severity = sev
        parts.append(f"{' '.join(members)} ({extension_data()['categories'][name]['label']})")
    if severity is None:
        return
    yield ctx.finding(
        "EGG-CFG-024", key=key, severity=severity,
        message=f"`{key}` lets users upload " + "; ".join(parts) + "." + _served_note(ctx),
        evidence=f"{key} = {js(exts)}", fix=WHITELIST_FIX)


@rule(id="EGG-CFG-025", title="Egg's default upload list lets HTML/SVG/JS through and uploads are served back",
      strategy=4, severity="medium", confidence="medium", cwe=434, references=REFS_UPLOAD)
def multipart_default_list_served(ctx: CheckContext):
    """## What
    Without `multipart.whitelist`, Egg accepts its built-in extension list, which includes
    `.html .htm .svg .xml .js .jsx` (and `.json .css .less`). Fires when the app keeps that list
    *and* an upload handler (`ctx.getFileStream()`, `ctx.multipart()`, `ctx.request.files`)
    writes files into a directory egg-static serves (`app/public`, a configured `static.dir`, or a
    path read from `config.static`).

    ## Why it matters
    An uploaded `.html` or `.svg` is then served at `/public/...` from the app's own origin: a
    stored XSS that runs with the app's cookies and CSRF token (CWE-434). Seed strategy 4.

    ## How to fix
    {fix}

    ## Not reported
    Apps that set an array `whitelist`; uploads kept outside the static dirs (a bucket, another
    domain, a private directory); the static or multipart plugin disabled.
    """
    if not _multipart_on(ctx):
        return
    whitelist = ctx.config.get("multipart.whitelist")
    if whitelist not in (MISSING, None, UNDEFINED):
        return
    served = _served(ctx)
    if not served:
        return
    active = categorize(extension_data()["egg_default"]["extensions"]).get("browser_active", [])
    first = served[0]
    where = loc_of(ctx.project, first.path, first.node)
    yield ctx.finding(
        "EGG-CFG-025", key="multipart.whitelist",
        message=f"Uploads keep Egg's built-in extension list ({' '.join(active)} included) and {where} writes them "
                f"into the served `{first.served_dir}`: an uploaded page or SVG runs as the app.",
        evidence=f"{where}: {first.dest}" + (f" (+{len(served) - 1} more)" if len(served) > 1 else ""),
        fix=WHITELIST_FIX)


multipart_default_list_served.__doc__ = multipart_default_list_served.__doc__.replace(
    "{fix}", WHITELIST_FIX.replace("\n", "\n    "))


@rule(id="EGG-CFG-026", title="Multipart size or count limits raised far above Egg's defaults", strategy=4,
      severity="medium", cwe=770, references=REFS_UPLOAD)
def multipart_limits(ctx: CheckContext):
    """## What
    egg-multipart bounds each request by `fileSize` (default `'10mb'`), `files` (10), `fields`
    (10) and `fieldSize` (`'100kb'`). Fires when `fileSize` is above 100 MB (medium above 1 GB),
    `fieldSize` above 10 MB, `files` above 100 or `fields` above 1000.

    ## Why it matters
    In `mode: 'file'` every upload is written to the temp dir before the handler runs; in stream
    mode handlers usually buffer or store it. Large limits let anonymous requests fill disks and
    hold workers (CWE-770). Seed strategy 4.

    ## How to fix
    ```js
    // config/config.default.js
    config.multipart = { fileSize: '10mb', files: 10, fields: 10 };
    ```
    Raise limits per route instead, e.g. `ctx.getFileStream({ limits: { fileSize: ... } })` or a
    `match`/`fileModeMatch` for the one route that needs big files.

    ## Not reported
    Limits at or below the thresholds above; values only `config.local` sets when scanning `prod`.
    """
    if not _multipart_on(ctx):
        return
    mode = ctx.config.get("multipart.mode")
    for key, (kind, low, medium, default) in MULTIPART_LIMITS.items():
        value = ctx.config.get(f"multipart.{key}")
        if value is MISSING or value is UNDEFINED:
            continue
        found = _size_finding(
            ctx, "EGG-CFG-026", f"multipart.{key}", value, low, medium,
            f"the multipart `{key}` limit" + (" (mode 'file': written to disk first)" if mode == "file" else ""),
            f"`config.multipart = {{ {key}: {default} }}` (Egg's default) and raise it only for the route that "
            "needs it.", kind=kind)
        if found is not None:
            yield found
