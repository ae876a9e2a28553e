"""yarn.lock, classic (v1, its own format) and berry (v2+, YAML with `__metadata`).

Both map requested descriptors (`name@range`, several per entry) to one resolved package;
an edge `name: range` inside an entry points at the entry holding descriptor `name@range`.
Classic does not record workspace packages, so importers come from package.json files;
berry lists them as `name@workspace:path` entries.
"""

from __future__ import annotations

import re
from pathlib import Path

from eggshield.deps.model import Dependency, Importer, Inventory, LockfileError, Package
from eggshield.deps.sources import yamlish
from eggshield.deps.sources.interface import read_lockfile, shown_path
from eggshield.deps.sources.manifest import importer_from_manifest, read_manifest, workspace_dirs
from eggshield.finding import InputProblem

_CLASSIC_FIELD = re.compile(r'^(\s+)("(?:[^"\\]|\\.)*"|[^\s"]+)(?:\s+("(?:[^"\\]|\\.)*"|\S+))?\s*$')
_DEP_SECTIONS = {"dependencies": "prod", "optionalDependencies": "optional"}


def split_descriptor(desc: str) -> tuple[str, str]:
    """`@scope/name@^1.0.0` -> (`@scope/name`, `^1.0.0`); the first `@` after the name's own."""
    at = desc.find("@", 1)
    if at == -1:
        return desc, ""
    return desc[:at], desc[at + 1:]


def _unquote(s: str) -> str:
    s = s.strip()
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        return s[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return s


def _real_name(requested: str, rng: str) -> tuple[str, str]:
    """An alias `mini@npm:minimist@1.2.0` installs `minimist`."""
    if rng.startswith("npm:"):
        inner = rng[4:]
        if "@" in inner[1:]:
            name, r = split_descriptor(inner)
            return name, r
    return requested, rng


class YarnLockSource:
    name = "yarn.lock"

    def load(self, path: Path, root: Path) -> Inventory:
        text = read_lockfile(path, root)
        shown = shown_path(path, root)
        head = text[:4000]
        if "__metadata:" in head:
            return _load_berry(text, path, root, shown)
        if "yarn lockfile v1" in head or re.search(r'^"?[^\s"]+@[^\s"]*"?.*:\s*$', head, re.M):
            return _load_classic(text, path, root, shown)
        raise LockfileError(f"{shown}: does not look like a yarn lockfile (no 'yarn lockfile v1' header "
                            "or __metadata)")


# -- classic -----------------------------------------------------------------------------------

def _load_classic(text: str, path: Path, root: Path, shown: str) -> Inventory:
    inv = Inventory(root=root, source="yarn.lock (classic v1)", lockfile=path)
    by_desc: dict[str, str] = {}  # "name@range" -> package key
    raw_edges: dict[str, list[Dependency]] = {}
    key: str | None = None
    section: str | None = None
    entry_line = 0
    fields: dict[str, str] = {}

    def finish() -> None:
        if key is None:
            return
        version = fields.get("version")
        pkg = inv.packages[key]
        if version is None:
            inv.problems.append(InputProblem(shown, f"line {entry_line}: entry {key} has no version "
                                                    "(truncated or corrupt?); listed but not audited"))
        pkg.version = version
        pkg.resolved = fields.get("resolved")
        pkg.integrity = fields.get("integrity")

    lineno = 0
    for line in text.split("\n"):
        lineno += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            finish()
            header = line.rstrip().rstrip("\r")
            if not header.endswith(":"):
                raise LockfileError(f"{shown}: line {lineno}: expected an entry header ending in ':', "
                                    f"got {header[:60]!r}")
            descs = [_unquote(d) for d in _split_header(header[:-1])]
            if not descs:
                raise LockfileError(f"{shown}: line {lineno}: empty entry header")
            req_name, rng = split_descriptor(descs[0])
            name, _ = _real_name(req_name, rng)
            key = descs[0]
            if key in inv.packages:
                key = f"{key}#{lineno}"
            inv.packages[key] = Package(key=key, name=name, version=None, line=lineno)
            for d in descs:
                by_desc[d] = key
            fields = {}
            section = None
            entry_line = lineno
            continue
        if key is None:
            raise LockfileError(f"{shown}: line {lineno}: indented line before any entry")
        m = _CLASSIC_FIELD.match(line.rstrip("\r"))
        if not m:
            inv.problems.append(InputProblem(shown, f"line {lineno}: unreadable line in entry {key}; skipped"))
            continue
        indent, fname, value = len(m.group(1)), _unquote(m.group(2)), m.group(3)
        if indent <= 2:
            if value is None and fname.endswith(":"):
                section = fname[:-1]
                continue
            section = None
            if value is not None:
                fields[fname] = _unquote(value)
            continue
        if section in _DEP_SECTIONS and value is not None:
            raw_edges.setdefault(key, []).append(Dependency(name=fname, spec=_unquote(value),
                                                            kind=_DEP_SECTIONS[section]))
    finish()
    for k, deps in raw_edges.items():
        for d in deps:
            d.target = by_desc.get(f"{d.name}@{d.spec}")
        inv.edges[k] = deps
    _classic_importers(inv, root, by_desc)
    inv.mark_dev_and_optional()
    return inv


def _split_header(header: str) -> list[str]:
    out, cur, quoted = [], [], False
    for ch in header:
        if ch == '"':
            quoted = not quoted
            cur.append(ch)
        elif ch == "," and not quoted:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return [d for d in out if d]


def _classic_importers(inv: Inventory, root: Path, by_desc: dict[str, str]) -> None:
    manifest = read_manifest(root, root, inv.problems)
    if manifest is None:
        inv.notes.append("no package.json beside yarn.lock: direct dependencies unknown, every entry treated "
                         "as reachable")
        inv.importers["."] = Importer(path=".", name="(root)",
                                      deps=[Dependency(name=p.name, spec=p.version or "*", target=k)
                                            for k, p in inv.packages.items()])
        return
    inv.importers["."] = importer_from_manifest(".", manifest, root.name)
    for ws in workspace_dirs(root, manifest):
        rel = ws.relative_to(root).as_posix()
        inv.importers[rel] = importer_from_manifest(rel, read_manifest(ws, root, inv.problems), ws.name)
    ws_by_name = {imp.name: rel for rel, imp in inv.importers.items() if rel != "."}
    for rel in ws_by_name.values():
        imp = inv.importers[rel]
        inv.packages[rel] = Package(key=rel, name=imp.name, version=imp.version, resolved=f"link:{rel}")
        inv.edges[rel] = imp.deps
    for imp in inv.importers.values():
        for d in imp.deps:
            d.target = by_desc.get(f"{d.name}@{d.spec}") or ws_by_name.get(d.name) or \
                _same_name(inv, d.name, d.spec)


def _same_name(inv: Inventory, name: str, spec: str) -> str | None:
    """package.json changed since the lock was written: the entry yarn would most likely keep
    (the highest locked version of that name the new range allows), else None."""
    from eggshield.deps import semver

    best: tuple | None = None
    for key, pkg in inv.packages.items():
        if pkg.name == name and pkg.version and semver.satisfies(pkg.version, spec, loose=True):
            v = semver.parse(pkg.version, True)
            if v is not None and (best is None or v.compare(best[0]) > 0):
                best = (v, key)
    return best[1] if best else None


# -- berry -------------------------------------------------------------------------------------

def _berry_key_name(resolution: str) -> tuple[str, str]:
    """`minimist@npm:1.2.0` -> ('minimist', 'npm:1.2.0')."""
    return split_descriptor(resolution)


def _load_berry(text: str, path: Path, root: Path, shown: str) -> Inventory:
    lines: dict = {}
    try:
        doc = yamlish.parse(text, key_lines=lines)
    except yamlish.YamlError as exc:
        raise LockfileError(f"{shown}: {exc}") from None
    meta = doc.get("__metadata")
    version = meta.get("version") if isinstance(meta, dict) else None
    inv = Inventory(root=root, source=f"yarn.lock (berry, metadata v{version or '?'})", lockfile=path)
    by_desc: dict[str, str] = {}
    for header, entry in doc.items():
        if header == "__metadata":
            continue
        if not isinstance(entry, dict):
            inv.problems.append(InputProblem(shown, f"entry {header[:60]!r} is not a mapping; skipped"))
            continue
        descs = [d.strip() for d in header.split(",") if d.strip()]
        key = descs[0]
        resolution = entry.get("resolution") if isinstance(entry.get("resolution"), str) else key
        name, ref = _berry_key_name(resolution)
        ver = entry.get("version")
        ver = str(ver) if isinstance(ver, (str, int, float)) and not isinstance(ver, bool) else None
        if ref.startswith("workspace:"):
            rel = ref[len("workspace:"):].strip("/") or "."
            rel = "." if rel in (".", "") else rel
            inv.importers[rel] = Importer(path=rel, name=name, version=None)
            inv.packages[f"ws:{rel}"] = Package(key=f"ws:{rel}", name=name, version=None, resolved=f"link:{rel}",
                                               line=lines.get(("", header)))
        else:
            if ver is None:
                inv.problems.append(InputProblem(shown, f"entry {header[:60]!r} has no version; listed but "
                                                        "not audited"))
            resolved = None if ref.startswith("npm:") else ref
            inv.packages[key] = Package(key=key, name=name, version=ver, resolved=resolved,
                                        line=lines.get(("", header)),
                                        integrity=entry.get("checksum") if isinstance(entry.get("checksum"), str)
                                        else None)
        node = f"ws:{rel}" if ref.startswith("workspace:") else key
        for d in descs:
            by_desc[d] = node

    def find(dep_name: str, spec: str) -> str | None:
        for cand in (f"{dep_name}@{spec}", f"{dep_name}@npm:{spec}"):
            if cand in by_desc:
                return by_desc[cand]
        return None

    for header, entry in doc.items():
        if header == "__metadata" or not isinstance(entry, dict):
            continue
        descs = [d.strip() for d in header.split(",") if d.strip()]
        key = by_desc.get(descs[0])
        deps = []
        for section, kind in (("dependencies", "prod"), ("optionalDependencies", "optional")):
            block = entry.get(section)
            if not isinstance(block, dict):
                continue
            for dep_name, spec in block.items():
                if isinstance(spec, (str, int, float)) and not isinstance(spec, bool):
                    deps.append(Dependency(name=dep_name, spec=str(spec), kind=kind, target=find(dep_name, str(spec))))
        meta_block = entry.get("dependenciesMeta")
        if isinstance(meta_block, dict):
            for d in deps:
                flags = meta_block.get(d.name)
                if isinstance(flags, dict) and flags.get("optional") is True:
                    d.kind = "optional"
        if key and key.startswith("ws:"):
            rel = key[3:]
            imp = inv.importers.get(rel)
            if imp is not None:
                _berry_kinds(imp, deps, root)
                imp.deps = deps
                inv.packages[key].version = imp.version
            inv.edges[key] = deps
        elif key:
            inv.edges[key] = deps
    if "." not in inv.importers:
        manifest = read_manifest(root, root, inv.problems)
        imp = importer_from_manifest(".", manifest, root.name)
        for d in imp.deps:
            d.target = find(d.name, d.spec)
        inv.importers["."] = imp
    # importer roots are the workspaces themselves, not their `ws:` package twins
    inv.mark_dev_and_optional()
    return inv


def _berry_kinds(imp: Importer, deps: list[Dependency], root: Path) -> None:
    """The lock merges a workspace's dependencies and devDependencies; package.json tells which is which."""
    manifest = read_manifest(root / imp.path if imp.path != "." else root, root)
    if not manifest:
        return
    if isinstance(manifest.get("version"), str):
        imp.version = manifest["version"]
    dev = manifest.get("devDependencies") if isinstance(manifest.get("devDependencies"), dict) else {}
    prod = manifest.get("dependencies") if isinstance(manifest.get("dependencies"), dict) else {}
    for d in deps:
        if d.name in dev and d.name not in prod:
            d.kind = "dev"
