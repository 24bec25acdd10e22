"""Read calendar inputs: files, folders, stdin and https/webcal feeds.

Every input becomes one or more ``CalendarText`` values holding clean text
(unfolded, CRLF line endings, one VCALENDAR per value) that icalendar can
parse. Reading never raises for bad input: each failure is a ``Problem``
naming the input, and the remaining inputs are still read.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from . import __version__
from .model import Problem

STDIN_NAME = "-"
STDIN_LABEL = "<stdin>"

FEED_TIMEOUT_SECONDS = (10.0, 30.0)  # (connect, read) for calendar feed requests
MAX_FEED_BYTES = 20 * 1024 * 1024  # larger feeds are rejected, not truncated
MAX_FILE_BYTES = 200 * 1024 * 1024  # guards against pointing the tool at a disk image
FEED_RETRIES = 2
USER_AGENT = f"ics2conf/{__version__} (+calendar feed reader)"

UTF8_BOM = b"\xef\xbb\xbf"
# Byte order marks of the wider Unicode encodings, longest first because the
# UTF-32 LE mark starts with the UTF-16 LE one. Windows tools (PowerShell's
# Out-File, Notepad's "Unicode") write UTF-16 with a BOM.
_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)

# RFC 5545 section 3.1: a line break followed by one space or tab is a fold.
# Unfolding on bytes, before decoding, rejoins a UTF-8 sequence that a
# careless writer split across the fold.
_FOLD = re.compile(rb"\r?\n[ \t]|\r[ \t]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BEGIN_END = re.compile(r"^(BEGIN|END):([A-Za-z0-9-]+)\s*$", re.IGNORECASE)
# A BEGIN or END line as ``split_calendars`` writes it; use with ``fullmatch``.
BOUNDARY_LINE = re.compile(r"(BEGIN|END):([A-Za-z0-9-]+)", re.IGNORECASE)


@dataclass
class CalendarText:
    """One VCALENDAR block of an input, as clean text."""

    source: str
    text: str


@dataclass
class ReadResult:
    """The calendar blocks of all inputs, the inputs read, and what went wrong."""

    calendars: list[CalendarText] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_inputs(
    inputs: Sequence[str],
    *,
    stdin: BinaryIO | None = None,
    session: requests.Session | None = None,
) -> ReadResult:
    """Read every input and split it into VCALENDAR blocks.

    An input is a file, a folder (searched recursively for ``*.ics``), ``-``
    for ``stdin``, or an ``https://``, ``webcal://`` or ``http://`` feed URL.
    """
    result = ReadResult()
    seen: set[str] = set()
    for item in inputs:
        try:
            for source, data in _iter_input_bytes(item, stdin, session, result.problems):
                identity = _identity(source)
                if identity in seen:
                    continue  # a file named directly and again through its folder
                seen.add(identity)
                result.sources.append(source)
                text, problems = decode_calendar_bytes(data, source)
                result.problems.extend(problems)
                blocks, problems = split_calendars(text, source)
                result.problems.extend(problems)
                result.calendars.extend(CalendarText(source, block) for block in blocks)
        except OSError as error:
            # A folder or stdin that fails half-way, for example on a permission error.
            label = STDIN_LABEL if item == STDIN_NAME else item
            result.problems.append(
                Problem("error", f"cannot read {label}: {error.strerror or error}; check the path and permissions",
                        label)
            )
    return result


def _identity(source: str) -> str:
    if source == STDIN_LABEL or is_feed_url(source):
        return source
    try:
        return str(Path(source).resolve())
    except OSError:
        return source


def _iter_input_bytes(
    item: str,
    stdin: BinaryIO | None,
    session: requests.Session | None,
    problems: list[Problem],
) -> Iterator[tuple[str, bytes]]:
    if item == STDIN_NAME:
        if stdin is None:
            problems.append(Problem("error", "cannot read '-': no standard input was given", STDIN_LABEL))
            return
        data = stdin.read()
        if isinstance(data, str):
            # A text stream has already been decoded; encode it back for one code path.
            data = data.encode("utf-8")
        yield STDIN_LABEL, data
        return

    if is_feed_url(item):
        try:
            yield item, fetch_feed(item, session=session)
        except FeedError as error:
            problems.append(Problem("error", str(error), item))
        return

    path = Path(item)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".ics")
        if not files:
            problems.append(Problem("warning", f"folder {item} contains no .ics files", item))
        for file in files:
            data = _read_file(file, problems)
            if data is not None:
                yield str(file), data
        return

    if not path.exists():
        problems.append(
            Problem("error", f"input {item} not found: pass an existing .ics file, a folder or a URL", item)
        )
        return
    data = _read_file(path, problems)
    if data is not None:
        yield str(path), data


def _read_file(path: Path, problems: list[Problem]) -> bytes | None:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            problems.append(
                Problem("error", f"cannot read {path}: {size} bytes exceeds the limit of {MAX_FILE_BYTES}", str(path))
            )
            return None
        return path.read_bytes()
    except OSError as error:
        problems.append(Problem("error", f"cannot read {path}: {error.strerror or error}", str(path)))
        return None


# --- feeds ----------------------------------------------------------------


class FeedError(Exception):
    """A calendar feed that could not be fetched; the message names the URL."""


def is_feed_url(item: str) -> bool:
    """Return True when ``item`` is a URL this module fetches."""
    return item.lower().startswith(("https://", "http://", "webcal://", "webcals://"))


def feed_request_url(url: str) -> str:
    """Return the HTTPS URL for a ``webcal://`` link; other URLs unchanged."""
    lowered = url.lower()
    if lowered.startswith("webcals://"):
        return "https://" + url[len("webcals://"):]
    if lowered.startswith("webcal://"):
        # webcal is an unofficial scheme that every client maps to HTTP(S);
        # HTTPS is the safe choice, and calendar hosts serve it.
        return "https://" + url[len("webcal://"):]
    return url


def feed_session(*, backoff_factor: float = 0.5) -> requests.Session:
    """Return a session that retries a feed GET on connection errors and 429/5xx replies."""
    retry = Retry(
        total=FEED_RETRIES,
        connect=FEED_RETRIES,
        read=False,  # re-raise a read timeout at once: it already waited the full timeout
        status=FEED_RETRIES,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        backoff_factor=backoff_factor,  # seconds; the first retry goes at once
        respect_retry_after_header=False,  # a feed host may ask for minutes
        raise_on_status=False,  # the last reply is reported with its status
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def fetch_feed(
    url: str,
    *,
    session: requests.Session | None = None,
    timeout: float | tuple[float, float] = FEED_TIMEOUT_SECONDS,
    max_bytes: int = MAX_FEED_BYTES,
) -> bytes:
    """Download a calendar feed, raising FeedError on failure or when it exceeds ``max_bytes``."""
    request_url = feed_request_url(url)
    http = session or feed_session()
    headers = {"Accept": "text/calendar, */*", "User-Agent": USER_AGENT}
    try:
        with http.get(request_url, timeout=timeout, stream=True, headers=headers) as response:
            if response.status_code != 200:
                raise FeedError(
                    f"fetching calendar feed {url} failed: HTTP {response.status_code}; check the URL and that the"
                    " feed is public or the link still valid"
                )
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FeedError(f"calendar feed {url} is {declared} bytes, more than the limit of {max_bytes}")
            chunks: list[bytes] = []
            total = 0
            for chunk in response.iter_content(chunk_size=65536):
                total += len(chunk)
                if total > max_bytes:
                    raise FeedError(f"calendar feed {url} is larger than the limit of {max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except requests.Timeout:
        raise FeedError(f"fetching calendar feed {url} timed out; retry later or download the file") from None
    except requests.RequestException as error:
        reason = type(error).__name__
        raise FeedError(f"fetching calendar feed {url} failed ({reason}); check the URL and the network") from None
    finally:
        if session is None:
            http.close()


# --- decoding -------------------------------------------------------------


def decode_calendar_bytes(data: bytes, source: str) -> tuple[str, list[Problem]]:
    """Decode calendar bytes to unfolded text with CRLF line endings.

    RFC 5545 requires UTF-8, with or without BOM. UTF-16 and UTF-32 with a
    BOM are decoded too. Other bytes are read as Windows-1252, a superset of
    Latin-1 for printable text, with a warning, so a legacy export never
    stops the run.
    """
    problems: list[Problem] = []
    for bom, encoding in _WIDE_BOMS:
        if data.startswith(bom):
            try:
                data = data[len(bom):].decode(encoding).encode("utf-8")
            except UnicodeDecodeError as error:
                problems.append(
                    Problem(
                        "warning",
                        f"{source} starts with a {encoding.upper()} byte order mark but has invalid"
                        f" {encoding.upper()} at byte {error.start + len(bom)}; replaced the invalid bytes."
                        " Export the calendar again, preferably as UTF-8",
                        source,
                    )
                )
                data = data[len(bom):].decode(encoding, errors="replace").encode("utf-8")
            break
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    data = _FOLD.sub(b"", data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _decode_cp1252(data)
        problems.append(
            Problem(
                "warning",
                f"{source} is not valid UTF-8; read it as Windows-1252 (Latin-1)."
                " Check names with accents, and export as UTF-8 to silence this warning",
                source,
            )
        )
    text = text.lstrip("\ufeff")
    text = _LINE_BREAK.sub("\r\n", text)
    return text, problems


def _decode_cp1252(data: bytes) -> str:
    # Five byte values are undefined in Windows-1252; Latin-1 maps them to
    # control characters, which keeps decoding total.
    return "".join(
        chunk.decode("cp1252", errors="strict") if _is_cp1252(chunk) else chunk.decode("latin-1")
        for chunk in re.split(rb"([\x81\x8d\x8f\x90\x9d])", data)
    )


def _is_cp1252(chunk: bytes) -> bool:
    return not (len(chunk) == 1 and chunk[0] in b"\x81\x8d\x8f\x90\x9d")


# --- structure ------------------------------------------------------------


def split_calendars(text: str, source: str) -> tuple[list[str], list[Problem]]:
    """Split text into complete VCALENDAR blocks.

    A block missing its ``END:VCALENDAR`` keeps the components that were
    closed before the text ended, with a warning. Text outside any
    VCALENDAR is ignored.
    """
    problems: list[Problem] = []
    blocks: list[str] = []
    lines = text.split("\r\n")
    stack: list[str] = []
    current: list[str] = []
    last_complete = 0  # length of ``current`` at the last point where only VCALENDAR was open
    repairs: Counter[str] = Counter()  # warning text -> how often the repair was made

    for line in lines:
        match = _BEGIN_END.match(line)
        if match:
            # icalendar keeps trailing whitespace in a component name, and a
            # "VEVENT " would then be skipped as an unknown component.
            line = f"{match[1]}:{match[2]}"
        if match and match[1].upper() == "BEGIN":
            name = match[2].upper()
            if name == "VCALENDAR" and stack:
                # A new calendar starts before the previous one ended.
                _close_truncated(current, last_complete, source, problems, blocks)
                stack, current = [], []
            if name == "VCALENDAR" or stack:
                stack.append(name)
                current.append(line)
            continue
        if not stack:
            continue
        current.append(line)
        if match and match[1].upper() == "END":
            name = match[2].upper()
            if name not in stack and _is_typo_of(name, stack[-1]):
                repairs[f"read END:{match[2]} as END:{stack[-1]}"] += 1
                name = stack[-1]
                current[-1] = f"END:{name}"
            elif name not in stack:
                current.pop()
                repairs[f"ignored END:{match[2]}, which has no matching BEGIN"] += 1
                continue
            if name == "VCALENDAR" and len(stack) > 1:
                # END:VCALENDAR inside an unclosed component: keep what was complete.
                message = f"{source}: BEGIN:{stack[1]} has no matching END:{stack[1]}"
                problems.append(_dropped_component_problem(current[last_complete:-1], message, source))
                current[last_complete:] = [line]
                stack = [name]
            if name in stack:
                unclosed = []
                while stack and stack[-1] != name:
                    unclosed.append(stack.pop())
                stack.pop()
                if unclosed:
                    # icalendar returns no calendar at all for an END that skips an
                    # open component, so the missing END lines are written in.
                    current[-1:] = [f"END:{child}" for child in unclosed] + [current[-1]]
                    for child in unclosed:
                        repairs[f"closed BEGIN:{child}, which has no END:{child}, before END:{name}"] += 1
            if not stack:
                blocks.append("\r\n".join(current) + "\r\n")
                current = []
                last_complete = 0
                continue
        if len(stack) == 1:
            last_complete = len(current)

    if stack:
        _close_truncated(current, last_complete, source, problems, blocks)
    for repair, count in repairs.items():
        times = f" ({count} times)" if count > 1 else ""
        problems.append(Problem("warning", f"{source}: {repair}{times}", source))

    if not blocks and not problems:
        if text.strip():
            problems.append(
                Problem("error", f"{source} is not an iCalendar file: no BEGIN:VCALENDAR line found", source)
            )
        else:
            problems.append(Problem("warning", f"{source} is empty", source))
    return blocks, problems


def _is_typo_of(written: str, expected: str) -> bool:
    # END:VTOOD for VTODO, END:VCALENDARD for VCALENDAR: close enough to be
    # the same name, far from every other component name.
    return difflib.SequenceMatcher(None, written, expected).ratio() >= 0.75


def _close_truncated(
    current: list[str], last_complete: int, source: str, problems: list[Problem], blocks: list[str]
) -> None:
    kept = current[:last_complete] if last_complete else current[:1]
    message = f"{source} ends without END:VCALENDAR (truncated download or copy?)"
    problems.append(_dropped_component_problem(current[max(last_complete, 1):], message, source))
    blocks.append("\r\n".join(kept + ["END:VCALENDAR"]) + "\r\n")


_UID_LINE = re.compile(r"^UID(?:;[^:]*)?:(.*)$", re.IGNORECASE)


def _dropped_component_problem(dropped: list[str], message: str, source: str) -> Problem:
    """Return the problem for ``dropped`` lines, whose component never ended; ``message`` states why.

    A dropped VEVENT is an error carrying its UID, because without it the
    meeting would look removed and its jobs would be deleted. The CLI holds
    back changes to the jobs of a UID with an error, and every deletion when
    the error has no UID. Other dropped components only warrant a warning.
    """
    starts = [i for i, line in enumerate(dropped) if line.upper().startswith("BEGIN:VEVENT")]
    if not starts:
        return Problem("warning", f"{message}; read the components that were complete and ignored the rest", source)
    uids = (m[1].strip() for m in map(_UID_LINE.match, dropped[starts[0]:]) if m and m[1].strip())
    uid = next(uids, None)
    if uid is None:
        return Problem(
            "error",
            f"{message}, inside a VEVENT before its UID line; read the components that were complete and"
            " held back every job deletion of this run. Download or export the file again",
            source,
        )
    return Problem(
        "error",
        f"{message}, inside VEVENT {uid}; read the components that were complete, ignored {uid} and kept"
        " its existing jobs unchanged. Download or export the file again",
        source,
        uid,
    )
