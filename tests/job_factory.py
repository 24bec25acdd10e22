"""Builders of DesiredJob and remote job values for the sync tests, the kill loop and benchmarks.

The jobs look like the pipeline's: an ics2conf job name, a KooKoo URL with
an ``api_key`` parameter, and an exact one-time cron expression.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode

from ics2conf.model import Callee, DesiredJob, JobSpec, make_job_key

KOOKOO_TEST_KEY = "kookoo-secret-KEY-123"
KOOKOO_URL = "http://kookoo.test/outbound/outbound.php"


def desired_job(
    uid: str,
    attendee: str = "a@example.com",
    *,
    namespace: str = "default",
    part: str = "p0",
    cron_expression: str = "30 9 15 1 * 2027",
    timezone_name: str = "Asia/Kolkata",
    room: str = "4711",
    phone: str = "09876543210",
    kookoo_key: str = KOOKOO_TEST_KEY,
) -> DesiredJob:
    """Return the job that rings ``attendee`` for ``part`` of event ``uid``."""
    key = make_job_key(namespace, uid, attendee, part)
    query = urlencode({
        "api_key": kookoo_key,
        "phone_no": phone,
        "outbound_version": "2",
        "extra_data": f"<response><conference>{room}</conference></response>",
    })
    spec = JobSpec(
        name=key.name,
        url=f"{KOOKOO_URL}?{query}",
        cron_expression=cron_expression,
        timezone=timezone_name,
        description=f"ics2conf call to {attendee} for event {uid}",
    )
    callee = Callee(key=attendee, address=f"mailto:{attendee}", name=None, phone=phone,
                    phone_e164="+91" + phone[1:])
    return DesiredJob(
        spec=spec,
        event_uid=uid,
        summary=f"Meeting {uid}",
        callee=callee,
        room=room,
        part_key=part,
        next_run=datetime(2027, 1, 15, 4, 0, tzinfo=timezone.utc),
        exact_until=None,
    )


def desired_set(count: int, *, namespace: str = "default", generation: int = 0) -> list[DesiredJob]:
    """Return ``count`` jobs over ``count // 3 + 1`` meetings; ``generation`` changes some of them.

    Generation g moves every fourth meeting by g minutes and drops the
    attendee "c" from meetings whose number is divisible by g + 2, so
    consecutive generations need creates, updates and deletes.
    """
    jobs = []
    for number in range(count):
        meeting, seat = divmod(number, 3)
        attendee = "abc"[seat] + "@example.com"
        if generation and seat == 2 and meeting % (generation + 2) == 0:
            continue
        minute = (meeting + (generation if meeting % 4 == 0 else 0)) % 60
        jobs.append(desired_job(
            f"meeting-{meeting}@example.com",
            attendee,
            namespace=namespace,
            cron_expression=f"{minute} 10 {1 + meeting % 28} 3 * 2027",
            room=str(10000 + meeting),
            phone=f"098765{number:05d}"[:11],
        ))
    return jobs
