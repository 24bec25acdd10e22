"""Derive the KooKoo conference room of each meeting from its UID.

Every attendee of one meeting must land in the same room and two meetings
must never share one, and a re-run must find the same rooms with no local
state. So a room is a hash of the event UID, 9 decimal digits long. The
first digit is never 0, because KooKoo rooms in every public sample are
plain numbers and a system that reads the room as a number drops it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from .model import Problem

ROOM_DIGITS = 9


def room_number(uid: str, *, salt: int = 0, digits: int = ROOM_DIGITS) -> str:
    """Return the ``digits``-long room of ``uid``, or with ``salt`` > 0 an alternative room."""
    text = uid if salt == 0 else f"{uid}\x00{salt}"
    value = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    low = 10 ** (digits - 1)
    return str(low + value % (9 * low))


def room_ids(
    uids: Iterable[str], *, digits: int = ROOM_DIGITS
) -> tuple[dict[str, str], list[Problem]]:
    """Return the room of every UID, resolving hash collisions, with a warning per collision.

    UIDs are assigned in sorted order, so a collision is resolved the same way
    on every run with the same UIDs: the UID that sorts first keeps its hashed
    room and the later one takes the next free salted hash.
    NOTE: a UID that moved because of a collision moves back to its hashed
    room when the other meeting leaves the input. Its jobs are then updated.
    """
    rooms: dict[str, str] = {}
    owners: dict[str, str] = {}
    problems: list[Problem] = []
    for uid in sorted(set(uids)):
        room = room_number(uid, digits=digits)
        salt = 0
        while room in owners:
            if salt == 0:
                first_owner = owners[room]
                first_room = room
            salt += 1
            if salt > 9 * 10 ** (digits - 1):
                raise ValueError(f"no free {digits}-digit conference room is left for UID {uid!r}")
            room = room_number(uid, salt=salt, digits=digits)
        if salt:
            problems.append(
                Problem(
                    "warning",
                    f"Conference room {first_room} of UID {uid!r} is already the room of UID"
                    f" {first_owner!r}; UID {uid!r} uses room {room} instead.",
                    uid=uid,
                )
            )
        rooms[uid] = room
        owners[room] = uid
    return rooms, problems
