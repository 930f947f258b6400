"""The weather agency's own disaster messages reach the ward's screens, feeds and SNS with no
staff typing: warnings, earthquakes, tornadoes, landslides, rivers, in six languages."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from publisher.collect.base import Source
from publisher.collect.jma_words import vocabulary
from publisher.collect.oneoff import import_document
from publisher.collect.run import RunResult, collect
from publisher.items import Item
from publisher.plan import screens as plan
from publisher.runtime import Runtime
from publisher.store.content import live_items
from publisher.store.models import AuditRow, ItemRow, SnsPostRow
from tests.jma_helpers import moved
from tests.residents_helpers import frozen

LANGS = ("ja", "ja-x-easy", "en", "zh-Hans", "zh-Hant", "ko")
ADVISORIES = "15_12_02_161130_VPWW54.xml"  # 世田谷区: 大雨・洪水・雷注意報
STORM = "15_13_01_161226_VPWW54.xml"  # 世田谷区: 暴風警報
NONE_LEFT = "15_14_01_170216_VPWW54.xml"  # 世田谷区: 発表警報・注意報はなし
YAMAGUCHI = "15_11_01_150916_VPWW54.xml"
FUKUOKA_LANDSLIDE = "17_01_01_190529_VXWW50.xml"
QUAKE_2011 = "32-39_11_05_240613_VXSE53.xml"  # 東京世田谷区 震度5弱
QUAKE_WEAK = "32-35_06_03_240613_VXSE53.xml"  # 東京世田谷区 震度2
FLASH = "32-35_01_01_100806_VXSE51.xml"  # 東京都２３区 震度4
TORNADO = "19_04_01_140425_VPHW51.xml"
RIVER = "16_01_01_220728_VXKOii.xml"  # template river ○○川


def read(rt: Runtime, data: bytes, now: datetime, name: str = "msg_VPWW54.xml") -> RunResult:
    """One message, as ``publisher import jma FILE`` reads it."""
    path = Path(rt.settings["DATA_DIR"]) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return import_document(rt, "jma", str(path), now=now)


def jma_items(rt: Runtime) -> list[Item]:
    from publisher.store.content import to_item

    with rt.session() as s:
        rows = s.scalars(select(ItemRow).where(ItemRow.source == "jma").order_by(ItemRow.id))
        return [to_item(r) for r in rows]


def screens_showing(rt: Runtime, at: datetime) -> dict[str, plan.Playlist]:
    with rt.session() as s:
        items = live_items(s, at)
    return {sid: plan.playlist(sc, items, at, rt.tree)[0] for sid, sc in rt.tree.screens.items()}


def test_a_tokyo_advisory_naming_setagaya_reaches_every_ward_screen_feed_and_sns_in_six_languages(
    rt: Runtime, now: datetime
) -> None:
    result = read(rt, moved(ADVISORIES, now), now)
    assert result.ok and result.created == 1, result.summary()
    [item] = jma_items(rt)
    assert item.kind == "alert" and item.targets == (rt.tree.ward_code,)
    assert set(item.languages) == set(LANGS)
    assert item.text("ja").title == "大雨注意報・洪水注意報・雷注意報　世田谷区"
    assert (
        item.text("en").title
        == "Heavy Rain Advisory, Flood Advisory, Thunderstorm Advisory — Setagaya"
    )
    assert item.text("ja-x-easy").title.startswith("おおあめ ちゅういほう")
    assert item.alert is not None and item.alert.warning_level == 2
    assert "警戒レベル2相当" in item.text("ja").body
    assert "Equivalent to alert level 2" in item.text("en").body
    assert item.priority == "normal" and item.category == "disaster" and not item.drill

    shown = screens_showing(rt, now + timedelta(minutes=1))
    assert len(shown) == 44
    for sid, pl in shown.items():
        assert item.id in {e.item_id for e in pl.entries}, sid
        assert not pl.override, sid  # an advisory informs; it does not take over

    public = frozen(rt_app(rt), now + timedelta(minutes=1)).test_client()
    for feed in ("/feeds/setagaya.rss", "/feeds/setagaya/kitazawa/daizawa.atom"):
        assert "大雨注意報・洪水注意報・雷注意報" in public.get(feed).get_data(as_text=True), feed
    page = public.get(f"/items/{item.id}?lang=en").get_data(as_text=True)
    assert "Heavy Rain Advisory" in page
    with rt.session() as s:
        posts = list(s.scalars(select(SnsPostRow).where(SnsPostRow.item_id == item.id)))
    assert posts and {p.account for p in posts} == {rt.tree.ward_code}


def rt_app(rt: Runtime):  # type: ignore[no-untyped-def]
    from publisher.web import create_app

    return create_app(rt, {"TESTING": True})


@pytest.mark.parametrize("sample", [YAMAGUCHI, FUKUOKA_LANDSLIDE, RIVER])
def test_messages_for_other_places_create_nothing(rt: Runtime, now: datetime, sample: str) -> None:
    result = read(rt, moved(sample, now), now, name=sample)
    assert result.ok and result.created == 0
    assert "names none of the ward's codes" in result.skipped[0].reason
    assert jma_items(rt) == []


def test_a_warning_upgraded_then_lifted_is_one_alert_that_leaves_every_screen(
    rt: Runtime, now: datetime
) -> None:
    read(rt, moved(ADVISORIES, now), now)
    later = now + timedelta(hours=1)
    upgraded = read(rt, moved(STORM, later), later)
    assert upgraded.updated == 1 and upgraded.created == 0
    [item] = jma_items(rt)
    assert item.revision == 2 and item.title == "暴風警報　世田谷区" and item.priority == "high"
    assert item.starts_at == now  # the same alert, shown since the first message

    lifted_at = later + timedelta(hours=1)
    lifted = read(rt, moved(NONE_LEFT, lifted_at), lifted_at)
    assert lifted.updated == 1
    [item] = jma_items(rt)
    assert item.status == "withdrawn"
    assert not any(pl.entries for pl in screens_showing(rt, lifted_at).values())
    with rt.session() as s:
        actions = list(s.scalars(select(AuditRow.action).where(AuditRow.entity_id == str(item.id))))
    assert actions == ["create", "jma-update", "jma-lift"]

    # reading any of them again changes nothing: the older ones are older than what stands
    again = [read(rt, moved(n, t), t) for n, t in ((NONE_LEFT, lifted_at), (STORM, later))]
    assert all(r.created == r.updated == 0 for r in again)
    assert [i.status for i in jma_items(rt)] == ["withdrawn"]

    # a new episode the next day is a new alert
    next_day = now + timedelta(days=1)
    assert read(rt, moved(STORM, next_day, **{"<Status>発表</Status>": "<Status>発表</Status>"}),
                next_day).created == 1  # fmt: skip


def test_reading_the_same_message_twice_changes_nothing(rt: Runtime, now: datetime) -> None:
    first = read(rt, moved(STORM, now), now)
    second = read(rt, moved(STORM, now), now + timedelta(minutes=1))
    assert first.created == 1 and second.unchanged == 1 and second.updated == 0
    assert jma_items(rt)[0].revision == 1


def test_the_2011_earthquake_takes_over_every_screen_and_a_weak_one_shows_nothing(
    rt: Runtime, now: datetime
) -> None:
    weak = read(rt, moved(QUAKE_WEAK, now), now, name=QUAKE_WEAK)
    assert weak.ok and jma_items(rt) == []

    result = read(rt, moved(QUAKE_2011, now), now, name=QUAKE_2011)
    assert result.created == 1, result.summary()
    [item] = jma_items(rt)
    assert item.is_emergency
    assert item.text("ja").title == "地震　世田谷区で震度5弱"
    assert item.text("en").title == "Earthquake: seismic intensity 5 lower in Setagaya"
    assert item.text("ko").title == "지진: 세타가야구 진도 5약"
    for sid, pl in screens_showing(rt, now + timedelta(seconds=1)).items():
        assert pl.override and {e.item_id for e in pl.entries} == {item.id}, sid


def test_a_flash_report_for_the_23_wards_is_withdrawn_when_the_ward_itself_felt_less_than_4(
    rt: Runtime, now: datetime
) -> None:
    read(rt, moved(FLASH, now), now, name=FLASH)
    [flash] = jma_items(rt)
    assert flash.priority == "high" and "東京23区で震度4" in flash.title
    detail = moved(QUAKE_WEAK, now + timedelta(minutes=3),
                   **{"<EventID>20080614084350</EventID>": "<EventID>20090811050711</EventID>"})  # fmt: skip
    read(rt, detail, now + timedelta(minutes=3), name=QUAKE_WEAK)
    assert [i.status for i in jma_items(rt)] == ["withdrawn"]


def test_a_tornado_advisory_shows_until_its_valid_time(rt: Runtime, now: datetime) -> None:
    read(rt, moved(TORNADO, now), now, name=TORNADO)
    [item] = jma_items(rt)
    assert item.title == "竜巻注意情報　世田谷区" and item.priority == "high"
    assert item.ends_at == now + timedelta(hours=1, minutes=11)  # ValidDateTime 14:30 for 13:19


def test_a_landslide_alert_for_setagaya_is_level_4_and_pre_empts_every_screen(
    rt: Runtime, now: datetime
) -> None:
    data = moved(FUKUOKA_LANDSLIDE, now, **{"<Code>4010000</Code>": "<Code>1311200</Code>"})
    read(rt, data, now, name=FUKUOKA_LANDSLIDE)
    [item] = jma_items(rt)
    assert item.alert is not None and item.alert.warning_level == 4 and item.is_emergency
    assert item.text("en").title == "Landslide Alert — Setagaya"
    assert "危険な場所から全員避難してください。" in item.text("ja").body


def test_a_flood_forecast_for_the_tama_river_is_shown_with_its_level(
    rt: Runtime, now: datetime
) -> None:
    read(rt, moved(RIVER, now, **{"○○川": "多摩川"}), now, name=RIVER)
    [item] = jma_items(rt)
    assert item.text("ja").title == "多摩川　氾濫注意情報"
    assert item.text("en").title == "Tama River: River Flood Advisory"
    assert item.alert is not None and item.alert.warning_level == 2


def test_a_drill_is_marked_and_never_replaces_the_real_alert(rt: Runtime, now: datetime) -> None:
    read(rt, moved(STORM, now), now)
    drill = moved(
        ADVISORIES, now + timedelta(minutes=5), **{"<Status>通常</Status>": "<Status>訓練</Status>"}
    )
    read(rt, drill, now + timedelta(minutes=5))
    real, practice = jma_items(rt)
    assert real.status == "approved" and not real.drill and real.revision == 1
    assert practice.drill and plan.is_drill(practice) and practice.category == "drill"


def test_a_cancelled_message_withdraws_its_alert(rt: Runtime, now: datetime) -> None:
    read(rt, moved(STORM, now), now)
    later = now + timedelta(minutes=10)
    read(
        rt, moved(STORM, later, **{"<InfoType>発表</InfoType>": "<InfoType>取消</InfoType>"}), later
    )
    assert [i.status for i in jma_items(rt)] == ["withdrawn"]


def test_a_withdrawal_by_staff_stands_while_the_agency_continues_the_warning(
    rt: Runtime, now: datetime
) -> None:
    from publisher.store import workflow
    from publisher.store.staff import operator

    read(rt, moved(ADVISORIES, now), now)
    [item] = jma_items(rt)
    with rt.session() as s:
        workflow.transition(s, rt.tree, operator(rt.tree), item.id, "withdraw")  # type: ignore[arg-type]
    continued = moved(ADVISORIES, now + timedelta(hours=1))
    assert read(rt, continued, now + timedelta(hours=1)).unchanged == 1
    assert [i.status for i in jma_items(rt)] == ["withdrawn"]


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "x">]><Report>&a;</Report>', "DTD"),
        (b"<Report xmlns='http://xml.kishou.go.jp/jmaxml1/'><Control>", "not well-formed"),
        (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'/>", "neither a JMA message"),
        (
            b"<Report xmlns='http://xml.kishou.go.jp/jmaxml1/'><Control><Title>\xe5\xa4\xa9\xe6"
            b"\xb0\x97\xe6\xa6\x82\xe6\xb3\x81</Title></Control></Report>",
            "unknown data type",
        ),
        (
            b"<Report xmlns='http://xml.kishou.go.jp/jmaxml1/'>" + b" " * (4 << 20) + b"</Report>",
            "over the limit",
        ),  # fmt: skip
    ],
)
def test_a_bad_message_is_refused_in_one_line_and_stores_nothing(
    rt: Runtime, now: datetime, data: bytes, why: str
) -> None:
    result = read(rt, data, now, name="bad.xml")
    assert not result.ok and why in (result.failure or "")
    assert "bad.xml" in (result.failure or "") and "\n" not in (result.failure or "")
    assert jma_items(rt) == []


def test_every_vocabulary_table_speaks_all_six_languages() -> None:
    words = vocabulary()
    assert words.languages == LANGS
    for table in (words.conditions, words.intensities, words.phrases, words.actions):
        for key, texts in table.items():
            assert all(texts[lang].strip() for lang in LANGS), key
    assert words.kinds["大雨特別警報"].level == 5
    assert words.kinds["大雨警報"].level_for(("土砂災害", "浸水害")) == 3
    assert words.kinds["大雨警報"].level_for(("浸水害",)) is None


def test_the_heavy_rain_warning_for_landslides_reads_as_the_ward_expects(
    rt: Runtime, now: datetime
) -> None:
    data = moved(STORM, now, **{"<Name>暴風警報</Name>\n<Code>05</Code>\n<Status>発表</Status>\n</Kind>\n<Area>\n<Name>世田谷区</Name>":
                                "<Name>大雨警報</Name>\n<Code>03</Code>\n<Status>発表</Status>\n<Condition>土砂災害</Condition>\n</Kind>\n<Area>\n<Name>世田谷区</Name>"})  # fmt: skip
    read(rt, data, now)
    [item] = jma_items(rt)
    assert item.text("ja").title == "大雨警報（土砂災害）　世田谷区"
    assert item.text("en").title == "Heavy Rain Warning (landslides) — Setagaya"
    assert (
        item.text("ja-x-easy").title == "おおあめ けいほう（がけ くずれ に ちゅうい）　せたがやく"
    )
    assert item.alert is not None and item.alert.warning_level == 3 and item.priority == "high"


def test_a_source_of_kind_jma_is_configured_like_any_other(rt: Runtime, now: datetime) -> None:
    source = Source(name="jma-file", kind="jma", path=Path("/nonexistent/x_VPWW54.xml"))
    result = collect(rt, source, now=now)
    assert not result.ok and "cannot read" in (result.failure or "")


def record_rain(at: datetime, code: str = "1311200") -> bytes:
    """A 記録的短時間大雨情報 (VPOA50) shaped as the agency's format (no official sample)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Report xmlns="http://xml.kishou.go.jp/jmaxml1/" xmlns:jmx="http://xml.kishou.go.jp/jmaxml1/">
<Control><Title>記録的短時間大雨情報</Title><DateTime>{at.isoformat()}</DateTime>
<Status>通常</Status><EditorialOffice>気象庁本庁</EditorialOffice>
<PublishingOffice>気象庁</PublishingOffice></Control>
<Head xmlns="http://xml.kishou.go.jp/jmaxml1/informationBasis1/">
<Title>東京都記録的短時間大雨情報</Title><ReportDateTime>{at.isoformat()}</ReportDateTime>
<TargetDateTime>{at.isoformat()}</TargetDateTime><EventID/><InfoType>発表</InfoType><Serial>1</Serial>
<InfoKind>記録的短時間大雨情報</InfoKind><InfoKindVersion>1.0_0</InfoKindVersion>
<Headline><Text>世田谷区付近で約１１０ミリ</Text>
<Information type="記録的短時間大雨情報"><Item><Kind><Name>記録的短時間大雨情報</Name></Kind>
<Areas codeType="気象・地震・火山情報／市町村等"><Area><Name>世田谷区</Name><Code>{code}</Code></Area>
</Areas></Item></Information></Headline></Head>
<Body xmlns="http://xml.kishou.go.jp/jmaxml1/body/meteorology1/"/></Report>""".encode()


def test_record_short_term_rain_over_the_ward_shows_for_an_hour(rt: Runtime, now: datetime) -> None:
    read(rt, record_rain(now), now, name="rain_VPOA50.xml")
    [item] = jma_items(rt)
    assert item.title == "記録的短時間大雨情報　世田谷区" and item.priority == "high"
    assert item.ends_at == now + timedelta(hours=1)
    assert "世田谷区付近で約１１０ミリ" in item.text("ja").body
    assert read(rt, record_rain(now, "1311300"), now, name="r_VPOA50.xml").created == 0


def test_a_detailed_report_listing_the_23_wards_but_not_setagaya_withdraws_the_flash(
    rt: Runtime, now: datetime
) -> None:
    read(rt, moved(FLASH, now), now, name=FLASH)
    later = now + timedelta(minutes=3)
    detail = moved(QUAKE_WEAK, later, **{
        "<EventID>20080614084350</EventID>": "<EventID>20090811050711</EventID>",
        "<Code>1311200</Code>": "<Code>1399999</Code>",
    })  # fmt: skip
    read(rt, detail, later, name=QUAKE_WEAK)
    assert [i.status for i in jma_items(rt)] == ["withdrawn"]


@pytest.mark.parametrize(
    ("sample", "title_ja", "title_en", "level", "priority"),
    [
        (ADVISORIES, "大雨注意報・洪水注意報・雷注意報　世田谷区",
         "Heavy Rain Advisory, Flood Advisory, Thunderstorm Advisory — Setagaya", 2, "normal"),
        (STORM, "暴風警報　世田谷区", "Storm Warning — Setagaya", None, "high"),
        (TORNADO, "竜巻注意情報　世田谷区", "Tornado Advisory — Setagaya", None, "high"),
        (FLASH, "地震　東京23区で震度4", "Earthquake: seismic intensity 4 in Tokyo's 23 wards",
         None, "high"),
        (QUAKE_2011, "地震　世田谷区で震度5弱", "Earthquake: seismic intensity 5 lower in Setagaya",
         None, "emergency"),
    ],
)  # fmt: skip
def test_every_sample_naming_setagaya_reaches_screens_feeds_pages_and_sns(
    rt: Runtime, now: datetime, sample: str, title_ja: str, title_en: str, level: int | None,
    priority: str,
) -> None:  # fmt: skip
    read(rt, moved(sample, now), now, name=sample)
    [item] = jma_items(rt)
    assert (item.text("ja").title, item.text("en").title) == (title_ja, title_en)
    assert set(item.languages) == set(LANGS) and all(item.text(lang).body for lang in LANGS)
    assert item.alert is not None and item.alert.warning_level == level
    assert item.priority == priority
    at = now + timedelta(minutes=1)
    assert all(
        item.id in {e.item_id for e in pl.entries} for pl in screens_showing(rt, at).values()
    )
    public = frozen(rt_app(rt), at).test_client()
    assert title_ja in public.get("/feeds/setagaya/kinuta/seijo.rss").get_data(as_text=True)
    page = html.unescape(public.get(f"/items/{item.id}?lang=en").get_data(as_text=True))
    assert title_en in page
    with rt.session() as s:
        langs = set(s.scalars(select(SnsPostRow.lang).where(SnsPostRow.item_id == item.id)))
    assert "ja" in langs


def test_a_correction_at_the_same_report_time_replaces_the_alert(
    rt: Runtime, now: datetime
) -> None:
    read(rt, moved(STORM, now), now)
    corrected = moved(STORM, now, **{
        "<InfoType>発表</InfoType>": "<InfoType>訂正</InfoType>",
        "<Name>暴風警報</Name>\n<Code>05</Code>\n<Status>発表</Status>\n</Kind>\n<Area>\n<Name>世田谷区</Name>":
        "<Name>強風注意報</Name>\n<Code>15</Code>\n<Status>発表</Status>\n</Kind>\n<Area>\n<Name>世田谷区</Name>",
    })  # fmt: skip
    assert read(rt, corrected, now + timedelta(minutes=1)).updated == 1
    [item] = jma_items(rt)
    assert item.revision == 2 and item.title == "強風注意報　世田谷区" and item.priority == "normal"
    assert item.alert is not None and item.alert.msg_type == "Update"
