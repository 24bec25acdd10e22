"""Look up attendees' phone numbers by email in CSV and vCard files.

CSV files have a header row with ``email`` and ``phone`` columns and an
optional ``name``. Contact exports of Google Contacts and Outlook, with
their numbered e-mail and phone columns, are read as well. vCard files (``.vcf``, versions 2.1, 3.0 and 4.0) give
each card's TEL numbers to every EMAIL of the card. Several files merge.
When one email has several numbers, the one marked preferred wins, then a
mobile (TYPE=CELL, or a mobile number by its digits), then the first listed.
When the first listed wins over a different number of another row or card, or
numbers of different files differ, a warning names the email, both numbers and
where each was found.
"""

from __future__ import annotations

import csv
import io
import quopri
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers

from .errors import DirectoryError
from .model import Problem
from .sources import decode_calendar_bytes

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_EMAIL_COLUMNS = ("email", "e-mail", "mail", "email address")
_PHONE_COLUMNS = ("phone", "phone number", "mobile", "tel", "telephone", "number")
_NAME_COLUMNS = ("name", "full name", "display name")
_NAME_PARTS = ("first name", "given name", "middle name", "additional name", "last name", "family name")


@dataclass(frozen=True)
class _Number:
    raw: str
    preferred: int  # lower is preferred: RFC 6350 PREF=1..100, 100 when unmarked
    mobile: bool
    order: int  # position across all files, for the "first listed" rule
    source: str = ""  # the directory file
    entry: str = ""  # the row or card within the file, e.g. "line 3" or "vCard #2"


@dataclass
class Directory:
    """Phone numbers by lower-cased email, merged from every directory file."""

    numbers: dict[str, list[_Number]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def lookup(self, email: str) -> str | None:
        """Return the number for ``email`` as written in the directory, or None."""
        candidates = self.numbers.get((email or "").strip().lower())
        if not candidates:
            return None
        best = min(candidates, key=lambda n: (n.preferred, not n.mobile, n.order))
        return best.raw

    def name(self, email: str) -> str | None:
        """Return the display name the directory gives ``email``, or None."""
        key = (email or "").strip().lower()
        if key.startswith("mailto:"):
            key = key[len("mailto:"):]
        return self.names.get(key)

    def name_for(self, email: str) -> str | None:
        """Return the display name the directory gives ``email``, or None (same as ``name``)."""
        return self.name(email)

    def __len__(self) -> int:
        return len(self.numbers)

    def _add(self, email: str, number: _Number, name: str | None) -> None:
        key = email.strip().lower()
        if key.startswith("mailto:"):
            key = key[len("mailto:"):]
        self.numbers.setdefault(key, []).append(number)
        if name and key not in self.names:
            self.names[key] = name


def load_directory(paths: Sequence[str]) -> Directory:
    """Read and merge directory files; raise DirectoryError naming a file that cannot be read."""
    directory = Directory()
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise DirectoryError(
                f"cannot read directory file {path}: {error.strerror or error}", source=str(path)
            ) from None
        text, problems = decode_calendar_bytes(data, str(path))
        directory.problems.extend(problems)
        directory.sources.append(str(path))
        if _looks_like_vcard(path, text):
            _read_vcards(text, str(path), directory)
        else:
            _read_csv(text, str(path), directory)
    directory.problems.extend(_conflict_problems(directory))
    return directory


def _conflict_problems(directory: Directory) -> list[Problem]:
    """Warn about emails whose number was chosen only by listing order, or differs between files.

    A landline row and a mobile row, or a card's work and cell numbers, are resolved by the
    rule (preferred, then mobile) and are not reported.
    """
    problems = []
    for email, candidates in directory.numbers.items():
        if len(candidates) < 2:
            continue
        best = min(candidates, key=lambda n: (*rank(n), n.order))
        same_entry = {_comparable(n.raw) for n in candidates if (n.source, n.entry) == (best.source, best.entry)}
        others = [
            n for n in candidates
            if (n.source, n.entry) != (best.source, best.entry)
            and _comparable(n.raw) not in same_entry
            and (n.source != best.source or rank(n) == rank(best))
        ]
        if not others:
            continue
        listed = ", ".join(f"{n.raw} ({n.source} {n.entry})" for n in others)
        problems.append(
            Problem(
                "warning",
                f"directory lists {email} with different numbers: {best.raw} ({best.source} {best.entry})"
                f" and {listed}; calling {best.raw}. Remove the wrong entry, or mark the right"
                " number preferred in a vCard.",
                best.source,
                address=email,
            )
        )
    return problems


def rank(number: _Number) -> tuple[int, bool]:
    """Return the sort key of the lookup's rule without the listing order (lower wins)."""
    return (number.preferred, not number.mobile)


def _comparable(raw: str) -> str:
    """Return a number in E.164 when it parses (as Indian when it has no country code), else its digits."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(raw, "IN"), phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        return re.sub(r"\D", "", raw)


def _looks_like_vcard(path: str, text: str) -> bool:
    return str(path).lower().endswith((".vcf", ".vcard")) or text.lstrip().upper().startswith("BEGIN:VCARD")


def _next_order(directory: Directory) -> int:
    return sum(len(v) for v in directory.numbers.values())


def _is_mobile(raw: str) -> bool:
    try:
        number = phonenumbers.parse(raw, "IN")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE


# --- CSV ------------------------------------------------------------------


def _read_csv(text: str, source: str, directory: Directory) -> None:
    first_line = text.split("\r\n", 1)[0]
    # Spreadsheets in many locales save CSV with semicolons; tabs come from pasted tables.
    delimiter = next((d for d in (",", ";", "\t") if d in first_line), ",")
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        directory.problems.append(Problem("warning", f"directory file {source} is empty", source))
        return
    layout = _csv_layout([cell.strip().lower() for cell in rows[0]])
    body = rows[1:]
    first_line_number = 2
    if layout is None:
        if rows[0] and _EMAIL.match(rows[0][0].strip()):
            # No header row: read the columns as email, phone, name.
            layout, body, first_line_number = _CsvLayout(emails=[0], phones=[(1, None, False)], names=[2]), rows, 1
        else:
            raise DirectoryError(
                f"directory file {source} has no 'email' and 'phone' columns: start it with the header"
                " row email,phone,name",
                source=source,
            )

    for line_number, row in enumerate(body, start=first_line_number):
        emails = [e for index in layout.emails for e in _values(row, index)]
        numbers = [
            (raw, mobile or any(word in _cell(row, type_index).lower() for word in ("mobile", "cell")))
            for index, type_index, mobile in layout.phones
            for raw in _values(row, index)
        ]
        name = " ".join(part for part in (_cell(row, index) for index in layout.names) if part) or None
        if layout.is_simple:
            # In a plain email,phone file every row is meant to be a person,
            # so a row that cannot be used is reported.
            problem = _simple_row_problem(emails, numbers, source, line_number)
            if problem is not None:
                directory.problems.append(problem)
                continue
        for email in emails:
            if not _EMAIL.match(email):
                continue
            for raw, mobile in numbers:
                number = _Number(
                    raw=raw, preferred=100, mobile=mobile or _is_mobile(raw), order=_next_order(directory),
                    source=source, entry=f"line {line_number}",
                )
                directory._add(email, number, name)


@dataclass(frozen=True)
class _CsvLayout:
    """The columns of a CSV header that hold emails, phones and the name."""

    emails: list[int]
    phones: list[tuple[int, int | None, bool]]  # (value column, type column, mobile by its header)
    names: list[int]  # joined with spaces: one full-name column, or first, middle and last name

    @property
    def is_simple(self) -> bool:
        return len(self.emails) == 1 and len(self.phones) == 1


def _csv_layout(header: list[str]) -> _CsvLayout | None:
    """Find the columns of a plain email,phone,name file or of a Google or Outlook contacts export."""
    emails = [i for i, h in enumerate(header) if h in _EMAIL_COLUMNS or _is_email_header(h)]
    phones = []
    for index, title in enumerate(header):
        if title in _PHONE_COLUMNS or _is_phone_header(title):
            # Google Contacts pairs "Phone 1 - Value" with "Phone 1 - Type".
            type_title = title.replace(" - value", " - type") if title.endswith(" - value") else None
            type_index = header.index(type_title) if type_title in header else None
            phones.append((index, type_index, "mobile" in title or "cell" in title))
    name = _column(header, _NAME_COLUMNS)
    if name is not None:
        names = [name]
    else:
        names = [i for part in _NAME_PARTS for i, h in enumerate(header) if h == part]
    if not emails or not phones:
        return None
    return _CsvLayout(emails=emails, phones=phones, names=names)


def _is_email_header(title: str) -> bool:
    # "E-mail Address", "E-mail 2 Address" (Outlook) and "E-mail 1 - Value" (Google);
    # not "E-mail Type" or "E-mail Display Name".
    return "mail" in title and ("address" in title or title.endswith(" - value"))


def _is_phone_header(title: str) -> bool:
    # "Mobile Phone", "Business Phone" (Outlook) and "Phone 1 - Value" (Google).
    words = ("phone", "mobile", "cell")
    excluded = ("fax", "pager", "type", "label")
    return any(w in title for w in words) and not any(w in title for w in excluded)


def _values(row: list[str], index: int) -> list[str]:
    # Google Contacts puts several values in one cell, separated by " ::: ".
    return [value.strip() for value in _cell(row, index).split(":::") if value.strip()]


def _simple_row_problem(emails: list[str], numbers: list, source: str, line_number: int) -> Problem | None:
    email = emails[0] if emails else ""
    if not email or not _EMAIL.match(email):
        return Problem("warning", f"{source} line {line_number}: invalid email {email!r}; row ignored", source)
    if not numbers:
        return Problem("warning", f"{source} line {line_number}: no phone for {email}; row ignored", source,
                       address=email)
    return None


def _column(header: list[str], names: Sequence[str]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


# --- vCard ----------------------------------------------------------------

_PROPERTY = re.compile(r"^(?:[A-Za-z0-9-]+\.)?(?P<name>[A-Za-z0-9-]+)(?P<params>(?:;[^:]*)?):(?P<value>.*)$")


def _read_vcards(text: str, source: str, directory: Directory) -> None:
    cards = 0
    card: list[tuple[str, dict[str, list[str]], str]] | None = None
    for line in text.split("\r\n"):
        match = _PROPERTY.match(line)
        if not match:
            continue
        name = match["name"].upper()
        value = match["value"].strip()
        if name == "BEGIN" and value.upper() == "VCARD":
            card = []
            continue
        if name == "END" and value.upper() == "VCARD":
            if card is not None:
                cards += 1
                _add_card(card, source, cards, directory)
            card = None
            continue
        if card is not None:
            card.append((name, _vcard_params(match["params"]), value))
    if cards == 0:
        directory.problems.append(Problem("warning", f"directory file {source} contains no vCard", source))


def _vcard_params(text: str) -> dict[str, list[str]]:
    """Parse ``;TYPE=cell,pref;PREF=1`` (3.0/4.0) and bare ``;CELL;PREF`` (2.1) into upper-case lists."""
    params: dict[str, list[str]] = {}
    for part in re.findall(r';((?:[^;"]|"[^"]*")*)', text):
        if "=" in part:
            key, _, raw = part.partition("=")
            values = [v.strip().strip('"').upper() for v in raw.split(",")]
            params.setdefault(key.strip().upper(), []).extend(values)
        elif part.strip():
            params.setdefault("TYPE", []).append(part.strip().upper())
    return params


def _add_card(card, source: str, index: int, directory: Directory) -> None:
    emails = [value for name, _, value in card if name == "EMAIL" and value]
    full_name = next((_vcard_text(value, params) for name, params, value in card if name == "FN" and value), None)
    numbers = []
    for name, params, value in card:
        if name != "TEL" or not value:
            continue
        types = set(params.get("TYPE", []))
        if "FAX" in types or "PAGER" in types:
            continue
        raw = value[len("tel:"):] if value.lower().startswith("tel:") else value
        preferred = 100
        if "PREF" in types:
            preferred = 1
        if params.get("PREF"):
            try:
                preferred = min(preferred, int(params["PREF"][0]))
            except ValueError:
                preferred = 1
        mobile = bool(types & {"CELL", "MOBILE", "IPHONE"}) or _is_mobile(raw)
        numbers.append((raw, preferred, mobile))
    label = full_name or (emails[0] if emails else f"card #{index}")
    if not emails:
        if numbers:
            directory.problems.append(
                Problem("warning", f"{source}: vCard {label} has a TEL but no EMAIL, so no attendee can match it",
                        source)
            )
        return
    if not numbers:
        directory.problems.append(
            Problem("warning", f"{source}: vCard {label} has no TEL number", source, address=emails[0])
        )
        return
    for email in emails:
        for raw, preferred, mobile in numbers:
            number = _Number(
                raw=raw, preferred=preferred, mobile=mobile, order=_next_order(directory),
                source=source, entry=f"vCard #{index}",
            )
            directory._add(email, number, full_name)


def _vcard_text(value: str, params: dict[str, list[str]]) -> str:
    if "QUOTED-PRINTABLE" in params.get("ENCODING", []):
        # vCard 2.1 exports (older phones, Outlook) encode non-ASCII names this way.
        charset = (params.get("CHARSET") or ["UTF-8"])[0]
        try:
            value = quopri.decodestring(value.encode("ascii", "replace")).decode(charset, "replace")
        except LookupError:
            value = quopri.decodestring(value.encode("ascii", "replace")).decode("utf-8", "replace")
    return re.sub(r"\\([,;\\])", r"\1", value).replace("\\n", " ").replace("\\N", " ").strip()
