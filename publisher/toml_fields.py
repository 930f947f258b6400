"""Checked fields of the TOML files a ward edits (displays/, content/): each wrong value is a
:class:`~publisher.errors.ConfigError` naming the file, the place and what is expected."""

from __future__ import annotations

import re
from pathlib import Path

from publisher.errors import ConfigError

CODE = re.compile(r"^[a-z][a-z0-9-]*$")


def positive(
    path: Path, where: str, raw: dict, key: str, default: float, low: float, high: float
) -> float:
    """A screen's physical measure: a number from ``low`` to ``high``, or the default."""
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(
            f"{path}: {where} {key} must be a number from {low:g} to {high:g} (got {value!r})"
        )
    return float(value)


def table(path: Path, doc: dict, key: str, required: bool = True) -> dict:
    value = doc.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{key}] must be a table")
    return value


def code(path: Path, where: str, value: object) -> str:
    if not isinstance(value, str) or not CODE.match(value):
        raise ConfigError(
            f"{path}: {where}: code must be lower-case letters, digits and '-' (got {value!r})"
        )
    return value


def text(path: Path, where: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: {where} is missing or empty")
    return value.strip()


def names(path: Path, where: str, raw: dict, languages: tuple[str, ...]) -> dict[str, str]:
    """An area's optional ``names`` table: its own name in each of ``languages`` (a language
    left out falls back; see :mod:`publisher.area_names`)."""
    value = raw.get("names", {})
    if not isinstance(value, dict):
        raise ConfigError(
            f'{path}: {where}.names must be a table like {{ ko = "다이자와" }} (got {value!r})'
        )
    out = {}
    for lang, name in value.items():
        if lang not in languages:
            hint = {"ja": ' (the Japanese name is "name")', "en": ' (the English one "name_en")'}
            raise ConfigError(
                f"{path}: {where}.names: unknown language {lang!r}{hint.get(lang, '')}; "
                f"give {', '.join(languages)}"
            )
        out[lang] = text(path, f'{where}.names."{lang}"', name)
    return out
