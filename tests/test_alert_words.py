"""An alert says what it is in words on its slide and its page, never by colour alone."""

from __future__ import annotations

import pytest

from publisher.areas import AreaTree
from publisher.items import AlertInfo, Translation
from publisher.render.slides import SlideSpec, compose_slide
from tests.factories import KITAZAWA, make_item
from tests.residents_helpers import frozen, store


def cap_warning(**alert):  # type: ignore[no-untyped-def]
    """A CAP "Moderate/Expected" warning at priority high, with no 警戒レベル."""
    fields = {"severity": "Moderate", "urgency": "Expected", **alert}
    return make_item(
        "北沢地域に大雨に関する情報",
        id=41,
        kind="alert",
        priority="high",
        category="disaster",
        targets=(KITAZAWA,),
        translations=(
            Translation("ja", "北沢地域に大雨に関する情報", "川に近づかないでください。"),
            Translation("en", "Heavy rain information for Kitazawa", "Keep away from rivers."),
            Translation("ko", "기타자와 지역 호우 정보", "하천에 가까이 가지 마십시오."),
        ),
        alert=AlertInfo(**fields),
    )


def label(tree: AreaTree, item, lang: str = "ja") -> str:  # type: ignore[no-untyped-def]
    spec = SlideSpec(item, 1920, 1080, lang, tree.get(KITAZAWA), "https://example.org/q/x")
    return " ".join(compose_slide(spec).role("label")[0].block.texts)


def test_a_cap_warning_without_a_level_says_warning_not_disaster_preparedness(tree):
    assert label(tree, cap_warning()) == "警報"
    assert label(tree, cap_warning(), "en") == "Warning"


def test_a_minor_cap_message_says_advisory(tree):
    assert label(tree, cap_warning(severity="Minor")) == "注意報"


@pytest.mark.parametrize(
    ("kind", "ja", "ko"),
    [
        ("earthquake", "緊急 地震情報", "긴급 지진 정보"),
        ("shelter_open", "緊急 避難所開設", "긴급 대피소 개설"),
    ],
)
def test_an_emergency_of_a_named_kind_prints_that_kind(tree, kind, ja, ko):
    item = cap_warning(kind=kind).with_changes(priority="emergency")
    assert label(tree, item) == ja
    assert label(tree, item, "ko") == ko


def test_the_item_page_of_an_alert_says_what_it_is(rt, app, now):
    (item,) = store(rt, cap_warning().with_changes(id=None, status="approved"))
    html = frozen(app, now).test_client().get(f"/items/{item.id}").get_data(as_text=True)
    assert '<p class="badge alert-kind">警報</p>' in html
    html_en = frozen(app, now).test_client().get(f"/items/{item.id}?lang=en").get_data(as_text=True)
    assert '<p class="badge alert-kind">Warning</p>' in html_en


def test_a_cap_moderate_expected_warning_posted_by_the_disaster_system_says_warning(
    rt, app, token_for
):
    """The case the review found: priority high, no 警戒レベル, wore only the 防災 chip."""
    import re
    from datetime import datetime

    from publisher.store.content import get_item
    from tests.collect_helpers import sample
    from tests.factories import JST

    xml = sample("cap_ward_emergency.xml").decode()
    xml = xml.replace("<urgency>Immediate</urgency>", "<urgency>Expected</urgency>")
    xml = xml.replace("<severity>Extreme</severity>", "<severity>Moderate</severity>")
    xml = re.sub(r"<eventCode>.*?</eventCode>", "", xml, flags=re.S)
    during = datetime(2026, 11, 22, 10, 0, tzinfo=JST)  # inside the sample's window
    client = frozen(app, during).test_client()
    resp = client.post(
        "/api/alerts",
        data=xml.encode(),
        headers={
            "Authorization": f"Bearer {token_for('admin', 'setagaya')}",
            "Content-Type": "application/xml",
        },
    )
    assert resp.status_code == 201, resp.json
    with rt.session() as session:
        item = get_item(session, resp.json["item_id"])
    assert item.priority == "high" and item.alert and item.alert.warning_level is None
    assert label(rt.tree, item) == "警報"
    html = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert '<p class="badge alert-kind">警報</p>' in html
