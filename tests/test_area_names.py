"""Chinese and Korean readers see the ward's area and office names in their own script: 代泽 and
代澤 for 代沢, 다이자와 in Hangul, on pages, posters and bulletins; the names are data in
displays/, and a mistake there names the file and the place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from publisher.area_names import area_name, name, office_name
from publisher.areas import LANGUAGES, load_tree
from publisher.config import REPO_DIR
from publisher.errors import ConfigError
from publisher.items import Translation
from publisher.render.slides import compose_slide
from publisher.runtime import Runtime
from tests.factories import DAIZAWA, make_item
from tests.residents_helpers import frozen
from tests.test_printed import create, pages_of, text_of
from tests.test_printed_languages import EVENT, flat
from tests.test_slides import spec

GOOD = (REPO_DIR / "displays" / "setagaya.toml").read_text(encoding="utf-8")


def test_every_area_has_its_own_chinese_and_korean_name(tree: Any) -> None:
    assert len(list(tree)) == 34
    for area in tree:
        own = dict(area.names)
        assert set(own) == {"zh-Hans", "zh-Hant", "ko"}, area.code
        assert all("\uac00" <= ch <= "\ud7a3" for ch in own["ko"]), (area.code, own["ko"])


def test_chinese_names_use_each_scripts_own_forms(tree: Any) -> None:
    daizawa = tree.get(DAIZAWA)
    assert (name(daizawa, "zh-Hans"), name(daizawa, "zh-Hant")) == ("代泽", "代澤")
    assert area_name(tree.ward, "zh-Hans") == "世田谷区"
    assert office_name(daizawa, "zh-Hant") == "代澤社區營造中心"
    todoroki = tree.get("setagaya/tamagawa/todoroki")
    assert name(todoroki, "zh-Hans") == name(todoroki, "zh-Hant") == "等等力"
    karasuyama = tree.get("setagaya/karasuyama")
    assert (name(karasuyama, "zh-Hans"), name(karasuyama, "zh-Hant")) == ("乌山", "烏山")
    for area in tree:  # Japanese-only forms never reach a Chinese reader
        for lang in ("zh-Hans", "zh-Hant"):
            assert not set(name(area, lang)) & set("沢経仏々"), (area.code, lang)


def test_korean_readers_get_hangul_with_the_catalogues_office_words(tree: Any) -> None:
    daizawa = tree.get(DAIZAWA)
    assert area_name(daizawa, "ko") == "다이자와 지구"
    assert office_name(daizawa, "ko") == "다이자와 마을만들기센터"
    assert office_name(tree.get("setagaya/kitazawa"), "ko") == "기타자와 종합지소"
    assert area_name(tree.ward, "ko") == "세타가야구"
    assert office_name(daizawa, "en") == "Daizawa District Center"
    assert (
        office_name(daizawa, "ja-x-easy") == office_name(daizawa, "ja") == "代沢まちづくりセンター"
    )


def test_a_language_without_a_name_falls_back_chinese_to_kanji_korean_to_english(
    tmp_path: Path,
) -> None:
    text = GOOD.replace('names = { zh-Hans = "代泽", zh-Hant = "代澤", ko = "다이자와" }\n', "")
    (tmp_path / "ward.toml").write_text(text, encoding="utf-8")
    daizawa = load_tree(tmp_path).get(DAIZAWA)
    assert daizawa.names == ()
    got = {lang: name(daizawa, lang) for lang in LANGUAGES}
    assert got == {
        "ja": "代沢",
        "ja-x-easy": "代沢",
        "en": "Daizawa",
        "zh-Hans": "代沢",
        "zh-Hant": "代沢",
        "ko": "Daizawa",
    }


DAIZAWA_NAMES = 'names = { zh-Hans = "代泽", zh-Hant = "代澤", ko = "다이자와" }'


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            'names = { zh-Hans = "代泽", kr = "다이자와" }',
            "districts.daizawa.names: unknown language 'kr'",
        ),
        ('names = { ja = "代沢" }', 'the Japanese name is "name"'),
        ('names = { ko = "  " }', 'districts.daizawa.names."ko" is missing or empty'),
        ("names = { ko = 3 }", 'districts.daizawa.names."ko" is missing or empty'),
        ('names = "다이자와"', "districts.daizawa.names must be a table"),
        ('name_ko = "다이자와"', "districts.daizawa has unknown key 'name_ko'"),
    ],
)
def test_a_bad_names_entry_names_the_file_and_the_place(
    tmp_path: Path, bad: str, message: str
) -> None:
    (tmp_path / "ward.toml").write_text(GOOD.replace(DAIZAWA_NAMES, bad), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_tree(tmp_path)
    assert str(e.value).startswith(str(tmp_path / "ward.toml") + ": "), str(e.value)
    assert message in str(e.value)


def test_a_bad_ward_or_region_names_entry_is_refused_too(tmp_path: Path) -> None:
    text = GOOD.replace(
        'names = { zh-Hans = "世田谷", zh-Hant = "世田谷", ko = "세타가야" }',
        'names = { zh-Hans = "世田谷", zh = "世田谷" }',
        1,
    )
    (tmp_path / "ward.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"ward\.toml: ward\.names: unknown language 'zh'"):
        load_tree(tmp_path)
    text = GOOD.replace('name_en = "Kinuta"\n', 'name_en = "Kinuta"\nnmaes = {}\n', 1)
    (tmp_path / "ward.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"regions\.kinuta has unknown key 'nmaes'.*'names'"):
        load_tree(tmp_path)


def test_a_korean_area_page_reads_its_names_in_hangul(app: Any, now: Any) -> None:
    page = frozen(app, now).test_client().get(f"/areas/{DAIZAWA}?lang=ko").get_data(as_text=True)
    for words in ("다이자와 지구", "다이자와 마을만들기센터", "기타자와 종합지소", "세타가야구"):
        assert words in page, words
    assert "Daizawa" not in page and "District Center" not in page
    chinese = frozen(app, now).test_client().get(f"/areas/{DAIZAWA}?lang=zh-Hant")
    assert "代澤地區" in chinese.get_data(as_text=True)


def test_a_korean_poster_names_its_ward_and_office_in_hangul(
    rt: Runtime, app: Any, now: Any, tmp_path: Path
) -> None:
    app.config["PUBLISHER_CLOCK"] = lambda: now
    item_id = create(
        rt,
        title={"ja": "防災訓練", "ko": "방재 훈련"},
        body={"ja": "参加してください。", "ko": "오세요."},
        targets=[DAIZAWA],
        **EVENT,
    )
    pdf = app.test_client().get(f"/items/{item_id}/poster.pdf?lang=ko").data
    text = flat(text_of(pdf, tmp_path))
    assert flat("세타가야구") in text and flat("다이자와 마을만들기센터") in text, text
    assert "SetagayaCity" not in text and "DistrictCenter" not in text
    pages_of(pdf, tmp_path, save_as="poster-ko-names")


def test_korean_and_chinese_slides_name_the_center_in_their_script(tree: Any) -> None:
    item = make_item(
        id=42,
        translations=(
            Translation("ja", "落ち葉清掃", "軍手をお持ちください。"),
            Translation("ko", "낙엽 청소", "장갑을 가져오세요."),
            Translation("zh-Hans", "落叶清扫", "请带手套。"),
            Translation("zh-Hant", "落葉清掃", "請帶手套。"),
        ),
    )
    issuers = {
        lang: compose_slide(spec(tree, item, lang=lang)).role("issuer")[0].block.texts
        for lang in ("ko", "zh-Hans", "zh-Hant", "en")
    }
    assert issuers == {
        "ko": ["다이자와 마을만들기센터"],
        "zh-Hans": ["代泽社区营造中心"],
        "zh-Hant": ["代澤社區營造中心"],
        "en": ["代沢まちづくりセンター"],  # no English words: the slide is Japanese
    }
