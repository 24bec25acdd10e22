"""Exceptions raised by ics2conf.

    Ics2confError                 base; ``str(error)`` is one plain sentence for the user
    ├── ConfigError               an invalid option, environment variable or config file
    ├── CalendarError             a file or event that cannot be read (source, uid)
    ├── DirectoryError            a directory file that cannot be read (source)
    ├── PhoneNumberError          an attendee number that is invalid or not allowed
    ├── ScheduleError             a schedule that is not exact: a bug, never written (uid)
    ├── PlanError                 a plan that must not be applied (mass delete, collisions)
    ├── LockTimeoutError          another sync of the namespace holds the lock
    └── EasyCronError             a request to EasyCron failed (status, endpoint, message)
        ├── EasyCronAuthError     401/403: the API key was rejected
        └── EasyCronUnknownOutcome  sent, but no response: the write may have happened

No message ever contains an API key: callers pass masked URLs only.
"""

from __future__ import annotations


class Ics2confError(Exception):
    """Base class of every error the CLI reports as a plain message."""


class ConfigError(Ics2confError):
    pass


class CalendarError(Ics2confError):
    def __init__(self, message: str, *, source: str | None = None, uid: str | None = None):
        super().__init__(message)
        self.source = source
        self.uid = uid


class DirectoryError(Ics2confError):
    def __init__(self, message: str, *, source: str | None = None):
        super().__init__(message)
        self.source = source


class PhoneNumberError(Ics2confError):
    def __init__(self, message: str, *, value: str | None = None):
        super().__init__(message)
        self.value = value


class ScheduleError(Ics2confError):
    def __init__(self, message: str, *, uid: str | None = None):
        super().__init__(message)
        self.uid = uid


class PlanError(Ics2confError):
    pass


class LockTimeoutError(Ics2confError):
    pass


class EasyCronError(Ics2confError):
    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        endpoint: str | None = None,
        api_message: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.endpoint = endpoint
        self.api_message = api_message


class EasyCronAuthError(EasyCronError):
    pass


class EasyCronUnknownOutcome(EasyCronError):
    pass
