"""package-lock.json (v1, v2, v3) and npm-shrinkwrap.json.

v2/v3 list every installed folder under `packages` keyed by its path
(`node_modules/a/node_modules/b`); v1 nests `dependencies`. Either way the edges are found
the way Node resolves `require`: the nearest `node_modules/<name>` walking up from the
requiring package's folder, which is also what npm itself records.
"""

from __future__ import annotations

import bisect
import json
import re
from pathlib import Path

from eggshield.deps.model import Dependency, Importer, Inventory, LockfileError, Package
from eggshield.deps.sources.interface import load_json, read_lockfile, shown_path, str_dict
from eggshield.deps.sources.manifest import DEP_FIELDS, declared, read_manifest
from eggshield.finding import InputProblem

# an installed package's devDependencies are never installed
_INSTALLED_FIELDS = tuple((f, k) for f, k in DEP_FIELDS if f != "devDependencies")
_ALIAS = re.compile(r"^npm:((?:@[^/@]+/)?[^@]+)@(.+)$")


class NpmLockSource:
    def __init__(self, name: str = "package-lock.json"):
        self.name = name

    def load(self, path: Path, root: Path) -> Inventory:
        text = read_lockfile(path, root)
        shown = shown_path(path, root)
        data = load_json(text, shown, "npm lockfile")
        if not isinstance(data, dict) or not ({"lockfileVersion", "packages", "dependencies"} & data.keys()):
            raise LockfileError(f"{shown}: does not look like an npm lockfile (no lockfileVersion, packages "
                                "or dependencies)")
        version = data.get("lockfileVersion")
        inv = Inventory(root=root, source=f"{path.name} v{version if isinstance(version, int) else '?'}",
                        lockfile=path)
        packages = data.get("packages")
        if isinstance(packages, dict) and packages:
            _load_packages(packages, inv, shown)
        elif isinstance(data.get("dependencies"), dict):
            _load_v1(data, inv, root, shown)
        else:
            raise LockfileError(f"{shown}: neither `packages` nor `dependencies` is an object; nothing to read")
        inv.locator = _json_locator(text, "packages" if isinstance(packages, dict) and packages else "v1")
        inv.mark_dev_and_optional()
        return inv


# -- v2 / v3 -----------------------------------------------------------------------------------

def _name_from_key(key: str) -> str:
    idx = key.rfind("node_modules/")
    return key[idx + len("node_modules/"):] if idx != -1 else key.rsplit("/", 1)[-1]


def _parent_folder(key: str) -> str | None:
    """The folder whose node_modules holds `key`'s package ('' = the root), None above the root."""
    if not key:
        return None
    idx = key.rfind("/node_modules/")
    if idx != -1:
        return key[:idx]
    return ""


def _resolve(folder: str, name: str, entries: dict) -> str | None:
    """Node's lookup: folder/node_modules/name, then each ancestor folder's, then the root's."""
    base = folder
    while base:
        cand = base + "/node_modules/" + name
        if cand in entries:
            return cand
        idx = base.rfind("/node_modules/")
        # above `node_modules/x` (or a workspace folder such as packages/a) is the root
        base = base[:idx] if idx != -1 else ""
    cand = "node_modules/" + name
    return cand if cand in entries else None


def _load_packages(packages: dict, inv: Inventory, shown: str) -> None:
    entries = {k: v for k, v in packages.items() if isinstance(k, str) and isinstance(v, dict)}
    bad = len(packages) - len(entries)
    if bad:
        inv.problems.append(InputProblem(shown, f"{bad} entr{'y' if bad == 1 else 'ies'} of `packages` "
                                                "are not objects; skipped"))
    links: dict[str, str] = {}  # node_modules/lib-a -> packages/lib-a
    for key, entry in entries.items():
        if entry.get("link") is True and isinstance(entry.get("resolved"), str):
            links[key] = entry["resolved"].rstrip("/")
    for key, entry in entries.items():
        if key in links:
            continue
        if key == "" or "node_modules/" not in key:
            rel = key or "."
            name = entry.get("name") if isinstance(entry.get("name"), str) else (
                _name_from_key(key) if key else "(root)")
            version = entry.get("version") if isinstance(entry.get("version"), str) else None
            imp = Importer(path=rel, name=name, version=version, deps=declared(entry))
            inv.importers[rel] = imp
            if key:  # a workspace is also a node others can depend on
                inv.packages[key] = Package(key=key, name=name, version=version, resolved=f"link:{key}")
            continue
        name = entry.get("name") if isinstance(entry.get("name"), str) else _name_from_key(key)
        version = entry.get("version") if isinstance(entry.get("version"), str) else None
        if version is None and not entry.get("inBundle"):
            inv.problems.append(InputProblem(shown, f"entry {key!r} has no version; it is listed but not audited"))
        resolved = entry.get("resolved") if isinstance(entry.get("resolved"), str) else None
        lic = entry.get("license") if isinstance(entry.get("license"), str) else None
        inv.packages[key] = Package(key=key, name=name, version=version, resolved=resolved, license=lic,
                                    integrity=entry.get("integrity") if isinstance(entry.get("integrity"), str)
                                    else None)
    if "." not in inv.importers:
        inv.importers["."] = Importer(path=".", name="(root)")

    def target_of(folder: str, name: str) -> str | None:
        hit = _resolve(folder, name, entries)
        if hit is not None and hit in links:
            return links[hit] if links[hit] in inv.packages else None
        return hit

    for imp in inv.importers.values():
        folder = "" if imp.path == "." else imp.path
        for d in imp.deps:
            d.target = target_of(folder, d.name)
        if imp.path != ".":
            inv.edges[imp.path] = imp.deps
    importers = inv.importers
    edges = inv.edges
    for key in list(inv.packages):
        if key in importers:
            continue
        entry = entries[key]
        deps = []
        for field_name, kind in _INSTALLED_FIELDS:
            block = entry.get(field_name)
            if not block or not isinstance(block, dict):
                continue
            for dep_name, spec in block.items():
                if isinstance(spec, str) and isinstance(dep_name, str):
                    deps.append(Dependency(dep_name, spec, kind, target_of(key, dep_name)))
        if deps:
            edges[key] = deps


# -- v1 ----------------------------------------------------------------------------------------

def _alias(version: str) -> tuple[str | None, str]:
    m = _ALIAS.match(version)
    return (m.group(1), m.group(2)) if m else (None, version)


def _load_v1(data: dict, inv: Inventory, root: Path, shown: str) -> None:
    entries: dict[str, dict] = {}
    stack: list[tuple[str, dict]] = [("", data["dependencies"])]
    count = 0
    while stack:
        prefix, level = stack.pop()
        for dep_name, entry in level.items():
            if not isinstance(dep_name, str) or not isinstance(entry, dict):
                continue
            count += 1
            if count > 2_000_000:
                raise LockfileError(f"{shown}: more than 2,000,000 nested entries; refusing to read further")
            key = f"{prefix}/node_modules/{dep_name}" if prefix else f"node_modules/{dep_name}"
            entries[key] = entry
            nested = entry.get("dependencies")
            if isinstance(nested, dict):
                stack.append((key, nested))
    for key, entry in entries.items():
        alias_name = _name_from_key(key)
        raw = entry.get("version") if isinstance(entry.get("version"), str) else None
        name, version = alias_name, raw
        resolved = entry.get("resolved") if isinstance(entry.get("resolved"), str) else None
        if raw is not None:
            real, ver = _alias(raw)
            if real:
                name, version = real, ver
            elif not raw[:1].isdigit():  # git+https://..., file:..., github:user/repo#sha
                resolved = resolved or raw
                version = None
        if raw is None:
            inv.problems.append(InputProblem(shown, f"entry {key!r} has no version; it is listed but not audited"))
        inv.packages[key] = Package(key=key, name=name, version=version, resolved=resolved,
                                    integrity=entry.get("integrity") if isinstance(entry.get("integrity"), str)
                                    else None)
    manifest = read_manifest(root, root, inv.problems)
    name = data.get("name") if isinstance(data.get("name"), str) else "(root)"
    imp = Importer(path=".", name=name, version=data.get("version") if isinstance(data.get("version"), str) else None)
    if manifest is not None:
        imp.deps = declared(manifest)
    else:  # no package.json beside it: the top level is what the app asked for
        for dep_name, entry in data["dependencies"].items():
            if isinstance(dep_name, str) and isinstance(entry, dict):
                kind = "dev" if entry.get("dev") is True else "optional" if entry.get("optional") is True else "prod"
                imp.deps.append(Dependency(name=dep_name, spec=str(entry.get("version", "*")), kind=kind))
    inv.importers["."] = imp
    for d in imp.deps:
        d.target = _resolve("", d.name, entries)
    for key, entry in entries.items():
        deps = [Dependency(name=n, spec=s, kind="prod", target=_resolve(key, n, entries))
                for n, s in str_dict(entry.get("requires")).items()]
        if deps:
            inv.edges[key] = deps


# -- line numbers ------------------------------------------------------------------------------

def _json_locator(text: str, layout: str):
    newlines: list[int] | None = None

    def line_at(offset: int) -> int:
        nonlocal newlines
        if newlines is None:
            newlines = [m.start() for m in re.finditer("\n", text)]
        return bisect.bisect_left(newlines, offset) + 1

    def locate(pkg: Package) -> int | None:
        if layout == "packages":
            idx = text.find(json.dumps(pkg.key) + ": {")
            return line_at(idx) if idx != -1 else None
        # v1: find the nested keys one after another
        pos = 0
        for part in pkg.key.split("node_modules/")[1:]:
            idx = text.find(json.dumps(part.rstrip("/")) + ": {", pos)
            if idx == -1:
                return None
            pos = idx + 1
        return line_at(pos - 1)

    return locate
