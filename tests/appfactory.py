"""Write small Egg apps into a temp dir for tests."""

from __future__ import annotations

import json
from pathlib import Path


def make_app(root: Path, files: dict[str, str], *, egg: str = "^3.17.0", name: str = "demo", pkg: dict | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    package = {"name": name, "version": "1.0.0", "dependencies": {"egg": egg}}
    package.update(pkg or {})
    (root / "package.json").write_text(json.dumps(package))
    for rel, body in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body)
    return root
