"""Test data with overrides: ``make_item(title="...", targets=("setagaya",))``."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from publisher.items import Item, Translation

JST = ZoneInfo("Asia/Tokyo")
DAIZAWA = "setagaya/kitazawa/daizawa"
UMEGAOKA = "setagaya/kitazawa/umegaoka"
KITAZAWA = "setagaya/kitazawa"
SEIJO = "setagaya/kinuta/seijo"
WARD = "setagaya"


def make_item(title: str = "代沢まちづくりセンターからのお知らせ", **overrides: Any) -> Item:
    base = datetime(2026, 11, 22, 10, 0, tzinfo=JST)
    fields: dict[str, Any] = {
        "kind": "notice",
        "translations": (Translation("ja", title, "詳しくはセンターまでお問い合わせください。"),),
        "targets": (DAIZAWA,),
        "status": "approved",
        "starts_at": base - timedelta(days=1),
        "ends_at": base + timedelta(days=7),
    }
    fields.update(overrides)
    return Item(**fields)


def api_item(**overrides: Any) -> dict[str, Any]:
    """An API-shaped item (POST /api/items)."""
    data: dict[str, Any] = {
        "kind": "notice",
        "title": {"ja": "代沢地区 落ち葉清掃のお知らせ", "en": "Fallen-leaf clean-up in Daizawa"},
        "body": {"ja": "11月29日（日）午前9時から、代沢小学校周辺の落ち葉清掃を行います。"},
        "targets": [DAIZAWA],
        "starts_at": "2026-11-20T00:00:00+09:00",
        "ends_at": "2026-12-31T00:00:00+09:00",
        "category": "community",
    }
    data.update(overrides)
    return data


def player_token(rt: Any, screen_id: str = "daizawa-1") -> str:
    """A screen's token as its player URL carries it: the store keeps only a hash, so the test
    gives the screen a new token (as ``publisher screens rotate-token`` does) and uses that."""
    from publisher.store.screens import rotate_screen_token

    with rt.session() as session:
        return rotate_screen_token(session, screen_id, actor="test")


def pause(seconds: float) -> None:
    """Wait ``seconds`` between polls. Not ``time.sleep``: under libfaketime 0.9.10 with
    ``FAKETIME_DONT_FAKE_MONOTONIC=1`` (how the suite runs a year ahead, see the README) Python's
    ``time.sleep`` fails with EINVAL (libfaketime issue #426); a timed wait on an event works."""
    threading.Event().wait(seconds)
