"""The ward's timetable: ``schedules/default.toml`` read and checked into plain values.

It says when sources are collected, when bundles go to ``http``/``folder`` screens, when SNS
posts may go out, how often the screen watchdog looks and what counts as offline, and the
named dayparts staff choose from. Item start and end instants are not here: they come from
the items themselves (see :mod:`publisher.plan.transitions`).

Every mistake is reported with the file and the key: ``schedules/default.toml:
deliveries.daily_at '6am' is not HH:MM``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any

from publisher.config import REPO_DIR
from publisher.errors import ConfigError, did_you_mean

SCHEDULE_FILE = "default.toml"
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_RANGE = re.compile(r"^\s*(\d{2}:\d{2})\s*[-–〜~]\s*(\d{2}:\d{2})\s*$")

_KEYS: dict[str, set[str]] = {
    "collect": {"use_source_intervals", "default_every_min", "every_min"},
    "deliveries": {"daily_at", "retry_base_s", "retry_cap_s"},
    "sns": {"quiet_hours", "post_at", "check_every_min"},
    "watchdog": {"every_s", "offline_after_s"},
    "scheduler": {"horizon_h", "poll_s"},
    "reports": {"fold_every_min"},
    "dayparts": set(),  # any name
}


@dataclass(frozen=True)
class Timetable:
    """What ``schedules/default.toml`` asks for, with the defaults it may leave out."""

    use_source_intervals: bool = True
    collect_default_every_min: int = 30
    collect_every_min: dict[str, int] = field(default_factory=dict)
    daily_delivery_at: tuple[time, ...] = (time(6, 0),)
    retry_base_s: float = 2.0
    retry_cap_s: float = 300.0
    sns_quiet_hours: tuple[time, time] | None = (time(22, 0), time(7, 0))
    sns_post_at: tuple[time, ...] = ()
    sns_check_every_min: int = 5
    watchdog_every_s: int = 60
    offline_after_s: int = 180
    horizon_h: int = 24
    poll_s: int = 30
    reports_fold_every_min: int = 10
    dayparts: dict[str, tuple[time, time]] = field(default_factory=dict)

    def collect_interval_min(self, source: str, declared_min: float | None) -> float:
        """Minutes between two runs of ``source``: an override here, else what the source
        declares in content/sources.toml, else the default."""
        if source in self.collect_every_min:
            return self.collect_every_min[source]
        if self.use_source_intervals and declared_min:
            return float(declared_min)
        return self.collect_default_every_min

    def in_quiet_hours(self, local: datetime) -> bool:
        """Is ``local`` (the ward's time) inside the SNS quiet hours?"""
        if self.sns_quiet_hours is None:
            return False
        start, end = self.sns_quiet_hours
        t = local.time()
        return start <= t < end if start <= end else (t >= start or t < end)


def load_schedule(schedules_dir: Path) -> Timetable:
    """Read and check ``<schedules_dir>/default.toml``; a missing file means the defaults."""
    path = Path(schedules_dir) / SCHEDULE_FILE
    if not path.exists():
        return Timetable()
    where = _shown(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: not valid TOML: {e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    return _parse(where, doc)


def _parse(where: str, doc: dict[str, Any]) -> Timetable:
    for key, value in doc.items():
        if key not in _KEYS:
            raise ConfigError(f"{where}: unknown table [{key}]{did_you_mean(key, _KEYS)}")
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: [{key}] must be a table")
        for sub in value:
            if _KEYS[key] and sub not in _KEYS[key]:
                raise ConfigError(
                    f"{where}: unknown key {key}.{sub}{did_you_mean(sub, _KEYS[key])}"
                )
    c, d, s = doc.get("collect", {}), doc.get("deliveries", {}), doc.get("sns", {})
    w, sch = doc.get("watchdog", {}), doc.get("scheduler", {})
    base = Timetable()
    every = c.get("every_min", {})
    if not isinstance(every, dict):
        raise ConfigError(f"{where}: collect.every_min must be a table of source = minutes")
    overrides = {
        str(name): _positive(where, f"collect.every_min.{name}", v) for name, v in every.items()
    }
    quiet = s.get("quiet_hours", "22:00-07:00")
    retry_base = _positive(where, "deliveries.retry_base_s", d.get("retry_base_s", 2))
    retry_cap = _positive(where, "deliveries.retry_cap_s", d.get("retry_cap_s", 300))
    if retry_cap < retry_base:
        raise ConfigError(f"{where}: deliveries.retry_cap_s must not be below retry_base_s")
    dayparts = {
        str(name): _range(where, f"dayparts.{name}", v)
        for name, v in doc.get("dayparts", {}).items()
    }
    return Timetable(
        use_source_intervals=_bool(
            where, "collect.use_source_intervals", c.get("use_source_intervals", True)
        ),
        collect_default_every_min=_positive(
            where, "collect.default_every_min", c.get("default_every_min", 30)
        ),
        collect_every_min=overrides,
        daily_delivery_at=_times(where, "deliveries.daily_at", d.get("daily_at", ["06:00"])),
        retry_base_s=retry_base,
        retry_cap_s=retry_cap,
        sns_quiet_hours=None if quiet in ("", None) else _range(where, "sns.quiet_hours", quiet),
        sns_post_at=_times(where, "sns.post_at", s.get("post_at", [])),
        sns_check_every_min=_positive(where, "sns.check_every_min", s.get("check_every_min", 5)),
        watchdog_every_s=_positive(where, "watchdog.every_s", w.get("every_s", 60)),
        offline_after_s=_positive(where, "watchdog.offline_after_s", w.get("offline_after_s", 180)),
        horizon_h=_positive(where, "scheduler.horizon_h", sch.get("horizon_h", base.horizon_h)),
        poll_s=_positive(where, "scheduler.poll_s", sch.get("poll_s", base.poll_s)),
        reports_fold_every_min=_positive(
            where, "reports.fold_every_min", doc.get("reports", {}).get("fold_every_min", 10)
        ),
        dayparts=dayparts,
    )


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_DIR))
    except ValueError:
        return str(path)


def _hhmm(where: str, key: str, value: Any) -> time:
    m = _HHMM.match(value) if isinstance(value, str) else None
    if not m:
        raise ConfigError(f"{where}: {key} {value!r} is not HH:MM")
    return time(int(m[1]), int(m[2]))


def _times(where: str, key: str, value: Any) -> tuple[time, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(f'{where}: {key} must be a list of times like ["06:00"]')
    return tuple(sorted(_hhmm(where, key, v) for v in value))


def _range(where: str, key: str, value: Any) -> tuple[time, time]:
    m = _RANGE.match(value) if isinstance(value, str) else None
    if not m:
        raise ConfigError(f'{where}: {key} {value!r} is not a time range like "07:00-10:00"')
    start, end = _hhmm(where, key, m[1]), _hhmm(where, key, m[2])
    if start == end:
        raise ConfigError(f"{where}: {key} {value!r} starts and ends at the same time")
    return start, end


def _positive(where: str, key: str, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where}: {key} must be a positive number (got {value!r})")
    return int(value) if float(value).is_integer() else value


def _bool(where: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be true or false (got {value!r})")
    return value
