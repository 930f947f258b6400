"""An emergency reaches every resident in a lobby: all its languages, on every screen."""

from __future__ import annotations

from datetime import datetime, timedelta

from publisher.areas import Screen
from publisher.items import AlertInfo, Translation
from publisher.plan.screens import EMERGENCY_CYCLE_MAX_S, playlist
from tests.factories import DAIZAWA, JST, WARD, make_item

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=JST)
# daizawa-1 as displays/ configures it: no Chinese, no Korean
DAIZAWA_SCREEN = Screen(
    "daizawa-1", DAIZAWA, 1920, 1080, "代沢まちづくりセンター", ("ja", "ja-x-easy", "en")
)
SIX = (
    Translation(
        "ja",
        "避難指示（警戒レベル4）",
        "世田谷区全域に避難指示を発令しました。直ちに避難してください。",
    ),
    Translation(
        "ja-x-easy", "にげてください（レベル4）", "せたがやくの ぜんぶに ひなんしじが でました。"
    ),
    Translation("en", "Evacuation order (Alert Level 4)", "An evacuation order has been issued."),
    Translation("zh-Hans", "避难指示（警戒级别4）", "世田谷区全境发布了避难指示。请立即避难。"),
    Translation("zh-Hant", "避難指示（警戒級別4）", "世田谷區全境發布了避難指示。請立即避難。"),
    Translation("ko", "피난 지시 (경계 레벨 4)", "세타가야구 전역에 피난 지시가 발령되었습니다."),
)


def ward_emergency(item_id: int = 9, **kw):  # type: ignore[no-untyped-def]
    fields = {
        "id": item_id,
        "kind": "alert",
        "priority": "emergency",
        "targets": (WARD,),
        "translations": SIX,
        "alert": AlertInfo(warning_level=4),
    }
    fields.update(kw)
    return make_item(**fields)


def test_a_ward_emergency_shows_in_all_six_languages_on_a_screen_configured_for_three(tree):
    notice = make_item(id=1, translations=(Translation("ko", "x"), Translation("ja", "お知らせ")))
    plan, _ = playlist(DAIZAWA_SCREEN, [notice, ward_emergency()], NOW, tree)
    assert plan.override
    assert [e.lang for e in plan.entries] == ["ja", "ja-x-easy", "en", "zh-Hans", "zh-Hant", "ko"]


def test_a_full_emergency_cycle_through_every_language_takes_at_most_a_minute(tree):
    long_body = "直ちに避難してください。" * 40
    six = tuple(Translation(t.lang, t.title, long_body) for t in SIX)
    plan, _ = playlist(DAIZAWA_SCREEN, [ward_emergency(translations=six)], NOW, tree)
    assert len(plan.entries) == 6
    assert sum(e.duration_s for e in plan.entries) <= EMERGENCY_CYCLE_MAX_S


def test_normal_content_still_follows_the_screens_own_languages(tree):
    notice = make_item(
        id=1,
        translations=(Translation("ja", "お知らせ"), Translation("ko", "안내")),
        ends_at=NOW + timedelta(days=1),
    )
    plan, _ = playlist(DAIZAWA_SCREEN, [notice], NOW, tree)
    assert [e.lang for e in plan.entries] == ["ja"]
