"""Benchmark: `eggshield deps --offline` on a real ~3,000-package lockfile, against peer tools.

Run: python bench/deps_bench.py [--runs 5] [--lock DIR]

The lockfile is made once with `npm install --package-lock-only` for a large Egg + front-end
project into ~/.cache/eggshield-bench/lock3000 (needs the npm registry the first time; pass
--lock DIR to use an existing package-lock.json instead). Prints the median wall-clock seconds
of each tool and its ratio to eggshield:

- eggshield deps --offline           the whole CLI: parse, bundled advisories, rules, report
- eggshield phases (in-process)       lockfile parse / advisory matching / rules, each alone
- npm ls --all --package-lock-only    npm reading the same lockfile into its tree (no advisories): a floor
- npm audit --package-lock-only       needs the registry's bulk advisory endpoint; reported as
                                      "failed" with the reason when it cannot run here
- osv-scanner --lockfile              only if an osv-scanner binary is on PATH (it needs its own
                                      downloaded database to work offline)
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

CACHE = Path(os.environ.get("EGGSHIELD_BENCH_CACHE", Path.home() / ".cache" / "eggshield-bench"))
PACKAGE = {
    "name": "bench-3000", "version": "1.0.0", "private": True,
    "dependencies": {"egg": "^3.17.0", "egg-view-nunjucks": "^2.3.0", "egg-sequelize": "^6.0.0",
                     "egg-redis": "^2.4.0", "lodash": "4.17.15"},
    "devDependencies": {"egg-bin": "^6.4.0", "egg-mock": "^5.10.0", "react-scripts": "4.0.3", "eslint": "^7.32.0",
                        "@vue/cli-service": "^4.5.19", "webpack-dev-server": "^3.11.3"},
}


def ensure_lock(lock_dir: Path) -> Path:
    lock = lock_dir / "package-lock.json"
    if lock.is_file():
        return lock
    lock_dir.mkdir(parents=True, exist_ok=True)
    (lock_dir / "package.json").write_text(json.dumps(PACKAGE, indent=1))
    print(f"creating {lock} with npm (first run only)...", file=sys.stderr)
    subprocess.run(["npm", "install", "--package-lock-only", "--ignore-scripts", "--legacy-peer-deps"],
                   cwd=lock_dir, check=True, capture_output=True, timeout=900)
    return lock


def timed(cmd: list[str], cwd: Path, env: dict, runs: int) -> tuple[float | None, str]:
    times, note = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
        elapsed = time.perf_counter() - start
        if res.returncode not in (0, 1):
            tail = (res.stderr or res.stdout).strip().splitlines()
            return None, f"failed (exit {res.returncode}): {tail[-1][:90] if tail else 'no output'}"
        times.append(elapsed)
        note = res.stdout
    return statistics.median(times), note


def phases(lock_dir: Path, runs: int) -> dict[str, float]:
    """In-process timings of the three stages, each on a warm interpreter."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from eggshield.deps import DepsOptions, run_checks
    from eggshield.deps.advisories import AdvisoryDB
    from eggshield.deps.audit import AuditOptions, audit
    from eggshield.deps.sources import load_inventory

    out: dict[str, list[float]] = {"parse": [], "advisories (snapshot load + match)": [], "audit+rules": []}
    for _ in range(runs):
        t = time.perf_counter()
        inv = load_inventory(lock_dir)
        out["parse"].append(time.perf_counter() - t)
        from eggshield.deps.advisories import bundled

        bundled._CACHE.clear()  # cold: the snapshot is decompressed and indexed inside the timing
        t = time.perf_counter()
        db = AdvisoryDB()
        for (name, version) in inv.distinct():
            db.match(name, version)
        out["advisories (snapshot load + match)"].append(time.perf_counter() - t)
        t = time.perf_counter()
        result = audit(lock_dir, options=AuditOptions(offline=True, advisories=db), all_importers=True)
        run_checks(result, lock_dir)
        out["audit+rules"].append(time.perf_counter() - t)
    del DepsOptions
    return {k: statistics.median(v) for k, v in out.items()}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--lock", type=Path, default=None, help="a directory holding package-lock.json")
    args = ap.parse_args()
    lock_dir = args.lock or CACHE / "lock3000"
    lock = ensure_lock(lock_dir)
    packages = len(json.loads(lock.read_text())["packages"]) - 1
    work = Path(tempfile.mkdtemp(prefix="eggshield-deps-bench-"))
    env = {**os.environ, "EGGSHIELD_CACHE": str(work / "cache"), "EGGSHIELD_DB": str(work / "ledger.db"),
           "NO_COLOR": "1"}
    rows: list[tuple[str, float | None, str]] = []
    t, out = timed([sys.executable, "-m", "eggshield", "deps", str(lock_dir), "--offline", "--format", "json",
                    "--no-ledger"], lock_dir, env, args.runs)
    found = len(json.loads(out)["findings"]) if t is not None else 0
    rows.append(("eggshield deps --offline (CLI)", t, f"{found} findings"))
    for name, secs in phases(lock_dir, args.runs).items():
        rows.append((f"  eggshield phase: {name}", secs, "in-process"))
    if shutil.which("npm"):
        t, _ = timed(["npm", "ls", "--all", "--json", "--package-lock-only"], lock_dir, env, args.runs)
        rows.append(("npm ls --all --package-lock-only", t, "tree only, no advisories"))
        t, out = timed(["npm", "audit", "--json", "--package-lock-only"], lock_dir, env, 1)
        try:
            doc = json.loads(out) if t is not None else {}
        except ValueError:
            doc = {}
        if "vulnerabilities" in doc:
            rows.append(("npm audit --package-lock-only", t, f"{len(doc['vulnerabilities'])} vulnerable packages"))
        else:
            why = doc.get("message") or out.strip()[:80] or "no report"
            rows.append(("npm audit --package-lock-only", None,
                         f"failed after {t or 0:.1f}s: {why[:70]} (the registry here refuses the advisory endpoint)"))
    if shutil.which("osv-scanner"):
        t, note = timed(["osv-scanner", "--lockfile", str(lock)], lock_dir, env, args.runs)
        rows.append(("osv-scanner --lockfile", t, note[:60] if t is None else ""))
    else:
        rows.append(("osv-scanner", None, "not installed here (a Go binary; offline it needs its own DB)"))
    base = rows[0][1]
    print(f"\nlockfile: {lock} ({packages} packages), median of {args.runs} runs, {os.cpu_count()} CPUs\n")
    print(f"{'tool':<52} {'median s':>9} {'x eggshield':>12}  note")
    print("-" * 100)
    for name, secs, note in rows:
        ratio = f"{secs / base:.2f}" if secs is not None and base else "-"
        shown = f"{secs:.3f}" if secs is not None else "-"
        print(f"{name:<52} {shown:>9} {ratio:>12}  {note}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
