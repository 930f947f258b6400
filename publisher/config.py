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
    shown: str = ""  # how the default reads in the table when it is not a plain value

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name

    @property
    def default_text(self) -> str:
        if self.shown:
            return self.shown
        if isinstance(self.default, Path):
            return f"{self.default.relative_to(REPO_DIR)}/"
        return str(self.default)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATA_DIR",
        REPO_DIR / "var",
        "Where the SQLite database, rendered slides and bundles, uploads and the generated "
        "secret key live. Several machines: shared storage (see docs/deployment.md).",
        _path,
    ),
    Setting(
        "DATABASE_URL",
        None,
        "SQLAlchemy URL. PostgreSQL: postgresql+psycopg://user@host/db",
        shown="SQLite at DATA_DIR/publisher.db",
    ),
    Setting(
        "DISPLAYS_DIR", REPO_DIR / "displays", "The area tree and the screens (*.toml).", _path
    ),
    Setting(
        "CONTENT_DIR",
        REPO_DIR / "content",
        "sources.toml, accounts.toml, alert-templates/ and demo/.",
        _path,
    ),
    Setting(
        "SOURCES_FILE",
        None,
        "The sources to collect. `make run` points it at the offline demo's sources, which "
        "`publisher init --demo` writes into DATA_DIR/demo-sources/.",
        _path,
        shown="CONTENT_DIR/sources.toml",
    ),
    Setting(
        "SCHEDULES_DIR",
        REPO_DIR / "schedules",
        "Collection intervals, delivery times, dayparts.",
        _path,
    ),
    Setting(
        "BASE_URL",
        None,
        "The public URL in QR codes, feeds, player URLs and SNS posts. Behind a reverse "
        "proxy: the https:// address residents use.",
        shown="http://HOST:PORT of `publisher serve` (127.0.0.1:8000)",
    ),
    Setting(
        "PROXY_HOPS",
        0,
        "Reverse proxies in front of `publisher serve` whose X-Forwarded-For/-Proto/-Host "
        "headers are trusted (1 behind one nginx). 0: none are trusted.",
        _int,
    ),
    Setting(
        "SECRET_KEY",
        None,
        "Signs sessions; the same on every machine.",
        shown="generated once into DATA_DIR/secret_key",
    ),
    Setting(
        "FONT",
        None,
        "A font file overriding discovery.",
        _path,
        shown="Noto Sans CJK JP (fonts-noto-cjk)",
    ),
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
        "The Open JTalk voice (.htsvoice) for Japanese announcements.",
        _path,
        shown="the first .htsvoice under /usr/share/hts-voice/",
    ),
    Setting(
        "PUSH_SERVICES",
        "fcm.googleapis.com,push.services.mozilla.com,web.push.apple.com,notify.windows.com",
        "Web Push services residents' browsers may subscribe through: host names (and hosts "
        "below them, https) or exact origins; notifications are sent nowhere else.",
    ),
    Setting(
        "PUSH_PROCESSES",
        None,
        "Processes that encrypt and post large Web Push fan-outs (batches of 500+ messages), "
        "started with `publisher serve` once there are that many subscriptions; 0: this "
        "process's threads do it (slower: one core).",
        _int,
        shown="one per CPU core (0 on a single core)",
    ),
    Setting(
        "PUSH_SIGNUPS_PER_MINUTE",
        30,
        "Web Push sign-ups and renewals one client address (an IPv6 /64) may make at once, "
        "and then per minute, per `publisher serve` process; beyond it: 429 with Retry-After. "
        "Generous to a mobile carrier's shared address.",
        _int,
    ),
    Setting(
        "PUSH_MAX_PER_AREA",
        100000,
        "Web Push subscriptions one area holds at most (a district has ~33,000 residents); "
        "beyond it the page says the area is full and offers RSS.",
        _int,
    ),
    Setting(
        "PUSH_CONTACT",
        "",
        "The VAPID contact push services see (mailto: or https:).",
        shown="BASE_URL",
    ),
    Setting("TIMEZONE", "Asia/Tokyo", "The ward's time zone, for display windows and feeds."),
    Setting(
        "SCHEDULER",
        "on",
        "on: `publisher serve` embeds a scheduler (a standby while another process leads); "
        "off: leave it to `publisher worker`.",
    ),
    Setting(
        "THREADS",
        4,
        "Threads of `publisher serve` for pages, feeds, API reads, players' playlists and "
        "slides (and residents' Web Push sign-ups); staff, alerts and every other write get "
        "half as many of their own (at least 2). Push streams hold no thread. The database "
        "pool is sized to match.",
        _int,
    ),
    Setting(
        "MAX_CONNECTIONS",
        15000,
        "Open connections one `publisher serve` process holds at most, push streams "
        "included (capped by the open-files limit); beyond it: 503.",
        _int,
    ),
    Setting(
        "MAX_PER_ADDRESS",
        500,
        "Open connections from one IP address at most, generous to a lobby's or an "
        "office's NAT; beyond it: 503. Behind a reverse proxy every connection comes from "
        "the proxy: raise it to MAX_CONNECTIONS there.",
        _int,
    ),
    Setting(
        "PLAYS_KEEP_DAYS",
        31,
        "Days raw proof-of-play events (and heartbeats) are kept (44 screens: ~380,000 plays, "
        "~50 MB a day on SQLite; a later batch is refused); their daily sums per screen, item "
        "and language are kept for good.",
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
        return str(self["BASE_URL"] or DEFAULT_BASE_URL).rstrip("/")

    @property
    def sources_file(self) -> Path:
        return Path(self["SOURCES_FILE"] or Path(self["CONTENT_DIR"]) / "sources.toml")

    def follow_server(self, host: str, port: int) -> None:
        """Unless BASE_URL was given, links point at the address ``publisher serve`` binds
        (a wildcard address is replaced by this machine's name)."""
        if not self["BASE_URL"]:
            self["BASE_URL"] = base_url_for(host, port)

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


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_BASE_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"


def base_url_for(host: str, port: int) -> str:
    """``http://host:port`` for links; ``0.0.0.0``/``::`` become this machine's name."""
    if host in ("", "0.0.0.0", "::"):
        import socket

        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


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


def settings_rows() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) per setting: the one table every listing is made from."""
    return [(s.env, s.default_text, s.help) for s in SETTINGS]


def settings_help(width: int = 100) -> str:
    """The settings as aligned plain text (``publisher settings``, ``publisher --help``)."""
    import textwrap

    rows = settings_rows()
    name_w = max(len(r[0]) for r in rows)
    indent = " " * (name_w + 4)
    lines = []
    for env, default, meaning in rows:
        lines.append(f"  {env:<{name_w}}  default: {default}")
        lines.extend(textwrap.wrap(meaning, width, initial_indent=indent, subsequent_indent=indent))
    return "\n".join(lines)


README_BEGIN = "<!-- settings table: generated by `publisher settings --markdown`; do not edit -->"
README_END = "<!-- end of settings table -->"


def write_settings_table(readme: Path) -> bool:
    """Put :func:`settings_markdown` between the markers of ``readme``; True when it changed."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(README_BEGIN), text.find(README_END)
    if start < 0 or end < start:
        raise ConfigError(f"{readme}: no settings table markers ({README_BEGIN} … {README_END})")
    new = text[: start + len(README_BEGIN)] + "\n" + settings_markdown() + "\n" + text[end:]
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


def settings_markdown() -> str:
    """The README's settings table, between :data:`README_BEGIN` and :data:`README_END`."""
    out = ["| variable | default | meaning |", "|---|---|---|"]
    for env, default, meaning in settings_rows():
        cell = meaning.replace("|", "\\|")
        shown = default if SETTINGS_BY_NAME[env[len(ENV_PREFIX) :]].shown else f"`{default}`"
        out.append(f"| `{env}` | {shown} | {cell} |")
    return "\n".join(out)
