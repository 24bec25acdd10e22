"""Resolve the time zones of calendar values to IANA zone names.

icalendar already turns a TZID into a ``tzinfo``: IANA names, Windows names
(``India Standard Time``), vendor-prefixed ids (``/mozilla.org/.../Europe/
Berlin``) and VTIMEZONE definitions under any name. This module adds what a
scheduler needs on top: an IANA name for the jobs, found by comparing a
custom definition's offsets with the IANA zones, a clear error for a TZID
nothing resolves, and Google's ``X-WR-TIMEZONE``.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import icalendar
import x_wr_timezone
from icalendar.error import BrokenCalendarProperty
from icalendar.timezone import tzp
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from .vtimezone import DefinedZone, fixed_offset_table, matching_zone, offset_table

UTC_ZONE = "UTC"


class UnknownTimezoneError(ValueError):
    """A TZID that neither IANA, the Windows table nor a VTIMEZONE resolves."""

    def __init__(self, tzid: str):
        super().__init__(tzid)
        self.tzid = tzid


# Files in a system zoneinfo folder that zoneinfo.available_timezones() lists
# but that are not IANA zones. ``localtime`` is the machine's own zone, so a
# job would follow the server. ``posixrules`` is a template for POSIX TZ
# strings, and ``Factory`` is a placeholder with a "-00" abbreviation.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
# Folders of whole copies of the database: ``posix/`` equals the main zones
# and ``right/`` counts leap seconds in its UTC offsets.
_COPY_FOLDERS = ("posix/", "right/")


@functools.cache
def iana_zone_names() -> frozenset[str]:
    """Return the zone names accepted in TZIDs and settings: zoneinfo's list without system-only files."""
    return frozenset(
        name for name in available_timezones() if name not in _NOT_ZONES and not name.startswith(_COPY_FOLDERS)
    )


def copied_zone(name: str) -> str | None:
    """Return ``X`` for a ``posix/X`` or ``right/X`` name whose X is an IANA zone, else None.

    ``right/`` zones subtract leap seconds from UTC, but a calendar gives civil
    (wall-clock) times, and those are the times of the main zone.
    """
    for folder in _COPY_FOLDERS:
        if name.startswith(folder) and name[len(folder):] in iana_zone_names():
            return name[len(folder):]
    return None


def zone_info(name: str) -> ZoneInfo:
    """Return the ZoneInfo of an IANA name, raising UnknownTimezoneError when there is none."""
    if name not in iana_zone_names():
        raise UnknownTimezoneError(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownTimezoneError(name) from None


@functools.cache
def _link_targets() -> dict[str, str]:
    """Map backward-compatible IANA link names (Asia/Calcutta) to their zones (Asia/Kolkata)."""
    links: dict[str, str] = {}
    try:
        import tzdata

        table = Path(tzdata.__file__).parent / "zoneinfo" / "tzdata.zi"
        for line in table.read_text(encoding="utf-8").splitlines():
            # "L <target> <link name>" lines of the zic input format
            if line.startswith("L "):
                _, target, link = line.split()
                links[link] = target
    except (ImportError, OSError, ValueError):
        pass
    return links


@functools.cache
def _country_zone_names() -> frozenset[str]:
    """Return the zone names of tzdata's zone.tab, one or more per country."""
    try:
        import tzdata

        table = Path(tzdata.__file__).parent / "zoneinfo" / "zone.tab"
        rows = table.read_text(encoding="utf-8").splitlines()
    except (ImportError, OSError):
        return frozenset()
    return frozenset(row.split("\t")[2] for row in rows if row and not row.startswith("#"))


def canonical_zone(name: str) -> str:
    """Return the current IANA name for a zone or an old alias (Asia/Calcutta -> Asia/Kolkata).

    Names listed in zone.tab stay as they are, even when tzdata now links
    them to another zone (Europe/Amsterdam to Europe/Brussels). tzdata keeps
    zone.tab, one row per country, "as an aid for users, to help them select
    timezones", so these are the names people and pickers know.
    """
    if name in ("UTC", "Etc/UTC", "Etc/GMT", "GMT", "Z", "Etc/Zulu", "Zulu", "Etc/Universal", "Universal"):
        return UTC_ZONE
    listed = _country_zone_names()
    links = _link_targets()
    seen = set()
    while name not in listed and name in links and name not in seen:
        seen.add(name)
        name = links[name]
    return name


@functools.cache
def _canonical_zone_names() -> tuple[str, ...]:
    links = _link_targets()
    names = sorted(
        name
        for name in available_timezones()
        if name not in links and "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/"))
    )
    return tuple(names)


def zone_name_hints(tzid: str | None) -> list[str]:
    """Return IANA names a TZID suggests: a Windows name's zone, or an IANA name inside a prefixed id."""
    if not tzid:
        return []
    cleaned = tzid.strip().strip('"').strip("/")
    hints = []
    if cleaned in WINDOWS_TO_OLSON:
        hints.append(WINDOWS_TO_OLSON[cleaned])
    parts = cleaned.split("/")
    for start in range(len(parts)):
        hints.append("/".join(parts[start:]))
    return [h for h in hints if _is_zone_name(h)]


def _is_zone_name(name: str) -> bool:
    return name in iana_zone_names()


def iana_name(tz: tzinfo | None, *, tzid: str | None = None, default_timezone: str = "Asia/Kolkata") -> str | None:
    """Return the IANA zone name jobs should use for values in ``tz``, or None when none matches.

    A ZoneInfo keeps its own key; ``register_vtimezones`` has already
    replaced every VTIMEZONE that equals an IANA zone by that zone. A fixed
    offset maps to the first IANA zone that always has it, trying the zones
    the TZID suggests first, then ``default_timezone``.
    """
    if tz is None:
        return None
    if isinstance(tz, ZoneInfo):
        return canonical_zone(tz.key)
    if tz is UTC:
        return UTC_ZONE
    if isinstance(tz, DefinedZone):
        return None
    offsets = {tz.utcoffset(t.replace(tzinfo=None)) for t in _FIXED_PROBES}
    if len(offsets) != 1 or None in offsets:
        return None
    name = matching_zone(fixed_offset_table(offsets.pop()), _candidates(zone_name_hints(tzid), default_timezone))
    return canonical_zone(name) if name else None


# A tzinfo with the same offset at these instants is treated as a fixed offset.
_FIXED_PROBES = (datetime(2027, 1, 15, 12, tzinfo=UTC), datetime(2027, 7, 15, 12, tzinfo=UTC))


# Zones tried before the alphabetical list, so a custom CET definition maps
# to Europe/Berlin rather than Africa/Ceuta: the zones Windows names stand for
# (one main zone per Windows zone, in the CLDR table icalendar ships).
@functools.cache
def _preferred_zones() -> tuple[str, ...]:
    return tuple(
        sorted(
            set(WINDOWS_TO_OLSON.values()),
            key=lambda name: (not name.startswith(("Europe/", "Asia/", "America/")), name),
        )
    )


def _candidates(hints: Iterable[str], default_timezone: str) -> Iterable[str]:
    seen: set[str] = set()
    for name in (*hints, default_timezone, UTC_ZONE, *_preferred_zones(), *_canonical_zone_names()):
        if name not in seen and _is_zone_name(name):
            seen.add(name)
            yield name


# --- VTIMEZONE definitions ------------------------------------------------

_VTIMEZONE_BLOCK = re.compile(r"^BEGIN:VTIMEZONE\r\n.*?^END:VTIMEZONE\r\n", re.MULTILINE | re.DOTALL | re.IGNORECASE)
_TZID_LINE = re.compile(r"^TZID[^:\r\n]*:([^\r\n]*)", re.MULTILINE | re.IGNORECASE)


def register_vtimezones(text: str, *, default_timezone: str = "Asia/Kolkata") -> list[tuple[str, str, str]]:
    """Resolve the VTIMEZONEs of one calendar text before icalendar parses it.

    icalendar keeps one VTIMEZONE per TZID for the whole process, so the
    definitions of earlier files are forgotten first. Each definition whose
    TZID is no IANA name is then registered as the IANA zone it equals, or
    else as a DefinedZone following its own rules, so every value using it
    gets a fast, correct tzinfo. Returns the definitions icalendar cannot
    read as ``(tzid, reason, block)``: parsing the text with them would fail
    as a whole, so the caller removes them.
    """
    broken: list[tuple[str, str, str]] = []
    cache = _icalendar_zone_cache()
    if cache is None:
        return broken
    cache.clear()
    for match in _VTIMEZONE_BLOCK.finditer(text):
        written = _TZID_LINE.search(match.group(0))
        if written is None or _is_zone_name(tzp.clean_timezone_id(written.group(1).strip())):
            # icalendar uses the IANA zone of a known name and ignores the definition.
            continue
        try:
            component = icalendar.Timezone.from_ical(match.group(0))
            tzid = str(component["TZID"])
            table = offset_table(component)
        except Exception as error:  # noqa: BLE001 - icalendar raises several types on a bad definition
            broken.append((written.group(1).strip(), str(error).strip() or type(error).__name__, match.group(0)))
            continue
        if table is None:
            continue
        # Parsing the definition above cached icalendar's own zone under the
        # same key; this replaces it.
        name = matching_zone(table, _candidates(zone_name_hints(tzid), default_timezone))
        cache[tzp.clean_timezone_id(tzid)] = ZoneInfo(name) if name else DefinedZone(tzid, table)
    return broken


_TZID_PARAMETER = re.compile(r';TZID=(?:"([^"\r\n]*)"|([^;:\r\n]*))', re.IGNORECASE)
_DISPLAY_NAME = re.compile(r"^\(?(?:UTC|GMT)\s*(?:([+-])(\d{1,2})(?:[:.]?(\d{2}))?)?\)?\s*(.*)$", re.IGNORECASE)


def iana_vtimezone_blocks(text: str) -> list[tuple[str, str]]:
    """Return ``(tzid, block)`` for each VTIMEZONE whose TZID is an IANA name, which icalendar uses instead."""
    found = []
    for match in _VTIMEZONE_BLOCK.finditer(text):
        written = _TZID_LINE.search(match.group(0))
        if written is not None and _is_zone_name(tzp.clean_timezone_id(written.group(1).strip())):
            found.append((written.group(1).strip(), match.group(0)))
    return found


def register_tzid_aliases(text: str) -> list[tuple[str, str]]:
    """Register TZIDs that name a zone loosely, and return them as ``(tzid, zone)`` pairs.

    Some writers use a zone name in other letter case (``asia/kolkata``) or
    Outlook's display name (``(UTC+05:30) Chennai, Kolkata, Mumbai, New
    Delhi``) without a VTIMEZONE. Such a TZID maps to an IANA zone only when
    the name is unique: a display name needs a city of an IANA zone whose
    winter or summer offset equals the one written. Anything else stays
    unknown, which is an error for the event.
    """
    cache = _icalendar_zone_cache()
    if cache is None:
        return []
    # Only a TZID inside a VTIMEZONE defines a zone; a stray TZID property of an event does not.
    defined = {
        tzp.clean_timezone_id(line.group(1).strip())
        for block in _VTIMEZONE_BLOCK.finditer(text)
        for line in _TZID_LINE.finditer(block.group(0))
    }
    written = {(m.group(1) if m.group(1) is not None else m.group(2)).strip() for m in _TZID_PARAMETER.finditer(text)}
    aliases = []
    for tzid in sorted(written):
        key = tzp.clean_timezone_id(tzid)
        if key and key not in defined and copied_zone(key):
            zone = canonical_zone(copied_zone(key))
            cache[key] = ZoneInfo(zone)
            aliases.append((tzid, zone))
            continue
        if not key or key in defined or zone_name_hints(tzid):
            continue  # icalendar resolves it, or a VTIMEZONE defines it
        zone = _alias_zone(key)
        if zone is not None:
            cache[key] = ZoneInfo(zone)
            aliases.append((tzid, zone))
    return aliases


def _alias_zone(name: str) -> str | None:
    lowered = _lower_case_zone_names()
    if name.lower() in lowered:
        return canonical_zone(lowered[name.lower()])
    match = _DISPLAY_NAME.match(name)
    if match is None or not match.group(4):
        return None
    sign, hours, minutes = match.group(1), match.group(2), match.group(3)
    offset = timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
    offset = -offset if sign == "-" else offset
    for city in re.split(r"[,;/]", match.group(4)):
        key = city.strip().replace(" ", "_").lower()
        for zone in _zones_by_city().get(key, ()):
            info = ZoneInfo(zone)
            if offset in (datetime(2027, 1, 15, tzinfo=info).utcoffset(), datetime(2027, 7, 15, tzinfo=info).utcoffset()):
                return canonical_zone(zone)
    return None


@functools.cache
def _lower_case_zone_names() -> dict[str, str]:
    names = {name.lower(): name for name in iana_zone_names()}
    names.update({windows.lower(): zone for windows, zone in WINDOWS_TO_OLSON.items()})
    return names


@functools.cache
def _zones_by_city() -> dict[str, tuple[str, ...]]:
    cities: dict[str, list[str]] = {}
    for name in sorted(available_timezones()):
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            cities.setdefault(name.rsplit("/", 1)[1].lower(), []).append(name)
    return {city: tuple(names) for city, names in cities.items()}


def _icalendar_zone_cache() -> dict | None:
    # NOTE: icalendar 7 has no public way to register a zone under a TZID;
    # this is its private cache. Without it icalendar's own dateutil zones
    # are used: correct, but slow and mapped to UTC for jobs.
    cache = getattr(tzp, "_TZP__tz_cache", None)
    return cache if isinstance(cache, dict) else None


# --- reading values -------------------------------------------------------


def unknown_tzid(prop) -> str | None:
    """Return the TZID of a date-time property that icalendar could not resolve, else None.

    icalendar leaves such a value naive, which would otherwise read as a
    floating time; RFC 5545 section 3.2.19 makes a TZID without a matching
    VTIMEZONE an error, so it is reported instead of guessed. A TZID that
    icalendar resolved to a file of the system zoneinfo folder that is not an
    IANA zone (``localtime``, ``Factory``) is reported the same way.
    """
    values = prop if isinstance(prop, list) else [prop]
    for value in values:
        params = getattr(value, "params", None)
        tzid = params.get("TZID") if params is not None else None
        if not tzid:
            continue
        for item in _datetimes_of(value):
            if isinstance(item, datetime) and item.tzinfo is None:
                return str(tzid)
            if isinstance(item, datetime) and isinstance(item.tzinfo, ZoneInfo):
                if item.tzinfo.key not in iana_zone_names():
                    # icalendar found a system-only file such as localtime.
                    return str(tzid)
    return None


def _datetimes_of(value) -> list:
    try:
        dt = getattr(value, "dt", None)
        if dt is not None:
            return [dt[0] if isinstance(dt, tuple) else dt]
        dts = getattr(value, "dts", None)
        if dts is not None:
            return [d.dt[0] if isinstance(d.dt, tuple) else d.dt for d in dts]
    except BrokenCalendarProperty:
        return []  # a value icalendar could not read; building the event reports it as invalid
    return []


def apply_x_wr_timezone(
    zone_name: str, master: icalendar.Event, overrides: list[icalendar.Event]
) -> tuple[icalendar.Event, list[icalendar.Event]]:
    """Return copies of a series' components with a calendar's X-WR-TIMEZONE applied.

    Google writes events in UTC and the calendar's zone in X-WR-TIMEZONE; a
    weekly meeting must repeat at the same local time across DST changes,
    which the ``x-wr-timezone`` package restores by moving UTC and floating
    values into the zone. Only series need it: a single event's instant is
    the same either way.
    """
    calendar = icalendar.Calendar()
    calendar.add("X-WR-TIMEZONE", zone_name)
    calendar.add_component(master)
    for component in overrides:
        calendar.add_component(component)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        converted = x_wr_timezone.to_standard(calendar).walk("VEVENT")
    return converted[0], converted[1:]


def as_aware(value: date | datetime, default_zone: tzinfo) -> datetime:
    """Return a date or floating date-time as an aware datetime in ``default_zone``."""
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=default_zone)
    if value.tzinfo is None:
        return value.replace(tzinfo=default_zone)
    return value
