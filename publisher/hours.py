"""A screen's operating hours: when it is meant to be on (``displays/`` ``hours``, ``closed``).

Read from the TOML a ward edits (each error names the file and the place) into a plain
:class:`Hours`, which answers two questions on its own, in the ward's time zone: is the screen
on at an instant (:meth:`Hours.is_on`), and when is it on between two instants or on a ward day
(:meth:`Hours.on_within`, :meth:`Hours.minutes_on`). Estimated plays and uptime shares count
only those times.

``hours`` is one string or a list: ``"mon-fri 08:30-17:15"``, ``"sat 08:30-12:00"``,
``"mon,wed 09:00-12:00"``; ``24:00`` ends a day; ``"always"`` is every day all day. ``closed``
lists month-days or month-day ranges, ``"12-29..01-03"`` crossing the new year. The project
has no holiday calendar, so national holidays are not known: list them in ``closed``. Nothing
said means always on, the ward's ``[ward]`` values being every screen's default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

from publisher.errors import ConfigError, did_you_mean
from publisher.items import JST

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
_RANGE = re.compile(r"^(\S+)\s+(\d\d):(\d\d)-(\d\d):(\d\d)$")
_MONTH_DAY = re.compile(r"^(\d\d)-(\d\d)$")
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

MonthDay = tuple[int, int]


@dataclass(frozen=True)
class Span:
    """On these weekdays (0 = Monday), from ``start_min`` to ``end_min`` minutes after midnight."""

    weekdays: frozenset[int]
    start_min: int
    end_min: int


ALL_DAY = Span(frozenset(range(7)), 0, DAY_MINUTES)


@dataclass(frozen=True)
class Hours:
    spans: tuple[Span, ...] = (ALL_DAY,)
    closed: tuple[tuple[MonthDay, MonthDay], ...] = ()  # inclusive, may cross the new year

    @property
    def always(self) -> bool:
        return not self.closed and ALL_DAY in self.spans

    def is_closed(self, day: date) -> bool:
        """Is ``day`` one of the ``closed`` month-days?"""
        md = (day.month, day.day)
        for first, last in self.closed:
            if first <= last and first <= md <= last:
                return True
            if first > last and (md >= first or md <= last):
                return True
        return False

    def day_minutes(self, day: date) -> list[tuple[int, int]]:
        """The minutes of ``day`` (a ward day) the screen is on, merged and in order."""
        if self.is_closed(day):
            return []
        parts = sorted((s.start_min, s.end_min) for s in self.spans if day.weekday() in s.weekdays)
        out: list[tuple[int, int]] = []
        for start, end in parts:
            if out and start <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], end))
            else:
                out.append((start, end))
        return out

    def minutes_on(self, day: date) -> int:
        """How many minutes of ``day`` the screen is meant to be on (0 on a closed day)."""
        return sum(end - start for start, end in self.day_minutes(day))

    def on_within(
        self, start: datetime, end: datetime, tz: tzinfo = JST
    ) -> list[tuple[datetime, datetime]]:
        """The times from ``start`` to ``end`` (aware) the screen is on, in order, as instants
        in ``tz`` (the ward's days decide which weekday and month-day it is)."""
        out: list[tuple[datetime, datetime]] = []
        day = start.astimezone(tz).date()
        while day <= end.astimezone(tz).date():
            midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
            for a, b in self.day_minutes(day):
                on = max(start, midnight + timedelta(minutes=a))
                off = min(end, midnight + timedelta(minutes=b))
                if on < off:
                    if out and out[-1][1] == on:  # 24:00 then 00:00: one stretch
                        out[-1] = (out[-1][0], off)
                    else:
                        out.append((on, off))
            day += timedelta(days=1)
        return out

    def seconds_on(self, start: datetime, end: datetime, tz: tzinfo = JST) -> float:
        return sum((b - a).total_seconds() for a, b in self.on_within(start, end, tz))

    def is_on(self, at: datetime, tz: tzinfo = JST) -> bool:
        """Is the screen meant to be on at the instant ``at``?"""
        return bool(self.on_within(at, at + timedelta(microseconds=1), tz))


ALWAYS = Hours()


def read_hours(path: Path, where: str, raw: dict, default: Hours = ALWAYS) -> Hours:
    """``raw``'s ``hours`` and ``closed`` (a ``[ward]`` table or a screen); each one left out
    is ``default``'s."""
    spans = default.spans
    if "hours" in raw:
        value = raw["hours"]
        lines = [value] if isinstance(value, str) else value
        if not isinstance(lines, list) or not lines or not all(isinstance(x, str) for x in lines):
            raise ConfigError(
                f'{path}: {where}.hours must be a string like "mon-fri 08:30-17:15" or a list '
                f'of them like ["mon-fri 08:30-17:15", "sat 08:30-12:00"] (got {value!r})'
            )
        spans = tuple(_span(path, f"{where}.hours", line.strip()) for line in lines)
    closed = default.closed
    if "closed" in raw:
        value = raw["closed"]
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise ConfigError(
                f'{path}: {where}.closed must be a list like ["12-29..01-03", "05-03"] '
                f"(got {value!r})"
            )
        closed = tuple(_closed(path, f"{where}.closed", x.strip()) for x in value)
    return Hours(spans, closed)


def _span(path: Path, where: str, line: str) -> Span:
    if line == "always":
        return ALL_DAY
    m = _RANGE.match(line)
    if not m:
        raise ConfigError(
            f'{path}: {where}: "{line}" must look like "mon-fri 08:30-17:15" '
            '(days, a space, HH:MM-HH:MM) or be "always"'
        )
    start = int(m[2]) * 60 + int(m[3])
    end = int(m[4]) * 60 + int(m[5])
    if int(m[3]) > 59 or int(m[5]) > 59 or start >= DAY_MINUTES or end > DAY_MINUTES:
        raise ConfigError(f'{path}: {where}: "{line}" has a time that is not HH:MM (00:00–24:00)')
    if end <= start:
        raise ConfigError(
            f'{path}: {where}: "{line}" ends before it starts (a night past 24:00 is two '
            'ranges, e.g. "fri 20:00-24:00" and "sat 00:00-02:00")'
        )
    return Span(_weekdays(path, where, line, m[1]), start, end)


def _weekdays(path: Path, where: str, line: str, text: str) -> frozenset[int]:
    out: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        ends = [first, last or first]
        for name in ends:
            if name not in WEEKDAYS:
                raise ConfigError(
                    f'{path}: {where}: "{line}": unknown day {name!r}'
                    f"{did_you_mean(name, WEEKDAYS)}; days are {', '.join(WEEKDAYS)}"
                )
        a, b = WEEKDAYS.index(ends[0]), WEEKDAYS.index(ends[1])
        out.update(d % 7 for d in range(a, b + 1 if b >= a else b + 8))
    return frozenset(out)


def _closed(path: Path, where: str, text: str) -> tuple[MonthDay, MonthDay]:
    first, _, last = text.partition("..")
    ends = []
    for part in (first, last or first):
        m = _MONTH_DAY.match(part.strip())
        if not m or not 1 <= int(m[1]) <= 12 or not 1 <= int(m[2]) <= _DAYS_IN_MONTH[int(m[1]) - 1]:
            raise ConfigError(
                f'{path}: {where}: "{text}" must be a month-day like "05-03" or a range like '
                '"12-29..01-03"'
            )
        ends.append((int(m[1]), int(m[2])))
    return ends[0], ends[1]
