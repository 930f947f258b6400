"""Slides readable from across a lobby, at a pace people can read.

The smallest body text follows the screen's physical size and viewing distance (the
barrier-free guideline's character heights); a body too long for that size is shown in pages;
each page stays up long enough to read everything on it at the planner's rates."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest

from publisher.areas import AreaTree, Screen, load_tree
from publisher.cli.demo import _api_shape
from publisher.errors import ConfigError
from publisher.item_input import parse_item
from publisher.items import Item, Translation
from publisher.plan.reading import CJK_CHARS_PER_S, CJK_LANGS, GLANCE_S, LATIN_WORDS_PER_S
from publisher.plan.screens import playlist
from publisher.render.layout import MAX_PAGES
from publisher.render.legibility import (
    char_height_mm,
    min_char_height_mm,
    min_font_px,
    screen_min_font_px,
)
from publisher.render.slides import SlideSpec, compose_slide, pages_on
from tests.conftest import REPO_DIR
from tests.factories import JST, WARD, make_item

QR = "https://signage.example.jp/q/i42"
LANDSCAPE_43 = Screen(
    "l43", WARD, 1920, 1080, "lobby", ("ja",), diagonal_in=43, viewing_distance_m=4
)
PORTRAIT_43 = Screen("p43", WARD, 1080, 1920, "hall", ("ja",), diagonal_in=43, viewing_distance_m=3)
LANDSCAPE_55 = Screen(
    "l55", WARD, 1920, 1080, "ward", ("ja",), diagonal_in=55, viewing_distance_m=6
)
ENTRANCE_32 = Screen("e32", WARD, 1920, 1080, "door", ("ja",), diagonal_in=32, viewing_distance_m=3)
READ_ROLES = ("title", "when", "where", "body")  # what a reader reads (the planner counts these)

NOTICE_400 = (
    "世田谷区では、マイナンバーカードを利用した住民票の写しや印鑑登録証明書などのコンビニ交付サービスを"
    "行っています。全国のコンビニエンスストアで、毎日午前6時30分から午後11時まで取得できます。"
    "ただし、年末年始（12月29日から1月3日まで）とシステムの保守日は利用できません。"
    "手数料は窓口より安く、住民票の写しは1通200円です。暗証番号を3回続けて間違えると"
    "ロックがかかりますので、お近くのまちづくりセンターではなく、総合支所の区民課窓口で"
    "再設定の手続きをしてください。手続きには本人確認書類が必要です。代理人による手続きの"
    "場合は委任状が必要になります。詳しくは区のホームページをご覧になるか、"
    "コールセンター（電話03-5432-1111、午前8時から午後8時まで）までお問い合わせください。"
    "スマートフォン決済アプリでもお支払いいただけます。証明書の種類によっては取得できないものも"
    "ありますので、ご注意ください。"
)


def stress_items() -> list[Item]:
    zh = (
        "世田谷区将于12月6日（周六）上午8:30至12:00在各地区举行防灾演练。"
        "请居民前往附近的避难所参加。咨询电话：03-5432-1111（工作日上午8:30至下午5:15）。"
        "演练期间，区内的防灾广播将播放警报声，请不要惊慌。参加者请携带饮用水和毛巾。"
    ) * 3
    en = (
        "Setagaya City will hold its community disaster drill on Saturday 6 December from "
        "8:30 to 12:00. Please come to your nearest evacuation shelter. Internationalization "
        "notwithstanding, telecommunications infrastructure maintenance may interrupt service. "
    ) * 5
    ko = "세타가야구는 12월 6일(토) 오전 8:30부터 12:00까지 방재 훈련을 실시합니다. " * 8
    event_start = datetime(2026, 12, 6, 9, 30, tzinfo=JST)
    return [
        make_item(id=901, translations=(Translation("ja", "コンビニ交付のご案内", NOTICE_400),)),
        make_item(
            id=902,
            translations=(
                Translation("ja", "防災訓練", NOTICE_400[:150]),
                Translation("zh-Hans", "防灾演练通知（上午8:30至12:00）", zh),
                Translation("en", "Community disaster drill", en),
                Translation("ko", "방재 훈련 안내", ko),
                Translation(
                    "ja-x-easy", "ぼうさいの 練習を します", "大きな 地震の 練習です。" * 20
                ),
            ),
        ),
        make_item(
            id=903,
            kind="event",
            translations=(
                Translation(
                    "ja", "【重要】スマートフォン決済アプリでも使える窓口のご案内", NOTICE_400[:300]
                ),
            ),
            event_starts_at=event_start,
            event_ends_at=event_start + timedelta(hours=2, minutes=30),
        ),
    ]


@cache
def demo_items() -> tuple[Item, ...]:
    tree = load_tree(REPO_DIR / "displays")
    out = []
    for path in sorted((REPO_DIR / "content" / "demo").glob("*.toml")):
        for raw in tomllib.loads(path.read_text(encoding="utf-8"))["items"]:
            data = _api_shape(raw, date(2026, 12, 1), JST)
            out.append(parse_item(data, tree).with_changes(id=len(out) + 1, status="approved"))
    return tuple(out)


# -- the rule ----------------------------------------------------------------------------------


def test_the_guideline_heights_by_distance() -> None:
    assert min_char_height_mm(4, "ja") == 20 and min_char_height_mm(5, "ja") == 20
    assert min_char_height_mm(4, "en") == 15
    assert min_char_height_mm(10, "zh-Hans") == 40
    assert min_char_height_mm(7.5, "ja") == pytest.approx(30)  # between rows: linear
    assert min_char_height_mm(3, "ja") == pytest.approx(14.5)
    assert min_char_height_mm(1, "ja") == 9  # closer than the first row: its height


def test_a_43_inch_screen_at_4_m_needs_kanji_of_20_mm_not_17() -> None:
    """At 36 px a kanji on a 43" 1080p screen is ~15 mm: below the guideline."""
    assert char_height_mm(36, 1920, 1080, 43, "ja") < 20
    px = min_font_px(1920, 1080, 43, 4, "ja")
    assert char_height_mm(px, 1920, 1080, 43, "ja") >= 20
    assert char_height_mm(px - 1, 1920, 1080, 43, "ja") < 20  # and no bigger than it must be
    assert min_font_px(1920, 1080, 43, 4, "en") < px  # Latin capitals: 15 mm


def test_screens_declare_their_size_and_distance_or_get_the_documented_defaults(
    tree: AreaTree, tmp_path: Path
) -> None:
    assert all(s.diagonal_in > 0 and s.viewing_distance_m > 0 for s in tree.screens.values())
    assert tree.screens["honcho-1"].diagonal_in == 55
    doc = (REPO_DIR / "displays" / "setagaya.toml").read_text(encoding="utf-8")
    assert doc.count("diagonal_in = ") == len(tree.screens)
    plain = doc.replace("diagonal_in = 55\n", "", 1).replace("viewing_distance_m = 6\n", "", 1)
    (tmp_path / "setagaya.toml").write_text(plain, encoding="utf-8")
    screen = load_tree(tmp_path).screens["honcho-1"]
    assert (screen.diagonal_in, screen.viewing_distance_m) == (43, 4)
    bad = doc.replace("viewing_distance_m = 6\n", 'viewing_distance_m = "far"\n', 1)
    (tmp_path / "setagaya.toml").write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError, match="honcho-1.* viewing_distance_m must be a number"):
        load_tree(tmp_path)


# -- pages -------------------------------------------------------------------------------------


def test_a_400_character_notice_is_two_pages_on_a_43_inch_landscape_screen(tree: AreaTree) -> None:
    item = stress_items()[0]
    assert len(NOTICE_400) >= 400
    pages = pages_on(LANDSCAPE_43, tree, lambda _: QR)(item, "ja")
    assert len(pages) == 2
    minimum = screen_min_font_px(LANDSCAPE_43, "ja")
    drawn = []
    for page in (1, 2):
        spec = SlideSpec.for_screen(item, LANDSCAPE_43, "ja", tree.issuer(item.targets), QR)
        done = compose_slide(replace(spec, page=page, pages=2))
        (body,) = done.role("body")
        assert body.block.size_px == minimum and not body.block.truncated
        assert done.role("page")[0].block.texts == [f"{page}/2"]
        drawn.append("".join(body.block.texts))
    assert "".join(drawn) == NOTICE_400  # all of it, nothing twice


def test_pages_of_one_item_follow_each_other_each_with_its_own_time(tree: AreaTree) -> None:
    items = [
        stress_items()[0].with_changes(status="approved", targets=(WARD,)),
        make_item(id=5, status="approved", targets=(WARD,)),
    ]
    screen = replace(LANDSCAPE_43, languages=("ja", "en"))
    now = datetime(2026, 11, 22, 12, tzinfo=JST)
    plan, _ = playlist(screen, items, now, tree, pages=pages_on(screen, tree, lambda _: QR))
    shown = [(e.item_id, e.page, e.pages) for e in plan.entries]
    assert shown == [(5, 1, 1), (901, 1, 2), (901, 2, 2)]
    assert all(e.duration_s > 20 for e in plan.entries if e.item_id == 901)


# -- over the demo and a stress set ------------------------------------------------------------


def seconds_to_read(done, lang: str) -> float:  # type: ignore[no-untyped-def]
    """At the planner's rates: characters of Japanese and Chinese, words of other languages
    (the Japanese place name on an English slide by its characters)."""
    text = " ".join(" ".join(t.block.texts) for role in READ_ROLES for t in done.role(role))
    cjk = [c for c in text if not c.isspace() and (lang in CJK_LANGS or is_cjk(c))]
    words = len("".join(" " if is_cjk(c) else c for c in text).split())
    if lang in CJK_LANGS:
        return len(cjk) / CJK_CHARS_PER_S
    return words / LATIN_WORDS_PER_S + len(cjk) / CJK_CHARS_PER_S


def is_cjk(c: str) -> bool:
    return "\u3000" <= c <= "\u30ff" or "\u3400" <= c <= "\u9fff" or "\uff00" <= c <= "\uff60"


def check_item_on(item: Item, screen: Screen, tree: AreaTree) -> list[str]:
    """Where ``item``'s slides on ``screen`` break the rules (empty: nowhere)."""
    faults = []
    now = datetime(2026, 12, 1, 12, tzinfo=JST)
    item = item.with_changes(targets=(WARD,), starts_at=None, ends_at=None, dayparts=())
    screen = replace(screen, languages=item.languages)
    plan, _ = playlist(screen, [item], now, tree, pages=pages_on(screen, tree, lambda _: QR))
    for e in plan.entries:
        spec = SlideSpec.for_screen(item, screen, e.lang, tree.issuer(item.targets), QR)
        done = compose_slide(replace(spec, page=e.page, pages=e.pages))
        where = f"item {item.id} {e.lang} page {e.page}/{e.pages} on {screen.id}"
        minimum = screen_min_font_px(screen, e.lang)
        for placed in done.role("body"):
            if placed.block.size_px < minimum:
                faults.append(f"{where}: body at {placed.block.size_px} px < {minimum} px")
        needed = GLANCE_S + seconds_to_read(done, e.lang)
        if needed > e.duration_s + 1e-9:
            faults.append(f"{where}: {needed:.1f} s to read, shown {e.duration_s} s")
        if e.pages > MAX_PAGES:
            faults.append(f"{where}: more than {MAX_PAGES} pages")
    return faults


@pytest.mark.parametrize(
    "screen", [LANDSCAPE_43, PORTRAIT_43, LANDSCAPE_55, ENTRANCE_32], ids=lambda s: s.id
)
def test_no_stress_slide_is_too_small_or_too_fast(tree: AreaTree, screen: Screen) -> None:
    assert [f for item in stress_items() for f in check_item_on(item, screen, tree)] == []


@pytest.mark.parametrize("screen", [LANDSCAPE_43, PORTRAIT_43], ids=lambda s: s.id)
def test_no_demo_slide_is_too_small_or_too_fast(tree: AreaTree, screen: Screen) -> None:
    items = demo_items()
    assert len(items) >= 30
    assert [f for item in items for f in check_item_on(item, screen, tree)] == []
