"""Directory files: CSV and vCard, merged, with the preferred number chosen."""

from __future__ import annotations

from pathlib import Path

import pytest

from ics2conf.directory import load_directory
from ics2conf.errors import DirectoryError

DATA = Path(__file__).parent / "data"

# (email as an invite writes it, number the directory gives)
LOOKUPS = [
    ("anand.iyer@example.com", "+91 98765 43210"),
    ("Anand.Iyer@Example.COM", "+91 98765 43210"),  # emails match case-insensitively
    ("neha.sharma@example.com", "098765-43213"),  # written upper-case in the CSV
    ("zoe.nunez@example.com", "+91 98765 43214"),  # landline and mobile rows: the mobile
    ("kavya.shah@example.com", "+91 98765 43215"),  # TYPE=CELL over TYPE=WORK, FAX ignored
    ("kavya@example.org", "+91 98765 43215"),  # second EMAIL of the same card
    ("ravi.kumar@example.com", "+91-11-2345-6789"),  # PREF=1 beats TYPE=cell (vCard 4)
    ("ob.das@example.com", "+91 98765 43217"),  # vCard 2.1 bare CELL;PREF
    ("group@example.com", "+91 98765 43218"),  # grouped item1.EMAIL, type=pref
    ("nobody@example.com", None),
]


@pytest.fixture(scope="module")
def directory():
    return load_directory([str(DATA / "directory.csv"), str(DATA / "directory.vcf")])


@pytest.mark.parametrize(("email", "number"), LOOKUPS)
def test_lookup(directory, email, number):
    assert directory.lookup(email) == number


def test_merged_files_report_no_problems(directory):
    assert directory.problems == []
    assert directory.sources == [str(DATA / "directory.csv"), str(DATA / "directory.vcf")]


def test_names(directory):
    assert directory.name("kavya.shah@example.com") == "Kavya Shah"
    assert directory.name("zoe.nunez@example.com") == "Zoë Núñez"


def test_no_paths_is_empty():
    directory = load_directory([])
    assert directory.lookup("anand.iyer@example.com") is None
    assert len(directory) == 0


def test_missing_file_raises_naming_it(tmp_path):
    missing = str(tmp_path / "people.csv")
    with pytest.raises(DirectoryError) as caught:
        load_directory([missing])
    assert missing in str(caught.value)
    assert caught.value.source == missing


def test_csv_without_header_columns_raises(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("who,number\nsomeone,123\n")
    with pytest.raises(DirectoryError, match="email,phone"):
        load_directory([str(path)])


def test_csv_without_header_row(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("a@example.com,+91 98765 43219\n")
    assert load_directory([str(path)]).lookup("a@example.com") == "+91 98765 43219"


def test_csv_with_bom_reordered_columns_and_quotes(tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(
        "\ufeffName,Phone,Email\r\n\"Rao, Priya\",+91 98765 43220,priya.rao@example.com\r\n".encode("utf-8")
    )
    directory = load_directory([str(path)])
    assert directory.lookup("priya.rao@example.com") == "+91 98765 43220"
    assert directory.name("priya.rao@example.com") == "Rao, Priya"


def test_csv_bad_rows_are_warnings(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("email,phone\nnot-an-email,+91 98765 43221\nb@example.com,\nc@example.com,+91 98765 43222\n")
    directory = load_directory([str(path)])
    assert directory.lookup("c@example.com") == "+91 98765 43222"
    assert len(directory.problems) == 2
    assert all(p.level == "warning" and str(path) in p.message for p in directory.problems)


def test_first_listed_wins_between_equal_numbers(tmp_path):
    first = tmp_path / "first.csv"
    second = tmp_path / "second.csv"
    first.write_text("email,phone\nd@example.com,+91 98765 43223\n")
    second.write_text("email,phone\nD@example.com,+91 98765 43224\n")
    assert load_directory([str(first), str(second)]).lookup("d@example.com") == "+91 98765 43223"
    assert load_directory([str(second), str(first)]).lookup("d@example.com") == "+91 98765 43224"


def test_vcard_without_email_is_warning(tmp_path):
    path = tmp_path / "cards.vcf"
    path.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No Mail\r\nTEL:+91 98765 43225\r\nEND:VCARD\r\n")
    directory = load_directory([str(path)])
    assert len(directory) == 0
    assert "No Mail" in directory.problems[0].message


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_csv_other_delimiters(tmp_path, delimiter):
    path = tmp_path / "people.csv"
    path.write_text(f"email{delimiter}phone{delimiter}name\ne@example.com{delimiter}+91 98765 43228{delimiter}E\n")
    assert load_directory([str(path)]).lookup("e@example.com") == "+91 98765 43228"


def test_vcard_quoted_printable_name_and_mailto(tmp_path):
    path = tmp_path / "old-phone.vcf"
    path.write_bytes(
        b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Zo=C3=AB Das\r\n"
        b"EMAIL;INTERNET:zoe.das@example.com\r\nTEL;CELL:+91 98765 43230\r\nEND:VCARD\r\n"
    )
    directory = load_directory([str(path)])
    assert directory.name("zoe.das@example.com") == "Zoë Das"
    assert directory.lookup("zoe.das@example.com") == "+91 98765 43230"


def test_csv_mailto_emails(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("email,phone\nmailto:F@example.com,+91 98765 43231\n")
    assert load_directory([str(path)]).lookup("f@example.com") == "+91 98765 43231"


# (email, number chosen, name) from contact exports of Google and Outlook
CONTACT_EXPORTS = [
    ("asha.menon@example.com", "+91 98765 43234", "Asha Menon"),  # Phone 2 typed Mobile beats work
    ("asha@example.org", "+91 98765 43234", "Asha Menon"),  # second email column
    ("vikram.rao@example.com", "+91 98765 43235", "Vikram Rao"),  # " ::: " lists: first mobile
    ("vikram@example.org", "+91 98765 43235", "Vikram Rao"),
    ("no.phone@example.com", None, None),
    ("lata.pillai@example.com", "+91 98765 43237", "Lata Pillai"),  # Mobile Phone beats Business, fax ignored
    ("omar.khan@example.com", "+91 11 2345 6792", "Omar Khan"),
]


@pytest.mark.parametrize(("email", "number", "name"), CONTACT_EXPORTS)
def test_contact_exports(email, number, name):
    directory = load_directory(
        [str(DATA / "directory_google_contacts.csv"), str(DATA / "directory_outlook_contacts.csv")]
    )
    assert directory.lookup(email) == number
    assert directory.name(email) == name
    assert directory.problems == []


def _conflicts(directory):
    return [p for p in directory.problems if "different numbers" in p.message]


def test_conflicting_rows_keep_first_and_warn(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("email,phone\nbob@example.com,+91 98765 43230\nBOB@example.com,+91 98765 43231\n")
    directory = load_directory([str(path)])
    assert directory.lookup("bob@example.com") == "+91 98765 43230"
    [problem] = _conflicts(directory)
    assert problem.level == "warning"
    assert problem.address == "bob@example.com"
    assert f"+91 98765 43230 ({path} line 2)" in problem.message
    assert f"+91 98765 43231 ({path} line 3)" in problem.message
    assert "calling +91 98765 43230" in problem.message


def test_conflicting_files_keep_first_and_warn(tmp_path):
    first = tmp_path / "first.csv"
    second = tmp_path / "second.vcf"
    first.write_text("email,phone\nd@example.com,+91 98765 43223\n")
    second.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:D\r\nEMAIL:d@example.com\r\nTEL;TYPE=CELL:+91 98765 43224\r\nEND:VCARD\r\n")
    directory = load_directory([str(first), str(second)])
    assert directory.lookup("d@example.com") == "+91 98765 43223"
    [problem] = _conflicts(directory)
    assert str(first) in problem.message
    assert str(second) in problem.message
    assert "+91 98765 43223" in problem.message
    assert "+91 98765 43224" in problem.message


@pytest.mark.parametrize(
    "text",
    [
        # the same number written two ways
        "email,phone\ne@example.com,+91 98765 43240\ne@example.com,098765 43240\n",
        # a landline and a mobile row: the mobile wins by the rule
        "email,phone\ne@example.com,080 2345 6789\ne@example.com,+91 98765 43214\n",
    ],
)
def test_no_conflict_warning_when_the_rule_decides(tmp_path, text):
    path = tmp_path / "people.csv"
    path.write_text(text)
    assert _conflicts(load_directory([str(path)])) == []


def test_name_for(directory):
    assert directory.name_for("mailto:Kavya.Shah@example.com") == "Kavya Shah"
    assert directory.name_for("nobody@example.com") is None
