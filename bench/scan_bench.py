"""Benchmark: `eggshield scan` on a synthetic Egg app of N server-side files, against peer tools.

Run: python bench/scan_bench.py [--files 2000] [--runs 5] [--peers]
Prints a table of median wall-clock seconds and the ratio to eggshield. Peers (with --peers):
ESLint with eslint-plugin-security over the same tree (installed once with npm into
~/.cache/eggshield-bench), and `node --check` on every file (a floor: parse only).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONTROLLER = """'use strict';
const {{ Controller }} = require('egg');

class C{i}Controller extends Controller {{
  async index() {{
    const {{ ctx }} = this;
    const page = Number(ctx.query.page || 1);
    const rows = await ctx.service.s{i}.list(page, ctx.query.q);
    ctx.body = {{ rows, page, user: ctx.session.user }};
  }}

  async create() {{
    const {{ ctx }} = this;
    ctx.validate({{ name: 'string', age: {{ type: 'int', min: 0 }} }});
    ctx.body = await ctx.service.s{i}.create(ctx.request.body);
    ctx.status = 201;
  }}
}}

module.exports = C{i}Controller;
"""
SERVICE = """'use strict';
const {{ Service }} = require('egg');

class S{i}Service extends Service {{
  async list(page, q) {{
    const where = q ? {{ name: q }} : {{}};
    return this.app.mysql.select('t{i}', {{ where, limit: 20, offset: (page - 1) * 20 }});
  }}

  async create(data) {{
    const result = await this.app.mysql.insert('t{i}', data);
    return {{ id: result.insertId }};
  }}
}}

module.exports = S{i}Service;
"""


def make_app(root: Path, files: int) -> Path:
    (root / "config").mkdir(parents=True)
    (root / "app/controller").mkdir(parents=True)
    (root / "app/service").mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"name": "bench-app", "dependencies": {"egg": "^3.17.0"}}))
    (root / "config/config.default.js").write_text(
        "module.exports = appInfo => ({ keys: appInfo.name + '_1700000000000_1234', "
        "security: { csrf: { enable: false } } });\n")
    (root / "config/plugin.js").write_text("exports.mysql = { enable: true, package: 'egg-mysql' };\n")
    routes = []
    for i in range((files - 3) // 2):
        (root / f"app/controller/c{i}.js").write_text(CONTROLLER.format(i=i))
        (root / f"app/service/s{i}.js").write_text(SERVICE.format(i=i))
        routes.append(f"  router.get('/c{i}', controller.c{i}.index);\n  router.post('/c{i}', controller.c{i}.create);")
    (root / "app/router.js").write_text("module.exports = app => {\n  const { router, controller } = app;\n"
                                        + "\n".join(routes) + "\n};\n")
    return root


def timed(cmd: list[str], cwd: Path | None = None, ok=(0, 1)) -> float:
    start = time.perf_counter()
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    took = time.perf_counter() - start
    if res.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd[:3])}… exited {res.returncode}: {res.stderr[-400:]}")
    return took


def eslint_dir() -> Path | None:
    cache = Path(os.environ.get("EGGSHIELD_BENCH_CACHE", Path.home() / ".cache/eggshield-bench"))
    target = cache / "eslint"
    if (target / "node_modules/.bin/eslint").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    (target / "package.json").write_text(json.dumps({"name": "bench-eslint", "private": True}))
    res = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "eslint@9", "eslint-plugin-security@3"],
                         cwd=target, capture_output=True, text=True)
    return target if res.returncode == 0 else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--peers", action="store_true", help="also time ESLint+eslint-plugin-security and node --check")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="eggshield-bench-"))
    try:
        app = make_app(work / "app", args.files)
        n = sum(1 for _ in app.rglob("*.js"))
        tools: dict[str, list[str]] = {"eggshield scan": [sys.executable, "-m", "eggshield", "scan", str(app),
                                                           "--format", "json"]}
        if args.peers:
            lint = eslint_dir()
            if lint is not None:
                (work / "eslint.config.js").write_text(
                    f"const security = require('{lint}/node_modules/eslint-plugin-security');\n"
                    "module.exports = [security.configs.recommended];\n")
                tools["eslint + plugin-security"] = [str(lint / "node_modules/.bin/eslint"), "-c",
                                                     str(work / "eslint.config.js"), str(app)]
            else:
                print("eslint could not be installed; skipped", file=sys.stderr)
            script = work / "check_all.js"
            script.write_text("const fs=require('fs');"
                              "const files=process.argv.slice(2);"
                              "for (const f of files){new Function(fs.readFileSync(f,'utf8'));}\n")
            files = [str(p) for p in app.rglob("*.js")]
            tools["node parse only (new Function)"] = ["node", str(script), *files]
        results = {}
        for name, cmd in tools.items():
            timed(cmd, cwd=work)  # warm-up
            results[name] = statistics.median(timed(cmd, cwd=work) for _ in range(args.runs))
        base = results["eggshield scan"]
        print(f"\nscan of a synthetic Egg app: {n} JS files, median of {args.runs} runs, {os.cpu_count()} cores\n")
        print("| tool | median s | ratio to eggshield |\n|---|---:|---:|")
        for name, secs in results.items():
            print(f"| {name} | {secs:.2f} | {secs / base:.2f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
