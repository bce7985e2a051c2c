"""The status page's subscriptions in Kubernetes: SMTP settings as Secret-backed env and the
egress rule that lets the pods reach the mail server. Pure functions over plain values.

The service reads `STATUSPAGE_SMTP_URL`, `STATUSPAGE_MAIL_FROM`, `STATUSPAGE_SMTP_USERNAME`
and `STATUSPAGE_SMTP_PASSWORD` (statuspage/notify_mail.py); the URL and the mail settings
are validated here with that same function, so a bad value fails `irctl validate`, not a pod.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orgconfig.settings import MailSettings, MailSettingsError

__all__ = ["MailSettings", "MailSettingsError", "secret_data", "smtp_egress", "subscription_env"]

# The typed settings live with every other stack setting (orgconfig/settings.py).


def secret_data(mail: MailSettings | None) -> dict[str, str]:
    """Keys this adds to the status page's Secret (the credentials arrive through the
    secret stack settings in SMTP_SECRET_KEYS)."""
    return {"smtp-url": mail.smtp_url} if mail else {}


def subscription_env(
    mail: MailSettings | None, secret_name: str, secret_keys: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Env of the status page container for subscriptions. The Ingress controller is the
    one proxy in front of the pods, so rate limits key on the address it saw."""
    env: list[dict[str, Any]] = [{"name": "STATUSPAGE_FORWARDED_HOPS", "value": "1"}]
    if mail is None:
        return env

    def from_secret(name: str, key: str) -> dict[str, Any]:
        return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret_name, "key": key}}}

    env += [
        from_secret("STATUSPAGE_SMTP_URL", "smtp-url"),
        {"name": "STATUSPAGE_MAIL_FROM", "value": mail.mail_from},
    ]
    env += [
        from_secret(name, key)
        for name, key in (
            ("STATUSPAGE_SMTP_USERNAME", "smtp-username"),
            ("STATUSPAGE_SMTP_PASSWORD", "smtp-password"),
        )
        if key in secret_keys
    ]
    return env


def smtp_egress(mail: MailSettings | None) -> list[dict[str, Any]]:
    """The NetworkPolicy egress rule for the mail server, if e-mail is on."""
    if mail is None:
        return []
    rule: dict[str, Any] = {"ports": [{"port": mail.port, "protocol": "TCP"}]}
    if mail.cidr:
        rule["to"] = [{"ipBlock": {"cidr": mail.cidr}}]
    return [rule]
