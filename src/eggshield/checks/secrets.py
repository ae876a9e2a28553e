"""Secrets in config: passwords, tokens, API keys and private keys written as literals (strategies 4, 8).

`keys` (cookie signing) is EGG-CFG-001's; these rules cover every other secret. They judge the
resolved config of the scanned env, so a password only `config.local` sets is not a production
finding, except provider tokens (EGG-CFG-042), which are live credentials in any committed file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import tree_sitter as ts

from eggshield.checks._secret_values import (
    datastore_keys,
    datastore_password_keys,
    egg_dump_masks,
    find_tokens,
    is_password_name,
    is_placeholder,
    is_secret_name,
    is_signing_path,
)
from eggshield.checks.context import DEV_ENVS, CheckContext
from eggshield.checks.registry import rule
from eggshield.eggconfig.resolve import app_file_order
from eggshield.js.parse import _language, kind_of
from eggshield.js.values import UNDEFINED, JSArray, JSObject, Loc, Unknown
from eggshield.masking import mask_secret

REFS = ("https://www.eggjs.org/basics/config",
        "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html",
        "https://cwe.mitre.org/data/definitions/798.html")


@dataclass(frozen=True)
class Leaf:
    dotted: str  # 'mysql.clients[0].password'
    key: str  # the key the value sits under ('password'; for array items, the array's key)
    value: object
    loc: Loc | None
    in_array: bool


def config_leaves(obj: JSObject, prefix: str = "", in_array: bool = False,
                  inherited: Loc | None = None) -> Iterator[Leaf]:
    """Every leaf of the resolved config, inside arrays too (Egg's dump does not look there)."""
    for key, value in obj.items():
        if value is UNDEFINED:
            continue
        dotted = f"{prefix}.{key}" if prefix else key
        loc = obj.locs.get(key, inherited)
        yield from _leaves_of(value, dotted, key, loc, in_array)


def _leaves_of(value, dotted: str, key: str, loc: Loc | None, in_array: bool) -> Iterator[Leaf]:
    if isinstance(value, JSObject):
        yield from config_leaves(value, dotted, in_array, loc)
    elif isinstance(value, JSArray | list):
        for i, item in enumerate(value):
            yield from _leaves_of(item, f"{dotted}[{i}]", key, loc, True)
    else:
        yield Leaf(dotted, key, value, loc, in_array)


def _app_set(leaf: Leaf) -> bool:
    return leaf.loc is not None and not leaf.loc.default


def _parsed(ctx: CheckContext, loc: Loc) -> bool:
    return (ctx.project.scan_root / loc.path) in ctx.sources


def _dump_note(leaf: Leaf) -> str:
    if leaf.in_array:
        return (" Egg's own config dump (run/application_config.json) also writes it in clear: it does not "
                "mask values inside arrays.")
    if not egg_dump_masks(leaf.key):
        return (f" Egg's own config dump (run/application_config.json) also writes it in clear: `{leaf.key}` "
                "is not on Egg's mask list.")
    return ""


def _env_var_name(dotted: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in dotted.replace("[", "_").replace("]", "")).upper().strip("_")


def _fix(leaf: Leaf) -> str:
    var = _env_var_name(leaf.dotted)
    head, _, last = leaf.dotted.rpartition(".")
    where = f"config.{head}" if head else "config"
    return (f"Read it from the environment (or a secret store) and keep no literal in the repository, then "
            f"rotate the committed value:\n\n```js\n// config/config.prod.js\n{where}.{last} = process.env.{var};"
            f"\n```")


# ---- EGG-CFG-040 ------------------------------------------------------------------------------
@rule(id="EGG-CFG-040", title="Hard-coded secret in config", strategy=4, severity="high", cwe=798,
      references=REFS)
def hardcoded_secret(ctx: CheckContext):
    """## What
    A password, token, API key, client secret or other credential is written as a literal in a
    config file and is the value Egg uses in the scanned env: `mysql.client.password: 'shop123'`,
    `jwt.secret: 'Great4-M'`, `mail_opts.auth.pass: 'club'`, including values inside arrays
    (`dbs: [{ password: '…' }]`) and numbers under password keys. Key names follow Egg's own mask
    list (`password`, `pass`, `pwd`, `/secret/i`, …) widened to `token`, `apiKey`, `privateKey`,
    `clientSecret`, `accessKeySecret`, `passphrase`. The evidence is masked.

    ## Why it matters
    Everyone who can read the repository, its forks, CI logs and build images holds the credential,
    and it cannot be rotated without a code change. For values inside arrays, and keys Egg does not
    recognise (`token`, `apiKey`), Egg's own `run/application_config.json` repeats the secret in
    clear. Seed strategy 4 (built-in middleware configuration) and 8 (keep secrets out of logs and
    dumps).

    ## How to fix
    Read the value from the environment in the env's config file, with no literal fallback, and
    rotate the committed one:

    ```js
    // config/config.prod.js
    config.mysql = { client: { password: process.env.MYSQL_PASSWORD } };
    ```

    ## Not reported
    Placeholders (`''`, `'xxx'`, `'your-secret'`, `'<password>'`, `'${DB_PASSWORD}'`, one or two
    characters, descriptive prose); values from environment variables or calls; a `config.default`
    literal that `config.prod` replaces with `process.env.X` (EGG-CFG-041 reports it: Egg keeps the
    literal whenever the variable is undefined); values only `config.local`/`config.unittest` set
    when scanning `prod` (scan `--env local` to see them, at low); `keys` (EGG-CFG-001);
    provider-shaped tokens (EGG-CFG-042 reports them).
    """
    for leaf in config_leaves(ctx.config.config):
        if leaf.dotted == "keys" or not _app_set(leaf):
            continue
        value = leaf.value
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            continue
        if isinstance(value, int | float):
            if not is_password_name(leaf.key):
                continue
            text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        else:
            text = value
            if not is_secret_name(leaf.key) or is_placeholder(text, leaf.key, leaf.dotted):
                continue
            if find_tokens(text) and _parsed(ctx, leaf.loc):
                continue  # EGG-CFG-042 names the provider
        yield ctx.finding(
            "EGG-CFG-040", key=leaf.dotted, loc=leaf.loc,
            message=f"`{leaf.dotted}` is a literal secret in {leaf.loc.path}, used in env '{ctx.env}'."
                    + _dump_note(leaf),
            evidence=f"{leaf.dotted} = {mask_secret(text)}", fix=_fix(leaf))


# ---- EGG-CFG-041 ------------------------------------------------------------------------------
def _line_has_fallback(ctx: CheckContext, loc: Loc) -> bool:
    """Whether the line that reads the variable writes the fallback itself (`|| 'x'`, `?? 'x'`, `? :`)."""
    tree = ctx.sources.get(ctx.project.scan_root / loc.path)
    if tree is None or not loc.line or tree.root_node.text is None:
        return True
    lines = tree.root_node.text.decode("utf-8", "replace").splitlines()
    line = lines[loc.line - 1] if loc.line <= len(lines) else ""
    return any(op in line for op in ("||", "??", "?"))

@rule(id="EGG-CFG-041", title="Secret falls back to a literal when its environment variable is unset",
      strategy=4, severity="medium", cwe=798, confidence="medium", references=REFS)
def secret_fallback(ctx: CheckContext):
    """## What
    A secret is read from the environment with a literal fallback: `process.env.JWT_SECRET ||
    'JWT_SECRET'`, `process.env.MYSQL_PASSWORD || 'shop123'`, or `config.prod` sets
    `process.env.JWT_SECRET` over a literal in `config.default` (Egg's merge skips an undefined value,
    so the default literal stays in force when the variable is missing). Medium when the fallback looks like a
    real credential or protects something the app signs (JWT, session, cookies, tokens); low for a
    placeholder fallback of a credential to another system (an OAuth client secret `'test'` only
    makes the login fail).

    ## Why it matters
    The fallback is committed, so it is as public as the repository; and it is silently used the
    day the variable is missing (a new host, a renamed variable, a container started without its
    env file): a JWT or session secret everybody knows lets anyone forge logins. Nothing fails
    loudly, so nobody notices.

    ## How to fix
    Drop the fallback in production and fail at boot when the variable is missing:

    ```js
    // config/config.prod.js
    const required = name => {
      if (!process.env[name]) throw new Error(`${name} is not set`);
      return process.env[name];
    };
    config.jwt = { secret: required('JWT_SECRET') };
    ```
    Keep development fallbacks in `config.local.js`, which production never loads.

    ## Not reported
    Empty fallbacks (`process.env.REDIS_PASSWORD || ''`: no password unless the deployment gives
    one); fallbacks set only in `config.local`/`config.unittest`; `keys` (EGG-CFG-001).
    """
    for leaf in config_leaves(ctx.config.config):
        value = leaf.value
        if leaf.dotted == "keys" or not _app_set(leaf) or not isinstance(value, Unknown) or not value.has_fallback:
            continue
        fallback = value.fallback
        if isinstance(fallback, bool) or not isinstance(fallback, str | int | float) or fallback == "":
            continue
        text = str(fallback)
        if not is_secret_name(leaf.key) and (not find_tokens(text) or _parsed(ctx, leaf.loc)):
            continue  # not a secret, or a token-shaped literal EGG-CFG-042 reports in its file
        placeholder = is_placeholder(text, leaf.key, leaf.dotted, value.env_var or "")
        severity = "medium" if (not placeholder or is_signing_path(leaf.dotted)) else "low"
        when = f"${value.env_var} is unset" if value.env_var else f"{value.reason} is empty"
        what = "a placeholder" if placeholder else "a literal"
        earlier = "" if _line_has_fallback(ctx, leaf.loc) else (
            " The literal comes from an earlier config file: Egg's merge skips an undefined value and keeps it.")
        yield ctx.finding(
            "EGG-CFG-041", key=leaf.dotted, loc=leaf.loc, severity=severity,
            message=f"`{leaf.dotted}` falls back to {what} when {when}; the app then runs with a secret "
                    "anyone with the source knows." + earlier + _dump_note(leaf),
            evidence=f"{leaf.dotted} = process.env.{value.env_var or '?'} || {mask_secret(text)}",
            fix="Remove the fallback from the production config and fail at boot when the variable is "
                f"missing, e.g. `if (!process.env.{value.env_var or 'X'}) throw new Error('"
                f"{value.env_var or 'X'} is not set')`; keep development defaults in config/config.local.js.")


# ---- EGG-CFG-042 ------------------------------------------------------------------------------
_STRING_QUERY = "[(string) (template_string)] @s"


@cache
def _string_query(kind: str) -> ts.Query:
    return ts.Query(_language(kind), _STRING_QUERY)


def _string_nodes(tree: ts.Tree, path: Path) -> list[ts.Node]:
    return ts.QueryCursor(_string_query(kind_of(path))).captures(tree.root_node).get("s", [])


def _literal_text(node: ts.Node) -> tuple[str, int]:
    """The string's content and its byte offset in the node (quotes stripped, escapes kept as written)."""
    raw = node.text.decode("utf-8", "replace") if node.text else ""
    return (raw[1:-1], 1) if len(raw) >= 2 else (raw, 0)


@rule(id="EGG-CFG-042", title="Provider credential (cloud key, API token, private key) in the source tree",
      strategy=4, severity="high", cwe=798, references=(
          "https://github.com/gitleaks/gitleaks/blob/master/config/gitleaks.toml",
          "https://docs.github.com/en/code-security/secret-scanning/introduction/supported-secret-scanning-patterns",
          *REFS))
def provider_token(ctx: CheckContext):
    """## What
    A string literal in a config file (any env) or in server-side code has the shape of a real
    provider credential: AWS or Alibaba Cloud AccessKey IDs, GitHub/GitLab/Slack/npm/Stripe/SendGrid/
    Google/OpenAI/Anthropic tokens, PEM private keys, JWTs, Slack webhooks, passwords inside
    connection URLs (`mongodb://user:password@host`) and access tokens in webhook URLs. Shapes come
    from gitleaks' rules (`data/secret_patterns.toml` names each source); the evidence is masked.

    ## Why it matters
    These are live credentials to systems outside the app: whoever reads the repository can use
    them. A token in `config.local.js` is not loaded in production, but it is just as committed,
    so it is reported there too, at low.

    ## How to fix
    Revoke and rotate the credential at the provider first (the old value stays in git history),
    then read it from the environment:

    ```js
    // config/config.prod.js
    config.oss = { client: { accessKeyId: process.env.OSS_KEY_ID, accessKeySecret: process.env.OSS_KEY_SECRET } };
    ```

    ## Not reported
    Values whose characters are too regular to be real (gitleaks' entropy thresholds), AWS's
    documented `…EXAMPLE` keys, placeholders in connection URLs (`mysql://root:${DB_PASSWORD}@db`).
    """
    project = ctx.project
    config_paths = set(project.config_files.values())
    loaded = {project.config_files[n] for n in app_file_order(project.config_files, ctx.env, ctx.config.scope)}
    for path, tree in ctx.sources.items():
        other_env = path in config_paths and path not in loaded
        for node in _string_nodes(tree, path):
            content, offset = _literal_text(node)
            for hit in find_tokens(content):
                before = content[: hit.start]
                line = node.start_point[0] + 1 + before.count("\n")
                column = (hit.start - before.rfind("\n")) if "\n" in before else node.start_point[1] + offset + hit.start + 1
                loc = Loc(project.rel(path), line, column)
                shown = hit.masked(content)
                shown = shown if len(shown) <= 160 else shown[:159] + "…"
                where = project.rel(path)
                if other_env:
                    message = (f"{hit.shape.provider} in {where}, which env '{ctx.env}' does not load; it is still "
                               "committed, so revoke and rotate it.")
                    severity = "low"
                else:
                    message = f"{hit.shape.provider} written as a literal in {where}."
                    severity = hit.shape.severity
                yield ctx.finding("EGG-CFG-042", loc=loc, severity=severity, message=message,
                                  evidence=" ".join(shown.split()),
                                  fix="Revoke the credential at the provider, then load it from the environment "
                                      "(`process.env.X`) in config/config.prod.js; it stays in git history.")


# ---- EGG-CFG-043 ------------------------------------------------------------------------------
@rule(id="EGG-CFG-043", title="Database or broker connection with an empty password in production",
      strategy=4, severity="low", cwe=798, confidence="medium", references=REFS)
def empty_datastore_password(ctx: CheckContext):
    """## What
    A datastore plugin's config (`mysql`, `sequelize`, `redis`, `mongoose`, `typeorm`, …) sets
    `password: ''` (or `pass`, `pwd`) in a config file that the scanned production env loads.

    ## Why it matters
    Either the database accepts connections without a password (anyone who reaches its port owns
    the data), or the deployment injects the real one some other way (`EGG_APP_CONFIG`) and this
    line is dead. eggshield cannot tell which, so it asks.

    ## How to fix
    Give the production database a password and read it from the environment:

    ```js
    // config/config.prod.js
    config.mysql = { client: { user: 'app', password: process.env.MYSQL_PASSWORD } };
    ```

    ## Not reported
    Development envs (`local`, `unittest`): a passwordless local database is normal; values from
    environment variables, including `process.env.REDIS_PASSWORD || ''`.
    """
    if ctx.env in DEV_ENVS:
        return
    names = datastore_password_keys()
    for top in datastore_keys():
        section = ctx.config.config.get(top)
        if not isinstance(section, JSObject):
            continue
        for leaf in config_leaves(section, top, inherited=ctx.config.config.locs.get(top)):
            if leaf.key in names and leaf.value == "" and _app_set(leaf):
                yield ctx.finding(
                    "EGG-CFG-043", key=leaf.dotted, loc=leaf.loc,
                    message=f"`{leaf.dotted}` is empty in env '{ctx.env}': the connection has no password unless "
                            "the deployment injects one.",
                    evidence=f"{leaf.dotted} = ''", fix=_fix(leaf))
