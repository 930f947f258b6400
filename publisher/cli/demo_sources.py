"""The offline demo's sources: ``content/demo/sources/`` written out with today's dates.

The demo collects the same kinds of source as the ward (RSS, an open-data event CSV, iCal, CAP,
the weather agency's feed), but from files, so ``make run`` needs no network. Files in that
folder may hold dates relative to the day they are written, in the ward's time::

    {{day:6}}           2026-12-06                 (six days from today)
    {{compact:-1}}      20261129
    {{md:5}}            12月5日
    {{rfc822:-1 09:00}} Sun, 29 Nov 2026 09:00:00 +0900
    {{iso:7 09:30}}     2026-12-07T09:30:00+09:00

and ``jma/moves.toml`` moves the agency's sample messages in time: every time in a message is
shifted alike so that its ReportDateTime falls on the given day and time (``"-1 09:00"``).
"""

from __future__ import annotations

import re
import shutil
import tomllib
from datetime import date, datetime, time, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from publisher.errors import ConfigError
from publisher.files import write_atomic

DEMO_SOURCES_DIR = "demo-sources"  # under DATA_DIR
MOVES_FILE = "moves.toml"
_PLACEHOLDER = re.compile(r"\{\{(day|compact|md|rfc822|iso):(-?\d+)(?: (\d\d:\d\d))?\}\}")
_JMA_TIME = re.compile(rb"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(Z|[+-]\d{2}:\d{2})")
_TEXT_SUFFIXES = (".toml", ".rss", ".xml", ".csv", ".ics", ".atom")


def _at(today: date, days: int, hhmm: str | None, tz: ZoneInfo) -> datetime:
    return datetime.combine(today + timedelta(days=days), time.fromisoformat(hhmm or "00:00"), tz)


def fill_dates(text: str, today: date, tz: ZoneInfo, where: str = "") -> str:
    """Every ``{{form:days[ HH:MM]}}`` of ``text`` as a date ``days`` from ``today``."""

    def one(m: re.Match[str]) -> str:
        at = _at(today, int(m[2]), m[3], tz)
        form = m[1]
        if form == "day":
            return at.date().isoformat()
        if form == "compact":
            return at.strftime("%Y%m%d")
        if form == "md":
            return f"{at.month}月{at.day}日"
        if form == "rfc822":
            return format_datetime(at)
        return at.isoformat(timespec="seconds")

    out = _PLACEHOLDER.sub(one, text)
    left = out.find("{{")
    if left >= 0:
        raise ConfigError(
            f"{where}: unknown date placeholder {out[left : out.find('}}', left) + 2]!r} "
            "(use {{day:N}}, {{compact:N}}, {{md:N}}, {{rfc822:N HH:MM}} or {{iso:N HH:MM}})"
        )
    return out


def move_message(data: bytes, to: datetime, where: str) -> bytes:
    """A JMA message with every time shifted alike so its ReportDateTime is ``to``."""
    m = re.search(rb"<ReportDateTime>([^<]+)</ReportDateTime>", data)
    if not m:
        raise ConfigError(f"{where}: no <ReportDateTime> to move")
    delta = to - datetime.fromisoformat(m[1].decode())

    def shift(t: re.Match[bytes]) -> bytes:
        utc = t[2] == b"Z"
        at = datetime.fromisoformat((t[1] + (b"+00:00" if utc else t[2])).decode()) + delta
        text = at.isoformat(timespec="seconds")
        return (text.replace("+00:00", "Z") if utc else text).encode()

    return _JMA_TIME.sub(shift, data)


def write_demo_sources(template_dir: Path, out_dir: Path, today: date, tz: ZoneInfo) -> Path:
    """Write ``template_dir`` to ``out_dir`` with its dates filled in; returns the sources file.

    Written afresh each time (``publisher init --demo``), so the demo's news stays recent."""
    if not (template_dir / "sources.toml").exists():
        raise ConfigError(f"{template_dir}: no sources.toml for the demo")
    moves: dict[str, str] = {}
    for moves_file in template_dir.rglob(MOVES_FILE):
        try:
            table = tomllib.loads(moves_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{moves_file}: not valid TOML: {e}") from None
        for name, when in table.items():
            moves[str((moves_file.parent / name).relative_to(template_dir))] = str(when)
    for path in sorted(template_dir.rglob("*")):
        rel = path.relative_to(template_dir)
        if path.is_dir() or path.name == MOVES_FILE:
            continue
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if str(rel) in moves:
            days, _, hhmm = moves[str(rel)].partition(" ")
            try:
                to = _at(today, int(days), hhmm or None, tz)
            except ValueError:
                raise ConfigError(
                    f"{template_dir / MOVES_FILE}: {rel}: {moves[str(rel)]!r} is not "
                    '"DAYS HH:MM" like "-1 09:00"'
                ) from None
            write_atomic(target, move_message(path.read_bytes(), to, str(path)))
        elif path.suffix in _TEXT_SUFFIXES:
            text = fill_dates(path.read_text(encoding="utf-8"), today, tz, str(path))
            write_atomic(target, text.encode("utf-8"))
        else:
            shutil.copyfile(path, target)
    return out_dir / "sources.toml"
