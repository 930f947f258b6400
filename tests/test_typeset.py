"""Japanese typesetting for lobby slides: the lines the typesetter chooses, measured with the real font."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from publisher.errors import ConfigError
from publisher.render.fonts import FACE_FAMILY, FACE_INDEX, find_fonts
from publisher.render.typeset import (
    ELLIPSIS,
    NO_LINE_END,
    NO_LINE_START,
    fit_text,
    kinsoku_violations,
    units,
    wrap,
)

FONTS = find_fonts()


def font_for(lang: str = "ja", bold: bool = False):  # type: ignore[no-untyped-def]
    return lambda size: FONTS.get(size, lang, bold=bold)


def measure(size: int = 40, lang: str = "ja"):  # type: ignore[no-untyped-def]
    return FONTS.get(size, lang).getlength


NASTY = [
    # closing punctuation everywhere
    "お知らせ。」）、「です」と言った。「はい」、「いいえ」。（「代沢」）。ー" * 4,
    # a katakana run longer than any line
    "インターナショナルコミュニケーションデータベースマネージャーアーキテクチャー"
    "ヴァージョンアップデートッ、ショッピングセンターのおしらせ",
    # brackets that must not end a line
    "代「『（【代沢】）』」" * 6,
    # a real body with quotes and parentheses
    "当日は、区の防災行政無線とまちづくりセンターの電子看板でも「訓練」の放送・表示を"
    "行います（雨天決行）。上履き（室内用のくつ）をお持ちください……！？",
]


@pytest.mark.parametrize("text", NASTY)
@pytest.mark.parametrize("width_chars", [6, 9, 13, 21])
def test_no_line_starts_with_closing_punctuation_or_ends_with_an_opening_bracket(
    text: str, width_chars: int
) -> None:
    """Whatever the text, a resident never sees a line begin with 、。」ー or end with 「（."""
    max_width = 40 * width_chars
    lines = wrap(text, measure(40), max_width, "ja")
    assert kinsoku_violations(lines) == []
    assert all(measure(40)(line.text) <= max_width for line in lines)
    assert "".join(line.text for line in lines) == text  # nothing lost, nothing added


def test_phrases_keep_punctuation_with_the_word_before() -> None:
    pieces = units("避難所となる代沢小学校で、地域の皆さんと一緒に「訓練」を行います。", "ja")
    assert all(p[0] not in NO_LINE_START for p in pieces[1:])
    assert all(p.rstrip()[-1] not in NO_LINE_END for p in pieces[:-1])
    assert len(pieces) > 4  # budoux found phrases, not one block


JAPANESE = st.text(
    alphabet=st.sampled_from(
        list("あいうえおかきくけこさしすせそたちつてとなにぬねのはまやらわをん")
        + list("アイウエオカキクケコサシスセソタチツテトナニヌネノハマヤラワン")
        + list("代沢世田谷区避難所訓練地震防災子育健康祭図書館")
        + list("、。，．・：；？！ー」』）］【】「『（［っゃゅょァィゥェォッャュョ…‥")
        + list(" 　0123456789ABCxyz\n")
    ),
    min_size=1,
    max_size=240,
)


def _longest_run(text: str, chars: frozenset[str]) -> int:
    best = run = 0
    for ch in text:
        run = run + 1 if ch in chars else 0
        best = max(best, run)
    return best


@settings(max_examples=200, deadline=None)
@given(text=JAPANESE, width_chars=st.integers(min_value=8, max_value=24))
def test_generated_japanese_never_breaks_kinsoku(text: str, width_chars: int) -> None:
    """Any Japanese text a line can hold a phrase of is broken without a kinsoku violation."""
    # a run of forbidden characters as long as a line has no legal break at all
    assume(_longest_run(text, NO_LINE_START | NO_LINE_END | {" ", "　"}) < width_chars - 2)
    max_width = 40 * width_chars
    lines = wrap(text, measure(40), max_width, "ja")
    assert kinsoku_violations(lines) == []
    assert all(measure(40)(line.text) <= max_width for line in lines)
    assert all(line.text.strip() for line in lines)


def test_english_breaks_between_words() -> None:
    text = "Garbage collection over the New Year holidays: no collection from 30 December"
    lines = wrap(text, measure(40, "en"), 520, "en")
    words = set(text.split())
    assert len(lines) > 1
    assert all(set(line.text.split()) <= words for line in lines)


def test_easy_japanese_breaks_at_its_spaces() -> None:
    text = "大きな 地震が 来た ときの 練習を します。 代沢小学校の 体育館に 来て ください。"
    lines = wrap(text, measure(40), 40 * 9, "ja-x-easy")
    assert all(line.text == line.text.strip() for line in lines)
    assert set(" ".join(line.text for line in lines).split()) <= set(text.split())


def test_a_short_title_gets_the_largest_size() -> None:
    block = fit_text("落ち葉清掃", font_for(bold=True), 1600, 400, max_px=96, min_px=56, lang="ja")
    assert block.size_px == 96
    assert not block.truncated


def test_a_longer_text_shrinks_before_it_is_cut() -> None:
    text = "大きな地震が起きたことを想定し、避難所となる代沢小学校で訓練を行います。" * 3
    block = fit_text(text, font_for(), 1200, 300, max_px=48, min_px=36, lang="ja")
    assert 36 <= block.size_px < 48
    assert not block.truncated
    assert block.height_px <= 300


def test_a_2000_character_body_is_cut_with_an_ellipsis_inside_its_box() -> None:
    """The QR code carries the rest: the slide shows what fits at the minimum readable size."""
    body = ("住民票の写しや印鑑登録証明書は、コンビニ交付サービスをご利用ください。" * 60)[:2000]
    block = fit_text(body, font_for(), 1100, 500, max_px=48, min_px=36, lang="ja")
    assert block.truncated
    assert block.size_px == 36  # shrunk all the way first
    assert block.lines[-1].text.endswith(ELLIPSIS)
    assert block.height_px <= 500
    assert all(measure(36)(line.text) <= 1100 for line in block.lines)
    assert kinsoku_violations(block.lines) == []


def test_max_lines_bounds_a_title() -> None:
    title = "【訓練】代沢地区に高齢者等避難（警戒レベル3）を発令（情報伝達訓練）" * 3
    block = fit_text(
        title, font_for(bold=True), 900, 2000, max_px=96, min_px=56, lang="ja", max_lines=3
    )
    assert len(block.lines) == 3
    assert block.truncated and block.texts[-1].endswith(ELLIPSIS)


@pytest.mark.parametrize("lang", sorted(FACE_INDEX))
def test_each_language_is_set_in_its_own_noto_face(lang: str) -> None:
    """Japanese in the JP face (face 0), Korean KR, Simplified Chinese SC, Traditional TC."""
    family, _style = FONTS.get(40, lang).getname()
    assert family == FACE_FAMILY[FACE_INDEX[lang]]
    assert FACE_INDEX["ja"] == 0


def test_a_missing_font_names_the_package_to_install(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="fonts-noto-cjk"):
        find_fonts(tmp_path / "NotoSansCJK-Regular.ttc")
    monkeypatch.setenv("PUBLISHER_FONT", str(tmp_path / "nothing.otf"))
    with pytest.raises(ConfigError, match="fonts-noto-cjk"):
        find_fonts()
