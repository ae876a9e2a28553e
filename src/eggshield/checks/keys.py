"""Cookie-signing `keys`: hard-coded, boilerplate or weak secrets."""

from __future__ import annotations

import re

from eggshield.checks.context import CheckContext
from eggshield.checks.registry import rule
from eggshield.eggconfig.model import MISSING
from eggshield.js.values import Unknown
from eggshield.masking import mask_secret

BOILERPLATE = re.compile(r"^(?P<name>.*)_(?P<ts>\d{13})_(?P<rnd>\d{1,5})$")
COMMON_WEAK = {"123456", "secret", "keys", "my keys", "mykeys", "test", "egg", "changeme", "key", "password",
               "1234567890", "abc123", "default", "your keys", "please change", "xxx"}
MIN_LENGTH = 32

FIX = """Read the keys from the environment in config/config.prod.js (or config.default.js) and keep no literal fallback:

```js
// config/config.prod.js
module.exports = () => ({
  keys: process.env.EGG_KEYS, // e.g. `openssl rand -base64 32`; list several, comma-separated, to rotate
});
```

Then rotate: every cookie and session signed or encrypted with the committed key can be forged or read."""


def _weakness(key: str, app_name: str) -> str | None:
    m = BOILERPLATE.match(key)
    if m:
        return "the egg-init boilerplate pattern `<name>_<13-digit timestamp>_<random>` (guessable from the commit date)"
    if key == app_name:
        return "the app's own name (public in package.json)"
    if key.strip().lower() in COMMON_WEAK or key.lower().startswith(app_name.lower() + "_123"):
        return "a well-known placeholder"
    if len(key) < MIN_LENGTH:
        return f"short ({len(key)} characters; use at least {MIN_LENGTH} random characters)"
    return None


@rule(id="EGG-CFG-001", title="Hard-coded or weak cookie-signing keys", strategy=4, severity="high", cwe=321,
      references=("https://www.eggjs.org/basics/config#config-keys",
                  "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html",
                  "https://cwe.mitre.org/data/definitions/321.html"))
def hardcoded_keys(ctx: CheckContext):
    """## What
    `config.keys` is the secret Egg uses to sign cookies (`*.sig`), to encrypt the session cookie
    (`EGG_SESS`, aes-256-cbc with an IV derived from the key) and, through them, the CSRF secret
    cookie. This rule fires when the key the app will use in the scanned env is a literal in the
    source tree, a literal fallback (`process.env.EGG_KEYS || 'literal'`), the egg-init boilerplate
    value `<app>_<13-digit timestamp>_<random>`, a well-known placeholder, or short.

    ## Why it matters
    Anyone who can read the repository (or guess the boilerplate timestamp) can forge signed
    cookies, decrypt and re-encrypt sessions, and so impersonate any user. A literal fallback is
    used whenever the variable is missing, which is exactly the deployment nobody checked.
    Seed strategy 4 (built-in middleware configuration): session and cookie protection is only as
    strong as `keys`.

    ## How to fix
    Load keys from the environment or a secret store in production, with no literal fallback,
    and rotate the committed value (a comma-separated list, new key first, keeps old cookies valid
    during rotation).

    ```js
    // config/config.prod.js
    module.exports = () => ({ keys: process.env.EGG_KEYS });
    ```

    ## Not reported
    Keys that come only from an environment variable or a call eggshield cannot evaluate
    (e.g. `crypto.randomUUID()`), and keys set only in `config.local` when scanning `prod`.
    """
    value = ctx.config.get("keys")
    loc = ctx.config.loc("keys")
    if value is MISSING or value == "" or (loc is not None and loc.default):
        if ctx.config.problems:
            return  # a config file could not be evaluated: its keys may be there; that problem is reported
        yield ctx.finding(
            "EGG-CFG-001", key="keys", severity="low", confidence="low",
            message=f"No `keys` is set for env '{ctx.env}' in the source tree. Unless the deployment injects them "
                    "(EGG_APP_CONFIG), Egg throws 'Please set config.keys first' on every request that touches cookies.",
            fix=FIX)
        return
    if isinstance(value, Unknown):
        if value.env_var and value.has_fallback and isinstance(value.fallback, str) and value.fallback:
            weak = _weakness(value.fallback, ctx.project.name)
            yield ctx.finding(
                "EGG-CFG-001", key="keys",
                message=f"`keys` falls back to a literal when ${value.env_var} is unset"
                        + (f"; the literal is {weak}" if weak else "") + ".",
                evidence=f"process.env.{value.env_var} || {mask_secret(value.fallback)}", fix=FIX)
        return
    if not isinstance(value, str):
        return
    app_name = ctx.project.name or ""
    for part in value.split(","):
        weak = _weakness(part, app_name)
        yield ctx.finding(
            "EGG-CFG-001", key="keys",
            message=("Cookie-signing `keys` is " + (weak if weak else "a literal committed to the source tree")
                     + f" and applies in env '{ctx.env}'."),
            evidence=f"keys = {mask_secret(part)}", fix=FIX,
            severity="high" if weak else "medium")
        break  # one finding per app: the fix is the same for every key in the list
