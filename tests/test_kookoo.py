"""KooKoo outbound URL and call XML: exact strings and injection safety."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ics2conf.kookoo import PLACEHOLDER_API_KEY, build_outbound_url, conference_xml

BASE = "http://www.kookoo.in/outbound/outbound.php"


def query_pairs(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)


@pytest.mark.parametrize(
    ("room", "greeting", "expected"),
    [
        ("123456789", None, "<response><conference>123456789</conference></response>"),
        ("123456789", "", "<response><conference>123456789</conference></response>"),
        (
            "123456789",
            "Welcome to the stand-up",
            "<response><playtext>Welcome to the stand-up</playtext>"
            "<conference>123456789</conference></response>",
        ),
        (
            "42",
            "R&D <sync> \"now\" isn't\nlate",
            "<response><playtext>R&amp;D &lt;sync&gt; &quot;now&quot; isn&apos;t late</playtext>"
            "<conference>42</conference></response>",
        ),
        (
            "42",
            "bell\x07 \x00end",
            "<response><playtext>bell end</playtext><conference>42</conference></response>",
        ),
    ],
)
def test_conference_xml_exact(room, greeting, expected):
    assert conference_xml(room, greeting) == expected


@pytest.mark.parametrize("room", ["", "12 3", "1<2", "a&b", "1" * 33, "१२३"])
def test_conference_xml_rejects_unsafe_room(room):
    with pytest.raises(ValueError, match="invalid conference room"):
        conference_xml(room)


def test_outbound_url_exact():
    url = build_outbound_url(BASE, api_key="k-123", phone="09876543210", room="123456789")
    assert url == (
        "http://www.kookoo.in/outbound/outbound.php?api_key=k-123&phone_no=09876543210"
        "&outbound_version=2&extra_data=%3Cresponse%3E%3Cconference%3E123456789"
        "%3C%2Fconference%3E%3C%2Fresponse%3E"
    )


def test_outbound_url_with_caller_id_and_greeting():
    url = build_outbound_url(
        BASE,
        api_key="k",
        phone="09876543210",
        room="100000001",
        caller_id="08012345678",
        greeting="Hello & welcome",
    )
    assert url == (
        "http://www.kookoo.in/outbound/outbound.php?api_key=k&phone_no=09876543210"
        "&outbound_version=2&extra_data=%3Cresponse%3E%3Cplaytext%3EHello%20%26amp%3B"
        "%20welcome%3C%2Fplaytext%3E%3Cconference%3E100000001%3C%2Fconference%3E"
        "%3C%2Fresponse%3E&caller_id=08012345678"
    )


def test_outbound_url_parameter_order():
    url = build_outbound_url(BASE, api_key="k", phone="09876543210", room="1", caller_id="0801")
    assert [name for name, _ in query_pairs(url)] == [
        "api_key",
        "phone_no",
        "outbound_version",
        "extra_data",
        "caller_id",
    ]


def test_outbound_url_encodes_key_once():
    url = build_outbound_url(BASE, api_key="a&b=c%d#e f+g", phone="09876543210", room="1")
    assert "api_key=a%26b%3Dc%25d%23e%20f%2Bg&" in url
    assert dict(query_pairs(url))["api_key"] == "a&b=c%d#e f+g"


@pytest.mark.parametrize(
    ("base", "prefix"),
    [
        ("http://in1-cpaas.ozonetel.com/outbound/outbound.php", "outbound.php?api_key="),
        ("http://127.0.0.1:8080/out?tenant=7", "out?tenant=7&api_key="),
        ("http://127.0.0.1:8080/out?", "out?api_key="),
    ],
)
def test_outbound_url_joins_base(base, prefix):
    url = build_outbound_url(base, api_key="k", phone="09876543210", room="1")
    assert prefix in url
    assert "?&" not in url


@pytest.mark.parametrize("phone", ["+919876543210", "98765 43210", "0987654321x", ""])
def test_outbound_url_rejects_non_digit_phone(phone):
    with pytest.raises(ValueError, match="invalid KooKoo phone number"):
        build_outbound_url(BASE, api_key="k", phone=phone, room="1")


def test_placeholder_key_is_plain():
    url = build_outbound_url(BASE, api_key=PLACEHOLDER_API_KEY, phone="09876543210", room="1")
    assert dict(query_pairs(url))["api_key"] == "KOOKOO_API_KEY"


HOSTILE_TEXT = [
    "</playtext></response><response><hangup/>",
    "a&b; c<d> \"e\" 'f'",
    "line one\nline two\r\nthree",
    "100% sure #hashtag ?x=1&phone_no=0000",
    "]]><!-- -->",
    "&amp; &#x41; &lt;",
]


@pytest.mark.parametrize("greeting", HOSTILE_TEXT)
def test_hostile_greeting_keeps_structure(greeting):
    url = build_outbound_url(
        BASE, api_key="k", phone="09876543210", room="123456789", greeting=greeting
    )
    pairs = query_pairs(url)
    assert [name for name, _ in pairs] == ["api_key", "phone_no", "outbound_version", "extra_data"]
    root = ET.fromstring(dict(pairs)["extra_data"])
    assert root.tag == "response"
    assert [child.tag for child in root] == ["playtext", "conference"]
    assert root[0].text == " ".join(greeting.split())
    assert root[1].text == "123456789"


@settings(max_examples=200, deadline=None)
@given(greeting=st.text(), api_key=st.text(min_size=1), caller_id=st.text(min_size=1))
def test_any_text_round_trips(greeting, api_key, caller_id):
    url = build_outbound_url(
        BASE,
        api_key=api_key,
        phone="09876543210",
        room="555000111",
        caller_id=caller_id,
        greeting=greeting,
    )
    pairs = query_pairs(url)
    assert [name for name, _ in pairs] == [
        "api_key",
        "phone_no",
        "outbound_version",
        "extra_data",
        "caller_id",
    ]
    values = dict(pairs)
    assert values["api_key"] == api_key
    assert values["caller_id"] == caller_id
    root = ET.fromstring(values["extra_data"])
    assert root.find("conference").text == "555000111"
    assert len(root.findall("conference")) == 1
    assert len(root.findall("playtext")) <= 1
