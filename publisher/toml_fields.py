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
