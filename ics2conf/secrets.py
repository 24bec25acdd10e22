"""Masking of API keys in URLs and free text.

Job URLs carry the KooKoo key as the ``api_key`` query parameter, and the
EasyCron key travels in the ``X-API-Key`` header. Anything shown to a user
or written to a log passes through ``mask_url`` or ``redact`` first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"

# Query parameters whose values are credentials. KooKoo uses ``api_key``; the
# retired EasyCron classic API used ``token``.
SECRET_PARAMETERS = ("api_key", "apikey", "token")

_SECRET_PARAMETER_PATTERN = re.compile(
    r"(?P<name>(?:^|(?<=[?&;\s\"'(]))(?:" + "|".join(SECRET_PARAMETERS) + r")=)"
    r"(?P<value>[^&#\s\"'<>)]*)",
    re.IGNORECASE,
)


def mask_url(url: str) -> str:
    """Return ``url`` with the value of every credential query parameter replaced by ``***``.

    The rest of the URL is kept byte for byte, so a masked URL still shows
    how the other parameters were encoded.
    """
    return _SECRET_PARAMETER_PATTERN.sub(lambda m: m["name"] + MASK, url)


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Return ``text`` with each secret, raw or URL-encoded, and each ``api_key=`` value masked."""
    for secret in secrets:
        if not secret:
            continue
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, MASK)
    return mask_url(text)
