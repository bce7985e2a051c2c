"""Credentials pasted into URLs: `https://user:pass@host/` or `?token=...`, found without
ever repeating the secret value in a message.

Used by the loader (every string of the org config) and by the policy pack (every string
input of every resource), so a credential is caught before it reaches a ConfigMap, a rule
file or plan.json.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

URL_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")

# Query parameter names that carry a credential (lower case; `-` and `_` are equivalent).
CREDENTIAL_PARAMS = frozenset(
    {
        "token",
        "access_token",
        "auth_token",
        "id_token",
        "refresh_token",
        "key",
        "api_key",
        "apikey",
        "secret",
        "client_secret",
        "password",
        "passwd",
        "pwd",
        "sig",
        "signature",
        "x_amz_signature",
        "x_amz_credential",
        "x_goog_signature",
        "auth",
    }
)

MOVE_HINT = (
    "keep credentials out of the org config (it is rendered into ConfigMaps, rules and "
    "plan.json): store the value with `pulumi config set --secret incident-response:<name> "
    "<value>`, use a URL without it here, and rotate the credential (it is in Git history)"
)


def url_credentials(text: str) -> list[str]:
    """What credential each URL in `text` carries, e.g. "a password (user:pass@)"; the value
    itself is never included."""
    found = []
    for match in URL_RE.finditer(text):
        try:
            parts = urlsplit(match.group(0))
        except ValueError:
            continue
        host = parts.hostname or "?"
        if parts.password is not None or (parts.username and "@" in parts.netloc):
            found.append(f"credentials before the @ in the URL to {host} (user:pass@host)")
        for name, _value in parse_qsl(parts.query, keep_blank_values=False):
            if name.lower().replace("-", "_") in CREDENTIAL_PARAMS:
                found.append(f"a {name!r} query parameter in the URL to {host}")
    return found
