"""Secrets never leave masked: the last-line defence in report/ and its use by every format."""

from __future__ import annotations

import pytest

from eggshield.finding import InputProblem, Location
from eggshield.report import FORMATS, Report, mask_secrets, printable
from report_samples import LEAKED_KEY, LEAKED_TOKEN, f, full_report

SECRETS = [
    # (text, the secret that must disappear)
    ("config.keys = 'my_app_1513135333_4421';", "1513135333_4421"),
    ("keys: appInfo.name + '_1513135333_4421',", "1513135333_4421"),
    ('mysql: { client: { host: "db", password: "s3cr3t!" } }', "s3cr3t!"),
    ("GET /login?user=bob&password=letmein&next=/", "letmein"),
    ("DB_PASSWORD=hunter2", "hunter2"),
    ('{"apiKey": "AbC123xyz987"}', "AbC123xyz987"),
    ("jwt: { secret: 'change-me-now' }", "change-me-now"),
    ("redis://:sup3rs3cret@127.0.0.1:6379/0", "sup3rs3cret"),
    ("mongodb://admin:pa55w0rd@db.example.com:27017/app", "pa55w0rd"),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig123", "eyJhbGciOiJIUzI1NiJ9"),
    ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked", "abcdefghijklmnopqrstuvwxyz0123456789"),
    ("aws AKIAIOSFODNN7EXAMPLE", "IOSFODNN7EXAMPLE"),
    (f"sig {LEAKED_TOKEN} end", LEAKED_TOKEN[8:]),
    ("blob kF3mXq9Zr2Lw8vT1bN6yH4cJ0pA7sD5eG== end", "Xq9Zr2Lw8vT1bN6yH4cJ0pA7sD5eG"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1\n-----END RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEAu1"),
    ("key: '-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkq", "MIIEvQIBADANBgkq"),  # truncated evidence
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXk"),
]

HARMLESS = [
    "security.csrf.enable is false in prod",
    "config.keys is hard-coded",
    "password: process.env.DB_PASSWORD",
    "password: ctx.request.body.password",
    "if (password === user.password) {",
    "const check = (password) => bcrypt.compare(password, hash);",
    "session: { key: 'EGG_SESS', maxAge: 86400000 }",
    "csrf: { headerName: 'x-csrf-token', cookieName: 'csrfToken' }",
    "jwt: { secret: '<generate with openssl rand -hex 32>' }",
    "node_modules/egg-security/lib/middleware/csrfProtection123.js",
    "app/controller/UserProfileController2.js:12",
    "uses Basic authentication for the admin area",
    "http://example.com:8080/a@b",
    "interface User { password: string; }",
]


@pytest.mark.parametrize(("text", "secret"), SECRETS)
def test_secret_shapes_are_masked(text, secret):
    masked = mask_secrets(text)
    assert secret not in masked
    assert "****" in masked


@pytest.mark.parametrize("text", HARMLESS)
def test_code_and_prose_without_secrets_stay_readable(text):
    assert mask_secrets(text) == text


@pytest.mark.parametrize("text", [t for t, _ in SECRETS] + HARMLESS)
def test_masking_is_idempotent(text):
    once = mask_secrets(text)
    assert mask_secrets(once) == once


def test_masking_keeps_context_around_the_secret():
    assert mask_secrets("config.keys = 'my_app_1513135333_4421';") == "config.keys = '****';"
    assert mask_secrets("redis://:sup3rs3cret@127.0.0.1:6379/0") == "redis://:****@127.0.0.1:6379/0"
    assert mask_secrets("aws AKIAIOSFODNN7EXAMPLE") == "aws AKIA****"
    assert mask_secrets("") == "" and mask_secrets(None) == ""


def test_printable_neutralises_terminal_escapes_and_bidi_overrides():
    out = printable("GET /?q=\x1b[31mred\x1b[0m\u202eevil\r\nnext\tcol")
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b[31m" in out and "\\u202e" in out
    assert out.endswith("\nnext\tcol")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_no_format_leaks_a_secret_a_check_forgot_to_mask(fmt):
    report = full_report()
    report.findings.append(
        f("EGG-CFG-009", 4, "high", 798, Location("config/config.prod.js", 2),
          "mysql password is 'hunter2secret' in config", evidence="password: 'hunter2secret'",
          fix="replace password: 'hunter2secret' with process.env.MYSQL_PASSWORD")
    )
    report.problems.append(InputProblem("config/config.prod.js", "cannot evaluate token=ghp_abcdefghijklmnopqrstuvwxyz0123456789"))
    out = FORMATS[fmt].render(report)
    for secret in (LEAKED_KEY, LEAKED_TOKEN, "hunter2secret", "abcdefghijklmnopqrstuvwxyz0123456789"):
        assert secret not in out, f"{fmt} leaked {secret}"


def test_masking_does_not_change_the_findings_the_caller_holds():
    report = full_report()
    before = [x.evidence for x in report.findings]
    FORMATS["json"].render(report)
    assert [x.evidence for x in report.findings] == before
    assert isinstance(Report().safe_findings(), list)
