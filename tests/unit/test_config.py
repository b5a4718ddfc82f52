from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from server.config import SPECS, Settings, SettingsError, add_setting_flags, load_settings, settings_from


def test_defaults() -> None:
    settings = settings_from({})
    assert settings == Settings()
    assert settings.max_post_length == 500 and settings.registrations == "invite"
    assert settings.allow_private_addresses is False and settings.default_language == "nl"


def test_flags_win_over_environment_which_wins_over_defaults() -> None:
    env = {"AMBTENAAR_DOMAIN": "gemeente-ede.nl", "AMBTENAAR_PORT": "9000", "DATABASE_URL": "postgresql://x/y",
           "AMBTENAAR_ALLOW_PRIVATE_ADDRESSES": "true"}
    settings = settings_from(env, {"port": "9100"})
    assert settings.domain == "gemeente-ede.nl" and settings.port == 9100
    assert settings.database_url == "postgresql://x/y" and settings.allow_private_addresses is True
    assert settings_from({**env, "AMBTENAAR_DATABASE_URL": "postgresql://a/b"}).database_url == "postgresql://a/b"


def test_every_setting_has_a_flag_and_an_environment_variable() -> None:
    parser = argparse.ArgumentParser()
    add_setting_flags(parser)
    options = {o for action in parser._actions for o in action.option_strings}
    for spec in SPECS:
        assert "--" + spec.name.replace("_", "-") in options
        assert spec.name in Settings.__dataclass_fields__


@pytest.mark.parametrize("env, message", [
    ({"AMBTENAAR_PORT": "acht"}, "whole number"),
    ({"AMBTENAAR_ALLOW_PRIVATE_ADDRESSES": "misschien"}, "true or false"),
    ({"AMBTENAAR_SCHEME": "ftp"}, "one of http, https"),
    ({"AMBTENAAR_DOMAIN": "https://ede.nl/"}, "host name"),
    ({"AMBTENAAR_TLS_CERT": "cert.pem"}, "together"),
    ({"AMBTENAAR_MAX_POST_LENGTH": "0"}, "at least 1"),
    ({"AMBTENAAR_DEFAULT_LANGUAGE": "fr"}, "one of nl, en"),
])
def test_bad_values_are_refused_with_a_message(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_from(env)


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    env = {"AMBTENAAR_DATA_DIR": str(tmp_path)}
    first = load_settings(environ=env)
    second = load_settings(environ=env)
    assert len(first.secret_key) >= 32 and first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert load_settings(environ={**env, "AMBTENAAR_SECRET_KEY": "k" * 40}).secret_key == "k" * 40
