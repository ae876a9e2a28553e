"""Email over SMTP: one message per batch; STARTTLS when asked for or offered.

    email=ops@example.com,dev@example.com?smtp=mail.example.com:587&from=eggshield@example.com
          &starttls=auto|yes|no&user=eggshield&password_env=SMTP_PASSWORD&cafile=/path/ca.pem

The password is read from the environment variable `password_env` names, never from the spec.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from eggshield.notify.errors import DeliveryError
from eggshield.notify.model import Notification

SCHEME = "email"
ORDER = ("critical", "high", "medium", "low", "info")


def _bool(value: str, name: str) -> str:
    v = value.strip().lower()
    if v in ("auto", ""):
        return "auto"
    if v in ("1", "yes", "true", "on", "required"):
        return "yes"
    if v in ("0", "no", "false", "off"):
        return "no"
    raise ValueError(f"email: {name}={value!r} is not auto/yes/no")


def _plural(word: str, n: int) -> str:
    if n == 1:
        return word
    return word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else word + "s"


class EmailSink:
    def __init__(self, to: list[str], host: str, port: int, sender: str, starttls: str = "auto",
                 user: str | None = None, password_env: str | None = None, cafile: str | None = None,
                 timeout: float = 15.0, subject: str = "[eggshield]"):
        self.to, self.host, self.port, self.sender = to, host, port, sender
        self.starttls, self.user, self.password_env, self.cafile = starttls, user, password_env, cafile
        self.timeout, self.subject = timeout, subject
        self.label = f"email {','.join(to)} via {host}:{port}"

    def message(self, batch: list[Notification]) -> EmailMessage:
        worst = min((n.severity for n in batch), key=lambda s: ORDER.index(s) if s in ORDER else 9, default="info")
        kinds: dict[str, int] = {}
        for n in batch:
            kinds[n.kind] = kinds.get(n.kind, 0) + 1
        summary = ", ".join(f"{c} {_plural(k, c)}" for k, c in sorted(kinds.items()))
        msg = EmailMessage()
        msg["Subject"] = f"{self.subject} {len(batch)} new ({summary}), worst: {worst}"
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain="eggshield.invalid")
        body = []
        for n in batch:
            body.append(f"[{n.severity}] {n.title}\n{n.text}\n")
        msg.set_content("\n".join(body) + "\n-- \nsent by eggshield deps watch\n")
        return msg

    def send(self, batch: list[Notification]) -> None:
        msg = self.message(batch)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                offered = smtp.has_extn("starttls")
                if self.starttls == "yes" and not offered:
                    raise DeliveryError(f"{self.label}: the server does not offer STARTTLS (starttls=yes)")
                if self.starttls == "yes" or (self.starttls == "auto" and offered):
                    context = ssl.create_default_context(cafile=self.cafile)
                    smtp.starttls(context=context)
                    smtp.ehlo()
                if self.user:
                    password = os.environ.get(self.password_env or "", "")
                    if not password:
                        raise DeliveryError(f"{self.label}: user is set but ${self.password_env or 'password_env'} "
                                            "is empty")
                    smtp.login(self.user, password)
                refused = smtp.send_message(msg)
                if refused:
                    raise DeliveryError(f"{self.label}: recipients refused: {', '.join(sorted(refused))}")
        except DeliveryError:
            raise
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            raise DeliveryError(f"{self.label}: SMTP {exc.smtp_code} {' '.join(str(text).split())}") from None
        except ssl.SSLError as exc:
            raise DeliveryError(f"{self.label}: TLS failed ({exc.reason or exc})") from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{self.label}: {type(exc).__name__}: {' '.join(str(exc).split())}") from None


def make(target: str, options: dict) -> EmailSink:
    to = [t.strip() for t in target.split(",") if t.strip()]
    if not to or any("@" not in t for t in to):
        raise ValueError(f"email needs recipient addresses, got {target!r}")
    smtp = options.get("smtp", "localhost:25")
    host, _, port = smtp.rpartition(":") if ":" in smtp else (smtp, "", "25")
    if not host or not port.isdigit():
        raise ValueError(f"email: smtp={smtp!r} is not host:port")
    sender = options.get("from") or f"eggshield@{socket.gethostname() or 'localhost'}"
    known = {"smtp", "from", "starttls", "user", "password_env", "cafile", "timeout", "subject"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"email: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return EmailSink(to, host, int(port), sender, starttls=_bool(options.get("starttls", "auto"), "starttls"),
                     user=options.get("user") or None, password_env=options.get("password_env") or None,
                     cafile=options.get("cafile") or None, timeout=float(options.get("timeout", 15)),
                     subject=options.get("subject", "[eggshield]"))
