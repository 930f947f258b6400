"""Settings: one table, read from ``PUBLISHER_*`` environment variables.

Every setting is declared once in :data:`SETTINGS` with its default and help; the README's
settings table is checked against it by a test, and ``publisher --help`` prints it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from publisher.errors import ConfigError

REPO_DIR = Path(__file__).resolve().parent.parent
ENV_PREFIX = "PUBLISHER_"


def _path(value: str) -> Path:
    return Path(value).expanduser()


def _int(value: str) -> int:
    return int(value)


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = field(default=str)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATA_DIR",
        REPO_DIR / "var",
        "Where the database, rendered outputs and the secret key live.",
        _path,
    ),
    Setting(
        "DATABASE_URL",
        None,
        "SQLAlchemy URL. Default: SQLite at DATA_DIR/publisher.db. "
        "PostgreSQL: postgresql+psycopg://user@host/db",
    ),
    Setting("DISPLAYS_DIR", REPO_DIR / "displays", "The area tree and screens (*.toml).", _path),
    Setting(
        "CONTENT_DIR",
        REPO_DIR / "content",
        "sources.toml, accounts.toml, alert-templates/ and demo/ items.",
        _path,
    ),
    Setting(
        "SCHEDULES_DIR",
        REPO_DIR / "schedules",
        "Collection intervals, delivery times, dayparts.",
        _path,
    ),
    Setting(
        "BASE_URL", "http://127.0.0.1:8000", "Public URL used in QR codes, feeds and SNS posts."
    ),
    Setting(
        "SECRET_KEY", None, "Signs sessions. Default: generated once into DATA_DIR/secret_key."
    ),
    Setting("FONT", None, "A font file overriding discovery of Noto Sans CJK JP.", _path),
    Setting(
        "ANNOUNCE_EVERY_S",
        300,
        "Seconds between spoken announcements on screens while an emergency lasts.",
        _int,
    ),
    Setting(
        "CLEARED_SHOW_S",
        120,
        "Seconds screens show 「解除されました」 after an emergency ends, before normal content.",
        _int,
    ),
    Setting(
        "JTALK_VOICE",
        None,
        "An Open JTalk voice (.htsvoice) overriding discovery under /usr/share/hts-voice.",
        _path,
    ),
    Setting("TIMEZONE", "Asia/Tokyo", "The ward's time zone, for display windows and feeds."),
    Setting(
        "SCHEDULER",
        "on",
        "on: `publisher serve` embeds a scheduler (standby if another holds the lock); off: run `publisher worker`.",
    ),
    Setting(
        "THREADS",
        4,
        "Threads of `publisher serve` for pages, feeds and API reads; staff, alerts and "
        "writes get half as many of their own. Push streams need none.",
        _int,
    ),
    Setting(
        "MAX_CONNECTIONS",
        15000,
        "Open connections one `publisher serve` process holds at most (screens' streams "
        "included); more are answered 503.",
        _int,
    ),
    Setting(
        "MAX_PER_ADDRESS",
        500,
        "Open connections from one IP address at most (a lobby's or an office's NAT).",
        _int,
    ),
    Setting(
        "PLAYS_KEEP_DAYS",
        31,
        "Days raw proof-of-play events (and heartbeats) are kept; their daily sums per screen, "
        "item and language are kept for good.",
        _int,
    ),
)

SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


class Settings(dict[str, Any]):
    """The resolved settings: ``settings["BASE_URL"]``."""

    @property
    def data_dir(self) -> Path:
        return Path(self["DATA_DIR"])

    @property
    def database_url(self) -> str:
        return self["DATABASE_URL"] or f"sqlite:///{self.data_dir / 'publisher.db'}"

    @property
    def base_url(self) -> str:
        return str(self["BASE_URL"]).rstrip("/")

    def secret_key(self) -> str:
        """The configured key, or one generated once and kept in DATA_DIR."""
        if self["SECRET_KEY"]:
            return str(self["SECRET_KEY"])
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_hex(32))
            tmp.chmod(0o600)
            tmp.replace(path)
        return path.read_text().strip()


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults, then ``PUBLISHER_*`` from the environment, then keyword overrides."""
    environ = os.environ if environ is None else environ
    unknown = {k.upper() for k in overrides} - SETTINGS_BY_NAME.keys()
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    settings = Settings()
    for s in SETTINGS:
        raw = environ.get(ENV_PREFIX + s.name)
        if raw is None or raw == "":
            settings[s.name] = s.default
            continue
        try:
            settings[s.name] = s.parse(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{s.name}={raw!r} is not valid: {s.help}") from None
    for name, value in overrides.items():
        settings[name.upper()] = value
    return settings


def settings_help() -> str:
    """The settings table as plain text (for ``publisher --help``)."""
    lines = ["Settings (environment variables):"]
    for s in SETTINGS:
        default = s.default if not isinstance(s.default, Path) else s.default.relative_to(REPO_DIR)
        lines.append(f"  {ENV_PREFIX}{s.name:<14} {s.help} [default: {default}]")
    return "\n".join(lines)
