"""Residents per area, declared in ``displays/`` (``[population]``, with its source and date),
so that the reports can give counts per 1,000 residents."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from publisher import toml_fields as fields
from publisher.errors import ConfigError, did_you_mean


class _Tree(Protocol):
    """What :meth:`Population.residents` needs of the area tree."""

    def get(self, code: str) -> Any: ...


@dataclass(frozen=True)
class Population:
    """Residents per area (``[population.residents]``): a region or the ward without its own
    figure adds up its areas below. ``placeholder``: not published figures, say so."""

    declared: dict[str, int]
    source: str
    as_of: str
    placeholder: bool

    def residents(self, tree: _Tree, code: str) -> int | None:
        if code in self.declared:
            return self.declared[code]
        parts = [self.residents(tree, child) for child in tree.get(code).children]
        return sum(p for p in parts if p is not None) if parts and None not in parts else None


def read_population(docs: list[tuple[Path, dict]], areas: Collection[str]) -> Population | None:
    """The first ``[population]`` table of the displays files, checked (None: none declared)."""
    for p, d in docs:
        if "population" not in d:
            continue
        table = fields.table(p, d, "population")
        unknown = set(table) - {"source", "as_of", "placeholder", "residents"}
        if unknown:
            key = sorted(unknown)[0]
            raise ConfigError(f"{p}: population.{key} is not a known key")
        declared = {}
        for code, n in fields.table(p, table, "residents").items():
            if code not in areas:
                raise ConfigError(
                    f"{p}: population.residents names unknown area '{code}'"
                    f"{did_you_mean(code, areas)}"
                )
            if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
                raise ConfigError(f"{p}: population.residents '{code}' must be a whole number > 0")
            declared[code] = n
        return Population(
            declared,
            fields.text(p, "population.source", table.get("source")),
            str(table.get("as_of", "")),
            bool(table.get("placeholder", False)),
        )
    return None
