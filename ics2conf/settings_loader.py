"""Build the frozen ``Settings`` of one run from flags, environment, config file and defaults.

Precedence, highest first: command-line flags, environment variables, the TOML config file,
the defaults in ``Settings``. The config file is the first of ``--config PATH``,
``./ics2conf.toml`` and ``ics2conf.toml`` in the platform's user config folder
(``platformdirs.user_config_dir("ics2conf")``) that exists; only ``--config`` must exist.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import platformdirs

from ics2conf.config import Settings
from ics2conf.errors import ConfigError
from ics2conf.model import NAMESPACE_PATTERN

CONFIG_FILE_NAME = "ics2conf.toml"

# Environment variables named by the services' own conventions; every other setting is read
# from ICS2CONF_<FIELD NAME IN UPPER CASE>, e.g. ICS2CONF_HORIZON_DAYS.
SERVICE_ENV_VARS = {
    "easycron_api_key": "EASYCRON_API_KEY",
    "easycron_api_url": "EASYCRON_API_URL",
    "kookoo_api_key": "KOOKOO_API_KEY",
    "kookoo_caller_id": "KOOKOO_CALLER_ID",
    "kookoo_outbound_url": "KOOKOO_OUTBOUND_URL",
}
SECRET_FIELDS = ("easycron_api_key", "kookoo_api_key")

# Value sources, as ``ics2conf config`` shows them.
SOURCE_FLAG = "flag"
SOURCE_ENV = "env"
SOURCE_FILE = "file"
SOURCE_DEFAULT = "default"

SETTINGS_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def env_var_name(field_name: str) -> str:
    """Return the environment variable that sets ``field_name``."""
    return SERVICE_ENV_VARS.get(field_name, "ICS2CONF_" + field_name.upper())


@dataclass(frozen=True)
class LoadedSettings:
    """Settings with the origin of each value and the config file that was read, if any."""

    settings: Settings
    sources: dict[str, str]
    config_file: Path | None


def default_config_paths(cwd: Path | None = None) -> list[Path]:
    """Return the config file locations searched without --config, in order."""
    return [
        (cwd or Path.cwd()) / CONFIG_FILE_NAME,
        Path(platformdirs.user_config_dir("ics2conf")) / CONFIG_FILE_NAME,
    ]


def find_config_file(explicit: Path | None, cwd: Path | None = None) -> Path | None:
    """Return the config file to read: ``explicit``, else the first default location that exists."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"config file {explicit} not found: check the --config path")
        return explicit
    for candidate in default_config_paths(cwd):
        if candidate.is_file():
            return candidate
    return None


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a TOML config file into field names and raw values; keys may use '-' or '_'."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"invalid TOML in config file {path}: {error}") from None

    values: dict[str, Any] = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name == "directory":
            name = "directories"
        if name == "redial_after":
            name = "redial_after_minutes"
        if name == "lock_timeout":
            name = "lock_timeout_seconds"
        if name not in SETTINGS_FIELDS:
            raise ConfigError(
                f"unknown key {key!r} in config file {path}: see docs/configuration.md for the keys"
            )
        values[name] = value
    return values


def _read_env(env: Mapping[str, str]) -> dict[str, str]:
    values = {}
    for name in SETTINGS_FIELDS:
        raw = env.get(env_var_name(name))
        if raw is not None and raw.strip() != "":
            values[name] = raw.strip()
    return values


# --- conversion and validation --------------------------------------------------------------


def _as_bool(name: str, value: Any, origin: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"invalid value {value!r} for {name} ({origin}): use true or false")


def _as_int(name: str, value: Any, origin: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"invalid value {value!r} for {name} ({origin}): expected a whole number")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"invalid value {value!r} for {name} ({origin}): expected a whole number"
        ) from None
    if number < minimum or (maximum is not None and number > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise ConfigError(f"invalid value {number} for {name} ({origin}): use at least {minimum}{upper}")
    return number


def _as_float(name: str, value: Any, origin: str, minimum: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"invalid value {value!r} for {name} ({origin}): expected a number") from None
    if number < minimum:
        raise ConfigError(f"invalid value {value!r} for {name} ({origin}): use at least {minimum}")
    return number


def _as_zone(name: str, value: Any, origin: str) -> str:
    text = str(value).strip()
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {text!r} for {name} ({origin}): use an IANA name such as Asia/Kolkata"
        ) from None
    return text


def parse_now(value: Any, default_timezone: str, origin: str = "--now") -> datetime:
    """Parse an ISO-8601 instant; a time without offset is read in ``default_timezone``."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ConfigError(
                f"invalid time {text!r} for now ({origin}): use ISO-8601, e.g. 2026-01-05T09:00+05:30"
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(default_timezone))
    return moment


BOOLEAN_FIELDS = ("allow_international", "call_organizer", "allow_quiet_hours", "allow_mass_delete")
# Whole-number settings and their (minimum, maximum) values; None means no maximum.
INTEGER_RANGES = {
    "horizon_days": (1, 3660),
    "lead_minutes": (0, 1440),
    "redial_after_minutes": (1, 1440),
    "redial": (0, 10),
    "daily_call_limit": (1, None),
    "concurrency": (1, 32),
}


def _as_region(value: Any, origin: str) -> str:
    region = str(value).strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(
            f"unknown region {value!r} for default_region ({origin}):"
            " use a two-letter country code such as IN"
        )
    return region


def _as_namespace(value: Any, origin: str) -> str:
    namespace = str(value).strip()
    if not NAMESPACE_PATTERN.match(namespace):
        raise ConfigError(
            f"invalid namespace {namespace!r} ({origin}): use 1-40 lower-case letters, digits,"
            " '-' or '_', starting with a letter or digit"
        )
    return namespace


def _as_paths(value: Any, origin: str) -> tuple[str, ...]:
    if isinstance(value, str):
        items = [part.strip() for part in value.split(os.pathsep)]
    elif isinstance(value, (list, tuple)):
        items = [str(part).strip() for part in value]
    else:
        raise ConfigError(f"invalid value {value!r} for directories ({origin}): expected a list of paths")
    return tuple(item for item in items if item)


def _as_url(name: str, value: Any, origin: str) -> str:
    url = str(value).strip()
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"invalid URL for {name} ({origin}): it must start with http:// or https://")
    return url.rstrip("/") if name == "easycron_api_url" else url


def _convert(name: str, value: Any, origin: str, default_timezone: str) -> Any:
    """Convert a raw value of field ``name`` to its type, raising ConfigError naming the origin."""
    if name in BOOLEAN_FIELDS:
        return _as_bool(name, value, origin)
    if name in INTEGER_RANGES:
        minimum, maximum = INTEGER_RANGES[name]
        return _as_int(name, value, origin, minimum, maximum)
    if name == "lock_timeout_seconds":
        return _as_float(name, value, origin, 0)
    if name == "default_timezone":
        return _as_zone(name, value, origin)
    if name == "default_region":
        return _as_region(value, origin)
    if name == "namespace":
        return _as_namespace(value, origin)
    if name == "now":
        return parse_now(value, default_timezone, origin)
    if name == "directories":
        return _as_paths(value, origin)
    if name in ("easycron_api_url", "kookoo_outbound_url"):
        return _as_url(name, value, origin)
    if name == "greeting":
        text = str(value)
        return text if text.strip() else None
    return str(value)


def _origin_label(name: str, source: str, config_file: Path | None) -> str:
    if source == SOURCE_ENV:
        return f"environment variable {env_var_name(name)}"
    if source == SOURCE_FILE:
        return f"config file {config_file}"
    return f"--{name.replace('_', '-')}"


def load_settings(
    flags: Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
    cwd: Path | None = None,
) -> LoadedSettings:
    """Merge flags > environment > config file > defaults into validated Settings.

    ``flags`` holds only the options given on the command line, keyed by Settings field name.
    """
    env = os.environ if env is None else env
    config_file = find_config_file(config_path, cwd)
    layers = [
        (SOURCE_FLAG, {k: v for k, v in flags.items() if v is not None}),
        (SOURCE_ENV, _read_env(env)),
        (SOURCE_FILE, read_config_file(config_file) if config_file else {}),
    ]

    raw: dict[str, tuple[Any, str]] = {}
    for source, values in reversed(layers):
        for name, value in values.items():
            if name not in SETTINGS_FIELDS:
                raise ConfigError(f"unknown setting {name!r}")
            raw[name] = (value, source)

    # The default zone is needed first because --now without an offset is read in it.
    default_timezone = Settings.default_timezone
    if "default_timezone" in raw:
        value, source = raw["default_timezone"]
        default_timezone = _convert(
            "default_timezone", value, _origin_label("default_timezone", source, config_file), ""
        )

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in SETTINGS_FIELDS:
        if name in raw:
            value, source = raw[name]
            origin = _origin_label(name, source, config_file)
            values[name] = _convert(name, value, origin, default_timezone)
            sources[name] = source
        else:
            sources[name] = SOURCE_DEFAULT
    return LoadedSettings(Settings(**values), sources, config_file)


def masked_settings(loaded: LoadedSettings) -> dict[str, Any]:
    """Return the effective settings as plain values with secrets masked, for display."""
    settings = loaded.settings
    shown: dict[str, Any] = {}
    for name in SETTINGS_FIELDS:
        value = getattr(settings, name)
        if name in SECRET_FIELDS:
            value = mask_secret(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        shown[name] = value
    return shown


def mask_secret(value: str | None) -> str | None:
    """Return a fixed mask for a set secret (never any of its characters), None when unset."""
    if not value:
        return None
    return "****"
