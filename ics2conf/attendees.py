"""Decide who is rung for a meeting, and at which number.

A number comes from a ``tel:`` attendee address first, else from the
directory by email. Skipped are attendees who declined or delegated
(PARTSTAT=DECLINED, DELEGATED), non-participants (ROLE=NON-PARTICIPANT),
rooms and resources (CUTYPE=ROOM/RESOURCE), and the organizer unless the
caller asks to ring them. A person listed twice, by the same email or the same
number, is rung once.
"""

from __future__ import annotations

from .directory import Directory
from .errors import PhoneNumberError
from .model import Address, Callee, Event, Problem, SkippedAttendee
from .phones import InternationalNumberError, to_kookoo


def resolve_callees(
    event: Event,
    directory: Directory,
    *,
    default_region: str = "IN",
    allow_international: bool = False,
    call_organizer: bool = False,
) -> tuple[list[Callee], list[SkippedAttendee], list[Problem]]:
    """Return the people to ring for ``event``, the attendees skipped with reasons, and the problems found."""
    callees: list[Callee] = []
    skipped: list[SkippedAttendee] = []
    problems: list[Problem] = []
    seen: dict[str, Callee] = {}  # callee key and E.164 number -> the callee already chosen

    organizer = event.organizer
    candidates: list[tuple[Address, bool]] = [(a, False) for a in event.attendees]
    if call_organizer and organizer is not None:
        as_attendee = [a for a in event.attendees if _same_address(a, organizer)]
        # An organizer who declined their own meeting (Google allows it) is
        # skipped through their attendee entry below.
        if not any(a.partstat == "DECLINED" for a in as_attendee):
            candidates.insert(0, (organizer, True))

    for address, is_organizer in candidates:
        reason = None if is_organizer else _skip_reason(address, organizer, call_organizer)
        if reason:
            skipped.append(SkippedAttendee(address.value, address.name, reason))
            continue

        raw, origin = _phone_for(address, directory)
        if raw is None:
            where = "no tel: address and no directory entry" if address.email else "no phone number"
            problems.append(
                Problem(
                    "warning",
                    f"attendee {address.value} of event {event.uid} has {where}; add {address.email or 'them'}"
                    " to the directory file to ring them",
                    event.source,
                    event.uid,
                    address.value,
                )
            )
            skipped.append(SkippedAttendee(address.value, address.name, "no phone number"))
            continue

        try:
            phone, e164 = to_kookoo(raw, default_region=default_region, allow_international=allow_international)
        except PhoneNumberError as error:
            who = f"{address.name} <{address.value}>" if address.name else address.value
            problems.append(
                Problem(
                    "error",
                    f"attendee {who} of event {event.uid}: {error} (from {origin})",
                    event.source,
                    event.uid,
                    address.value,
                )
            )
            if isinstance(error, InternationalNumberError):
                reason = f"number {raw!r} is outside India and international calls are not allowed"
            else:
                reason = f"invalid phone number {raw!r}"
            skipped.append(SkippedAttendee(address.value, address.name, reason))
            continue

        key = address.email or "tel:" + e164
        earlier = seen.get(key) or seen.get("tel:" + e164)
        if earlier is not None:
            if earlier.address != address.value or is_organizer:
                skipped.append(
                    SkippedAttendee(address.value, address.name, f"same person as {earlier.address}, rung once")
                )
            continue
        callee = Callee(
            key=key,
            address=address.value,
            name=address.name or (directory.name(address.email) if address.email else None),
            phone=phone,
            phone_e164=e164,
        )
        callees.append(callee)
        seen[key] = callee
        seen["tel:" + e164] = callee
    return callees, skipped, problems


def _skip_reason(address: Address, organizer: Address | None, call_organizer: bool) -> str | None:
    if address.cutype in ("ROOM", "RESOURCE"):
        return address.cutype.lower()
    if address.partstat == "DECLINED":
        return "declined"
    if address.partstat == "DELEGATED":
        # RFC 5545 3.2.12: the attendee handed the meeting to the delegate,
        # who is listed as an attendee of its own.
        return "delegated to another attendee"
    if address.role == "NON-PARTICIPANT":
        return "non-participant"
    if organizer is not None and _same_address(address, organizer):
        if call_organizer:
            return None
        return "organizer (rung only with --call-organizer)"
    return None


def _same_address(first: Address, second: Address) -> bool:
    if first.email and second.email:
        return first.email == second.email
    return first.value.strip().lower() == second.value.strip().lower()


def _phone_for(address: Address, directory: Directory) -> tuple[str | None, str]:
    if address.tel:
        return address.tel, "its tel: address"
    if address.email:
        number = directory.lookup(address.email)
        if number:
            return number, "the directory"
    return None, ""
