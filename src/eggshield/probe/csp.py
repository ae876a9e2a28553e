"""Content-Security-Policy parsed and judged the way browsers apply it (CSP Level 3).

The judgement follows the MDN HTTP Observatory's CSP test (mdn/mdn-http-observatory,
src/analyzer/tests/csp.js) in what it calls unsafe, so grades compare: 'unsafe-inline' or
`data:` or a broad source (`*`, `http:`, `https:`) in the effective script-src, object-src or
script-src not restricted, 'unsafe-eval', http: sources on an https site. One Egg detail
matters: egg-security appends `'nonce-…'` to `script-src` when the policy names it, and a
nonce makes CSP2+ browsers ignore 'unsafe-inline' — so that combination is not unsafe.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FETCH_FALLBACK = "default-src"
BROAD = {"*", "http:", "https:", "http://*", "https://*"}


@dataclass
class Policy:
    directives: dict[str, list[str]] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)

    def sources(self, name: str) -> list[str] | None:
        """Sources for a fetch directive, falling back to default-src (None: unrestricted)."""
        if name in self.directives:
            return self.directives[name]
        return self.directives.get(FETCH_FALLBACK)


def parse_policy(header: str) -> Policy:
    """One serialized policy. Several policies (headers joined by ',') all apply: use parse_all."""
    policy = Policy()
    for raw in header.split(";"):
        tokens = raw.strip().split()
        if not tokens:
            continue
        name = tokens[0].lower()
        if not all(ch.isalnum() or ch == "-" for ch in name):
            policy.invalid.append(raw.strip())
            continue
        if name in policy.directives:
            policy.duplicates.append(name)  # browsers keep the first one
            continue
        # keywords ('self', 'unsafe-inline') are case-insensitive; nonces and hosts are kept as sent
        policy.directives[name] = [_keyword(t) for t in tokens[1:]]
    return policy


def _keyword(token: str) -> str:
    low = token.lower()
    if low.startswith(("'nonce-", "'sha")):
        return "'" + low.split("-", 1)[0][1:] + "-" + token.split("-", 1)[1]
    return low if token.startswith("'") or low.endswith(":") or low == "*" else token


def parse_all(values: list[str]) -> list[Policy]:
    out: list[Policy] = []
    for value in values:
        out.extend(parse_policy(part) for part in value.split(",") if part.strip())
    return out


def _has_nonce_or_hash(sources: list[str]) -> bool:
    return any(s.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for s in sources)


@dataclass
class CspVerdict:
    """Observatory-compatible result key plus the reasons in words."""

    result: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def judge(policies: list[Policy], https: bool) -> CspVerdict:
    """The weakest verdict over the policies a response carries (all of them are enforced, so
    a request passes only what every policy allows; we judge the first, most permissive one
    only when it is the only one, as the Observatory does)."""
    if not policies:
        return CspVerdict("csp-not-implemented", ["no Content-Security-Policy header"])
    policy = policies[0]
    if not policy.directives:
        return CspVerdict("csp-header-invalid", ["the header has no directive"])
    problems: list[str] = []
    notes: list[str] = []
    script = policy.sources("script-src")
    obj = policy.sources("object-src")
    style = policy.sources("style-src")
    unsafe_inline = unsafe_eval = insecure = False
    if script is None:
        problems.append("script-src is not restricted (no script-src, no default-src)")
        unsafe_inline = True
    else:
        if "'unsafe-inline'" in script:
            if _has_nonce_or_hash(script):
                notes.append("'unsafe-inline' in script-src is ignored by browsers because a nonce or hash is present")
            else:
                problems.append("script-src allows 'unsafe-inline'")
                unsafe_inline = True
        if "data:" in script:
            problems.append("script-src allows data: URLs")
            unsafe_inline = True
        broad = sorted(set(script) & BROAD)
        if broad and "'strict-dynamic'" not in script:
            problems.append(f"script-src allows any host ({' '.join(broad)})")
            unsafe_inline = True
        if "'unsafe-eval'" in script:
            problems.append("script-src allows 'unsafe-eval'")
            unsafe_eval = True
    if obj is None:
        problems.append("object-src is not restricted (no object-src, no default-src)")
        unsafe_inline = True
    elif set(obj) & BROAD:
        problems.append(f"object-src allows any host ({' '.join(sorted(set(obj) & BROAD))})")
        unsafe_inline = True
    if https:
        for name, sources in policy.directives.items():
            if any(s == "http:" or s.startswith("http://") for s in sources):
                problems.append(f"{name} loads resources over http on an https site")
                insecure = True
    if policy.duplicates:
        notes.append(f"repeated directives are ignored after the first: {', '.join(policy.duplicates)}")
    if "frame-ancestors" not in policy.directives:
        notes.append("no frame-ancestors (X-Frame-Options must then stop framing)")
    if unsafe_inline:
        return CspVerdict("csp-implemented-with-unsafe-inline", problems, notes)
    if insecure:
        return CspVerdict("csp-implemented-with-insecure-scheme", problems, notes)
    if unsafe_eval:
        return CspVerdict("csp-implemented-with-unsafe-eval", problems, notes)
    if style is not None and ("'unsafe-inline'" in style or "data:" in style):
        notes.append("style-src allows 'unsafe-inline' or data:")
        return CspVerdict("csp-implemented-with-unsafe-inline-in-style-src-only", problems, notes)
    if policy.directives.get("default-src") == ["'none'"] and "form-action" in policy.directives:
        return CspVerdict("csp-implemented-with-no-unsafe-default-src-none", problems, notes)
    return CspVerdict("csp-implemented-with-no-unsafe", problems, notes)
