"""Settings precedence (flags > environment > file > defaults), TOML keys and validation."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ics2conf.config import Settings
from ics2conf.errors import ConfigError
from ics2conf.settings_loader import (
    env_var_name,
    find_config_file,
    load_settings,
    masked_settings,
    parse_now,
)


def load(flags=None, env=None, config=None, cwd=None):
    return load_settings(flags or {}, env=env or {}, config_path=config, cwd=cwd)


@pytest.fixture(autouse=True)
def no_user_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults(tmp_path):
    loaded = load(cwd=tmp_path)
    assert loaded.settings == Settings()
    assert set(loaded.sources.values()) == {"default"}
    assert loaded.config_file is None


def test_flag_beats_env_beats_file(tmp_path):
    config = write_toml(tmp_path / "c.toml", "horizon_days = 10\nnamespace = 'from-file'\nlead_minutes = 2\n")
    loaded = load(
        flags={"horizon_days": 40},
        env={"ICS2CONF_HORIZON_DAYS": "20", "ICS2CONF_NAMESPACE": "from-env"},
        config=config,
    )
    assert loaded.settings.horizon_days == 40
    assert loaded.sources["horizon_days"] == "flag"
    assert loaded.settings.namespace == "from-env"
    assert loaded.sources["namespace"] == "env"
    assert loaded.settings.lead_minutes == 2
    assert loaded.sources["lead_minutes"] == "file"


def test_working_folder_config_found(tmp_path):
    write_toml(tmp_path / "ics2conf.toml", "default_region = 'gb'\n")
    loaded = load(cwd=tmp_path)
    assert loaded.settings.default_region == "GB"
    assert loaded.config_file == tmp_path / "ics2conf.toml"


def test_user_config_folder_found(tmp_path):
    folder = tmp_path / "xdg" / "ics2conf"
    folder.mkdir(parents=True)
    write_toml(folder / "ics2conf.toml", "daily_call_limit = 80\n")
    work = tmp_path / "work"
    work.mkdir()
    loaded = load(cwd=work)
    assert loaded.settings.daily_call_limit == 80


def test_working_folder_beats_user_folder(tmp_path):
    folder = tmp_path / "xdg" / "ics2conf"
    folder.mkdir(parents=True)
    write_toml(folder / "ics2conf.toml", "daily_call_limit = 80\n")
    write_toml(tmp_path / "ics2conf.toml", "daily_call_limit = 60\n")
    assert load(cwd=tmp_path).settings.daily_call_limit == 60


def test_explicit_config_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        find_config_file(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("toml", "field", "expected"),
    [
        ("horizon-days = 7", "horizon_days", 7),
        ("directory = ['a.csv', 'b.vcf']", "directories", ("a.csv", "b.vcf")),
        ("directories = ['a.csv']", "directories", ("a.csv",)),
        ("redial-after = 3", "redial_after_minutes", 3),
        ("lock-timeout = 5.5", "lock_timeout_seconds", 5.5),
        ("allow-quiet-hours = true", "allow_quiet_hours", True),
        ("greeting = 'Joining the stand-up'", "greeting", "Joining the stand-up"),
        ("easycron_api_url = 'http://127.0.0.1:9/v1/'", "easycron_api_url", "http://127.0.0.1:9/v1"),
        ("kookoo_caller_id = '08012345678'", "kookoo_caller_id", "08012345678"),
    ],
)
def test_toml_keys(tmp_path, toml, field, expected):
    loaded = load(config=write_toml(tmp_path / "c.toml", toml + "\n"))
    assert getattr(loaded.settings, field) == expected


def test_unknown_toml_key_rejected(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'horizon'"):
        load(config=write_toml(tmp_path / "c.toml", "horizon = 3\n"))


def test_invalid_toml_names_file(tmp_path):
    path = write_toml(tmp_path / "c.toml", "horizon_days = \n")
    with pytest.raises(ConfigError, match="invalid TOML in config file .*c.toml"):
        load(config=path)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ICS2CONF_HORIZON_DAYS": "soon"}, "invalid value 'soon' for horizon_days .environment variable ICS2CONF_HORIZON_DAYS"),
        ({"ICS2CONF_ALLOW_INTERNATIONAL": "maybe"}, "use true or false"),
        ({"ICS2CONF_CONCURRENCY": "0"}, "use at least 1"),
        ({"ICS2CONF_REDIAL": "11"}, "at most 10"),
        ({"EASYCRON_API_URL": "ftp://example.com"}, "must start with http"),
        ({"ICS2CONF_NAMESPACE": "Team A"}, "invalid namespace 'Team A'"),
    ],
)
def test_invalid_env_values(env, message):
    with pytest.raises(ConfigError, match=message):
        load(env=env)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("false", False), ("no", False)],
)
def test_env_booleans(value, expected):
    assert load(env={"ICS2CONF_CALL_ORGANIZER": value}).settings.call_organizer is expected


def test_service_variables():
    loaded = load(
        env={
            "EASYCRON_API_KEY": "ek",
            "KOOKOO_API_KEY": "kk",
            "KOOKOO_CALLER_ID": "08012345678",
            "KOOKOO_OUTBOUND_URL": "http://in1-cpaas.ozonetel.com/outbound/outbound.php",
        }
    )
    assert loaded.settings.easycron_api_key == "ek"
    assert loaded.settings.kookoo_api_key == "kk"
    assert loaded.settings.kookoo_caller_id == "08012345678"
    assert loaded.settings.kookoo_outbound_url.startswith("http://in1-cpaas")


def test_empty_env_value_ignored():
    assert load(env={"EASYCRON_API_KEY": "  "}).settings.easycron_api_key is None


@pytest.mark.parametrize(
    ("field", "variable"),
    [
        ("easycron_api_key", "EASYCRON_API_KEY"),
        ("kookoo_outbound_url", "KOOKOO_OUTBOUND_URL"),
        ("horizon_days", "ICS2CONF_HORIZON_DAYS"),
        ("directories", "ICS2CONF_DIRECTORIES"),
    ],
)
def test_env_var_names(field, variable):
    assert env_var_name(field) == variable


def test_env_directories_split_on_path_separator():
    loaded = load(env={"ICS2CONF_DIRECTORIES": "a.csv:b.vcf"})
    assert loaded.settings.directories == ("a.csv", "b.vcf")


def test_now_without_offset_uses_default_timezone():
    loaded = load(flags={"now": "2027-01-04T09:00", "default_timezone": "Europe/Berlin"})
    assert loaded.settings.now.utcoffset() == timedelta(hours=1)


def test_now_with_offset_kept():
    moment = parse_now("2027-01-04T09:00+05:30", "UTC")
    assert moment == datetime.fromisoformat("2027-01-04T03:30+00:00")


def test_masked_settings_hide_keys():
    loaded = load(env={"EASYCRON_API_KEY": "secret-one", "KOOKOO_API_KEY": "secret-two"})
    shown = masked_settings(loaded)
    assert shown["easycron_api_key"] == "****"
    assert shown["kookoo_api_key"] == "****"
    assert "secret" not in repr(shown)


def test_masked_settings_unset_key_is_none():
    assert masked_settings(load())["easycron_api_key"] is None
