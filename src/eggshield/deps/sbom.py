"""A CycloneDX 1.5 SBOM (JSON) of the resolved dependency tree of one or more apps."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

from eggshield import __version__
from eggshield.deps.model import Inventory

_HASH_ALGS = {"sha512": "SHA-512", "sha384": "SHA-384", "sha256": "SHA-256", "sha1": "SHA-1"}


def purl(name: str, version: str | None) -> str:
    if name.startswith("@") and "/" in name:
        scope, _, bare = name.partition("/")
        base = f"pkg:npm/{quote(scope, safe='')}/{quote(bare, safe='')}"
    else:
        base = f"pkg:npm/{quote(name, safe='')}"
    return f"{base}@{quote(version, safe='')}" if version else base


def _hashes(integrity: str | None) -> list[dict]:
    out = []
    for item in (integrity or "").split():
        alg, _, b64 = item.partition("-")
        if alg in _HASH_ALGS and b64:
            try:
                out.append({"alg": _HASH_ALGS[alg], "content": base64.b64decode(b64).hex()})
            except (ValueError, TypeError):
                continue
    return out


def cyclonedx(apps: list[tuple[str, str | None, Inventory, set[str] | None]]) -> dict:
    """apps: (name, version, inventory, reachable package keys or None for all)."""
    components: list[dict] = []
    deps: list[dict] = []
    seen: set[str] = set()
    roots = []
    for app_name, app_version, inv, keys in apps:
        root_ref = f"app:{app_name}"
        roots.append({"type": "application", "name": app_name, "bom-ref": root_ref,
                      **({"version": app_version} if app_version else {})})
        wanted = keys if keys is not None else set(inv.packages)
        for key in sorted(wanted):
            pkg = inv.packages.get(key)
            if pkg is None:
                continue
            ref = f"{app_name}:{key}"
            if ref in seen:
                continue
            seen.add(ref)
            comp: dict = {"type": "library", "bom-ref": ref, "name": pkg.name}
            if pkg.name.startswith("@") and "/" in pkg.name:
                comp["group"], comp["name"] = pkg.name.split("/", 1)
            if pkg.version:
                comp["version"] = pkg.version
            comp["purl"] = purl(pkg.name, pkg.version)
            comp["scope"] = "excluded" if pkg.dev else "optional" if pkg.optional else "required"
            hashes = _hashes(pkg.integrity)
            if hashes:
                comp["hashes"] = hashes
            if pkg.license:
                comp["licenses"] = [{"license": {"name": pkg.license}}]
            props = []
            if pkg.origin != "registry":
                props.append({"name": "eggshield:origin", "value": pkg.origin})
            if pkg.resolved and pkg.origin != "registry":
                props.append({"name": "eggshield:resolved", "value": pkg.resolved})
            if not pkg.version:
                props.append({"name": "eggshield:unresolved-range", "value": pkg.spec or "*"})
            if props:
                comp["properties"] = props
            components.append(comp)
            deps.append({"ref": ref, "dependsOn": sorted({f"{app_name}:{d.target}" for d in inv.edges.get(key, ())
                                                         if d.target and d.target in wanted})})
        direct = sorted({f"{app_name}:{d.target}" for imp in inv.importers.values() for d in imp.deps
                         if d.target and d.target in wanted})
        deps.append({"ref": root_ref, "dependsOn": direct})
    meta: dict = {"timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "tools": {"components": [{"type": "application", "name": "eggshield", "version": __version__}]}}
    if len(roots) == 1:
        meta["component"] = roots[0]
    else:
        meta["component"] = {"type": "application", "name": "workspace", "bom-ref": "app:workspace"}
        components = roots + components
    return {"bomFormat": "CycloneDX", "specVersion": "1.5", "serialNumber": f"urn:uuid:{uuid.uuid4()}",
            "version": 1, "metadata": meta, "components": components, "dependencies": deps}
