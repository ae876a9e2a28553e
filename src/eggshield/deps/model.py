"""The dependency inventory every source produces and every check reads.

A lockfile is a graph: nodes are installed package instances, edges say which instance a
dependency resolves to, importers (the app and its workspace packages) are the roots. Each
lockfile format is parsed into this one shape, so advisories, dependency paths, the ledger and
the SBOM never care which package manager wrote the file.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eggshield.finding import InputProblem

DEP_KINDS = ("prod", "dev", "optional", "peer")


@dataclass(slots=True)
class Package:
    """One installed instance of a package (the same name@version may sit at several keys)."""

    key: str  # unique within the inventory: a lockfile path or name@version(+peers)
    name: str  # the real package name (an alias `mini: npm:minimist@1` gives "minimist")
    version: str | None  # None when unresolved (no lockfile, no node_modules)
    spec: str | None = None  # the range asked for, when that is all we know
    dev: bool = False  # only reachable through devDependencies
    optional: bool = False
    resolved: str | None = None  # tarball URL, git URL, file: or link: target
    line: int | None = None  # line of its entry in the lockfile, when cheap to know
    license: str | None = None
    deprecated: str | None = None  # from an installed package.json, when present
    integrity: str | None = None

    @property
    def ident(self) -> str:
        return f"{self.name}@{self.version}" if self.version else f"{self.name}@{self.spec or '*'}"

    @property
    def origin(self) -> str:
        """registry, git, file, link, url or unknown: only registry packages can be audited by version."""
        r = self.resolved or ""
        if not r:
            return "registry"
        if r.startswith(("git+", "git:", "github:", "git@")) or ".git#" in r:
            return "git"
        if r.startswith("file:"):
            return "file"
        if r.startswith(("link:", "workspace:", "portal:")):
            return "link"
        if r.startswith(("http://", "https://")):
            # registries and their mirrors serve `<name>-<version>.tgz` (npm: /-/, cnpm: /download/);
            # a code host's archive or any other URL is not a registry release
            path = r.split("#", 1)[0].split("?", 1)[0]
            host = r.split("/", 3)[2].lower() if r.count("/") >= 2 else ""
            if path.endswith(".tgz") and not host.startswith(("codeload.", "github.com", "gitlab.", "bitbucket.")):
                return "registry"
            return "url"
        return "registry"


@dataclass(slots=True)
class Dependency:
    """An edge: `name` asked for with `spec` as `kind`, resolved to `target` (a Package key)."""

    name: str
    spec: str
    kind: str = "prod"  # prod, dev, optional, peer
    target: str | None = None  # None: not in the lockfile (missing, or an uninstalled optional/peer)


@dataclass
class Importer:
    """The app or one of its workspace packages: a root of the graph."""

    path: str  # relative to the inventory root, '.' for the root package
    name: str
    version: str | None = None
    deps: list[Dependency] = field(default_factory=list)


@dataclass
class Inventory:
    root: Path  # the directory holding the lockfile (or package.json)
    source: str  # "package-lock.json v3", "yarn.lock (classic)", "pnpm-lock.yaml v9.0", "node_modules", ...
    lockfile: Path | None = None
    resolved: bool = True  # False when only package.json ranges are known
    importers: dict[str, Importer] = field(default_factory=dict)
    packages: dict[str, Package] = field(default_factory=dict)
    edges: dict[str, list[Dependency]] = field(default_factory=dict)
    problems: list[InputProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # finds a package's line in the lockfile on demand (JSON lockfiles: only for findings)
    locator: Callable[[Package], int | None] | None = field(default=None, repr=False)

    def line_of(self, pkg: Package) -> int | None:
        if pkg.line is None and self.locator is not None:
            try:
                pkg.line = self.locator(pkg)
            except Exception:  # noqa: BLE001 - a line number is a nicety, never a failure
                pkg.line = None
        return pkg.line

    def by_name(self, name: str) -> list[Package]:
        return [p for p in self.packages.values() if p.name == name]

    def distinct(self) -> dict[tuple[str, str | None], list[Package]]:
        """name@version -> the instances holding it."""
        out: dict[tuple[str, str | None], list[Package]] = {}
        for p in self.packages.values():
            out.setdefault((p.name, p.version), []).append(p)
        return out

    def mark_dev_and_optional(self) -> None:
        """A package is dev (optional) when no path from an importer reaches it without a dev
        (optional) edge. Lockfiles that record the flags keep theirs; this fills the others."""
        reach_prod: set[str] = set()
        reach_required: set[str] = set()
        for flag_set, skip in ((reach_prod, ("dev",)), (reach_required, ("dev", "optional"))):
            queue: deque[str] = deque()
            for imp in self.importers.values():
                for d in imp.deps:
                    if d.target and d.kind not in skip and d.kind != "peer" and d.target not in flag_set:
                        flag_set.add(d.target)
                        queue.append(d.target)
            while queue:
                key = queue.popleft()
                for d in self.edges.get(key, ()):
                    if d.target and d.kind not in skip and d.target not in flag_set:
                        flag_set.add(d.target)
                        queue.append(d.target)
        for key, pkg in self.packages.items():
            if pkg.origin == "link":  # a workspace package: a root of its own, never "dev"
                pkg.dev = pkg.optional = False
                continue
            pkg.dev = key not in reach_prod
            pkg.optional = key in reach_prod and key not in reach_required

    def reachable_from(self, importer_paths: set[str] | None = None) -> set[str]:
        """Package keys reachable from these importers (all importers when None), workspaces followed."""
        seen: set[str] = set()
        queue: deque[str] = deque()
        for imp in self.importers.values():
            if importer_paths is not None and imp.path not in importer_paths:
                continue
            for d in imp.deps:
                if d.target and d.target not in seen:
                    seen.add(d.target)
                    queue.append(d.target)
        while queue:
            key = queue.popleft()
            for d in self.edges.get(key, ()):
                if d.target and d.target not in seen:
                    seen.add(d.target)
                    queue.append(d.target)
        return seen

    def direct(self) -> dict[str, tuple[str, Dependency]]:
        """Package key -> (importer path, the edge) for packages an importer depends on directly."""
        out: dict[str, tuple[str, Dependency]] = {}
        for imp in self.importers.values():
            for d in imp.deps:
                if d.target and d.target not in out:
                    out[d.target] = (imp.path, d)
        return out

    def paths_to(self, targets: set[str], limit: int = 3) -> dict[str, list[list[str]]]:
        """Shortest dependency paths (lists of package keys, importer first as `importer:<path>`)
        from the importers to each target; at most `limit` per target. Cycles are harmless: a
        breadth-first search visits each key once per path length."""
        parents: dict[str, list[str]] = {}
        depth: dict[str, int] = {}
        queue: deque[str] = deque()
        for imp in self.importers.values():
            root = f"importer:{imp.path}"
            for d in imp.deps:
                if d.target is None:
                    continue
                if d.target not in depth:
                    depth[d.target] = 1
                    parents[d.target] = [root]
                    queue.append(d.target)
                elif depth[d.target] == 1 and root not in parents[d.target]:
                    parents[d.target].append(root)
        while queue:
            key = queue.popleft()
            for d in self.edges.get(key, ()):
                t = d.target
                if t is None:
                    continue
                if t not in depth:
                    depth[t] = depth[key] + 1
                    parents[t] = [key]
                    queue.append(t)
                elif depth[t] == depth[key] + 1 and key not in parents[t] and len(parents[t]) < limit:
                    parents[t].append(key)
        out: dict[str, list[list[str]]] = {}
        for target in targets:
            if target not in parents:
                out[target] = []
                continue
            found: list[list[str]] = []
            stack: list[list[str]] = [[target]]
            while stack and len(found) < limit:
                path = stack.pop()
                head = path[0]
                if head.startswith("importer:"):
                    found.append(path)
                    continue
                for parent in reversed(parents.get(head, [])):
                    stack.append([parent, *path])
            out[target] = found
        return out

    def describe_path(self, path: list[str]) -> str:
        """`lockdemo > egg-security@3.7.0 > escape-html@1.0.3`."""
        parts = []
        for key in path:
            if key.startswith("importer:"):
                imp = self.importers.get(key[len("importer:"):])
                parts.append(imp.name if imp else key[len("importer:"):])
            else:
                pkg = self.packages.get(key)
                parts.append(pkg.ident if pkg else key)
        return " > ".join(parts)


class LockfileError(Exception):
    """A lockfile that cannot be used at all; the message is one line naming the file."""
