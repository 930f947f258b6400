"""The ward's SNS accounts (``content/accounts.toml``) and who announces which item.

An item is announced, on each network, by the account of each of its target areas that has
one on that network, else by the nearest area above it that has one. Several targets that fall
back to the same account make one post. A ward-wide item goes to the ward's accounts only.

Credentials are named here (environment variable names), read at send time by
:func:`credential`, and never stored or logged.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

from publisher.areas import AreaTree, check_languages
from publisher.errors import ConfigError, did_you_mean
from publisher.render.sns import NETWORKS, Limits

DEFAULT_BASE_URLS = {
    "x": "https://api.twitter.com",
    "line": "https://api.line.me",
    "bluesky": "https://bsky.social",
}
_KEYS = {
    "handle",
    "languages",
    "base_url",
    "token_env",
    "password_env",
    "max_characters",
    "characters_reserved_per_url",
    "quiet_hours",
}
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_QUIET = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


@dataclass(frozen=True)
class Account:
    """One area's account on one network."""

    area: str
    network: str
    handle: str
    base_url: str
    languages: tuple[str, ...] = ("ja",)
    token_env: str | None = None
    password_env: str | None = None
    limits: Limits = field(default_factory=lambda: Limits.for_network("x"))
    quiet_hours: tuple[time, time] | None = None

    @property
    def name(self) -> str:
        """What the outbox's idempotency key calls it: the area code (one account per network)."""
        return self.area

    def missing_credentials(self, environ: Mapping[str, str] | None = None) -> list[str]:
        env = os.environ if environ is None else environ
        return [n for n in (self.token_env, self.password_env) if n and not env.get(n)]


@dataclass(frozen=True)
class Accounts:
    by_area: dict[str, dict[str, Account]]
    source: Path | None = None

    def get(self, area: str, network: str) -> Account | None:
        return self.by_area.get(area, {}).get(network)

    def __iter__(self) -> Iterator[Account]:
        for nets in self.by_area.values():
            yield from nets.values()

    def announcing(self, targets: Iterable[str], tree: AreaTree) -> list[Account]:
        """The accounts that announce an item targeted at ``targets``, in a stable order."""
        chosen: dict[tuple[str, str], Account] = {}
        for network in NETWORKS:
            for target in targets:
                for code in tree.lineage(target):
                    account = self.get(code, network)
                    if account is not None:
                        chosen.setdefault((account.area, network), account)
                        break
        return sorted(chosen.values(), key=lambda a: (NETWORKS.index(a.network), a.area))


def credential(name: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The secret in environment variable ``name``; :class:`MissingCredential` if unset."""
    env = os.environ if environ is None else environ
    if not name or not env.get(name):
        raise MissingCredential(f"credential {name} not set")
    return env[name]


class MissingCredential(Exception):
    """An account's environment variable is not set: its posts wait, nothing crashes."""


def load_accounts(path: Path, tree: AreaTree) -> Accounts:
    """Read and validate ``accounts.toml``; a missing file means no accounts."""
    path = Path(path)
    if not path.exists():
        return Accounts({}, None)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    for key in doc:
        if key not in ("defaults", "accounts"):
            raise ConfigError(
                f"{path}: unknown table [{key}]{did_you_mean(key, ['defaults', 'accounts'])}"
            )
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ConfigError(f"{path}: [defaults] must be a table")
    _check_keys(path, "defaults", defaults)
    raw = doc.get("accounts", {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [accounts] must be a table")
    by_area: dict[str, dict[str, Account]] = {}
    for area, nets in raw.items():
        if area not in tree:
            raise ConfigError(
                f'{path}: accounts."{area}": unknown area{did_you_mean(area, tree.areas)}'
            )
        if not isinstance(nets, dict):
            raise ConfigError(f'{path}: accounts."{area}" must be a table of networks')
        for network, conf in nets.items():
            where = f'accounts."{area}".{network}'
            if network not in NETWORKS:
                raise ConfigError(
                    f"{path}: {where}: unknown network (use {', '.join(NETWORKS)})"
                    f"{did_you_mean(network, NETWORKS)}"
                )
            if not isinstance(conf, dict):
                raise ConfigError(f"{path}: {where} must be a table")
            _check_keys(path, where, conf)
            by_area.setdefault(area, {})[network] = _account(
                path, where, area, network, {**defaults, **conf}
            )
    return Accounts(by_area, path)


def _check_keys(path: Path, where: str, conf: dict) -> None:
    for key in conf:
        if key not in _KEYS:
            raise ConfigError(f"{path}: {where}.{key}: unknown key{did_you_mean(key, _KEYS)}")


def _account(path: Path, where: str, area: str, network: str, conf: dict) -> Account:
    def text(key: str, required: bool = False) -> str | None:
        value = conf.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{path}: {where}.{key} is missing or empty")
        return value.strip()

    def env_name(key: str) -> str:
        name = text(key, required=True)
        assert name is not None
        if not _ENV_NAME.match(name):
            raise ConfigError(
                f"{path}: {where}.{key} must NAME an environment variable "
                f'(like "PUBLISHER_SNS_WARD_X_TOKEN"), not hold the secret itself'
            )
        return name

    handle = text("handle", required=True)
    base_url = text("base_url") or DEFAULT_BASE_URLS.get(network)
    if not base_url:
        raise ConfigError(f"{path}: {where}.base_url is required (the instance's URL)")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"{path}: {where}.base_url must start with https:// (got {base_url!r})")
    langs = check_languages(conf.get("languages", ["ja"]), f"{path}: {where}.languages")
    token_env = password_env = None
    if network == "bluesky":
        password_env = env_name("password_env")
    else:
        token_env = env_name("token_env")
    limits = Limits.for_network(network)
    if network == "mastodon":
        for key in ("max_characters", "characters_reserved_per_url"):
            value = conf.get(key)
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise ConfigError(f"{path}: {where}.{key} must be a positive whole number")
        limits = Limits.for_network(
            "mastodon",
            max_characters=conf.get("max_characters"),
            characters_reserved_per_url=conf.get("characters_reserved_per_url"),
        )
    quiet = None
    if conf.get("quiet_hours"):
        m = _QUIET.match(str(conf["quiet_hours"]))
        try:
            quiet = (time.fromisoformat(m[1].zfill(5)), time.fromisoformat(m[2].zfill(5)))  # type: ignore[index]
        except (TypeError, ValueError):
            raise ConfigError(
                f'{path}: {where}.quiet_hours must look like "22:00-07:00" '
                f"(got {conf['quiet_hours']!r})"
            ) from None
    assert handle is not None
    return Account(
        area, network, handle, base_url.rstrip("/"), tuple(langs), token_env, password_env,
        limits, quiet,
    )  # fmt: skip
