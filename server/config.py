"""Settings of one node, read once from the environment and command-line flags.

Owns: the list of settings, their defaults, parsing and validation, and the stored secret key.
Never: reads os.environ outside `settings_from`; never opens the database.

Every setting NAME has an environment variable AMBTENAAR_NAME and a flag --name;
the database URL is also read from DATABASE_URL, as usual for PostgreSQL tools.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class SettingsError(Exception):
    """A setting has a value the node cannot run with."""


VISIBILITIES = ("public", "unlisted", "private", "direct")
LANGUAGES = ("nl", "en")
REGISTRATION_MODES = ("invite", "closed")


@dataclass(frozen=True)
class SettingSpec:
    name: str
    kind: type
    default: Any
    help: str
    choices: tuple[str, ...] | None = None


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("domain", str, "localhost:8000", "public host name (and port) of this node, e.g. gemeente-ede.nl"),
    SettingSpec("scheme", str, "http", "public URL scheme", ("http", "https")),
    SettingSpec("host", str, "127.0.0.1", "address to listen on"),
    SettingSpec("port", int, 8000, "port to listen on"),
    SettingSpec("data_dir", str, "./data", "folder for the embedded database and the secret key"),
    SettingSpec("database_url", str, "", "PostgreSQL URL; empty starts an embedded PostgreSQL in the data dir"),
    SettingSpec("secret_key", str, "", "secret for cookies and tokens; generated and stored in the data dir when empty"),
    SettingSpec("default_language", str, "nl", "language of pages when the visitor states none", LANGUAGES),
    SettingSpec("max_post_length", int, 500, "maximum characters in a post"),
    SettingSpec("registrations", str, "invite", "how accounts are made: by invite link only, or closed (invite links"
                " stop working; admins still create accounts with the CLI)", REGISTRATION_MODES),
    SettingSpec("allow_private_addresses", bool, False, "let federation reach loopback and private addresses (tests, demos)"),
    SettingSpec("trusted_proxies", str, "127.0.0.1", "comma-separated proxy addresses whose X-Forwarded-* headers are honoured"),
    SettingSpec("tls_cert", str, "", "certificate file to serve HTTPS directly"),
    SettingSpec("tls_key", str, "", "private key file to serve HTTPS directly"),
    SettingSpec("log_level", str, "info", "log level", ("debug", "info", "warning", "error")),
    SettingSpec("login_attempts", int, 5, "failed sign-ins per account or address before a pause"),
    SettingSpec("login_window_seconds", int, 900, "window in which failed sign-ins are counted"),
    SettingSpec("invite_days", int, 7, "days an invite link stays valid"),
    SettingSpec("api_rate_limit", int, 300, "client API requests per token (or address) per 5 minutes"),
    SettingSpec("poll_update_seconds", int, 180, "seconds a local poll's new counts wait before their Update goes "
                "out, so the votes of a while share one (Mastodon waits 3 minutes)"),
    SettingSpec("inbox_rate_limit_domain", int, 6000, "activities the inbox accepts from one remote domain per "
                "inbox window (0: no limit); more are answered 429 with Retry-After"),
    SettingSpec("inbox_rate_limit_actor", int, 1500, "activities the inbox accepts from one remote actor per inbox "
                "window (0: no limit)"),
    SettingSpec("inbox_rate_window_seconds", int, 300, "the inbox limits' fixed window, 1 to 3600 seconds"),
    SettingSpec("in_process_worker", bool, True, "run federation delivery inside `serve` (off when separate "
                "`ambtenaar worker` processes do it)"),
    SettingSpec("ca_bundle", str, "", "extra CA bundle file trusted for outgoing federation requests (tests, "
                "private CAs)"),
    SettingSpec("authorized_fetch", bool, False, "serve actors, posts and collections as ActivityPub JSON only to "
                "signed requests from servers this node federates with (401 unsigned, 403 blocked)"),
    SettingSpec("require_2fa_for", str, "staff", "who must sign in with a second factor (an authenticator app): "
                "the node's admins and moderators, everyone, or none (organisation admins can still require it of "
                "their members)", ("staff", "everyone", "none")),
    SettingSpec("web_processes", int, 0, "web server processes on the one port (0: one per core); at most one of "
                "them runs the in-process worker"),
    SettingSpec("media_store", str, "", "where uploaded and proxied media are kept: empty for the data dir, or "
                "s3://bucket[/prefix] for an S3-compatible store shared by several machines"),
    SettingSpec("s3_endpoint", str, "", "URL of the S3-compatible store (empty: the provider's default)"),
    SettingSpec("s3_region", str, "us-east-1", "region of the S3-compatible store"),
    SettingSpec("s3_access_key", str, "", "access key of the S3-compatible store"),
    SettingSpec("s3_secret_key", str, "", "secret key of the S3-compatible store"),
    SettingSpec("media_public_url", str, "", "public base URL under which the store's media are served (empty: "
                "this node serves them under /media)"),
)


@dataclass(frozen=True)
class Settings:
    domain: str = "localhost:8000"
    scheme: str = "http"
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: str = "./data"
    database_url: str = ""
    secret_key: str = ""
    default_language: str = "nl"
    max_post_length: int = 500
    registrations: str = "invite"
    allow_private_addresses: bool = False
    trusted_proxies: str = "127.0.0.1"
    tls_cert: str = ""
    tls_key: str = ""
    log_level: str = "info"
    login_attempts: int = 5
    login_window_seconds: int = 900
    invite_days: int = 7
    api_rate_limit: int = 300
    poll_update_seconds: int = 180
    inbox_rate_limit_domain: int = 6000
    inbox_rate_limit_actor: int = 1500
    inbox_rate_window_seconds: int = 300
    in_process_worker: bool = True
    ca_bundle: str = ""
    authorized_fetch: bool = False
    require_2fa_for: str = "staff"
    web_processes: int = 0
    media_store: str = ""
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    media_public_url: str = ""

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    @property
    def secure_cookies(self) -> bool:
        return self.scheme == "https"


def env_name(name: str) -> str:
    return "AMBTENAAR_" + name.upper()


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """Add one flag per setting; defaults are suppressed so that absent flags fall back to the environment."""
    group = parser.add_argument_group("settings (each also as environment variable AMBTENAAR_NAME)")
    for spec in SPECS:
        if spec.kind is bool:
            group.add_argument(flag_name(spec.name), dest=spec.name, default=argparse.SUPPRESS,
                               action=argparse.BooleanOptionalAction, help=spec.help)
        else:
            group.add_argument(flag_name(spec.name), dest=spec.name, default=argparse.SUPPRESS,
                               metavar=spec.name.upper(), help=spec.help)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")


def _coerce(spec: SettingSpec, raw: object) -> Any:
    source = f"{flag_name(spec.name)} / {env_name(spec.name)}"
    if spec.kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise SettingsError(f"{source} must be true or false, not {raw!r}")
    if spec.kind is int:
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise SettingsError(f"{source} must be a whole number, not {raw!r}") from None
        if value < 0:
            raise SettingsError(f"{source} must not be negative")
        return value
    value_text = str(raw).strip()
    if spec.choices and value_text not in spec.choices:
        raise SettingsError(f"{source} must be one of {', '.join(spec.choices)}, not {value_text!r}")
    return value_text


def settings_from(environ: Mapping[str, str], flags: Mapping[str, object] | None = None) -> Settings:
    """Build the settings: flags win over AMBTENAAR_* variables, which win over defaults."""
    flags = flags or {}
    values: dict[str, Any] = {}
    for spec in SPECS:
        if spec.name in flags:
            values[spec.name] = _coerce(spec, flags[spec.name])
        elif env_name(spec.name) in environ:
            values[spec.name] = _coerce(spec, environ[env_name(spec.name)])
        elif spec.name == "database_url" and environ.get("DATABASE_URL"):
            values[spec.name] = environ["DATABASE_URL"].strip()
        else:
            values[spec.name] = spec.default
    values["domain"] = values["domain"].lower()
    if not _DOMAIN.match(values["domain"]):
        raise SettingsError(f"--domain must be a host name with an optional port, not {values['domain']!r}")
    if bool(values["tls_cert"]) != bool(values["tls_key"]):
        raise SettingsError("--tls-cert and --tls-key must be given together")
    if values["max_post_length"] < 1:
        raise SettingsError("--max-post-length must be at least 1")
    if not 1 <= values["inbox_rate_window_seconds"] <= 3600:  # counters older than an hour are cleaned away
        raise SettingsError("--inbox-rate-window-seconds must be between 1 and 3600")
    return Settings(**values)


def with_secret_key(settings: Settings) -> Settings:
    """Return settings with a secret key, creating `<data_dir>/secret_key` (mode 600) on first use."""
    if settings.secret_key:
        return settings
    path = Path(settings.data_dir) / "secret_key"
    if path.exists():
        key = path.read_text().strip()
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
    if len(key) < 32:
        raise SettingsError(f"the secret key in {path} is too short (at least 32 characters)")
    return dataclasses.replace(settings, secret_key=key)


def load_settings(argv_flags: Mapping[str, object] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    return with_secret_key(settings_from(os.environ if environ is None else environ, argv_flags))


def trusted_proxy_list(settings: Settings) -> Sequence[str]:
    return [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
