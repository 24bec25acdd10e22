"""Phone numbers in KooKoo's form."""

from __future__ import annotations

import pytest

from ics2conf.errors import PhoneNumberError
from ics2conf.phones import InternationalNumberError, to_kookoo

# (as written, KooKoo form, E.164); fake numbers in valid Indian ranges
INDIA_CASES = [
    ("+91 98765 43210", "09876543210", "+919876543210"),
    ("+91-98765-43210", "09876543210", "+919876543210"),
    ("+919876543210", "09876543210", "+919876543210"),
    ("098765 43210", "09876543210", "+919876543210"),
    ("09876543210", "09876543210", "+919876543210"),
    ("9876543210", "09876543210", "+919876543210"),
    ("98765-43210", "09876543210", "+919876543210"),
    ("(0) 98765 43210", "09876543210", "+919876543210"),
    ("0091 98765 43210", "09876543210", "+919876543210"),
    ("tel:+91-98765-43210", "09876543210", "+919876543210"),
    ("tel:+91%2098765%2043210", "09876543210", "+919876543210"),
    ("tel:+91 (98765) 43-210", "09876543210", "+919876543210"),
    ("tel:+919876543210;phone-context=+91", "09876543210", "+919876543210"),
    ("tel:+91.98765.43210", "09876543210", "+919876543210"),
    ("91 98765 43210", "09876543210", "+919876543210"),  # country code without +
    ("+91 (0)98765 43210", "09876543210", "+919876543210"),
    ("+91 0 98765 43210", "09876543210", "+919876543210"),
    ("０９８７６５ ４３２１０", "09876543210", "+919876543210"),  # full-width digits
    # Landlines keep their STD code with a leading 0.
    ("011 2345 6789", "01123456789", "+911123456789"),
    ("+91 80 2345 6789", "08023456789", "+918023456789"),
    ("+91-22-2345-6789", "02223456789", "+912223456789"),
    # Toll-free numbers are dialled without the trunk prefix.
    ("1800 123 4567", "18001234567", "+9118001234567"),
]


@pytest.mark.parametrize(("raw", "kookoo", "e164"), INDIA_CASES)
def test_india_numbers(raw, kookoo, e164):
    assert to_kookoo(raw) == (kookoo, e164)


INTERNATIONAL_CASES = [
    ("+44 20 7946 0018", "00442079460018", "+442079460018"),
    ("+1 650 253 0000", "0016502530000", "+16502530000"),
    ("+39 06 1234 5678", "00390612345678", "+390612345678"),  # Italy keeps its leading 0
]


@pytest.mark.parametrize(("raw", "kookoo", "e164"), INTERNATIONAL_CASES)
def test_international_allowed(raw, kookoo, e164):
    assert to_kookoo(raw, allow_international=True) == (kookoo, e164)


@pytest.mark.parametrize(("raw", "kookoo", "e164"), INTERNATIONAL_CASES)
def test_international_rejected_by_default(raw, kookoo, e164):
    with pytest.raises(InternationalNumberError) as caught:
        to_kookoo(raw)
    assert raw in str(caught.value)
    assert "outside India" in str(caught.value)
    assert caught.value.value == raw


def test_default_region_for_national_numbers():
    assert to_kookoo("020 7946 0018", default_region="GB", allow_international=True) == (
        "00442079460018",
        "+442079460018",
    )


@pytest.mark.parametrize("raw", ["12345", "", "   ", "not a number", "+91 12345", "tel:", "+999 1234 5678"])
def test_invalid_numbers_name_the_value(raw):
    with pytest.raises(PhoneNumberError) as caught:
        to_kookoo(raw)
    assert repr(raw) in str(caught.value)


def test_extension_rejected():
    with pytest.raises(PhoneNumberError, match="extension"):
        to_kookoo("tel:+91-80-2345-6789;ext=123")


def test_repeated_lookups_keep_the_permission_apart():
    # Results are cached per (number, region, permission): allowing a number
    # once must not let it through later without the permission.
    raw = "+44 20 7946 0018"
    assert to_kookoo(raw, allow_international=True) == ("00442079460018", "+442079460018")
    with pytest.raises(InternationalNumberError):
        to_kookoo(raw)
    assert to_kookoo(raw, allow_international=True) == ("00442079460018", "+442079460018")


def test_invalid_number_raises_on_every_call():
    for _ in range(3):
        with pytest.raises(PhoneNumberError, match="12345"):
            to_kookoo("12345")
