"""Security events seen in an Egg app's logs (`eggshield logs analyze`, seed strategy 8 and 7).

Each rule reads the events `eggshield.logs.analyze` found (signatures in
`data/log_signatures.toml`, bursts from `data/log_alert_rules.toml`) and reports one finding per
source (IP, or alert rule and group), with when, who, which route and the first record as evidence.
"""

from __future__ import annotations

from eggshield.checks.logs_context import LogCheckContext
from eggshield.checks.registry import rule

OWASP_LOGGING = "https://cheatsheetseries.owasp.org/cheatsheets/Logging_Cheat_Sheet.html"
EGG_SECURITY = "https://www.eggjs.org/core/security"


def _report(ctx: LogCheckContext, rule_id: str, what: str, fix: str, severity: str | None = None):
    for g in ctx.groups(rule_id):
        yield ctx.finding(rule_id, g, what=what, fix=fix, severity=severity)


@rule(id="EGG-LOG-100", title="CSRF token failures in the logs", strategy=5, severity="low", cwe=352, kind="logs",
      references=(f"{EGG_SECURITY}#csrf", OWASP_LOGGING))
def csrf_failures(ctx: LogCheckContext):
    """## What
    Requests Egg's CSRF check rejected: egg-onerror logs `nodejs.ForbiddenError: missing csrf token`
    (or `invalid csrf token`, `missing csrf referer or origin`, ...) as a WARN in `{app}-web.log`.

    ## Why it matters
    A few come from expired pages and forgotten tokens. Many from one IP, or on routes a browser
    never posts to, are forged cross-site requests or a client that tries to get around the check.
    The burst rule `csrf-failures` (5 per IP in 5 minutes) raises the severity.

    ## How to fix
    Check the route and the client. If a legitimate front end fails, send the token it gets in the
    `csrfToken` cookie back in the `x-csrf-token` header. Never switch the check off to silence it:
    ```js
    // front end
    fetch('/api/orders', { method: 'POST', headers: { 'x-csrf-token': getCookie('csrfToken') } });
    ```

    ## Not reported
    Nothing when the logs hold no CSRF failure.
    """
    yield from _report(ctx, "EGG-LOG-100", "CSRF token check failed",
                       "Find the client: a legitimate front end must send the `csrfToken` cookie value in the "
                       "`x-csrf-token` header; block the IP if it is forging requests.")


@rule(id="EGG-LOG-101", title="Authentication failures in the logs", strategy=8, severity="info", cwe=287,
      kind="logs", references=(OWASP_LOGGING,
                               "https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html"))
def auth_failures(ctx: LogCheckContext):
    """## What
    Failed logins and rejected credentials: `nodejs.UnauthorizedError`, JWT errors
    (`TokenExpiredError`, `JsonWebTokenError`), 401 statuses and the messages apps write
    (`login failed for user bob`, `invalid password`, `登录失败`).

    ## Why it matters
    They are the raw material of brute-force and credential-stuffing detection (EGG-LOG-105/106),
    and the audit trail an investigation needs (seed strategy 8, "authentication failures").

    ## How to fix
    Nothing to fix for single failures. Make sure each failure is logged with the user name and
    the IP, without the password:
    ```js
    ctx.logger.warn('login failed for user %s', username); // never the password
    ```

    ## Not reported
    Successful logins; 401s the app never logs (Egg writes no access log by default).
    """
    yield from _report(ctx, "EGG-LOG-101", "Authentication failed",
                       "No change needed for single failures; watch for bursts (EGG-LOG-105/106).")


@rule(id="EGG-LOG-102", title="Authorization failures (403) in the logs", strategy=8, severity="info", cwe=862,
      kind="logs", references=(OWASP_LOGGING,))
def forbidden(ctx: LogCheckContext):
    """## What
    Requests the app refused with 403: `nodejs.ForbiddenError` records that are not CSRF failures,
    and app messages like `permission denied` / `无权限`.

    ## Why it matters
    A user probing for records they do not own (IDOR) shows up as a run of 403s on one route with
    changing ids. The burst rule `forbidden-burst` (20 per IP in 5 minutes) flags that.

    ## How to fix
    Check whether the user should have had access. If the 403s are a probe, block the client; if
    they are a broken front end, fix the front end.
    ```js
    if (order.userId !== ctx.user.id) ctx.throw(403, 'not your order');
    ```

    ## Not reported
    CSRF rejections (EGG-LOG-100), which are 403s too.
    """
    yield from _report(ctx, "EGG-LOG-102", "Request refused (403)",
                       "Confirm the refusals were right; block the client if it is probing other users' records.")


@rule(id="EGG-LOG-103", title="TRACE/TRACK requests rejected (405)", strategy=6, severity="low", cwe=693,
      kind="logs", references=(f"{EGG_SECURITY}#methodnoallow",
                               "https://owasp.org/www-community/attacks/Cross_Site_Tracing"))
def trace_requests(ctx: LogCheckContext):
    """## What
    `nodejs.MethodNotAllowedError: Method Not Allowed`: egg-security's `methodnoallow` refused a
    TRACE or TRACK request.

    ## Why it matters
    Browsers never send TRACE; scanners do, to test for cross-site tracing. The protection worked,
    but the client is probing the app.

    ## How to fix
    Keep `security.methodnoallow` on. Consider blocking the client at the proxy:
    ```nginx
    if ($request_method ~ ^(TRACE|TRACK)$) { return 405; }
    ```

    ## Not reported
    405s for other methods the router does not serve.
    """
    yield from _report(ctx, "EGG-LOG-103", "TRACE/TRACK request rejected",
                       "Keep `security.methodnoallow` enabled; block the scanning client at the proxy.")


@rule(id="EGG-LOG-104", title="Path traversal attempts blocked by egg-security (dta)", strategy=8, severity="medium",
      cwe=22, kind="logs", references=(f"{EGG_SECURITY}#dta",))
def traversal_blocked(ctx: LogCheckContext):
    """## What
    `nodejs.BadRequestError: Bad Request` for a URL holding `../` (or `%2e%2e`): egg-security's
    `dta` middleware refused a directory-traversal request.

    ## Why it matters
    Someone is trying to read files outside the web root (`/etc/passwd`, the app's config). It was
    blocked this time; the same client will try other encodings and other routes.

    ## How to fix
    Keep `security.dta` on; block the client; make sure no route builds file paths from input:
    ```js
    const file = path.join(base, path.basename(ctx.params.name)); // never the raw input
    ```

    ## Not reported
    Other 400s (validation errors), whose URL holds no traversal.
    """
    yield from _report(ctx, "EGG-LOG-104", "Path traversal request blocked",
                       "Keep `security.dta` enabled and block the client; check that no route joins input into "
                       "file paths.")


@rule(id="EGG-LOG-105", title="Brute force: repeated failed logins", strategy=8, severity="high", cwe=307,
      kind="logs", references=("https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html",
                               "https://owasp.org/www-community/controls/Blocking_Brute_Force_Attacks"))
def brute_force(ctx: LogCheckContext):
    """## What
    An alert rule on authentication failures fired: by default 10 failures from one IP in 5
    minutes (`brute-force-ip`) or against one user in 15 minutes (`brute-force-user`).

    ## Why it matters
    Password guessing. Without a limit the attacker can try thousands of passwords per hour.

    ## How to fix
    Rate-limit and lock out per account and per IP, e.g. with a Redis counter in the login
    controller or a rate-limit middleware:
    ```js
    // config.default.js, with egg-ratelimiter or a middleware of your own
    config.ratelimiter = { router: [{ path: '/login', max: 5, time: '1m' }] };
    ```

    ## Not reported
    Failures below the thresholds in `log_alert_rules.toml` (change them with `--rules`).
    """
    yield from _report(ctx, "EGG-LOG-105", "Repeated authentication failures",
                       "Rate-limit logins per IP and per account, lock accounts after repeated failures and "
                       "block the source IP.")


@rule(id="EGG-LOG-106", title="Credential stuffing or password spraying", strategy=8, severity="high", cwe=307,
      kind="logs", references=("https://owasp.org/www-community/attacks/Credential_stuffing",
                               "https://cheatsheetseries.owasp.org/cheatsheets/Credential_Stuffing_Prevention_Cheat_Sheet.html"))
def credential_stuffing(ctx: LogCheckContext):
    """## What
    Failed logins for many different users from one IP (`credential-stuffing`: 5 users in 10
    minutes) or for one user from many IPs (`password-spraying`: 5 IPs in 10 minutes).

    ## Why it matters
    Leaked username/password lists are being replayed against the app; per-account lockout does
    not stop it because each account is tried once or twice.

    ## How to fix
    Rate-limit per IP, add MFA or a CAPTCHA after failures, check passwords against breach lists:
    ```js
    if (await app.redis.incr(`login:ip:${ctx.ip}`) > 20) ctx.throw(429, 'too many attempts');
    ```

    ## Not reported
    Activity below the thresholds in `log_alert_rules.toml`.
    """
    yield from _report(ctx, "EGG-LOG-106", "Failed logins across many accounts",
                       "Rate-limit per IP, require MFA or a CAPTCHA after failures, and block the source.")


@rule(id="EGG-LOG-107", title="Scanning for well-known files and admin pages", strategy=8, severity="medium",
      cwe=200, kind="logs", references=("https://owasp.org/www-project-web-security-testing-guide/",))
def scanning(ctx: LogCheckContext):
    """## What
    Requests for paths that exist on other stacks and leak secrets when they exist (`/.env`,
    `/.git/config`, `/wp-admin`, `/phpmyadmin`, `/actuator`, `/run/application_config.json`), and
    bursts of 404s from one IP (`scanning`: 10 distinct URLs in 5 minutes).

    ## Why it matters
    An automated scanner is mapping the app. Egg writes no access log by default, so these show up
    only where a middleware or an error logs the request.

    ## How to fix
    Make sure none of these paths are served (`app/public` must not hold `.env`, backups or
    `run/`), and block the client at the proxy or WAF:
    ```nginx
    location ~ /\\.(env|git) { deny all; }
    ```

    ## Not reported
    Single 404s of ordinary paths.
    """
    yield from _report(ctx, "EGG-LOG-107", "Probe for a well-known sensitive path",
                       "Ensure the probed files are not served (nothing secret under app/public) and block the "
                       "scanner.")


def _payload(rule_id: str, what: str, fix: str):
    def check(ctx: LogCheckContext):
        yield from _report(ctx, rule_id, what, fix)
    return check


_PAYLOAD_NOT = """
    ## Not reported
    Payloads in request bodies (Egg does not log bodies) and URLs the app never logs.
    """

sqli = rule(id="EGG-LOG-108", title="SQL injection payload in a request URL", strategy=3, severity="high", cwe=89,
            kind="logs", references=("https://owasp.org/www-community/attacks/SQL_Injection",
                                     "https://coreruleset.org/"))(
    _payload("EGG-LOG-108", "SQL injection payload in the URL",
             "Check that the route uses parameterised queries (`app.mysql.query(sql, [value])`, Sequelize "
             "replacements) and block the client."))
sqli.__doc__ = """## What
    A logged request URL holds an SQL injection probe (`' OR 1=1--`, `UNION SELECT`, `SLEEP(`,
    `information_schema`), matched after URL decoding (patterns from the OWASP Core Rule Set).

    ## Why it matters
    Someone is testing the route for SQL injection. If the route concatenates input into SQL, the
    next request reads or changes the database.

    ## How to fix
    Use placeholders everywhere, never string concatenation:
    ```js
    await app.mysql.query('SELECT * FROM orders WHERE id = ?', [ ctx.query.id ]);
    ```
""" + _PAYLOAD_NOT

xss = rule(id="EGG-LOG-109", title="Cross-site scripting payload in a request URL", strategy=3, severity="medium",
           cwe=79, kind="logs", references=("https://owasp.org/www-community/attacks/xss/",))(
    _payload("EGG-LOG-109", "XSS payload in the URL",
             "Check that the route escapes output (`ctx.helper.escape`, nunjucks autoescape) and block the client."))
xss.__doc__ = """## What
    A logged request URL holds a script-injection probe (`<script`, `onerror=`, `javascript:`).

    ## Why it matters
    Someone is testing whether the app reflects input into HTML. With autoescaping off or
    `| safe` on user input, the payload runs in other users' browsers.

    ## How to fix
    Escape output and keep nunjucks autoescape on; add a CSP:
    ```js
    ctx.body = `<p>${ctx.helper.escape(ctx.query.q)}</p>`;
    ```
""" + _PAYLOAD_NOT

traversal = rule(id="EGG-LOG-110", title="Path traversal payload in a request URL", strategy=3, severity="medium",
                 cwe=22, kind="logs", references=("https://owasp.org/www-community/attacks/Path_Traversal",))(
    _payload("EGG-LOG-110", "Path traversal payload in the URL",
             "Check that no route builds file paths from input (use `path.basename` or `ctx.helper.spath`)."))
traversal.__doc__ = """## What
    A logged request URL (query string included) holds `../`, `/etc/passwd`, `file://` or `php://`
    after decoding, and egg-security's `dta` did not block it (dta checks the path, not the query).

    ## Why it matters
    A parameter like `?file=../../etc/passwd` reaches the controller untouched; a route that joins
    it into a path serves any file the process can read.

    ## How to fix
    ```js
    const name = ctx.helper.spath(ctx.query.file); // null for ../ and absolute paths
    if (!name) ctx.throw(400);
    ```
""" + _PAYLOAD_NOT

cmdi = rule(id="EGG-LOG-111", title="Command, template or prototype injection payload in a request URL", strategy=3,
            severity="high", cwe=78, kind="logs",
            references=("https://owasp.org/www-community/attacks/Command_Injection",))(
    _payload("EGG-LOG-111", "Command/code injection payload in the URL",
             "Check that no route passes input to a shell, a template compiler or a deep merge; block the client."))
cmdi.__doc__ = """## What
    A logged request URL holds `; cat /etc/passwd`, `$(id)`, `${jndi:`, `{{7*7}}` or
    `__proto__`: probes for shell, template and prototype-pollution injection.

    ## Why it matters
    If any route hands input to `child_process`, a template engine or a recursive merge, this is
    the request that exploits it.

    ## How to fix
    Never build shell commands from input (`execFile` with an argument array), never compile
    user templates, and reject `__proto__`/`constructor` keys:
    ```js
    execFile('convert', [ input, output ]); // no shell
    ```
""" + _PAYLOAD_NOT


@rule(id="EGG-LOG-112", title="Error spike", strategy=7, severity="high", cwe=703, kind="logs",
      references=(OWASP_LOGGING,))
def error_spike(ctx: LogCheckContext):
    """## What
    The `error-spike` alert rule fired: by default 50 ERROR records (common-error.log, each error
    counted once) within one minute.

    ## Why it matters
    A sudden rise in errors is an outage, a dependency going down, or an attack that makes the app
    fail (fuzzing, injection). Each error also costs a stack trace in the logs.

    ## How to fix
    Open the errors around the time given, group them by type (`eggshield logs analyze --format json`
    lists `error_types`), and fix or rate-limit the cause.
    ```bash
    eggshield logs analyze ~/logs/myapp/common-error.log --since 2h --format json
    ```

    ## Not reported
    Error rates below the threshold.
    """
    yield from _report(ctx, "EGG-LOG-112", "Spike of server errors",
                       "Look at the error types around this time and fix or rate-limit the cause.")


@rule(id="EGG-LOG-113", title="New error type", strategy=7, severity="low", cwe=703, kind="logs",
      references=(OWASP_LOGGING,))
def new_error_type(ctx: LogCheckContext):
    """## What
    An error type (error name, plus the message with digits removed for plain `Error`s) that did
    not occur in the first hour of the analysed logs (`learn` in the rules file); in `watch`, one
    never seen since watching started.

    ## Why it matters
    New errors after a deploy or under attack are the ones nobody has looked at yet: a new code
    path failing, a dependency changing, an input that breaks a parser.

    ## How to fix
    Read the first record (the location) and fix the cause or handle the error explicitly.
    ```js
    try { await svc.lookup(id); } catch (err) { ctx.logger.warn(err); ctx.throw(502, 'lookup failed'); }
    ```

    ## Not reported
    Error types already seen during the learning period.
    """
    yield from _report(ctx, "EGG-LOG-113", "New kind of error",
                       "Read the first record and fix or handle the new error.")


@rule(id="EGG-LOG-114", title="Redirect to a host outside domainWhiteList blocked", strategy=6, severity="medium",
      cwe=601, kind="logs", references=(f"{EGG_SECURITY}#securitydomainwhitelist",))
def redirect_blocked(ctx: LogCheckContext):
    """## What
    egg-security refused `ctx.redirect()` to a host outside `security.domainWhiteList`:
    `a security problem has been detected for url "…", redirection is prohibited.` (a WARN in
    production, a 500 error otherwise).

    ## Why it matters
    Someone passed an external URL to a redirect parameter: an open-redirect attempt for phishing.
    The whitelist worked; the route still takes redirect targets from input.

    ## How to fix
    Redirect only to relative paths or to a fixed map of targets:
    ```js
    const next = ctx.query.next || '/';
    ctx.redirect(next.startsWith('/') && !next.startsWith('//') ? next : '/');
    ```

    ## Not reported
    Redirects to whitelisted hosts.
    """
    yield from _report(ctx, "EGG-LOG-114", "Open-redirect attempt blocked",
                       "Only redirect to relative paths or a fixed list of targets.")


@rule(id="EGG-LOG-115", title="safeCurl used without SSRF protection configured", strategy=4, severity="medium",
      cwe=918, kind="logs", references=(f"{EGG_SECURITY}#ssrf",))
def ssrf_unconfigured(ctx: LogCheckContext):
    """## What
    ``[egg-security] please configure `config.security.ssrf` first``: the app called
    `ctx.safeCurl`, but with no `security.ssrf` config egg-security falls back to plain `curl`.

    ## Why it matters
    The code expects SSRF protection and gets none: a user-supplied URL can reach internal
    services and cloud metadata (169.254.169.254).

    ## How to fix
    ```js
    config.security = { ssrf: { ipBlackList: [ '10.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16' ] } };
    ```

    ## Not reported
    Apps that configure `security.ssrf`.
    """
    yield from _report(ctx, "EGG-LOG-115", "safeCurl ran without SSRF protection",
                       "Configure `config.security.ssrf.ipBlackList` (private, loopback and link-local ranges).")


@rule(id="EGG-LOG-116", title="JSONP without CSRF or referrer check", strategy=5, severity="medium", cwe=352,
      kind="logs", references=("https://github.com/eggjs/egg-jsonp",))
def jsonp_unprotected(ctx: LogCheckContext):
    """## What
    egg-jsonp's `SECURITY WARNING!! csrf check and referrer check are both closed!` (written when
    a JSONP route is mounted with both checks off), or `jsonp request security validate failed`.

    ## Why it matters
    Any site can load the JSONP endpoint with the victim's cookies and read the response: user data
    leaks cross-site.

    ## How to fix
    ```js
    config.jsonp = { csrf: true, whiteList: [ '.example.com' ] };
    ```

    ## Not reported
    JSONP routes with either check on.
    """
    yield from _report(ctx, "EGG-LOG-116", "JSONP endpoint without CSRF/referrer protection",
                       "Set `config.jsonp = { csrf: true }` or a `whiteList` of referrer domains.")


@rule(id="EGG-LOG-117", title="Log forging attempt (CR/LF or control characters)", strategy=8, severity="medium",
      cwe=117, kind="logs", references=("https://owasp.org/www-community/attacks/Log_Injection",))
def log_forging(ctx: LogCheckContext):
    """## What
    A record holds terminal control characters (ANSI escapes, a bare CR), a request URL holds an
    encoded CR/LF (`%0d%0a`), or a record is dated seconds before the one above it (a forged line
    with a fake header pasted into a message).

    ## Why it matters
    Attackers who get newlines into messages write fake records (a fake "login ok", an admin's IP)
    and hide real ones; escape sequences can rewrite what an admin's terminal shows.

    ## How to fix
    Log user input as data, not as message text, and strip line breaks:
    ```js
    ctx.logger.info('search %j', ctx.query.q); // %j JSON-encodes: newlines stay \\n
    ```

    ## Not reported
    Newlines in stack traces and property lines Egg writes itself.
    """
    yield from _report(ctx, "EGG-LOG-117", "Log forging attempt",
                       "Log user input with %j (JSON-encoded) or strip CR/LF before logging.")


@rule(id="EGG-LOG-118", title="SQL error in the logs", strategy=7, severity="high", cwe=89, kind="logs",
      references=("https://owasp.org/www-community/attacks/SQL_Injection",))
def sql_errors(ctx: LogCheckContext):
    """## What
    A database syntax error: `ER_PARSE_ERROR`, `You have an error in your SQL syntax`,
    `SequelizeDatabaseError`, `syntax error at or near`.

    ## Why it matters
    Syntax errors in production come from SQL assembled from input: the classic sign of an
    injection being probed (often right after EGG-LOG-108 from the same IP).

    ## How to fix
    Find the query on the logged route and switch it to placeholders:
    ```js
    await app.mysql.query('SELECT * FROM users WHERE name = ?', [ name ]);
    ```

    ## Not reported
    Other database errors (connection refused, timeouts).
    """
    yield from _report(ctx, "EGG-LOG-118", "SQL syntax error",
                       "Find the query behind this route and use placeholders instead of string building.")
