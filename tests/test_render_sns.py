"""Post text: each network's length rule at its edges, phrase-boundary cuts, golden texts.

Update the golden texts with ``UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_render_sns.py``.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from publisher.items import AlertInfo, Place, Translation
from publisher.render.sns import (
    ELLIPSIS,
    Limits,
    compose,
    graphemes,
    measure,
    phrases,
    utf16_units,
)
from tests.factories import DAIZAWA, JST, WARD, make_item
from tests.golden import check_golden

LINK = "https://signage.example.jp/items/7"
LONG_LINK = "https://signage.example.jp/items/7?from=a-very-long-tracking-parameter-" + "x" * 80
X, MASTODON, BLUESKY, LINE = (Limits.for_network(n) for n in ("x", "mastodon", "bluesky", "line"))
FAMILY = "👨‍👩‍👧"


def test_each_network_counts_its_own_way() -> None:
    assert measure("あ" * 10, X) == 20  # CJK weighs 2
    assert measure("abc", X) == 3
    assert measure(FAMILY, X) == 2  # one emoji sequence
    assert measure(FAMILY, MASTODON) == measure(FAMILY, BLUESKY) == 1  # one grapheme
    assert measure(FAMILY, LINE) == 8 == utf16_units(FAMILY)  # 3 surrogate pairs + 2 ZWJ
    assert graphemes("か\u3099") == 1  # が written as か + combining ゛
    assert measure("か\u3099", X) == 2
    assert measure("か\u3099", LINE) == 2


def test_a_url_weighs_23_on_x_and_mastodon_however_long() -> None:
    for url in (LINK, LONG_LINK, "http://a.jp/x"):
        assert measure(url, X) == 23
        assert measure(url, MASTODON) == 23
    assert measure(LONG_LINK, BLUESKY) == len(LONG_LINK)  # Bluesky counts what it shows


def _notice(body: str, title: str = "お知らせ"):  # type: ignore[no-untyped-def]
    return make_item(title, translations=(Translation("ja", title, body),), targets=(WARD,))


def _fixed(limits: Limits, body_len: int, unit: str):  # type: ignore[no-untyped-def]
    item = _notice(unit * body_len)
    return compose(item, _tree(), LINK, limits)


def _tree():  # type: ignore[no-untyped-def]
    from publisher.areas import load_tree
    from publisher.config import REPO_DIR

    return load_tree(REPO_DIR / "displays")


@pytest.mark.parametrize(
    ("limits", "unit"), [(X, "あ"), (MASTODON, FAMILY), (BLUESKY, "か\u3099"), (LINE, FAMILY)]
)
def test_exactly_at_the_limit_passes_unchanged_and_one_over_is_cut(
    limits: Limits, unit: str
) -> None:
    empty = _fixed(limits, 0, unit)
    per_unit = measure(unit, limits)
    room = (limits.max_length - empty.length - 1) // per_unit  # "\n" before the body
    at_limit = _fixed(limits, room, unit)
    assert at_limit.length <= limits.max_length
    assert unit * room in at_limit.text and not at_limit.cut
    over = _fixed(limits, room + (limits.max_length - at_limit.length) // per_unit + 1, unit)
    assert over.cut and ELLIPSIS in over.text
    assert over.length <= limits.max_length
    assert LINK in over.text


def test_exactly_280_on_x_is_not_touched() -> None:
    tree = _tree()
    base = compose(_notice(""), tree, LINK, X)
    room = 280 - base.length - 1  # "\n" before the body
    body = "あ" * (room // 2) + "a" * (room % 2)
    post = compose(_notice(body), tree, LINK, X)
    assert post.length == 280 and not post.cut
    one_over = compose(_notice(body + "a"), tree, LINK, X)
    assert one_over.cut and one_over.length <= 280


def test_a_cut_falls_between_phrases_and_keeps_the_link_and_the_drill_mark() -> None:
    body = (
        "大きな地震が起きたことを想定し、避難所となる代沢小学校で、地域の皆さんと一緒に避難所を開設・運営する訓練を行います。"
        * 4
    )
    item = make_item(
        "代沢地区 避難所運営訓練",
        translations=(Translation("ja", "代沢地区 避難所運営訓練", body),),
        drill=True,
    )
    post = compose(item, _tree(), LINK, X)
    assert post.cut and post.text.startswith("【訓練】")
    assert LINK in post.text and "#代沢地区" in post.text
    kept = post.text.split("\n")[-3].removesuffix(ELLIPSIS)
    boundaries = {len("".join(phrases(body)[:i])) for i in range(len(phrases(body)) + 1)}
    assert len(kept) in boundaries or len(kept) + 1 in boundaries  # a dropped trailing 、


def test_latin_text_is_cut_between_words() -> None:
    body = "Volunteers will sweep fallen leaves around Daizawa Elementary School " * 8
    item = make_item(
        "Clean-up",
        translations=(Translation("ja", "清掃"), Translation("en", "Clean-up", body)),
    )
    post = compose(item, _tree(), LINK, X, "en")
    kept = post.text.split("\n")[-3].removesuffix(ELLIPSIS)
    assert post.cut and body.startswith(kept) and body[len(kept)] == " "


def test_a_title_longer_than_the_post_keeps_marker_and_link() -> None:
    title = "区内全域で大規模な停電が発生しています。" * 6
    item = make_item(
        title, kind="alert", priority="emergency", translations=(Translation("ja", title),)
    )
    post = compose(item, _tree(), LINK, X)
    assert post.text.startswith("【緊急】") and post.text.endswith(LINK)
    assert post.length <= 280


def test_a_ward_item_carries_only_the_wards_hashtag() -> None:
    post = compose(_notice("本文"), _tree(), LINK, LINE)
    assert post.text.endswith("#世田谷区")


# -- golden texts -------------------------------------------------------------------------------


def _samples():  # type: ignore[no-untyped-def]
    return {
        "notice": make_item(
            "代沢五丁目 下水道管の工事に伴う通行規制のお知らせ",
            translations=(
                Translation(
                    "ja",
                    "代沢五丁目 下水道管の工事に伴う通行規制のお知らせ",
                    "12月1日から12月19日まで、平日の9時から17時、代沢五丁目の区道で下水道管の取り替え工事を行います。"
                    "工事中は車両の通行をお断りし、歩行者は誘導員の案内に従ってお通りください。"
                    "ご不便をおかけしますが、ご理解とご協力をお願いします。",
                ),
            ),
        ),
        "event": make_item(
            "代沢ふれあい健康体操",
            kind="event",
            translations=(
                Translation(
                    "ja",
                    "代沢ふれあい健康体操",
                    "椅子に座ってできる体操です。動きやすい服装でお越しください。",
                ),
            ),
            event_starts_at=datetime(2026, 12, 6, 10, 0, tzinfo=JST),
            event_ends_at=datetime(2026, 12, 6, 11, 30, tzinfo=JST),
            place=Place("代沢まちづくりセンター 活動フロア"),
        ),
        "drill": make_item(
            "代沢地区に高齢者等避難（警戒レベル3）を発令",
            kind="alert",
            priority="emergency",
            drill=True,
            translations=(
                Translation(
                    "ja",
                    "代沢地区に高齢者等避難（警戒レベル3）を発令",
                    "これは訓練です。実際の避難情報ではありません。",
                ),
            ),
            alert=AlertInfo(cap_status="Exercise", warning_level=3),
            targets=(DAIZAWA,),
        ),
        "en": make_item(
            "せたがや多文化交流フェスタ",
            kind="event",
            translations=(
                Translation("ja", "せたがや多文化交流フェスタ"),
                Translation(
                    "en",
                    "Setagaya Multicultural Festa",
                    "Meet neighbours from around the world through music, dance and games. "
                    "Try speaking Easy Japanese, and ask about everyday life in the ward: "
                    "garbage sorting, health check-ups, schools and disaster preparedness. "
                    "Interpreters for English, Chinese and Korean will be at the reception desk all day.",
                ),
            ),
            targets=(WARD,),
            event_starts_at=datetime(2026, 12, 4, 13, 0, tzinfo=JST),
            event_ends_at=datetime(2026, 12, 4, 16, 0, tzinfo=JST),
            place=Place("世田谷区民会館 ホール"),
        ),
    }


@pytest.mark.parametrize("name", ["notice", "event", "drill", "en"])
@pytest.mark.parametrize("network", ["x", "mastodon", "bluesky", "line"])
def test_golden_post_texts(name: str, network: str) -> None:
    item = _samples()[name]
    lang = "en" if name == "en" else "ja"
    post = compose(item, _tree(), LINK, Limits.for_network(network), lang)
    got = f"{post.text}\n--- {post.length}/{post.limit}\n"
    check_golden(f"sns/{name}.{network}.txt", got)
