"""``content/sources.toml``: the sources to collect, validated with file/key errors.

[sources.ward-news]
kind = "rss"                          # rss | events-csv | ical | cap | jma
url = "https://www.city.setagaya.lg.jp/..."    # or path = "samples/events.csv" (under content/)
targets = ["setagaya"]                # area codes; default the whole ward
category = "general"                  # optional; one of items.CATEGORIES
language = "ja"                       # the language of its text; default ja
interval = "1h"                       # how often the scheduler runs it: 30s, 15m, 1h, 1d
options = { keep_days = 14 }          # kind-specific (see each kind's module)
"""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

from publisher.areas import LANGUAGES, AreaTree
from publisher.collect.base import Source
from publisher.collect.registry import KINDS
from publisher.errors import ConfigError, did_you_mean
from publisher.items import CATEGORIES

SOURCES_FILE = "sources.toml"
MIN_INTERVAL = timedelta(minutes=1)
_INTERVAL = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,99}$")
_KEYS = ("kind", "url", "path", "targets", "category", "language", "interval", "options")


def parse_interval(value: Any, where: str) -> timedelta:
    """``"15m"`` → 15 minutes; at least a minute, so nobody hammers a ward server."""
    m = _INTERVAL.match(str(value)) if isinstance(value, str) else None
    if not m:
        raise ConfigError(f'{where}: {value!r} is not an interval like "30s", "15m", "1h", "1d"')
    interval = timedelta(**{_UNITS[m[2]]: int(m[1])})
    if interval < MIN_INTERVAL:
        raise ConfigError(f"{where}: {value!r} is shorter than a minute")
    return interval


def load_sources_file(path: Path, tree: AreaTree) -> list[Source]:
    """Every source of ``path`` (none when the file does not exist)."""
    if not path.exists():
        return []
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    unknown = set(doc) - {"sources"}
    if unknown:
        raise ConfigError(f"{path}: unknown table '{sorted(unknown)[0]}' (only [sources.NAME])")
    tables = doc.get("sources", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: sources must be tables like [sources.ward-news]")
    return [_source(path, name, raw, tree) for name, raw in tables.items()]


def _source(path: Path, name: str, raw: Any, tree: AreaTree) -> Source:
    where = f"{path}: sources.{name}"
    if not _NAME.match(name):
        raise ConfigError(f"{where}: a source name is lower-case letters, digits and -_.:")
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    for key in raw:
        if key not in _KEYS:
            raise ConfigError(f"{where}.{key}: unknown key{did_you_mean(key, _KEYS)}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise ConfigError(
            f"{where}.kind: unknown kind {kind!r} (kinds: {', '.join(KINDS)})"
            f"{did_you_mean(str(kind), KINDS)}"
        )
    url, file = raw.get("url"), raw.get("path")
    if bool(url) == bool(file):
        raise ConfigError(f"{where}: give exactly one of url or path")
    if url is not None and not (isinstance(url, str) and url.startswith(("https://", "http://"))):
        raise ConfigError(f"{where}.url: must be an http(s) URL, not {url!r}")
    if file is not None and not isinstance(file, str):
        raise ConfigError(f"{where}.path: must be a file path")
    targets = raw.get("targets", [tree.ward_code])
    if isinstance(targets, str):
        targets = [targets]
    if not isinstance(targets, list) or not targets:
        raise ConfigError(f"{where}.targets: must be a list of area codes")
    for code in targets:
        if code not in tree:
            raise ConfigError(
                f"{where}.targets: unknown area '{code}'{did_you_mean(str(code), tree.areas)}"
            )
    category = raw.get("category")
    if category is not None and category not in CATEGORIES:
        raise ConfigError(
            f"{where}.category: unknown category {category!r} (use {', '.join(CATEGORIES)})"
            f"{did_you_mean(str(category), CATEGORIES)}"
        )
    language = raw.get("language", "ja")
    if language not in LANGUAGES:
        raise ConfigError(
            f"{where}.language: unknown language {language!r} (use {', '.join(LANGUAGES)})"
            f"{did_you_mean(str(language), LANGUAGES)}"
        )
    options = raw.get("options", {})
    if not isinstance(options, dict):
        raise ConfigError(f"{where}.options: must be a table")
    return Source(
        name=name,
        kind=kind,
        url=url,
        path=(path.parent / file) if file else None,
        targets=tuple(targets),
        category=category,
        language=language,
        interval=parse_interval(raw.get("interval", "1h"), f"{where}.interval"),
        options=options,
    )
