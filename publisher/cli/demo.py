"""The demo content in ``content/demo/*.toml``: believable items whose dates follow today.

Each ``[[items]]`` entry is an API-shaped item with a ``key`` (its stable id, so loading twice
changes nothing) and dates given in days from today, in the ward's time:

    [[items]]
    key = "ward-year-end-garbage"
    kind = "notice"                    # notice | event | alert
    targets = ["setagaya"]
    category = "environment"
    show = [-2, 20]                    # display window: from 2 days ago to 20 days ahead
    title.ja = "年末年始のごみ収集について"
    title.en = "Garbage collection over the New Year holidays"
    body.ja = "..."
    event = { day = 5, start = "10:00", end = "12:00" }   # events only; all_day = true also
    place = { name = "代沢まちづくりセンター", address = "世田谷区代沢5-29-17", lat = 35.65, lon = 139.67 }
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from publisher.areas import AreaTree
from publisher.errors import ConfigError, PublisherError
from publisher.item_input import parse_item
from publisher.store.content import upsert_item

DEMO_SOURCE = "demo"


def load_demo(
    session: Session, tree: AreaTree, demo_dir: Path, today: date, tz: ZoneInfo
) -> dict[str, int]:
    """Upsert every demo item; returns counts of created, updated and unchanged."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    files = sorted(Path(demo_dir).glob("*.toml"))
    if not files:
        raise ConfigError(f"{demo_dir}: no demo *.toml files")
    for path in files:
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from None
        seen: set[str] = set()
        for i, raw in enumerate(doc.get("items", []), start=1):
            key = raw.get("key")
            where = f"{path}: items[{i}]" + (f" ({key})" if key else "")
            if not key or key in seen:
                raise ConfigError(f"{where}: every item needs a unique key")
            seen.add(key)
            try:
                data = _api_shape(raw, today, tz)
                item = parse_item(data, tree).with_changes(
                    status=raw.get("status", "approved"), source=DEMO_SOURCE, external_id=key
                )
            except PublisherError as e:
                field = f" {e.field}:" if e.field else ""
                raise ConfigError(f"{where}:{field} {e.message}") from None
            except (TypeError, ValueError, KeyError) as e:
                raise ConfigError(f"{where}: {e}") from None
            _, outcome = upsert_item(session, item, actor="demo")
            counts[outcome] += 1
    return counts


def _api_shape(raw: dict[str, Any], today: date, tz: ZoneInfo) -> dict[str, Any]:
    def at(days: int, hhmm: str = "00:00") -> str:
        return datetime.combine(
            today + timedelta(days=int(days)), time.fromisoformat(hhmm), tz
        ).isoformat()

    data = {k: v for k, v in raw.items() if k not in ("key", "show", "event", "status")}
    show = raw.get("show")
    if show is not None:
        if not (isinstance(show, list) and len(show) == 2):
            raise ValueError("show must be [first day, last day] relative to today")
        data["starts_at"] = at(show[0])
        data["ends_at"] = at(show[1] + 1)  # through the end of the last day
    ev = raw.get("event")
    if ev is not None:
        day = int(ev["day"])
        if ev.get("all_day"):
            data["event"] = {
                "starts_at": at(day),
                "ends_at": at(day + int(ev.get("days", 1))),
                "all_day": True,
            }
        else:
            data["event"] = {
                "starts_at": at(day, ev["start"]),
                "ends_at": at(day, ev["end"]) if ev.get("end") else None,
            }
    return data


# Who can try the admin after `make run`: one account per tier of the workflow.
DEMO_STAFF = (
    ("demo-admin", "admin", "setagaya"),
    ("kitazawa-approver", "approver", "setagaya/kitazawa"),
    ("daizawa-editor", "editor", "setagaya/kitazawa/daizawa"),
)


def create_demo_staff(session: Session, tree: AreaTree, data_dir: Path) -> Path | None:
    """Demo accounts with random passwords, written once to ``DATA_DIR/demo-staff.txt`` (0600).

    Idempotent: existing accounts are left alone. Returns the file when it created accounts.
    """
    import os
    import secrets

    from publisher.store.staff import create_user, user_by_name

    lines = []
    for name, role, scope in DEMO_STAFF:
        if user_by_name(session, name) is not None:
            continue
        password = secrets.token_urlsafe(12)
        create_user(session, tree, name, role, scope, password, actor="demo")
        lines.append(f"{name}\t{role}\t{scope}\t{password}")
    if not lines:
        return None
    path = Path(data_dir) / "demo-staff.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))
    return path
