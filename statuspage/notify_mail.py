"""E-mail: SMTP settings from the environment, the messages (pure), and one send.

Settings never come from the config file, which the IaC renders into a ConfigMap:
`STATUSPAGE_SMTP_URL` (`smtp://host:port`, `smtp+starttls://host:port` or `smtps://host:port`),
`STATUSPAGE_MAIL_FROM`, the credentials `STATUSPAGE_SMTP_USERNAME` with
`STATUSPAGE_SMTP_PASSWORD` or `STATUSPAGE_SMTP_PASSWORD_FILE` (a mounted Secret), and
optionally `STATUSPAGE_SMTP_CA_FILE` for a relay whose certificate a private CA signed.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

from statuspage.notices import Notice

# scheme -> (default port, STARTTLS after connecting, TLS from the first byte)
SCHEMES: dict[str, tuple[int, bool, bool]] = {
    "smtp": (25, False, False),
    "smtp+starttls": (587, True, False),
    "smtps": (465, False, True),
}


class SettingsError(ValueError):
    """Delivery settings that cannot work; the message names the variable."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    starttls: bool
    implicit_tls: bool
    mail_from: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None  # trust this PEM bundle instead of the system's (a private CA)
    timeout_seconds: float = 15.0


def smtp_settings(env: Mapping[str, str]) -> SmtpSettings | None:
    """The SMTP settings, or None when e-mail is off (no `STATUSPAGE_SMTP_URL`)."""
    url = env.get("STATUSPAGE_SMTP_URL", "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise SettingsError(
            f"STATUSPAGE_SMTP_URL: scheme {parts.scheme!r} is not one of "
            f"{', '.join(s + '://' for s in SCHEMES)}"
        )
    if parts.username or parts.password:
        raise SettingsError(
            "STATUSPAGE_SMTP_URL must not carry credentials; set STATUSPAGE_SMTP_USERNAME and "
            "STATUSPAGE_SMTP_PASSWORD_FILE (or STATUSPAGE_SMTP_PASSWORD) instead"
        )
    if not parts.hostname:
        raise SettingsError(f"STATUSPAGE_SMTP_URL {url!r} names no host")
    try:
        port = parts.port
    except ValueError:
        raise SettingsError(f"STATUSPAGE_SMTP_URL {url!r} has an invalid port") from None
    mail_from = env.get("STATUSPAGE_MAIL_FROM", "").strip()
    if "@" not in mail_from:
        raise SettingsError(
            "STATUSPAGE_MAIL_FROM must be set to the sender address when STATUSPAGE_SMTP_URL is"
        )
    password = env.get("STATUSPAGE_SMTP_PASSWORD") or None
    password_file = env.get("STATUSPAGE_SMTP_PASSWORD_FILE")
    if password_file:
        try:
            password = Path(password_file).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise SettingsError(
                f"STATUSPAGE_SMTP_PASSWORD_FILE {password_file}: cannot read ({exc.strerror})"
            ) from None
    ca_file = env.get("STATUSPAGE_SMTP_CA_FILE") or None
    if ca_file is not None and not Path(ca_file).is_file():
        raise SettingsError(f"STATUSPAGE_SMTP_CA_FILE {ca_file}: no such file")
    default_port, starttls, implicit_tls = SCHEMES[parts.scheme]
    return SmtpSettings(
        host=parts.hostname,
        port=port or default_port,
        starttls=starttls,
        implicit_tls=implicit_tls,
        mail_from=mail_from,
        username=env.get("STATUSPAGE_SMTP_USERNAME") or None,
        password=password,
        ca_file=ca_file,
    )


# ---- messages (pure) -----------------------------------------------------------------


def _message(page_name: str, mail_from: str, to: str, subject: str, text: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((page_name, mail_from))
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=mail_from.rpartition("@")[2] or None)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    msg.set_content(text)
    return msg


def confirmation_mail(
    page_name: str, mail_from: str, to: str, confirm_url: str, unsubscribe_url: str
) -> EmailMessage:
    text = (
        f"Someone (hopefully you) asked to receive {page_name} notifications at this address.\n\n"
        f"Confirm the subscription:\n{confirm_url}\n\n"
        "If it was not you, ignore this message: nothing will be sent without confirmation.\n"
    )
    msg = _message(page_name, mail_from, to, f"Confirm your subscription to {page_name}", text)
    _unsubscribe_headers(msg, unsubscribe_url)
    return msg


def notification_mail(
    page_name: str, mail_from: str, to: str, notice: Notice, unsubscribe_url: str
) -> EmailMessage:
    lines = [notice.headline, ""]
    if notice.body:
        lines += [notice.body, ""]
    if notice.components:
        lines.append("Affected: " + ", ".join(notice.components))
    if notice.window:
        lines.append(notice.window)
    lines += ["", f"Details: {notice.link}", "", f"Unsubscribe in one click: {unsubscribe_url}"]
    msg = _message(page_name, mail_from, to, f"[{page_name}] {notice.subject}", "\n".join(lines))
    _unsubscribe_headers(msg, unsubscribe_url)
    return msg


def _unsubscribe_headers(msg: EmailMessage, unsubscribe_url: str) -> None:
    # RFC 8058 one-click: the mail client POSTs "List-Unsubscribe=One-Click" to the URL.
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"


# ---- sending -----------------------------------------------------------------------------


class PermanentFailure(Exception):
    """The server refused this recipient or message for good (SMTP 5xx): do not retry."""


class MailSession:
    """One SMTP connection for a batch of messages: opened on first use, reopened after a
    connection failure, so a burst of notifications costs one handshake, not one each."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> MailSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        # Certificates and host names are verified, as by any mail client.
        context = ssl.create_default_context(cafile=settings.ca_file)
        smtp: smtplib.SMTP
        if settings.implicit_tls:
            smtp = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout_seconds, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
        if settings.starttls:
            smtp.starttls(context=context)
        if settings.username and settings.password is not None:
            smtp.login(settings.username, settings.password)
        return smtp

    def send(self, msg: EmailMessage) -> None:
        """Send one message; raises PermanentFailure for a 5xx refusal of it, OSError or
        SMTPException for what may pass (connection trouble, 4xx)."""
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            # The connection is fine (smtplib reset the transaction): only this message failed.
            codes = [code for code, _ in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                raise PermanentFailure(f"recipient refused: {codes}") from None
            raise
        except smtplib.SMTPDataError as exc:
            if exc.smtp_code >= 500:
                raise PermanentFailure(f"message refused: {exc.smtp_code}") from None
            raise
        except smtplib.SMTPSenderRefused:
            # The sender or our login is refused: the server's settings, not this message;
            # retried (with backoff) so fixing them delivers what waited.
            raise
        except (OSError, smtplib.SMTPException):
            self.close()
            raise
