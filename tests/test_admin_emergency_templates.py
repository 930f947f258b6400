"""An approver sends a prepared emergency message in six languages in seconds, after seeing it
on every screen size; a drill is marked 訓練 everywhere."""

from __future__ import annotations

import re

import pytest

from publisher.alert_templates import load_templates
from publisher.areas import LANGUAGES
from publisher.config import REPO_DIR
from tests.admin_helpers import cheap_hashes, staff_accounts
from tests.factories import DAIZAWA

TEMPLATES = load_templates(REPO_DIR / "content").ordered()


@pytest.fixture
def staff(rt, app, monkeypatch, now):
    cheap_hashes(monkeypatch)
    app.config["PUBLISHER_CLOCK"] = lambda: now
    return staff_accounts(rt, app)


def _form(template: str, drill: str, action: str) -> dict:
    return {
        "template": template,
        "slot.shelter": "代沢小学校",
        "slot.time": "14:30",
        "drill": drill,
        "targets": [DAIZAWA],
        "priority": "emergency",
        "action": action,
    }


def _filled(page: str) -> dict[str, str]:
    """The form's fields as the preview filled them (what the approver sends next)."""
    out = {}
    for lang in LANGUAGES:
        m = re.search(rf'name="title\.{re.escape(lang)}" value="([^"]*)"', page)
        out[f"title.{lang}"] = m[1] if m else ""
        m = re.search(rf'name="body\.{re.escape(lang)}"[^>]*>([^<]*)</textarea>', page)
        out[f"body.{lang}"] = m[1] if m else ""
    for name in ("priority", "warning_level", "alert_kind"):
        m = re.search(rf'name="{name}" value="([^"]*)"[^>]* checked', page) or re.search(
            rf'name="{name}".*?<option value="([^"]*)" selected', page, re.S
        )
        out[name] = m[1] if m else ""
    return out


@pytest.mark.parametrize("template", [t.name for t in TEMPLATES])
@pytest.mark.parametrize("drill", ["actual", "drill"])
def test_each_template_previews_in_every_language_and_size_then_publishes(
    staff, client, template, drill
):
    s = staff("kitazawa-approver")
    preview = s.post("/admin/emergency", _form(template, drill, "preview"))
    assert preview.status_code == 200, preview.text
    shots = re.findall(r'<img src="(/admin/emergency/slides/\w+\.png)" alt="([^"]+)"', preview.text)
    assert {alt for _, alt in shots} == {
        f"{name} {size}" for name in LANGUAGES.values() for size in ("1920x1080", "1080x1920")
    }
    png = s.get(shots[0][0])
    status, data = png.status_code, png.data
    png.close()
    assert status == 200 and data.startswith(b"\x89PNG")

    fields = _filled(preview.text)
    form = {**_form(template, drill, "publish"), **fields}
    assert s.post("/admin/emergency", form).status_code == 302
    (item,) = client.get(f"/api/items?area={DAIZAWA}").get_json()["items"]
    assert sorted(item["title"]) == sorted(LANGUAGES)
    assert item["title"]["ja"] == fields["title.ja"].replace("&amp;", "&")
    assert item["drill"] is (drill == "drill")
    if drill == "drill":
        assert item["alert"]["cap_status"] == "Exercise"
        assert all(
            t.startswith(("【訓練】", "【くんれん】", "[DRILL]", "【演练】", "【演練】", "[훈련]"))
            for t in item["title"].values()
        )


def test_a_missing_slot_is_shown_next_to_its_field(staff):
    s = staff("kitazawa-approver")
    form = {**_form("level4-evacuation-order", "actual", "preview"), "slot.shelter": ""}
    r = s.post("/admin/emergency", form)
    assert r.status_code == 400
    assert 'id="err-f-slot-shelter"' in r.text and "避難先・避難所" in r.text


def test_a_template_can_be_sent_in_one_step_without_a_preview(staff, client):
    s = staff("kitazawa-approver")
    form = _form("earthquake-first-actions", "actual", "publish")
    assert s.post("/admin/emergency", form).status_code == 302
    (item,) = client.get(f"/api/items?area={DAIZAWA}").get_json()["items"]
    assert sorted(item["title"]) == sorted(LANGUAGES)
    assert item["alert"]["kind"] == "earthquake" and item["priority"] == "emergency"
