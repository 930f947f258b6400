"""やさしい日本語 slides (furigana, easy fixed words) and titles that are never cut while the body
has room."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from publisher.areas import AreaTree
from publisher.errors import PublisherError
from publisher.item_input import parse_item
from publisher.items import Place, Translation
from publisher.render import labels
from publisher.render.slides import SlideSpec, compose_slide, slide_content
from tests.factories import JST, api_item, make_item

QR = "https://signage.example.jp/q/i42"
START = datetime(2026, 12, 5, 9, 30, tzinfo=JST)


def easy_event(**changes):  # type: ignore[no-untyped-def]
    item = make_item(
        id=7,
        kind="event",
        category="drill",
        translations=(
            Translation("ja", "代沢地区 避難所運営訓練", "代沢小学校で訓練を行います。"),
            Translation(
                "ja-x-easy", "代沢で 避難所の 訓練を します", "代沢小学校に 来て ください。"
            ),
        ),
        event_starts_at=START,
        event_ends_at=START + timedelta(hours=2, minutes=30),
        place=Place("代沢小学校 体育館", "世田谷区代沢3-2-1"),
    )
    return replace(item, **changes)


def test_easy_japanese_slides_carry_furigana_over_kanji(tree: AreaTree) -> None:
    item = easy_event()
    spec = SlideSpec(item, 1920, 1080, "ja-x-easy", tree.issuer(item.targets), QR)
    content = slide_content(spec)
    assert content.ruby and not slide_content(replace(spec, lang="ja")).ruby
    easy = compose_slide(spec)
    plain = compose_slide(
        replace(
            spec,
            lang="ja",
            item=replace(
                item,
                translations=(
                    Translation(
                        "ja", "代沢で 避難所の 訓練を します", "代沢小学校に 来て ください。"
                    ),
                ),
            ),
        )
    )
    # the same words with furigana: more ink above the title's kanji, and taller lines
    title_easy, title_plain = easy.role("title")[0], plain.role("title")[0]
    assert title_easy.block.line_height_px > title_plain.block.line_height_px
    x, y = title_easy.x, title_easy.y
    strip = (x, y, x + 300, y + round(title_easy.block.size_px * 0.5))
    assert easy.image.crop(strip).getcolors(1 << 16) != plain.image.crop(strip).getcolors(1 << 16)
    easy.image.save("/tmp/issue-15a-easy-slide.png")


def test_easy_japanese_fixed_words_are_easy() -> None:
    item = easy_event()
    assert labels.kind_label(item, "ja-x-easy") == "くんれん"
    assert labels.word("ja-x-easy", "details") == "くわしく みる"
    assert labels.word("ja-x-easy", "level", n=4) == "けいかい レベル4"
    when = labels.event_when(item, "ja-x-easy")
    assert when is not None
    assert when.replace("\u00a0", " ") == (
        "12がつ 5にち（どようび） ごぜん 9じ 30ぷん から ひる 12じ まで"
    )
    assert "〜" not in when and ":" not in when
    afternoon = replace(item, event_starts_at=START + timedelta(hours=4, minutes=15))
    afternoon = replace(afternoon, event_ends_at=START + timedelta(hours=5, minutes=32))
    assert "ごご 1じ 45ふん から ごご 3じ 2ふん まで" in (
        labels.event_when(afternoon, "ja-x-easy") or ""
    ).replace("\u00a0", " ")
    assert (
        labels.event_when(item, "ja") == "12月5日（土）9:30〜12:00"
    )  # ordinary Japanese unchanged


def test_staff_readings_are_kept_with_the_translation_and_reach_the_slide(tree: AreaTree) -> None:
    data = api_item(
        title={"ja": "代沢の訓練", "ja-x-easy": "代沢で 訓練を します"},
        readings={"ja-x-easy": "代沢=だいざわ\n訓練=くんれん"},
    )
    item = parse_item(data, tree)
    assert item.text("ja-x-easy").readings == (("代沢", "だいざわ"), ("訓練", "くんれん"))
    assert item.as_json()["readings"] == {"ja-x-easy": {"代沢": "だいざわ", "訓練": "くんれん"}}
    kept = parse_item(
        {"title": {"ja": "代沢の訓練", "ja-x-easy": "代沢で します"}}, tree, base=item
    )
    assert kept.text("ja-x-easy").readings == item.text("ja-x-easy").readings
    spec = SlideSpec(item, 1920, 1080, "ja-x-easy", tree.issuer(item.targets), QR)
    assert slide_content(spec).readings == (("代沢", "だいざわ"), ("訓練", "くんれん"))
    with pytest.raises(PublisherError) as bad:
        parse_item({**data, "readings": {"ja-x-easy": "代沢=daizawa"}}, tree)
    assert bad.value.field == "readings.ja-x-easy" and "hiragana" in bad.value.message
    with pytest.raises(PublisherError, match="no en text"):
        parse_item({**data, "readings": {"en": "代沢=だいざわ"}}, tree)


@pytest.mark.parametrize("size", [(1080, 1920), (1920, 1080)])
def test_a_long_title_is_not_cut_while_the_body_has_room(tree: AreaTree, size: tuple) -> None:
    """Portrait titles were cut (「…（骨密…」) while the body still had room."""
    title = (
        "【健康】骨粗しょう症を防ぐための骨密度測定会と栄養相談会を代沢まちづくりセンターで"
        "開きます（骨密度測定は予約制・先着30名）"
    )
    item = make_item(id=8, translations=(Translation("ja", title, "申込みは電話で。"),))
    done = compose_slide(SlideSpec(item, *size, "ja", tree.issuer(item.targets), QR))
    (placed,) = done.role("title")
    assert not placed.block.truncated
    assert "".join(placed.block.texts) == title
    assert "".join(done.role("body")[0].block.texts) == "申込みは電話で。"


def test_staff_readings_survive_the_store(rt) -> None:  # type: ignore[no-untyped-def]
    """Kept per translation (item_translations.readings), on SQLite and PostgreSQL alike."""
    from publisher.store.content import create_item, get_item

    item = make_item(
        translations=(
            Translation("ja", "代沢の訓練"),
            Translation("ja-x-easy", "代沢で 訓練", readings=(("代沢", "だいざわ"),)),
        )
    )
    with rt.session() as s:
        saved = create_item(s, item, actor="test")
    with rt.session() as s:
        back = get_item(s, int(saved.id or 0))
    assert back.text("ja-x-easy").readings == (("代沢", "だいざわ"),)
    assert back.text("ja").readings == ()
