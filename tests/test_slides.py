"""Lobby slides: the size a screen declares, a QR code that scans, readable colours, 訓練 on drills.

Slides are compared by properties (size, decoded QR, what was set where, pixel colours), never
by bytes.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from publisher.areas import AreaTree
from publisher.errors import ConfigError
from publisher.items import AlertInfo, Item, Place, Translation
from publisher.render import slides
from publisher.render.labels import event_when
from publisher.render.layout import MAX_PAGES
from publisher.render.legibility import min_font_px
from publisher.render.slides import (
    SlideSpec,
    compose_slide,
    ensure_slide,
    slide_key,
    slide_pages,
)
from publisher.render.theme import (
    MARKER_BG,
    MARKER_TEXT,
    MIN_CONTRAST,
    WARNING_LEVEL_COLOURS,
    all_themes,
    contrast_ratio,
    theme_for,
)
from publisher.render.typeset import kinsoku_violations
from tests.factories import JST, KITAZAWA, WARD, make_item

QR = "https://signage.example.jp/q/i42"


def spec(tree: AreaTree, item: Item | None = None, **overrides: Any) -> SlideSpec:
    item = item or make_item(id=42)
    fields: dict[str, Any] = {
        "item": item,
        "width": 1920,
        "height": 1080,
        "lang": "ja",
        "issuer": tree.issuer(item.targets),
        "qr_url": QR,
    }
    fields.update(overrides)
    return SlideSpec(**fields)


def event_item(**overrides: Any) -> Item:
    fields: dict[str, Any] = {
        "id": 7,
        "kind": "event",
        "category": "drill",
        "translations": (
            Translation(
                "ja",
                "代沢地区 避難所運営訓練",
                "代沢小学校で避難所を開設・運営する訓練を行います。",
            ),
            Translation("en", "Daizawa shelter operation drill", "Anyone may join; no booking."),
            Translation("zh-Hans", "代泽地区 避难所运营演练", "任何人均可参加，无需报名。"),
            Translation("ko", "다이자와 지구 대피소 운영 훈련", "누구나 참가할 수 있습니다."),
        ),
        "event_starts_at": datetime(2026, 12, 5, 10, 0, tzinfo=JST),
        "event_ends_at": datetime(2026, 12, 5, 12, 0, tzinfo=JST),
        "place": Place("代沢小学校 体育館"),
    }
    fields.update(overrides)
    return make_item(**fields)


def alert_item(level: int | None = 4, drill: bool = False, **overrides: Any) -> Item:
    fields: dict[str, Any] = {
        "id": 99,
        "kind": "alert",
        "priority": "emergency",
        "category": "disaster",
        "targets": (KITAZAWA,),
        "drill": drill,
        "translations": (
            Translation("ja", "北沢地域に避難指示", "直ちに避難所へ避難してください。"),
            Translation("en", "Evacuation order for Kitazawa", "Evacuate to a shelter now."),
        ),
        "alert": AlertInfo(warning_level=level),
    }
    fields.update(overrides)
    return make_item(**fields)


def decoded(img: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(img)]


# -- size and QR ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920), (1366, 768), (3840, 2160)])
def test_a_slide_is_exactly_the_size_its_screen_declares(tree: AreaTree, size: tuple) -> None:
    w, h = size
    img = slides.render_slide(spec(tree, event_item(), width=w, height=h))
    assert img.size == (w, h)
    assert img.mode == "RGB"


@pytest.mark.parametrize(
    "item, size",
    [
        (make_item(id=42), (1920, 1080)),
        (make_item(id=42), (1080, 1920)),
        (event_item(), (1366, 768)),
        (alert_item(level=4), (1920, 1080)),
        (alert_item(level=5), (1080, 1920)),
        (alert_item(level=3, drill=True), (1920, 1080)),
    ],
)
def test_the_qr_code_scans_to_the_items_page(tree: AreaTree, item: Item, size: tuple) -> None:
    """A resident's phone reads exactly the slide's URL, on every theme and orientation."""
    s = spec(tree, item, width=size[0], height=size[1])
    done = compose_slide(s)
    assert decoded(done.image) == [QR]
    x0, y0, x1, _ = done.qr_box
    assert x1 - x0 >= 0.22 * min(size)  # big enough to scan from a metre away


# -- what a resident reads ---------------------------------------------------------------------


def test_a_district_notice_names_its_district_center_not_the_screen(tree: AreaTree) -> None:
    done = compose_slide(spec(tree))
    (issuer,) = done.role("issuer")
    assert issuer.block.texts == ["代沢まちづくりセンター"]
    (title,) = done.role("title")
    assert title.block.texts == ["代沢まちづくりセンターからのお知らせ"]
    assert "".join(done.role("body")[0].block.texts) == "詳しくはセンターまでお問い合わせください。"
    assert done.role("caption")[0].block.texts == ["詳しくはこちら"]


def test_an_event_shows_its_date_weekday_time_and_place(tree: AreaTree) -> None:
    done = compose_slide(spec(tree, event_item()))
    assert done.role("when")[0].block.texts == ["12月5日（土）10:00〜12:00"]
    assert done.role("where")[0].block.texts == ["代沢小学校 体育館"]
    assert done.role("label")[0].block.texts == ["訓練"]


def test_english_slides_speak_english(tree: AreaTree) -> None:
    done = compose_slide(spec(tree, event_item(), lang="en"))
    assert done.role("issuer")[0].block.texts == ["Daizawa District Center"]
    assert done.role("when")[0].block.texts == ["Sat 5 December, 10:00–12:00"]
    assert done.role("caption")[0].block.texts == ["Details"]
    assert done.role("title")[0].block.texts == ["Daizawa shelter operation drill"]


def test_event_dates_in_each_language() -> None:
    item = event_item()
    assert event_when(item, "zh-Hans") == "12月5日（周六）10:00–12:00"
    assert event_when(item, "ko") == "12월 5일(토) 10:00~12:00"
    all_day = item.with_changes(all_day=True, event_ends_at=datetime(2026, 12, 6, tzinfo=JST))
    assert event_when(all_day, "ja") == "12月5日（土）〜12月6日（日）"


def test_long_text_stays_in_its_box_and_keeps_kinsoku(tree: AreaTree) -> None:
    """A 2,000-character body is set in pages at the smallest legible size, the last cut
    with … (the QR code carries the rest), each page beside the QR code, never over it."""
    body = ("住民票の写し（本人確認書類が必要）は、「コンビニ交付」をご利用ください。" * 60)[:2000]
    title = "【重要】年末年始（12月29日〜1月3日）の窓口休業と「コンビニ交付サービス」のご案内"
    item = make_item(title=title, id=5, translations=(Translation("ja", title, body),))
    for w, h in [(1920, 1080), (1080, 1920)]:
        pages = len(slide_pages(spec(tree, item, width=w, height=h)))
        assert pages == MAX_PAGES
        for page in range(1, pages + 1):
            done = compose_slide(spec(tree, item, width=w, height=h, page=page, pages=pages))
            (placed,) = done.role("body")
            assert placed.block.truncated == (page == pages)
            assert placed.block.texts[-1].endswith("…") == (page == pages)
            assert placed.block.size_px == min_font_px(w, h, 43, 4, "ja")
            assert done.role("page")[0].block.texts == [f"{page}/{pages}"]
            x0, y0, x1, y1 = done.content_box
            assert placed.y + placed.block.height_px <= y1
            qx0, qy0, _, _ = done.qr_box
            right = placed.x + placed.block.width_px
            assert right <= qx0 or placed.y + placed.block.height_px <= qy0  # never under the QR
            for role in ("title", "body"):
                assert kinsoku_violations(done.role(role)[0].block.lines) == []


def test_titles_stay_readable_from_across_the_lobby(tree: AreaTree) -> None:
    title = "代沢地区 避難所運営訓練のお知らせ 当日は上履きをお持ちください 申込み不要" * 2
    item = make_item(title=title[:120], id=5)
    for w, h in [(1920, 1080), (1080, 1920), (1366, 768)]:
        done = compose_slide(spec(tree, item, width=w, height=h))
        assert done.role("title")[0].block.size_px >= round(56 * min(w, h) / 1080)


# -- themes ----------------------------------------------------------------------------------------


def test_every_theme_keeps_text_contrast_of_at_least_7_to_1() -> None:
    for theme in all_themes():
        for role, fg, bg in theme.text_pairs():
            ratio = contrast_ratio(fg, bg)
            assert ratio >= MIN_CONTRAST, f"{theme.name} {role}: {fg} on {bg} is {ratio:.2f}:1"


def test_contrast_ratio_is_wcags() -> None:
    assert contrast_ratio("#FFFFFF", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1.0)
    assert contrast_ratio("#AA00AA", "#FFFFFF") == pytest.approx(6.38, abs=0.01)


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_an_emergency_wears_its_warning_level_colour_and_prints_the_level_and_its_meaning(
    tree: AreaTree, level: int
) -> None:
    item = alert_item(level=level)
    assert theme_for(item).frame == WARNING_LEVEL_COLOURS[level]
    done = compose_slide(spec(tree, item, width=1080, height=1920))
    meaning = {5: "緊急安全確保", 4: "避難指示", 3: "高齢者等避難", 2: "注意報", 1: "早期注意情報"}
    assert "".join(done.role("label")[0].block.texts) == f"警戒レベル{level} {meaning[level]}"
    frame = WARNING_LEVEL_COLOURS[level].lstrip("#")
    assert done.image.getpixel((5, 960)) == tuple(int(frame[i : i + 2], 16) for i in (0, 2, 4))
    en = compose_slide(spec(tree, item, lang="en"))
    assert " ".join(en.role("label")[0].block.texts).startswith(f"Alert Level {level} ")


def _stripes_across(img: Image.Image, y: int) -> int:
    """How often a row switches between the drill band's yellow and black."""
    yellow, black = (MARKER_TEXT, MARKER_BG)
    want = {tuple(int(c.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)): c for c in (yellow, black)}
    seq = [want[px] for x in range(img.width) if (px := img.getpixel((x, y))) in want]
    return sum(1 for a, b in pairwise(seq) if a != b)


@pytest.mark.parametrize("how", ["drill flag", "CAP Exercise", "CAP Test", "drill notice"])
def test_a_drill_carries_the_large_kunren_band(tree: AreaTree, how: str) -> None:
    if how == "drill flag":
        item = alert_item(level=3, drill=True, priority="high")
    elif how == "drill notice":
        item = make_item(id=3, drill=True)
    else:
        item = alert_item(level=3, alert=AlertInfo(cap_status=how.split()[1], warning_level=3))
    done = compose_slide(spec(tree, item))
    (marker,) = done.role("marker")
    assert marker.block.texts[0].startswith("訓練")
    assert marker.block.size_px >= 60
    assert done.marker_box is not None
    mid = (done.marker_box[1] + done.marker_box[3]) // 2
    assert _stripes_across(done.image, mid) >= 10


@pytest.mark.parametrize("level", [2, 3, 4, 5])
def test_a_real_alert_is_never_marked_as_a_drill(tree: AreaTree, level: int) -> None:
    done = compose_slide(spec(tree, alert_item(level=level)))
    assert done.role("marker") == [] and done.marker_box is None
    assert _stripes_across(done.image, 75) < 4  # at most the frame's own edges


# -- content-addressed names ------------------------------------------------------------------------


def test_the_same_slide_has_the_same_name(tree: AreaTree) -> None:
    assert slide_key(spec(tree)) == slide_key(spec(tree))


@pytest.mark.parametrize(
    "change",
    [
        {"width": 1080, "height": 1920},
        {"lang": "en"},
        {"qr_url": "https://signage.example.jp/q/i43"},
        {"item": event_item(title="x")},
        {"item": make_item(title="別のお知らせ", id=42)},
        {"item": make_item(id=42, category="health")},
        {"item": make_item(id=42, drill=True)},
        {"item": make_item(id=42, translations=(Translation("ja", "代沢", "本文が違う"),))},
    ],
)
def test_anything_that_changes_pixels_changes_the_name(tree: AreaTree, change: dict) -> None:
    item = make_item(
        id=42,
        translations=(
            Translation("ja", "代沢まちづくりセンターからのお知らせ", "本文"),
            Translation("en", "From the Daizawa District Center", "Body"),
        ),
    )
    base = spec(tree, item)
    changed = replace(base, **change)
    assert slide_key(changed) != slide_key(base)


def test_event_time_place_level_and_issuer_are_in_the_name(tree: AreaTree) -> None:
    ev = spec(tree, event_item())
    later = event_item(event_starts_at=datetime(2026, 12, 5, 11, 0, tzinfo=JST))
    assert slide_key(replace(ev, item=later)) != slide_key(ev)
    assert slide_key(replace(ev, item=event_item(place=Place("北沢タウンホール")))) != slide_key(ev)
    assert slide_key(replace(ev, issuer=tree.ward)) != slide_key(ev)
    a4, a5 = spec(tree, alert_item(level=4)), spec(tree, alert_item(level=5))
    assert slide_key(a4) != slide_key(a5)


def test_one_render_serves_every_screen_of_the_same_size_and_language(tree: AreaTree) -> None:
    """A ward-wide notice seen in Daizawa and in Seijo is the same file."""
    item = make_item(id=8, targets=(WARD,))
    screens = [s for s in tree.screens.values() if s.size == "1920x1080" and "ja" in s.languages]
    keys = {
        slide_key(SlideSpec(item, s.width, s.height, "ja", tree.issuer(item.targets), QR))
        for s in screens
    }
    assert len(screens) > 10 and len(keys) == 1


def test_an_untranslated_item_shares_its_japanese_slide(tree: AreaTree) -> None:
    """A screen rotating ja → en shows the Japanese slide for a Japanese-only item: one render."""
    item = make_item(id=8)
    assert slide_key(spec(tree, item, lang="en")) == slide_key(spec(tree, item, lang="ja"))


# -- writing files -------------------------------------------------------------------------------


def test_ensure_slide_renders_once_and_never_again(
    tree: AreaTree, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    calls = []
    real = slides.render_slide
    monkeypatch.setattr(slides, "render_slide", lambda *a, **k: calls.append(1) or real(*a, **k))
    s = spec(tree, event_item())
    path = ensure_slide(s, tmp_path)
    assert path == tmp_path / f"{slide_key(s)}.png"
    with Image.open(path) as img:
        assert img.size == (1920, 1080)
    mtime = path.stat().st_mtime_ns
    assert ensure_slide(s, tmp_path) == path
    assert len(calls) == 1 and path.stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind


def test_a_failed_render_leaves_no_half_written_file(
    tree: AreaTree, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    def broken(img: Image.Image) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(slides, "encode_png", broken)
    with pytest.raises(OSError):
        ensure_slide(spec(tree), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_font_is_a_clear_error_not_tofu(tree: AreaTree, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="install fonts-noto-cjk"):
        slides.render_slide(spec(tree), font_path=str(tmp_path / "NotoSansCJK-Regular.ttc"))
    assert not os.listdir(tmp_path)
