"""Prepared emergency messages: reviewed wording in six languages, sent in seconds."""

from __future__ import annotations

import pytest

from publisher.alert_templates import fill, load_templates
from publisher.areas import LANGUAGES
from publisher.config import REPO_DIR
from publisher.errors import ConfigError, NotFound, PublisherError
from tests.factories import DAIZAWA, KITAZAWA, WARD

TEMPLATES = load_templates(REPO_DIR / "content")
SLOTS = {"shelter": "代沢小学校", "time": "14:30"}


def bearer(token):  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {token}"}


def test_the_ward_has_every_template_the_guidelines_call_for_in_six_languages():
    kinds = {t.alert_kind: t for t in TEMPLATES.ordered()}
    assert {
        "elderly_evacuation",
        "evacuation_order",
        "emergency_safety",
        "shelter_open",
        "earthquake",
        "heavy_rain",
        "power_outage",
    } <= set(kinds)
    assert [kinds[k].warning_level for k in ("elderly_evacuation", "evacuation_order")] == [3, 4]
    assert kinds["emergency_safety"].warning_level == 5
    for t in TEMPLATES.ordered():
        assert list(t.texts) == list(LANGUAGES), t.name
        assert "内閣府" in t.source or "やさしい日本語" in t.source or "経済産業省" in t.source


@pytest.mark.parametrize("name", sorted(TEMPLATES.templates))
def test_each_template_fills_every_slot_in_every_language(tree, name):
    template = TEMPLATES.get(name)
    slots = {k: v for k, v in SLOTS.items() if k in template.slots}
    data = fill(TEMPLATES, name, slots, tree=tree, targets=[DAIZAWA], drill=False)
    for lang in LANGUAGES:
        text = data["title"][lang] + data["body"][lang]
        assert "{" not in text, (lang, text)
    if "area" in template.slots:
        assert "代沢地区" in data["title"]["ja"] + data["body"]["ja"]
        assert "Daizawa District" in data["title"]["en"] + data["body"]["en"]
    if "time" in template.slots:
        assert "14時30分" in data["body"]["ja"] and "14:30" in data["body"]["en"]


@pytest.mark.parametrize("name", sorted(TEMPLATES.templates))
def test_the_drill_variant_of_each_template_is_marked_in_every_language(tree, name):
    slots = {k: v for k, v in SLOTS.items() if k in TEMPLATES.get(name).slots}
    data = fill(TEMPLATES, name, slots, tree=tree, targets=[DAIZAWA], drill=True)
    assert data["drill"] is True and data["category"] == "drill"
    assert data["title"]["ja"].startswith("【訓練】")
    assert data["body"]["ja"].startswith("これは訓練です。")
    assert data["title"]["en"].startswith("[DRILL]")
    assert data["body"]["zh-Hant"].startswith("這是演練。")


def test_a_missing_or_wrong_slot_says_which_and_why(tree):
    with pytest.raises(PublisherError) as e:
        fill(
            TEMPLATES,
            "level4-evacuation-order",
            {"time": "14:30"},
            tree=tree,
            targets=[DAIZAWA],
            drill=False,
        )
    assert e.value.field == "slots.shelter"
    with pytest.raises(PublisherError) as e:
        fill(
            TEMPLATES,
            "level4-evacuation-order",
            {**SLOTS, "time": "25:00"},
            tree=tree,
            targets=[DAIZAWA],
            drill=False,
        )
    assert e.value.field == "slots.time"
    with pytest.raises(NotFound, match="did you mean 'power-outage'"):
        TEMPLATES.get("power-outag")


def test_a_template_missing_a_language_names_its_file(tmp_path):
    folder = tmp_path / "alert-templates"
    folder.mkdir()
    (folder / "x.toml").write_text(
        'name = "x"\nalert_kind = "warning"\nsource = "s"\n[text.ja]\ntitle = "t"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"x\.toml: text\.ja-x-easy is missing"):
        load_templates(tmp_path)


def test_the_api_lists_templates_and_an_approver_sends_one(client, token_for):
    listed = client.get("/api/alert-templates").get_json()["templates"]
    assert [t["name"] for t in listed][:3] == [
        "level3-elderly-evacuation",
        "level4-evacuation-order",
        "level5-emergency-safety",
    ]
    token = token_for("approver", WARD)
    r = client.post(
        "/api/items",
        json={"template": "level4-evacuation-order", "slots": SLOTS, "targets": [KITAZAWA]},
        headers=bearer(token),
    )
    assert r.status_code == 201, r.get_json()
    item = r.get_json()
    assert item["status"] == "approved" and item["priority"] == "emergency"
    assert sorted(item["title"]) == sorted(LANGUAGES)
    assert item["title"]["ja"] == "【警戒レベル4】北沢地域に避難指示"
    assert item["alert"]["warning_level"] == 4 and item["alert"]["kind"] == "evacuation_order"


def test_a_bad_template_call_is_answered_with_where_and_why(client, token_for):
    token = token_for("approver", WARD)
    r = client.post(
        "/api/items",
        json={"template": "level4-evacuation-order", "slots": {"time": "9:00"}, "targets": [WARD]},
        headers=bearer(token),
    )
    assert r.status_code == 400
    assert r.get_json()["field"] == "slots.shelter"
    r = client.post(
        "/api/items",
        json={"template": "nope", "slots": {}, "targets": [WARD]},
        headers=bearer(token),
    )
    assert r.status_code == 404 and "GET /api/alert-templates" in r.get_json()["error"]
