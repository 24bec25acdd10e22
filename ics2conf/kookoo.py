"""Build KooKoo outbound-call URLs that put the callee into a conference room.

KooKoo's outbound API is a GET request with query parameters: ``api_key``,
``phone_no`` (India: ``0`` + 10 digits for mobiles, no ``+``),
``outbound_version=2`` and ``extra_data``, the first call XML KooKoo runs
when the callee answers. ``extra_data`` must be call XML, never a label: a
plain string drops the call on answer. ``caller_id`` is optional. Source:
KooKoo's outbound documentation (kookoo.in/index.php/kookoo-docs/outbound).

Everything here is pure. Event text reaches the XML only through
``greeting``, which is XML-escaped, and every query value is URL-encoded
exactly once, so no input can change the XML structure or add a parameter.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

# Shown in plans made without KOOKOO_API_KEY; a sync requires the real key.
PLACEHOLDER_API_KEY = "KOOKOO_API_KEY"

# Rooms are numeric in every public KooKoo sample; ics2conf's rooms are
# 9 digits (see rooms.py). Letters, '-' and '_' are accepted for callers that
# choose their own room names, since they need no XML or URL escaping.
ROOM_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# KooKoo numbers are digits only: 0 + STD code/mobile, or 00 + country code.
PHONE_PATTERN = re.compile(r"^[0-9]{6,20}$")

# Characters XML 1.0 does not allow in a document (C0 controls except tab,
# LF and CR, lone surrogates, U+FFFE and U+FFFF).
_QUOTE_ENTITIES = {'"': "&quot;", "'": "&apos;"}
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean_greeting(greeting: str) -> str:
    """Return ``greeting`` as one line of XML-safe text, whitespace collapsed."""
    text = _XML_INVALID.sub(" ", greeting)
    return " ".join(text.split())


def conference_xml(room: str, greeting: str | None = None) -> str:
    """Return the KooKoo XML that plays ``greeting`` (when given) and joins ``room``.

    >>> conference_xml("123456789", "Stand-up & demo")
    '<response><playtext>Stand-up &amp; demo</playtext><conference>123456789</conference></response>'
    """
    if not ROOM_PATTERN.match(room):
        raise ValueError(
            f"invalid conference room {room!r}: use 1-32 letters, digits, '-' or '_'"
        )
    parts = ["<response>"]
    text = _clean_greeting(greeting) if greeting else ""
    if text:
        # Quotes are escaped too, so the text is safe in an attribute as well.
        parts.append("<playtext>" + escape(text, _QUOTE_ENTITIES) + "</playtext>")
    parts.append(f"<conference>{room}</conference>")
    parts.append("</response>")
    return "".join(parts)


def build_outbound_url(
    base_url: str,
    *,
    api_key: str,
    phone: str,
    room: str,
    caller_id: str | None = None,
    greeting: str | None = None,
) -> str:
    """Return the KooKoo outbound URL that rings ``phone`` into conference ``room``.

    ``phone`` is in KooKoo's form (``09876543210``). The parameters always come
    in the order api_key, phone_no, outbound_version, extra_data, caller_id, so
    the same inputs give the same string and a re-run compares equal.
    """
    if not PHONE_PATTERN.match(phone):
        raise ValueError(f"invalid KooKoo phone number {phone!r}: expected digits only, e.g. 09876543210")
    if not api_key:
        raise ValueError("the KooKoo API key is empty")
    params = [
        ("api_key", api_key),
        ("phone_no", phone),
        ("outbound_version", "2"),
        ("extra_data", conference_xml(room, greeting)),
    ]
    if caller_id:
        params.append(("caller_id", caller_id))
    # quote_via=quote encodes a space as %20 and every reserved character
    # (& = # % + ? /) with safe="" so a value can never end a parameter.
    query = urlencode(params, quote_via=quote, safe="")
    if base_url.endswith(("?", "&")):
        separator = ""
    elif "?" in base_url:
        separator = "&"
    else:
        separator = "?"
    return f"{base_url}{separator}{query}"
