"""Secrets and personal data written to an Egg app's logs (CWE-532, seed strategy 8 step 3).

The finders live in `eggshield.logs.sensitive` (vendor formats in
`data/log_sensitive_patterns.toml`); these rules turn what they found into findings, one per kind
of secret and log file, with the first occurrence as masked evidence.
"""

from __future__ import annotations

from eggshield.checks.logs_context import LogCheckContext
from eggshield.checks.registry import rule

REFS = ("https://cwe.mitre.org/data/definitions/532.html",
        "https://cheatsheetseries.owasp.org/cheatsheets/Logging_Cheat_Sheet.html#data-to-exclude")
REDACT = ("Stop logging the value (log an id or a hash instead), rotate it if it is a credential, and "
          "clean the existing files: `eggshield logs analyze DIR --redact OUT` writes redacted copies.")


def _report(ctx: LogCheckContext, rule_id: str):
    for g in ctx.groups(rule_id):
        where = g.key.split("|", 1)[1] if "|" in g.key else g.first.logger
        yield ctx.finding(rule_id, g, what=f"{g.label or 'Sensitive value'} written to {where}", fix=REDACT)


_NOT = """
    ## Not reported
    Values already masked (`****`, `[REDACTED]`), placeholders (`${…}`, `<…>`), code references
    (`password: ctx.request.body.password`) and stack frames.
"""


@rule(id="EGG-LOG-150", title="Password or secret written to the logs", strategy=8, severity="high", cwe=532,
      kind="logs", references=REFS)
def passwords(ctx: LogCheckContext):
    """## What
    A `password=…`, `"password":"…"`, `token: …`, `client_secret=…` (and similar names) with a real
    value in a log record: typically a request body or a config object logged whole.

    ## Why it matters
    Logs are read by more people and systems than the database (support staff, log shippers,
    backups) and kept longer; a password there is a password leaked.

    ## How to fix
    Log only the fields you need, or mask before logging:
    ```js
    const { password, ...safe } = ctx.request.body;
    ctx.logger.info('signup %j', safe);
    ```
    """
    yield from _report(ctx, "EGG-LOG-150")


@rule(id="EGG-LOG-151", title="Bearer token or JWT written to the logs", strategy=8, severity="high", cwe=532,
      kind="logs", references=REFS)
def tokens(ctx: LogCheckContext):
    """## What
    `Authorization: Bearer …`, `Basic …` credentials or a JSON Web Token (`eyJ….eyJ….…`) in a record.

    ## Why it matters
    Anyone who reads the log can replay the token as the user until it expires.

    ## How to fix
    Never log request headers whole; drop `authorization` and `cookie`:
    ```js
    const { authorization, cookie, ...headers } = ctx.headers;
    ctx.logger.info('upstream call %j', headers);
    ```
    """
    yield from _report(ctx, "EGG-LOG-151")


@rule(id="EGG-LOG-152", title="Cloud or service API key written to the logs", strategy=8, severity="critical",
      cwe=532, kind="logs", references=(*REFS, "https://github.com/gitleaks/gitleaks"))
def api_keys(ctx: LogCheckContext):
    """## What
    A key in a vendor's format: AWS access keys (`AKIA…`), GitHub tokens (`ghp_…`,
    `github_pat_…`), Alibaba Cloud AccessKey IDs (`LTAI…`), Tencent Cloud SecretIds, Slack tokens
    and webhooks, Stripe, Google, npm, OpenAI, GitLab, DingTalk robot tokens.

    ## Why it matters
    These keys work from anywhere: whoever reads the log controls the cloud account or service.

    ## How to fix
    Rotate the key now, then stop logging the client configuration:
    ```js
    ctx.logger.info('oss client ready (bucket %s)', config.oss.bucket); // not config.oss
    ```
    """
    yield from _report(ctx, "EGG-LOG-152")


@rule(id="EGG-LOG-153", title="Private key written to the logs", strategy=8, severity="critical", cwe=532,
      kind="logs", references=REFS)
def private_keys(ctx: LogCheckContext):
    """## What
    A PEM block `-----BEGIN … PRIVATE KEY-----` in a record.

    ## Why it matters
    A TLS, signing or SSH private key in a log is compromised: rotate it.

    ## How to fix
    Rotate the key, and never log key material or objects that hold it:
    ```js
    ctx.logger.info('signing with key id %s', keyId);
    ```
    """
    yield from _report(ctx, "EGG-LOG-153")


@rule(id="EGG-LOG-154", title="Payment card number written to the logs", strategy=8, severity="critical", cwe=532,
      kind="logs", references=(*REFS, "https://www.pcisecuritystandards.org/"))
def cards(ctx: LogCheckContext):
    """## What
    A 13-19 digit number with a card prefix that passes the Luhn check.

    ## Why it matters
    PCI DSS forbids storing full card numbers outside the protected environment; logs are not it.

    ## How to fix
    Log at most the last four digits:
    ```js
    ctx.logger.info('charge card ****%s', card.number.slice(-4));
    ```
    """
    yield from _report(ctx, "EGG-LOG-154")


@rule(id="EGG-LOG-155", title="E-mail address written to the logs", strategy=8, severity="low", cwe=532,
      kind="logs", references=REFS)
def emails(ctx: LogCheckContext):
    """## What
    An e-mail address in a record.

    ## Why it matters
    Personal data under GDPR / PIPL: logs holding it fall under access, retention and deletion
    duties, and feed phishing when they leak.

    ## How to fix
    Log a user id instead, or mask: `l***@example.com`.
    ```js
    ctx.logger.info('password reset for user %s', user.id);
    ```
    """
    yield from _report(ctx, "EGG-LOG-155")


@rule(id="EGG-LOG-156", title="Phone number written to the logs", strategy=8, severity="low", cwe=532,
      kind="logs", references=REFS)
def phones(ctx: LogCheckContext):
    """## What
    A mainland China mobile number (`1[3-9]` + 9 digits, optional `+86`) or an E.164 number
    (`+` country code).

    ## Why it matters
    Personal information under PIPL/GDPR; phone numbers are also account identifiers for SMS login.

    ## How to fix
    Mask before logging:
    ```js
    const masked = phone.replace(/^(\\d{3})\\d{4}(\\d{4})$/, '$1****$2');
    ```
    """
    yield from _report(ctx, "EGG-LOG-156")


@rule(id="EGG-LOG-157", title="Chinese resident ID number written to the logs", strategy=8, severity="high",
      cwe=532, kind="logs", references=(*REFS, "https://openstd.samr.gov.cn/bzgk/gb/newGbInfo?hcno=080D6FBF2BB468F9007657F26D60013E"))
def cn_ids(ctx: LogCheckContext):
    """## What
    An 18-character resident identity number (GB 11643-1999) with a valid check digit.

    ## Why it matters
    Sensitive personal information under PIPL article 28: leaking it enables identity fraud and
    brings regulatory duties.

    ## How to fix
    Never log it; if a reference is needed, log the first 3 and last 2 characters only.
    ```js
    ctx.logger.info('verified id %s', id.slice(0, 3) + '*'.repeat(13) + id.slice(-2));
    ```
    """
    yield from _report(ctx, "EGG-LOG-157")


@rule(id="EGG-LOG-158", title="Session cookie written to the logs", strategy=8, severity="high", cwe=532,
      kind="logs", references=REFS)
def session_cookies(ctx: LogCheckContext):
    """## What
    A session cookie value (`EGG_SESS=…`, `koa.sess`, `connect.sid`, `JSESSIONID`, `PHPSESSID`).

    ## Why it matters
    With the cookie, whoever reads the log is logged in as the user (session hijacking).

    ## How to fix
    Do not log the `cookie` header or `ctx.cookies`; log the user id instead.
    ```js
    ctx.logger.info('request by user %s', ctx.userId);
    ```
    """
    yield from _report(ctx, "EGG-LOG-158")


for _check in (passwords, tokens, api_keys, private_keys, cards, emails, phones, cn_ids, session_cookies):
    _check.__doc__ = _check.__doc__.rstrip() + "\n" + _NOT
