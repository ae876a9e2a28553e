"""Benchmark: `eggshield logs analyze` on a generated Egg log, against grep and fail2ban-regex.

Run: python bench/logs_bench.py [--lines 1000000] [--runs 3] [--mix stress|typical] [--keep FILE]
     python bench/logs_bench.py --lines 200000,1000000,3000000 --runs 1   (memory must not grow)
     python bench/logs_bench.py --lines 18500000 --runs 1                 (the 1 GB log of issue 7)

The log is egg-logger's text format (egg 3 prefix) with planted events: CSRF failures, failed
logins, scanner probes, SQLi/XSS/traversal URLs, multi-line errors with stack traces and causes,
secrets and PII. `--mix stress` (the default) makes 38% of records events and 80% of lines part of
one: the worst case for a reader that skips quiet records. `--mix typical` makes 3% of records events,
closer to a production web log (one INFO line per request). Each tool runs as a subprocess; the
table gives the median wall-clock time, lines per second, peak RSS (ru_maxrss of the child) and the
ratio to eggshield.

What each peer does, so the comparison is honest:
  grep -cE      counts lines matching ONE alternation of the signature patterns (no multi-line
                records, no URL decoding, no per-IP windows, no secrets): the practical floor.
  fail2ban-regex  one failregex (CSRF failures per <HOST>) with date parsing per line: what a
                fail2ban jail for Egg would run.
  eggshield analyze  everything: records, 19 signatures, URL decoding, 14 window rules, secret/PII
                finders (13 vendor key shapes, Luhn/ID checksums), grouping. Plain-text logs are
                skimmed (logs/skim.py: records that provably carry nothing are counted, not
                parsed); a log over 8 MB is split between two worker processes (logs/parallel.py);
                peak MiB is the largest single process (ru_maxrss), not the sum of parent and workers.
  eggshield analyze, 1 core  the same with the parallel split switched off: the sequential path.
  eggshield analyze, line by line  the same with the skim switched off: every record parsed into a
                LogRecord and judged (what `logs watch` and JSON logs still do); its output is
                byte-identical to the skim's (tests/test_logs_parallel.py).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IPS = [f"10.{a}.{b}.{c}" for a in range(3) for b in range(10) for c in range(1, 30)]
STACK = ["    at Object.throw (/srv/node_modules/koa/lib/context.js:97:11)",
         "    at HomeController.index (/srv/app/controller/home.js:22:11)",
         "    at dispatch (/srv/node_modules/koa-compose/index.js:42:32)"]


MIXES = {"stress": 0.62, "typical": 0.97}  # share of records that are quiet INFO request lines


def generate(path: Path, lines: int, seed: int = 7, mix: str = "stress") -> int:
    rnd = random.Random(seed)
    quiet = MIXES[mix]
    scale = (1 - quiet) / (1 - MIXES["stress"])  # event kinds keep their proportions among themselves
    n = 0
    t = 1796300000
    with open(path, "w", encoding="utf-8") as fh:
        while n < lines:
            t += rnd.random() * 0.05
            ts = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) + f",{int(t * 1000) % 1000:03d}"
            ip = rnd.choice(IPS)
            r = rnd.random()
            pre = f"{ts} INFO 4242 [-/{ip}/-/{rnd.randint(1, 90)}ms GET /api/items/{rnd.randint(1, 9999)}]"
            if r < quiet:
                fh.write(f"{pre} list items page={rnd.randint(1, 50)} took {rnd.randint(1, 40)}ms\n")
                n += 1
                continue
            r = MIXES["stress"] + (r - quiet) / scale
            if r < 0.70:
                fh.write(f"{ts} WARN 4242 [-/{ip}/-/2ms POST /login] nodejs.ForbiddenError: missing csrf token\n"
                         + "\n".join(STACK) + '\nmessage: "missing csrf token"\npid: 4242\nhostname: web-1\n\n')
                n += 8
            elif r < 0.78:
                fh.write(f"{ts} WARN 4242 [-/{ip}/-/3ms POST /login] login failed for user u{rnd.randint(1, 400)}\n")
                n += 1
            elif r < 0.82:
                url = rnd.choice(["/.env", "/wp-admin/", "/s?q=1%27%20OR%201%3D1--", "/x?f=../../etc/passwd",
                                  "/s?q=%3Cscript%3Ealert(1)%3C/script%3E", "/phpmyadmin/"])
                fh.write(f"{ts} WARN 4242 [-/{ip}/-/1ms GET {url}] nodejs.NotFoundError: Not Found\n")
                n += 1
            elif r < 0.84:
                fh.write(f"{pre} signup {{\"email\":\"u{n}@example.com\",\"password\":\"pw{n}xyz!\","
                         f"\"phone\":\"138{rnd.randint(10000000, 99999999)}\"}}\n")
                n += 1
            else:
                fh.write(f"{ts} ERROR 4242 [-/{ip}/-/12ms GET /orders] nodejs.Error: order lookup failed\n"
                         + "\n".join(STACK) + "\n\ncause:\n\nnodejs.ECONNREFUSEDError: connect ECONNREFUSED\n"
                         + STACK[0] + '\ncode: "ECONNREFUSED"\npid: 4242\nhostname: web-1\n\n')
                n += 12
    return n


GREP_PATTERN = ("(missing|invalid) csrf|UnauthorizedError|login failed|ForbiddenError|MethodNotAllowedError|"
                "BadRequestError|union.*select|<script|\\.\\./|/\\.env|wp-admin|phpmyadmin|ER_PARSE_ERROR|"
                "password|AKIA[0-9A-Z]{16}|eyJ[A-Za-z0-9_-]+\\.|@[a-z0-9-]+\\.[a-z]{2,}|1[3-9][0-9]{9}| ERROR ")
F2B_REGEX = r"^\s*WARN \d+ \[[^/]*/<HOST>/[^\]]*\] nodejs\.ForbiddenError: (?:missing|invalid) csrf"


def run(cmd: list[str]) -> tuple[float, int]:
    """(seconds, peak RSS in MiB) of one child process."""
    # stdout goes to a real file: GNU grep stops at the first match when its output is /dev/null,
    # which made `grep -c` look instantaneous
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        dt = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise RuntimeError(f"{cmd[0]} failed ({status})")
    return dt, usage.ru_maxrss // 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", default="1000000",
                    help="Lines to generate; several sizes comma-separated show whether peak memory grows.")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mix", choices=sorted(MIXES), default="stress",
                    help="stress: 38%% of records are events (default); typical: 3%%.")
    ap.add_argument("--keep", type=Path, help="Write the generated log here and keep it (one size only).")
    args = ap.parse_args()
    sizes = [int(x) for x in args.lines.split(",")]
    if args.keep and len(sizes) > 1:
        ap.error("--keep takes one --lines size")
    for size in sizes:
        bench(size, args.runs, args.keep, args.mix)


def bench(lines: int, runs: int, keep: Path | None, mix: str = "stress") -> None:
    tmp = Path(tempfile.mkdtemp(prefix="eggshield-logbench-"))
    log = keep or tmp / "bench-web.log"
    n = generate(log, lines, mix=mix)
    size = log.stat().st_size
    print(f"\ngenerated {n:,} lines, {size / 1e6:.0f} MB, mix {mix}: {log}")
    line_by_line = ("import sys; from eggshield.logs import parallel; parallel.single_text_log = lambda p: None;"
                    "from eggshield.cli.main import main; sys.argv[1:] = ['logs', 'analyze', sys.argv[1], '--format',"
                    " 'json', '--fail-on', 'none']; main()")
    one_core = ("import sys; from eggshield.logs import parallel; parallel.MIN_BYTES = float('inf');"
                "from eggshield.cli.main import main; sys.argv[1:] = ['logs', 'analyze', sys.argv[1], '--format',"
                " 'json', '--fail-on', 'none']; main()")
    tools = [("eggshield analyze", [sys.executable, "-m", "eggshield", "logs", "analyze", str(log), "--format",
                                    "json", "--fail-on", "none"]),
             ("eggshield analyze --no-secrets", [sys.executable, "-m", "eggshield", "logs", "analyze", str(log),
                                                 "--format", "json", "--no-secrets", "--fail-on", "none"]),
             ("eggshield analyze, 1 core", [sys.executable, "-c", one_core, str(log)]),
             ("eggshield analyze, line by line", [sys.executable, "-c", line_by_line, str(log)]),
             ("grep -cE (one alternation)", ["grep", "-cE", GREP_PATTERN, str(log)])]
    if shutil.which("fail2ban-regex"):
        tools.append(("fail2ban-regex (1 failregex)", ["fail2ban-regex", "--datepattern", "^%Y-%m-%d %H:%M:%S,%f",
                                                       str(log), F2B_REGEX]))
    else:
        print("fail2ban-regex not installed (Debian: apt-get install fail2ban); skipped")
    results = []
    for name, cmd in tools:
        times, rss = [], []
        for _ in range(runs):
            dt, mem = run(cmd)
            times.append(dt)
            rss.append(mem)
        results.append((name, statistics.median(times), max(rss)))
    base = results[0][1]
    print(f"{'tool':<32}{'median s':>10}{'lines/s':>12}{'peak MiB':>10}{'vs eggshield':>14}")
    for name, t, mem in results:
        print(f"{name:<32}{t:>10.2f}{n / t:>12,.0f}{mem:>10}{t / base:>13.2f}x")
    if not keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
