"""Furigana readings in the admin's item form: typed as 漢字=よみ lines beside the やさしい日本語
text, checked by the API's own code, kept, shown again, and read out on the residents' page."""

from __future__ import annotations

import re

import pytest

from publisher.store.content import get_item
from tests.admin_helpers import cheap_hashes, created_id, notice_form, staff_accounts

EASY = {
    "title.ja-x-easy": "代沢で そうじを します",
    "body.ja-x-easy": "代沢の 公園で そうじを します。",
}


@pytest.fixture
def staff(rt, app, monkeypatch, now):
    cheap_hashes(monkeypatch)
    app.config["PUBLISHER_CLOCK"] = lambda: now
    return staff_accounts(rt, app)


def test_the_easy_japanese_panel_has_a_labelled_readings_field_with_its_hint(staff):
    page = staff("daizawa-editor").get("/admin/items/new").text
    panel = page.split('id="lang-ja-x-easy"', 1)[1].split("</section>", 1)[0]
    assert '<label for="f-readings-ja-x-easy">ふりがなの読み方' in panel
    assert 'id="hint-f-readings-ja-x-easy"' in panel and "代沢=だいざわ" in panel
    assert 'name="readings.ja-x-easy"' in panel
    assert 'aria-describedby="hint-f-readings-ja-x-easy"' in panel
    other = page.split('id="lang-en"', 1)[1].split("</section>", 1)[0]
    assert "readings." not in other  # only やさしい日本語 carries furigana


def test_staff_readings_are_saved_shown_again_and_read_on_the_easy_japanese_page(staff, rt, client):
    s = staff("kitazawa-approver")
    form = notice_form(intent="publish", **EASY, **{"readings.ja-x-easy": "代沢＝ダイザワ\n"})
    item_id = created_id(s.post("/admin/items/new", form))
    with rt.session() as session:
        assert get_item(session, item_id).text("ja-x-easy").readings == (("代沢", "だいざわ"),)
    page = s.get(f"/admin/items/{item_id}").text
    assert ">代沢=だいざわ</textarea>" in page
    public = client.get(f"/items/{item_id}?lang=ja-x-easy")
    assert public.status_code == 200
    assert "<ruby>代沢<rp>(</rp><rt>だいざわ</rt>" in public.text
    assert "<rt>しろさわ</rt>" not in public.text

    r = s.edit(item_id, {**form, "intent": "save", "readings.ja-x-easy": "代沢=しろさわ"})
    assert r.status_code == 302
    assert (
        "<ruby>代沢<rp>(</rp><rt>しろさわ</rt>"
        in client.get(f"/items/{item_id}?lang=ja-x-easy").text
    )
    r = s.edit(item_id, {**form, "intent": "save", "readings.ja-x-easy": ""})
    assert r.status_code == 302  # an emptied field clears the table: the analyser reads alone
    with rt.session() as session:
        assert get_item(session, item_id).text("ja-x-easy").readings == ()


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("代沢=daizawa", "1行目：よみ「daizawa」はひらがなで書いてください"),
        (
            "代沢=だいざわ\n烏山",
            "2行目「烏山」：「漢字=よみ」の形で書いてください（例：代沢=だいざわ）",
        ),
        ("だいざわ=だいざわ", "1行目：「だいざわ」に漢字がありません。ふりがなは漢字に付けます"),
    ],
)
def test_a_wrong_reading_is_refused_next_to_the_field_with_the_input_kept(staff, rt, typed, says):
    s = staff("daizawa-editor")
    item_id = created_id(s.post("/admin/items/new", notice_form(intent="draft", **EASY)))
    r = s.edit(item_id, notice_form(intent="save", **EASY, **{"readings.ja-x-easy": typed}))
    assert r.status_code == 400
    error = re.search(r'<p class="field-error" id="err-f-readings-ja-x-easy">([^<]*)</p>', r.text)
    assert error and error.group(1) == f"ふりがなの読み方（やさしい日本語）：{says}"
    assert 'aria-describedby="hint-f-readings-ja-x-easy err-f-readings-ja-x-easy"' in r.text
    assert 'aria-invalid="true"' in r.text and f">{typed}</textarea>" in r.text
    assert 'href="#f-readings-ja-x-easy"' in r.text  # the list at the top links to the field
    with rt.session() as session:
        assert get_item(session, item_id).text("ja-x-easy").readings == ()


def test_readings_without_easy_japanese_text_ask_for_the_text_first(staff):
    s = staff("daizawa-editor")
    r = s.post("/admin/items/new", notice_form(**{"readings.ja-x-easy": "代沢=だいざわ"}))
    assert r.status_code == 400
    assert "この言語のタイトルがありません" in r.text and ">代沢=だいざわ</textarea>" in r.text


def test_the_api_and_the_form_share_the_check_and_its_japanese(tree):
    from publisher.errors import PublisherError
    from publisher.item_input import parse_item
    from tests.factories import api_item

    data = api_item(title={"ja": "代沢", "ja-x-easy": "代沢"}, readings={"ja-x-easy": "代沢=x"})
    with pytest.raises(PublisherError) as bad:
        parse_item(data, tree)
    assert bad.value.field == "readings.ja-x-easy" and "hiragana" in bad.value.message
    assert bad.value.ja == "1行目：よみ「x」はひらがなで書いてください"
