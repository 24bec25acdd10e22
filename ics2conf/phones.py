"""Normalise phone numbers to the form KooKoo dials.

KooKoo documents Indian numbers only: mobiles as ``0`` + 10 digits and
landlines with their STD code and a leading ``0`` (``01123456789``), never
a ``+``. Those are the digits of the national format that ``phonenumbers``
produces for India. Numbers of other countries are dialled in the
international ``00`` form, and only when the caller allows it.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import unquote

import phonenumbers

from .errors import PhoneNumberError

KOOKOO_REGION = "IN"


class InternationalNumberError(PhoneNumberError):
    """A valid number outside India, rejected because international calls are not allowed."""


# RFC 3966 tel: URIs may carry parameters (";ext=12", ";phone-context=...")
# and visual separators; the separators are stripped by phonenumbers.
_TEL_PARAMS = re.compile(r";(?!ext=)[^;]*", re.IGNORECASE)


def to_kookoo(raw: str, *, default_region: str = "IN", allow_international: bool = False) -> tuple[str, str]:
    """Return ``(kookoo_form, e164)`` for a number as written in an invite or directory.

    Raises PhoneNumberError naming the value when it is not a valid number,
    or when it is outside India and ``allow_international`` is False.
    """
    return _to_kookoo(raw, default_region, allow_international)


# A plan normalises each directory number once per meeting the person
# attends, tens of thousands of calls for a large export. Only results are
# cached: an invalid number is parsed again, and raises again, on every call.
@functools.lru_cache(maxsize=65536)
def _to_kookoo(raw: str, default_region: str, allow_international: bool) -> tuple[str, str]:
    text = _clean(raw)
    if not text:
        raise PhoneNumberError(f"phone number {raw!r} is empty", value=raw)
    region = (default_region or KOOKOO_REGION).upper()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise PhoneNumberError(
            f"invalid phone number {raw!r}: {_reason(error)}; write it as +91 98765 43210 or 098765 43210",
            value=raw,
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneNumberError(
            f"invalid phone number {raw!r}: no such number in"
            f" {phonenumbers.region_code_for_number(number) or 'any region'}; check the digits",
            value=raw,
        )

    if number.extension:
        raise PhoneNumberError(
            f"phone number {raw!r} has an extension, which KooKoo cannot dial; give a direct number",
            value=raw,
        )
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if phonenumbers.region_code_for_number(number) == KOOKOO_REGION:
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return re.sub(r"\D", "", national), e164

    if not allow_international:
        raise InternationalNumberError(
            f"phone number {raw!r} ({e164}) is outside India; KooKoo documents Indian numbers only."
            " Pass --allow-international if your account can dial it",
            value=raw,
        )
    return "00" + str(number.country_code) + phonenumbers.national_significant_number(number), e164


def _clean(raw: str) -> str:
    text = unquote(str(raw or "")).strip()
    if text.lower().startswith("tel:"):
        text = text[len("tel:"):]
    text = _TEL_PARAMS.sub("", text)
    return text.replace(";ext=", " ext. ").strip()


def _reason(error: phonenumbers.NumberParseException) -> str:
    reasons = {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
        phonenumbers.NumberParseException.TOO_LONG: "too long",
    }
    return reasons.get(error.error_type, "cannot be parsed")
