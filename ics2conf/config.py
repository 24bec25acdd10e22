"""Settings of one run, frozen once read.

Precedence: command-line flags > environment > config file > defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

DEFAULT_EASYCRON_API_URL = "https://api.easycron.com/v1"
DEFAULT_KOOKOO_OUTBOUND_URL = "http://www.kookoo.in/outbound/outbound.php"


@dataclass(frozen=True)
class Settings:
    """Everything a plan or sync needs besides the calendar files."""

    namespace: str = "default"
    now: datetime | None = None  # aware; None means the clock
    horizon_days: int = 30
    default_region: str = "IN"
    default_timezone: str = "Asia/Kolkata"
    directories: tuple[str, ...] = ()
    allow_international: bool = False
    call_organizer: bool = False
    lead_minutes: int = 0
    redial: int = 0
    redial_after_minutes: int = 5
    greeting: str | None = None
    allow_quiet_hours: bool = False
    daily_call_limit: int = 50
    easycron_api_url: str = DEFAULT_EASYCRON_API_URL
    easycron_api_key: str | None = field(default=None, repr=False)
    kookoo_outbound_url: str = DEFAULT_KOOKOO_OUTBOUND_URL
    kookoo_api_key: str | None = field(default=None, repr=False)
    kookoo_caller_id: str | None = None
    concurrency: int = 4
    lock_timeout_seconds: float = 60.0
    allow_mass_delete: bool = False

    def secrets(self) -> tuple[str, ...]:
        """Return the secret values that output must never contain."""
        return tuple(s for s in (self.easycron_api_key, self.kookoo_api_key) if s)
