"""pnpm-lock.yaml, lockfile versions 5.x, 6.x and 9.x.

The three generations spell the same graph differently:
- 5.x: package keys `/name/1.0.0` (`_peer@x` suffixes), importers with a `specifiers` map;
- 6.x: `/name@1.0.0(peer@x)`, importer dependencies as `{specifier, version}`;
- 9.x: `packages` holds metadata per `name@1.0.0`, `snapshots` the resolved graph per
  `name@1.0.0(peer@x)`, keys without the leading slash.
A dependency reference is a version (optionally with the peer suffix), an alias
(`/minimist/1.2.0`, `/minimist@1.2.0`, `minimist@1.2.0`) or `link:` to a workspace.
"""

from __future__ import annotations

import re
from pathlib import Path

from eggshield.deps.model import Dependency, Importer, Inventory, LockfileError, Package
from eggshield.deps.sources import yamlish
from eggshield.deps.sources.interface import read_lockfile, shown_path
from eggshield.deps.sources.manifest import read_manifest
from eggshield.finding import InputProblem

_GROUPS = (("dependencies", "prod"), ("devDependencies", "dev"), ("optionalDependencies", "optional"))
_PEER_PAREN = re.compile(r"\(.*$")


def _major(version: object) -> int:
    m = re.match(r"\s*'?(\d+)", str(version))
    return int(m.group(1)) if m else 0


def parse_key(key: str, gen: int) -> tuple[str, str]:
    """A package key -> (name, version) with the peer suffix removed."""
    k = key.lstrip("/") if gen < 9 else key
    if gen == 5:
        # /@scope/name/1.0.0_peer@1.0.0 ; registry-prefixed keys (host/name/1.0.0) keep the last two parts
        parts = k.split("/")
        if len(parts) >= 3 and parts[-3].startswith("@"):
            name, version = f"{parts[-3]}/{parts[-2]}", parts[-1]
        elif len(parts) >= 2:
            name, version = parts[-2], parts[-1]
        else:
            return k, ""
        return name, version.split("_", 1)[0]
    k = _PEER_PAREN.sub("", k)
    at = k.find("@", 1)
    if at == -1:
        return k, ""
    return k[:at], k[at + 1:]


def _ref_target(name: str, ref: str, gen: int) -> str | None:
    """The package key a dependency reference points at (None for link:)."""
    if ref.startswith("link:"):
        return None
    if gen == 5:
        return ref if ref.startswith("/") else f"/{name}/{ref}"
    if gen == 6:
        return ref if ref.startswith("/") else f"/{name}@{ref}"
    # v9: a bare version (possibly with a peer suffix), or `other-name@1.0.0` for an alias
    if ref[:1].isdigit():
        return f"{name}@{ref}"
    return ref


class PnpmLockSource:
    name = "pnpm-lock.yaml"

    def load(self, path: Path, root: Path) -> Inventory:
        text = read_lockfile(path, root)
        shown = shown_path(path, root)
        if not text.lstrip()[:200].startswith("lockfileVersion"):
            raise LockfileError(f"{shown}: does not look like a pnpm lockfile (no lockfileVersion on the first line)")
        lines: dict = {}
        try:
            doc = yamlish.parse(text, key_lines=lines)
        except yamlish.YamlError as exc:
            raise LockfileError(f"{shown}: {exc}") from None
        raw_version = doc.get("lockfileVersion")
        gen = _major(raw_version)
        if gen not in (5, 6, 7, 9):
            raise LockfileError(f"{shown}: lockfileVersion {raw_version!r} is not one eggshield reads (5.x to 9.x)")
        gen = 6 if gen == 7 else gen
        inv = Inventory(root=root, source=f"pnpm-lock.yaml v{raw_version}", lockfile=path)
        packages = doc.get("packages") if isinstance(doc.get("packages"), dict) else {}
        graph = doc.get("snapshots") if gen == 9 and isinstance(doc.get("snapshots"), dict) else packages
        for key, entry in graph.items():
            entry = entry if isinstance(entry, dict) else {}
            name, version = parse_key(key, gen)
            meta = entry
            if gen == 9:
                base = f"{name}@{version}"
                meta = packages.get(base) if isinstance(packages.get(base), dict) else {}
            if isinstance(meta.get("name"), str):
                name = meta["name"]
            if isinstance(meta.get("version"), str):
                version = meta["version"]
            resolution = meta.get("resolution") if isinstance(meta.get("resolution"), dict) else {}
            resolved = None
            if isinstance(resolution.get("tarball"), str) and not resolution.get("integrity"):
                resolved = resolution["tarball"]
            elif isinstance(resolution.get("repo"), str):
                resolved = f"git+{resolution['repo']}#{resolution.get('commit', '')}"
            elif isinstance(resolution.get("directory"), str):
                resolved = f"file:{resolution['directory']}"
            if not version or not version[:1].isdigit():
                resolved = resolved or version or key
                version = None
            section = "snapshots" if gen == 9 else "packages"
            inv.packages[key] = Package(key=key, name=name, version=version, resolved=resolved,
                                        line=lines.get((section, key)),
                                        integrity=resolution.get("integrity") if isinstance(
                                            resolution.get("integrity"), str) else None)
        for key, entry in graph.items():
            if not isinstance(entry, dict):
                continue
            deps = []
            for group, kind in (("dependencies", "prod"), ("optionalDependencies", "optional")):
                block = entry.get(group)
                if not isinstance(block, dict):
                    continue
                for dep_name, ref in block.items():
                    if isinstance(ref, (str, int, float)) and not isinstance(ref, bool):
                        ref = str(ref)
                        target = _ref_target(dep_name, ref, gen)
                        deps.append(Dependency(name=dep_name, spec=ref, kind=kind,
                                               target=target if target in inv.packages else None))
            if deps:
                inv.edges[key] = deps
        importers = doc.get("importers")
        if not isinstance(importers, dict):
            importers = {".": doc}  # single-project lockfile: the groups sit at the top level
        for rel, block in importers.items():
            if not isinstance(block, dict):
                inv.problems.append(InputProblem(shown, f"importer {rel!r} is not a mapping; skipped"))
                continue
            rel = str(rel).strip("/") or "."
            manifest = read_manifest(root / rel if rel != "." else root, root)
            name = (manifest or {}).get("name") if isinstance((manifest or {}).get("name"), str) else (
                root.name if rel == "." else rel.rsplit("/", 1)[-1])
            imp = Importer(path=rel, name=name,
                           version=(manifest or {}).get("version") if isinstance((manifest or {}).get("version"), str)
                           else None)
            specifiers = block.get("specifiers") if isinstance(block.get("specifiers"), dict) else {}
            for group, kind in _GROUPS:
                deps = block.get(group)
                if not isinstance(deps, dict):
                    continue
                for dep_name, value in deps.items():
                    if isinstance(value, dict):
                        spec, ref = value.get("specifier"), value.get("version")
                    else:
                        spec, ref = specifiers.get(dep_name), value
                    if not isinstance(ref, (str, int, float)) or isinstance(ref, bool):
                        continue
                    ref = str(ref)
                    imp.deps.append(Dependency(name=dep_name, spec=str(spec if spec is not None else ref), kind=kind,
                                               target=ref))  # the reference for now; resolved below
            inv.importers[rel] = imp
        for rel, imp in inv.importers.items():
            if rel != ".":
                inv.packages[rel] = Package(key=rel, name=imp.name, version=imp.version, resolved=f"link:{rel}")
                inv.edges[rel] = imp.deps
        for rel, imp in inv.importers.items():
            for d in imp.deps:
                ref = d.target or ""
                target = _link_target(rel, ref[5:]) if ref.startswith("link:") else _ref_target(d.name, ref, gen)
                d.target = target if target in inv.packages else None
        if "." not in inv.importers:
            inv.importers["."] = Importer(path=".", name=root.name)
        inv.mark_dev_and_optional()
        return inv


def _importer_ref(block: object, name: str) -> str | None:
    if not isinstance(block, dict):
        return None
    for group, _ in _GROUPS:
        deps = block.get(group)
        if isinstance(deps, dict) and name in deps:
            v = deps[name]
            v = v.get("version") if isinstance(v, dict) else v
            return v if isinstance(v, str) else None
    return None


def _link_target(importer: str, rel_link: str) -> str:
    base = Path(importer if importer != "." else "")
    parts: list[str] = []
    for part in (base / rel_link).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts) or "."
