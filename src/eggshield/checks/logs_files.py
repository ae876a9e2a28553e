"""How an Egg app's log files are kept on disk (`eggshield logs audit`, seed strategy 8 steps 4-5).

The configuration side (logger.dir, logrotator, customLogger, outputJSON) is audited by the
config rules EGG-LOG-001…019 (checks/logging.py); these rules look at the files themselves.
"""

from __future__ import annotations

from eggshield.checks.logs_context import LogFilesContext, files_rule
from eggshield.checks.registry import rule

GiB = 1024**3


def _mode(m: int) -> str:
    return f"{m:04o}"


@rule(id="EGG-LOG-020", title="Log files readable by every user on the host", strategy=8, severity="medium",
      cwe=276, kind="logs", references=("https://cwe.mitre.org/data/definitions/276.html",
                                        "https://cheatsheetseries.owasp.org/cheatsheets/Logging_Cheat_Sheet.html"))
@files_rule
def world_readable(ctx: LogFilesContext):
    """## What
    A log file (or the log directory) has the "other" read bit set, e.g. mode `0644` — what Egg
    gets with the usual umask `022`.

    ## Why it matters
    Every account on the host (other services, a compromised low-privilege process) can read
    request URLs, user ids, IPs, error details and whatever secrets slipped into the logs.

    ## How to fix
    Start the app with a stricter umask and fix what exists:
    ```bash
    chmod 750 ~/logs/myapp && chmod 640 ~/logs/myapp/*.log*
    # systemd: UMask=0027   ·   egg-scripts: umask 027 before `egg-scripts start`
    ```

    ## Not reported
    Files readable by owner and group only.
    """
    loose = [f for f in ctx.files if f.mode & 0o004]
    if not loose:
        return
    d = next((f for f in loose if f.is_dir), None)
    files = [f for f in loose if not f.is_dir]
    where = d or files[0]
    sample = ", ".join(f"{f.path.rsplit('/', 1)[-1]} {_mode(f.mode)}" for f in (files[:4] if files else [where]))
    yield ctx.finding("EGG-LOG-020", where,
                      message=(f"{len(files)} log file(s){' and the log directory' if d else ''} in {ctx.log_dir} "
                               f"can be read by any user on this host."),
                      evidence=sample, fix="chmod 750 on the directory and 640 on the files; run the app with "
                                           "umask 027 (systemd `UMask=0027`).")


@rule(id="EGG-LOG-021", title="Log files writable by other users", strategy=8, severity="high", cwe=276, kind="logs",
      references=("https://cwe.mitre.org/data/definitions/276.html",))
@files_rule
def writable_by_others(ctx: LogFilesContext):
    """## What
    A log file or the log directory is writable by "other" (or by the group, for the directory:
    group members can delete and replace files).

    ## Why it matters
    Whoever can write the logs can forge or erase the audit trail (seed strategy 8: "protect logs
    from unauthorized modification or deletion").

    ## How to fix
    ```bash
    chmod o-w,g-w ~/logs/myapp ~/logs/myapp/*.log*
    ```

    ## Not reported
    Files writable by their owner only.
    """
    bad = [f for f in ctx.files if f.mode & 0o002 or (f.is_dir and f.mode & 0o020)]
    if not bad:
        return
    yield ctx.finding("EGG-LOG-021", bad[0],
                      message=f"{len(bad)} log file(s)/directories in {ctx.log_dir} can be modified by other users.",
                      evidence=", ".join(f"{f.path.rsplit('/', 1)[-1]} {_mode(f.mode)}" for f in bad[:4]),
                      fix="Remove group/other write permission: `chmod o-w,g-w` on the directory and the files.")


@rule(id="EGG-LOG-022", title="Current log file is not being rotated", strategy=8, severity="medium", cwe=779,
      kind="logs", references=("https://github.com/eggjs/egg-logrotator",))
@files_rule
def not_rotated(ctx: LogFilesContext):
    """## What
    An active `*.log` starts with a record more than two days old although egg-logrotator renames
    it every night, or it has grown past twice `logrotator.maxFileSize` under size rotation.

    ## Why it matters
    Rotation is what makes retention possible: a log that never rotates grows until the disk is
    full (the app then fails to log, or fails), and old records are never deleted.

    ## How to fix
    Keep the logrotator plugin enabled (it is by default) and make sure the schedule runs (the
    agent process must be up); for external rotation use `logrotate` with `copytruncate`:
    ```js
    // config/plugin.js
    exports.logrotator = true;
    ```

    ## Not reported
    Logs of apps that started less than two days ago.
    """
    horizon = ctx.now - 2 * 86400
    for f in ctx.files:
        if not f.current or f.is_dir:
            continue
        if ctx.daily_rotation and f.first_time is not None and f.first_time < horizon:
            days = int((ctx.now - f.first_time) // 86400)
            yield ctx.finding("EGG-LOG-022", f, message=f"{f.path} holds {days} days of records: daily rotation "
                                                         "is not happening.",
                              evidence=f"first record {days} days old, size {f.size:,} bytes",
                              fix="Enable egg-logrotator (exports.logrotator = true) and check the agent runs its "
                                  "schedule, or rotate with logrotate(8).")
        elif ctx.rotate_by_size and ctx.max_file_size and f.size > 2 * ctx.max_file_size:
            yield ctx.finding("EGG-LOG-022", f, message=f"{f.path} is {f.size:,} bytes, more than twice "
                                                         f"logrotator.maxFileSize ({ctx.max_file_size:,}).",
                              evidence=f"size {f.size:,} bytes", fix="Check that rotate_by_size runs (agent up).")


@rule(id="EGG-LOG-023", title="Rotated logs kept beyond the retention period", strategy=8, severity="low", cwe=779,
      kind="logs", references=("https://github.com/eggjs/egg-logrotator",))
@files_rule
def beyond_retention(ctx: LogFilesContext):
    """## What
    Dated rotations (`x.log.YYYY-MM-DD`) older than `logrotator.maxDays` (31 by default) are still
    in the log directory, so egg-logrotator's `clean_log` is not deleting them.

    ## Why it matters
    Logs kept longer than the retention policy are personal data kept without purpose (GDPR/PIPL
    storage limitation) and fill the disk.

    ## How to fix
    Make sure `clean_log` runs (logrotator enabled, agent up), or delete with a cron job:
    ```bash
    find ~/logs/myapp -name '*.log.20*' -mtime +31 -delete
    ```

    ## Not reported
    `maxDays: 0` (keep forever) is a config decision audited by the config rules.
    """
    if not ctx.max_days:
        return
    import datetime as dt
    limit = dt.datetime.fromtimestamp(ctx.now) - dt.timedelta(days=ctx.max_days + 1)
    old = [f for f in ctx.files if f.rotated_date and f.rotated_date < limit.strftime("%Y-%m-%d")]
    if old:
        oldest = min(old, key=lambda f: f.rotated_date)
        yield ctx.finding("EGG-LOG-023", oldest,
                          message=f"{len(old)} rotated log file(s) are older than logrotator.maxDays ({ctx.max_days}).",
                          evidence=f"oldest: {oldest.path.rsplit('/', 1)[-1]}",
                          fix="Check that egg-logrotator's clean_log schedule runs, or delete old files by cron.")


@rule(id="EGG-LOG-024", title="Log directory uses a lot of disk", strategy=8, severity="low", cwe=779, kind="logs",
      references=("https://github.com/eggjs/egg-logrotator",))
@files_rule
def disk_use(ctx: LogFilesContext):
    """## What
    The log files in `logger.dir` take more than 5 GiB together.

    ## Why it matters
    A full disk stops logging (and often the app); huge logs also mean too much is logged
    (debug output, bodies) or nothing is ever deleted.

    ## How to fix
    Lower the level in production, rotate by size, compress, shorten retention:
    ```js
    config.logrotator = { filesRotateBySize: [ path.join(appInfo.root, 'logs', appInfo.name, `${appInfo.name}-web.log`) ], maxFileSize: 100 * 1024 * 1024, maxDays: 14 };
    ```

    ## Not reported
    Directories under the limit.
    """
    total = sum(f.size for f in ctx.files if not f.is_dir)
    if total > ctx.disk_limit:
        yield ctx.finding("EGG-LOG-024", None,
                          message=f"The log directory holds {total / GiB:.1f} GiB of logs.",
                          evidence=f"{len([f for f in ctx.files if not f.is_dir])} files, {total:,} bytes",
                          fix="Reduce the log level, rotate by size, gzip rotations and lower logrotator.maxDays.")
