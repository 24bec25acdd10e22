"""Conference rooms derived from event UIDs."""

from __future__ import annotations

import itertools
import re

from ics2conf.model import Problem
from ics2conf.rooms import room_ids, room_number

# Pinned so a change of the hash, which would move every meeting to a new
# room and update every job, fails here first.
ROOM_GOOGLE_STANDUP = "296269370"
ROOM_UID_1 = "455845495"


def test_room_exact_values():
    assert room_number("6kq3c1o2dpj6abb4c5gm8b9k6s@google.com") == ROOM_GOOGLE_STANDUP
    assert room_number("uid-1") == ROOM_UID_1


def test_rooms_are_nine_digits():
    rooms, problems = room_ids(f"event-{n}@example.com" for n in range(2000))
    assert problems == []
    assert all(re.fullmatch(r"[1-9][0-9]{8}", room) for room in rooms.values())
    assert len(set(rooms.values())) == 2000


def test_rooms_are_stable_across_inputs():
    alone, _ = room_ids(["b@example.com"])
    together, _ = room_ids(["a@example.com", "b@example.com", "c@example.com"])
    assert alone["b@example.com"] == together["b@example.com"]


def test_duplicate_uids_share_one_room():
    rooms, problems = room_ids(["x", "x", "y"])
    assert set(rooms) == {"x", "y"}
    assert problems == []


def colliding_pair(digits: int) -> tuple[str, str]:
    seen: dict[str, str] = {}
    for n in itertools.count():
        uid = f"meeting-{n}"
        room = room_number(uid, digits=digits)
        if room in seen:
            return seen[room], uid
        seen[room] = uid
    raise AssertionError("unreachable")


def test_collision_moves_later_uid():
    first, second = colliding_pair(2)
    rooms, problems = room_ids([second, first], digits=2)
    shared = room_number(first, digits=2)
    earlier, later = sorted([first, second])
    assert rooms[earlier] == shared
    assert rooms[later] != shared
    assert rooms[later] == room_number(later, salt=1, digits=2) or rooms[later] == room_number(
        later, salt=2, digits=2
    )
    assert problems == [
        Problem(
            "warning",
            f"Conference room {shared} of UID {later!r} is already the room of UID"
            f" {earlier!r}; UID {later!r} uses room {rooms[later]} instead.",
            uid=later,
        )
    ]


def test_collision_resolution_is_deterministic():
    first, second = colliding_pair(2)
    assert room_ids([first, second], digits=2) == room_ids([second, first], digits=2)


def test_many_collisions_stay_unique():
    uids = [f"m{n}" for n in range(80)]
    rooms, problems = room_ids(uids, digits=2)
    assert len(set(rooms.values())) == 80
    assert all(re.fullmatch(r"[1-9][0-9]", room) for room in rooms.values())
    assert len(problems) > 0
