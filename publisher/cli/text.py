"""Plain-text output of the commands: columns that line up with Japanese in them.

A terminal shows full-width characters (漢字, かな, 全角 signs) two columns wide, so widths are
counted with :func:`unicodedata.east_asian_width` rather than ``len``; a cut text ends in "…".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from publisher.areas import AreaTree
from publisher.items import Item


def width(text: str) -> int:
    """Columns ``text`` takes on a terminal (wide and full-width characters count two)."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
        for c in text
    )


def cut(text: str, columns: int) -> str:
    """``text`` within ``columns``, ending in "…" when shortened."""
    text = " ".join(text.split())  # one line
    if width(text) <= columns:
        return text
    out, used = [], 0
    for c in text:
        w = width(c)
        if used + w > columns - 1:
            break
        out.append(c)
        used += w
    return "".join(out).rstrip() + "…"


def pad(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Lines of a table with a header, each column as wide as its widest cell."""
    widths = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(pad(c, w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(headers), *(line(r) for r in rows)]


def labelled(pairs: Sequence[tuple[str, str]]) -> list[str]:
    """``label  value`` lines, values aligned; a value's further lines are indented alike."""
    w = max(width(label) for label, _ in pairs)
    out = []
    for label, value in pairs:
        first, *rest = value.split("\n") or [""]
        out.append(f"{pad(label, w)}  {first}".rstrip())
        out.extend(f"{' ' * w}  {line}".rstrip() for line in rest)
    return out


# The item's fields as `items add` names them, longest first so "event.starts_at" goes before
# "starts_at".
_FLAGS = (
    ("event.starts_at", "--event-start"),
    ("event.ends_at", "--event-end"),
    ("place.name", "--place"),
    ("title.ja", "--title"),
    ("body.ja", "--body"),
    ("starts_at", "--start"),
    ("ends_at", "--end"),
    ("targets", "--target"),
    ("priority", "--priority"),
    ("category", "--category"),
)


def in_flags(message: str, field: str | None = None) -> str:
    """An item error in the words of the command line: ``event.starts_at`` → ``--event-start``,
    and the flag at fault first when the message does not name it."""
    for name, flag in _FLAGS:
        message = re.sub(rf"(?<![\w.-]){re.escape(name)}(?![\w.])", flag, message)
    flag_of = dict(_FLAGS).get(field or "")
    if flag_of and flag_of not in message:
        message = f"{flag_of}: {message}"
    return message


def local_time(value: str | datetime | None, tz: ZoneInfo, seconds: bool = False) -> str:
    """An ISO time (or datetime) in the ward's time, ``2026-12-01 10:00``; "" for none."""
    if not value:
        return ""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""))


def _when(text: str | None, tz: ZoneInfo) -> str:
    return local_time(text, tz)


def _pairs(data: dict[str, object]) -> str:
    return ", ".join(f"{k} {v}" for k, v in data.items() if v not in (None, "", [], {}))


def item_lines(item: Item, url_of: Callable[[int], str], tz: ZoneInfo, tree: AreaTree) -> list[str]:
    """``publisher items show``: one labelled line per field, times in the ward's time."""
    data = item.as_json()
    rows = [
        ("item", f"#{item.id}  {item.kind} · {item.status} · revision {item.revision}"),
        ("drill", "yes (訓練: marked as a drill everywhere)" if item.drill else "no"),
    ]
    for t in item.translations:
        rows.append((f"title [{t.lang}]", t.title))
        if t.body:
            rows.append((f"body [{t.lang}]", t.body))
    rows.append(
        (
            "targets",
            "\n".join(
                f"{code} ({tree.get(code).short_name})" if code in tree else code
                for code in item.targets
            ),
        )
    )
    start, end = _when(data.get("starts_at"), tz), _when(data.get("ends_at"), tz)
    rows.append(("shown", f"{start or 'from approval'} → {end or 'until withdrawn'}"))
    event = data.get("event")
    if isinstance(event, dict):
        span = f"{_when(event.get('starts_at'), tz)} → {_when(event.get('ends_at'), tz) or 'no end given'}"
        rows.append(("event", span + ("  (all day)" if event.get("all_day") else "")))
    place = data.get("place")
    if isinstance(place, dict):
        rows.append(("place", _pairs(place)))
    rows.append(("priority", item.priority))
    rows.append(("category", item.category or "-"))
    if data.get("source"):
        rows.append(("source", str(data["source"])))
    alert = data.get("alert")
    if isinstance(alert, dict) and alert:
        rows.append(("alert", _pairs(alert)))
    if item.id is not None:
        rows.append(("page", url_of(item.id)))
    return labelled(rows)
