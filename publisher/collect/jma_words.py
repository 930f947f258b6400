"""The ward's JMA codes (displays/) and the fixed six-language wording (jma_vocabulary.toml).

Both are data a ward edits, read and checked here with file/key errors:

- ``[ward.jma]`` in the ward's file under ``displays/``: ``municipality`` (1311200), the
  ``forecast_areas`` (130011 ２３区西部, 130010 東京地方), the ``seismic_areas`` of 震度速報
  (350 東京都２３区), the ``rivers`` of 指定河川洪水予報 (多摩川) and the ward's ``names`` in the
  six languages. A tree without ``[ward.jma]`` has no codes: every JMA message is "not for
  this ward".
- ``publisher/collect/jma_vocabulary.toml``: warning names, conditions, intensities, 警戒レベル
  phrases and actions, each in ja, ja-x-easy, en, zh-Hans, zh-Hant, ko (where the wording comes
  from is written at the top of that file).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from publisher.areas import LANGUAGES, AreaTree
from publisher.errors import ConfigError

VOCABULARY_FILE = Path(__file__).with_name("jma_vocabulary.toml")
TIERS = ("special", "warning", "advisory")


@dataclass(frozen=True)
class WardCodes:
    """What the agency calls this ward."""

    municipality: str = ""
    forecast_areas: tuple[str, ...] = ()
    seismic_areas: tuple[str, ...] = ()
    rivers: tuple[str, ...] = ()
    names: dict[str, str] = field(default_factory=dict)

    @property
    def all_codes(self) -> tuple[str, ...]:
        return tuple(c for c in (self.municipality, *self.forecast_areas) if c)

    def describe(self) -> str:
        return ", ".join(self.all_codes) or "none: displays/ has no [ward.jma]"

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names.get("ja", "")


def ward_codes(tree: AreaTree) -> WardCodes:
    """The ``[ward.jma]`` table of the file that declares the ward (cached per file version)."""
    if not tree.sources:
        return WardCodes()
    path = tree.sources[0]
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return WardCodes()
    return _ward_codes(path, stamp, tree.ward.name + "区")


@lru_cache(maxsize=8)
def _ward_codes(path: Path, stamp: int, default_name: str) -> WardCodes:
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    raw = doc.get("ward", {}).get("jma")
    if raw is None:
        return WardCodes()
    where = f"{path}: ward.jma"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table")
    known = ("municipality", "forecast_areas", "seismic_areas", "rivers", "names")
    for key in raw:
        if key not in known:
            raise ConfigError(f"{where}.{key}: unknown key (keys: {', '.join(known)})")

    def codes(key: str) -> tuple[str, ...]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f'{where}.{key} must be a list of strings like ["130011"]')
        return tuple(value)

    municipality = raw.get("municipality", "")
    if not isinstance(municipality, str) or (municipality and not municipality.isdigit()):
        raise ConfigError(f'{where}.municipality must be the agency\'s code like "1311200"')
    names = raw.get("names", {})
    if not isinstance(names, dict) or any(lang not in LANGUAGES for lang in names):
        raise ConfigError(f"{where}.names must map languages ({', '.join(LANGUAGES)}) to names")
    return WardCodes(
        municipality,
        codes("forecast_areas"),
        codes("seismic_areas"),
        codes("rivers"),
        {"ja": default_name, **{str(k): str(v) for k, v in names.items()}},
    )


# -- the vocabulary ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    name: str
    tier: str
    words: dict[str, str]
    level: int | None = None
    level_conditions: tuple[str, ...] = ()

    def level_for(self, conditions: tuple[str, ...]) -> int | None:
        if self.level is None or not self.level_conditions or not conditions:
            return self.level
        return self.level if set(conditions) & set(self.level_conditions) else None


@dataclass(frozen=True)
class Vocabulary:
    languages: tuple[str, ...]
    kinds: dict[str, Kind]
    conditions: dict[str, dict[str, str]]
    intensities: dict[str, dict[str, str]]
    phrases: dict[str, dict[str, str]]
    actions: dict[str, dict[str, str]]
    display: dict[str, int]

    def phrase(self, name: str, lang: str, **values: str) -> str:
        return self.phrases[name][lang].format(**values)

    def action(self, key: str, lang: str) -> str:
        return self.actions.get(key, self.actions["other"])[lang]


def vocabulary(path: Path = VOCABULARY_FILE) -> Vocabulary:
    return _vocabulary(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _vocabulary(path: Path, stamp: int) -> Vocabulary:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    languages = tuple(doc.get("languages", ()))
    if set(languages) != set(LANGUAGES):
        raise ConfigError(f"{path}: languages must be {', '.join(LANGUAGES)}")

    def table(name: str) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for key, raw in doc.get(name, {}).items():
            missing = [lang for lang in languages if not str(raw.get(lang, "")).strip()]
            if missing:
                raise ConfigError(f"{path}: {name}.{key} has no wording in {', '.join(missing)}")
            out[key] = {lang: str(raw[lang]) for lang in languages}
        return out

    kinds: dict[str, Kind] = {}
    for key, words in table("kinds").items():
        raw = doc["kinds"][key]
        if raw.get("tier") not in TIERS:
            raise ConfigError(f"{path}: kinds.{key}.tier must be one of {', '.join(TIERS)}")
        level = raw.get("level")
        if level is not None and level not in (1, 2, 3, 4, 5):
            raise ConfigError(f"{path}: kinds.{key}.level must be 1–5")
        kinds[key] = Kind(key, raw["tier"], words, level, tuple(raw.get("level_conditions", ())))
    display: dict[str, Any] = doc.get("display", {})
    return Vocabulary(
        languages,
        kinds,
        table("conditions"),
        table("intensities"),
        table("phrases"),
        table("actions"),
        {k: int(v) for k, v in display.items()},
    )
