"""Kind ``events-csv``: the Digital Agency's standard open-data event list (イベント一覧).

Columns (推奨データセット, see reference/standards.md): イベント名, イベント名_英語, 開始日,
終了日, 開始時間, 終了時間, 説明, 料金(基本), 連絡先名称, 連絡先電話番号, 場所名称, 住所, 方書,
緯度, 経度, URL, NO and others (ignored). The file may be UTF-8 with or without a BOM, or
Shift_JIS (cp932); the encoding is detected.

Each good row becomes an event item: its time from 開始日/開始時間/終了日/終了時間 (no times: an
all-day event), its place from 場所名称/住所/方書/緯度/経度 (no 場所名称: the address names the
place), URL as the detail link, イベント名_英語 as the English title (with an English body of
the fee and contact). HTML in 説明 becomes text; a fee of 0 (0円, ￥0) reads 無料 / free. It is shown from now until the event ends. External id: the NO column,
else a digest of name, start and place.

A row with an impossible date or time, or without a required value, is skipped and named by
its row as a spreadsheet shows it (the header is row 1) and its column; the other rows are
still imported. Rows of events that are already over are skipped too.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from publisher.areas import AreaTree
from publisher.collect.base import (
    PLACE_ADDRESS_MAX,
    PLACE_NAME_MAX,
    Entry,
    Skipped,
    Source,
    clip,
    fetch_bytes,
    stable_id,
    tidy,
)
from publisher.collect.html_text import html_to_text
from publisher.errors import PublisherError
from publisher.items import BODY_MAX_CHARS, JST, TITLE_MAX_CHARS

NAME, START_DATE = "イベント名", "開始日"
# Values a row cannot do without; the header must have these columns.
REQUIRED = (NAME, START_DATE)
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$|^(\d{4})(\d{2})(\d{2})$")
_TIME = re.compile(r"^(\d{1,2})[:時](\d{2})?(?:[:分](\d{2})秒?)?分?$|^(\d{2})(\d{2})$")


# 料金(基本) of a free event, as open-data lists write it: 0, 0円, ￥0, 無料, なし …
_FREE = re.compile(r"^(?:[¥￥]?\s*0+(?:\.0+)?\s*(?:円|yen)?|無料|なし|free)$", re.IGNORECASE)
FREE = {"ja": "無料", "en": "free"}


def is_free(fee: str) -> bool:
    """A fee of nothing (「0」 is shown as 無料, never as 「料金：0」)."""
    return bool(_FREE.match(unicodedata.normalize("NFKC", fee).strip()))


class RowError(Exception):
    def __init__(self, column: str, reason: str):
        self.column, self.reason = column, reason


def decode(data: bytes, where: str) -> str:
    """UTF-8 (BOM or not), else cp932; anything else is refused with a reason."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PublisherError(f"{where}: neither UTF-8 nor Shift_JIS (cp932) text")


def _column(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().strip('"').replace(" ", "")


def parse_date(value: str, column: str) -> date:
    text = unicodedata.normalize("NFKC", value).strip()
    m = _DATE.match(text)
    if not m:
        raise RowError(column, f"{value!r} is not a date (use 2026-12-05 or 2026/12/05)")
    y, mo, d = (int(g) for g in (m.groups()[:3] if m[1] else m.groups()[3:]))
    try:
        return date(y, mo, d)
    except ValueError:
        raise RowError(column, f"{value!r} is not a date that exists") from None


def parse_clock(value: str, column: str) -> time:
    text = unicodedata.normalize("NFKC", value).strip()
    m = _TIME.match(text)
    if not m:
        raise RowError(column, f"{value!r} is not a time (use 10:00)")
    h, mi = (int(m[1]), int(m[2] or 0)) if m[1] else (int(m[4]), int(m[5]))
    if h == 24 and mi == 0:
        return time(23, 59)
    try:
        return time(h, mi)
    except ValueError:
        raise RowError(column, f"{value!r} is not a time of day") from None


def _coordinate(value: str, column: str, limit: float) -> float | None:
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise RowError(column, f"{value!r} is not a number") from None
    if not -limit <= number <= limit or number != number:
        raise RowError(column, f"{value!r} is out of range")
    return number


class EventsCsvCollector:
    def fetch(self, source: Source, http: Any) -> bytes:
        return fetch_bytes(source, http)

    def parse(
        self, source: Source, data: bytes, tree: AreaTree, now: datetime
    ) -> Iterator[Entry | Skipped]:
        where = source.location
        text = decode(data, where)
        if "\x00" in text:
            raise PublisherError(f"{where}: not a CSV text file (it contains NUL characters)")
        try:
            rows = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error as e:
            raise PublisherError(f"{where}: not a readable CSV file ({e})") from None
        if not rows:
            raise PublisherError(f"{where}: the file is empty")
        header = [_column(c) for c in rows[0]]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            found = ", ".join(h for h in header[:6] if h) or "nothing"
            raise PublisherError(
                f"{where}: row 1 has no column {missing[0]} (an イベント一覧 needs "
                f"{', '.join(REQUIRED)}; found {found})"
            )
        for number, raw in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in raw):
                continue
            row = {h: (raw[i].strip() if i < len(raw) else "") for i, h in enumerate(header) if h}
            try:
                yield self._entry(number, row, now)
            except RowError as e:
                yield Skipped(f"row {number}", f"{e.column}: {e.reason}")

    def _entry(self, number: int, row: dict[str, str], now: datetime) -> Entry | Skipped:
        for column in REQUIRED:
            if not row.get(column):
                raise RowError(column, "is empty (a required column)")
        name = tidy(row[NAME])
        start_day = parse_date(row[START_DATE], START_DATE)
        end_day = parse_date(row["終了日"], "終了日") if row.get("終了日") else start_day
        start_clock = parse_clock(row["開始時間"], "開始時間") if row.get("開始時間") else None
        end_clock = parse_clock(row["終了時間"], "終了時間") if row.get("終了時間") else None
        all_day = start_clock is None
        starts = datetime.combine(start_day, start_clock or time(), JST)
        if all_day or end_clock is None:
            ends = datetime.combine(end_day + timedelta(days=1), time(), JST)
        else:
            ends = datetime.combine(end_day, end_clock, JST)
        if ends < starts:
            raise RowError("終了日", "the event ends before it starts")
        if ends <= now:
            return Skipped(f"row {number}", f"終了日: the event ended on {ends:%Y-%m-%d}")
        lat = _coordinate(row.get("緯度", ""), "緯度", 90)
        lon = _coordinate(row.get("経度", ""), "経度", 180)
        place_name = clip(tidy(row.get("場所名称", "")), PLACE_NAME_MAX)
        address = " ".join(p for p in (tidy(row.get("住所")), tidy(row.get("方書"))) if p)
        url = row.get("URL", "")
        url = url if url.startswith(("https://", "http://")) else ""
        fee = tidy(row.get("料金(基本)"))
        contact = " ".join(
            p for p in (tidy(row.get("連絡先名称")), tidy(row.get("連絡先電話番号"))) if p
        )
        body_lines = [html_to_text(row.get("説明", ""), url or None).text]
        if fee:
            body_lines.append(f"料金：{FREE['ja'] if is_free(fee) else fee}")
        if contact:
            body_lines.append(f"問合せ：{contact}")
        titles = {"ja": clip(name, TITLE_MAX_CHARS)}
        bodies = {"ja": clip("\n".join(x for x in body_lines if x), BODY_MAX_CHARS)}
        if tidy(row.get("イベント名_英語")):
            titles["en"] = clip(tidy(row["イベント名_英語"]), TITLE_MAX_CHARS)
            # the English page: what an English reader can use without the Japanese description
            english = [f"Fee: {FREE['en'] if is_free(fee) else fee}" if fee else ""]
            english.append(f"Contact: {contact}" if contact else "")
            if any(english):
                bodies["en"] = clip("\n".join(x for x in english if x), BODY_MAX_CHARS)
        fields: dict[str, Any] = {
            "kind": "event",
            "title": titles,
            "body": bodies,
            "ends_at": ends,
            "event": {"starts_at": starts, "ends_at": ends, "all_day": all_day},
            # without a 場所名称 the address names the place (the page and slides show a name)
            "place": {
                "name": place_name or clip(address, PLACE_NAME_MAX),
                "address": clip(address, PLACE_ADDRESS_MAX) if place_name else "",
                "lat": lat,
                "lon": lon,
            }
            if place_name or address
            else None,
            "detail_url": url or None,
        }
        external_id = row.get("NO") or stable_id(name, starts.isoformat(), place_name)
        return Entry(external_id, f"row {number}", fields)


collector = EventsCsvCollector()
