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


# -- regressions from issue 15 -----------------------------------------------------------------


def test_a_title_shrinks_before_a_phrase_is_broken() -> None:
    """「スマートフォン決済ア／プリでも」 at 92 px: at a smaller size the phrase fits whole."""
    block = fit_text(
        "スマートフォン決済アプリでも",
        font_for(bold=True),
        1000,
        400,
        max_px=92,
        min_px=56,
        lang="ja",
        line_spacing=1.3,
        max_lines=3,
    )
    assert block.texts == ["スマートフォン決済アプリでも"]
    assert 56 <= block.size_px < 92


def test_a_phrase_wider_than_a_line_breaks_between_words_never_before_a_particle() -> None:
    """「まちづくりセンター／が」 put a particle at a line start."""
    block = fit_text(
        "代沢まちづくりセンターが", font_for(bold=True), 500, 400, max_px=92, min_px=56, lang="ja"
    )
    assert block.texts == ["代沢まちづくり", "センターが"]
    assert block.size_px == 56  # breaking inside a phrase only at the smallest size


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("zh-Hans", "活动时间（上午8:30至12:00），咨询电话03-5432-1111，地点：区民会馆"),
        ("zh-Hant", "活動時間（上午8:30至12:00），諮詢電話03-5432-1111，地點：區民會館"),
        ("ja", "受付は9:30〜12:00、電話03-5432-1111まで。2026/12/6（土）、12月6日開催"),
        ("ko", "시간 오전 8:30~12:00, 문의 전화 03-5432-1111, 2026/12/6"),
        ("en", "From 8:30 to 12:00, call 03-5432-1111, on 2026/12/6"),
    ],
)
@pytest.mark.parametrize("width_chars", [8, 9, 11, 12, 16])
def test_numbers_times_dates_and_phone_numbers_are_never_broken(
    lang: str, text: str, width_chars: int
) -> None:
    """The Chinese breaker split 「（上午8:／30至」 and 「03-／5432-1111」 (any line that can hold
    the run keeps it whole; a narrower one breaks it, since nothing else can)."""
    lines = wrap(text, measure(40, lang), 40 * width_chars, lang)
    runs = ["8:30", "12:00", "03-5432-1111", "2026/12/6", "9:30〜12:00", "12月6日"]
    for run in (r for r in runs if r in text):
        assert any(run in line.text for line in lines), (run, [x.text for x in lines])


def test_a_fullwidth_tilde_never_starts_a_line() -> None:
    """～ (U+FF5E, what people type) is the wave dash 〜 for kinsoku."""
    assert "～" in NO_LINE_START
    text = "開館時間はあさ９時～よる８時までです。" * 3
    for width_chars in range(5, 14):
        lines = wrap(text, measure(40), 40 * width_chars, "ja")
        assert kinsoku_violations(lines) == []
        assert not any(line.text.startswith("～") for line in lines[1:])


def test_a_long_english_word_is_hyphenated_where_it_must_break() -> None:
    lines = wrap("Internationalization", measure(40, "en"), 40 * 5, "en")
    assert len(lines) > 1
    assert all(line.text.endswith("-") for line in lines[:-1])
    assert "".join(line.text.rstrip("-") for line in lines) == "Internationalization"
    assert all(len(line.text.rstrip("-")) >= 3 for line in lines)  # pyphen's points, not 1 letter


def test_a_word_is_broken_only_when_even_the_smallest_size_cannot_hold_it() -> None:
    block = fit_text(
        "Telecommunications", font_for("en"), 500, 400, max_px=96, min_px=40, lang="en"
    )
    assert block.texts == ["Telecommunications"]


SYMBOLS = "♿✉✔❗⛔≒😀🏥"


@pytest.mark.parametrize("symbol", list(SYMBOLS))
def test_symbols_and_emoji_render_from_a_fallback_font_never_as_tofu(symbol: str) -> None:
    """Each symbol is drawn by a font that has it, and looks unlike that font's .notdef box."""
    from PIL import Image, ImageDraw

    from publisher.render.fonts import draw_text, has_glyph, runs

    font = FONTS.get(80, "ja")
    ((piece, used),) = runs(font, symbol)
    assert piece == symbol and has_glyph(used, symbol)

    def ink(text: str, f) -> bytes:  # type: ignore[no-untyped-def]
        img = Image.new("L", (200, 200), 0)
        ImageDraw.Draw(img).text((20, 150), text, font=f, fill=255, anchor="ls")
        return img.tobytes()

    notdef = ink("\U0010fffd", used)  # a private-use code point no font has: its .notdef box
    assert ink(symbol, used) != notdef
    img = Image.new("L", (200, 200), 0)
    draw_text(ImageDraw.Draw(img), (20, 150), symbol, font, "white")
    assert img.tobytes() == ink(symbol, used) and img.getbbox() is not None


def test_a_character_no_font_has_is_named_in_words() -> None:
    from publisher.render.fonts import runs

    font = FONTS.get(40, "ja")
    text = "".join(piece for piece, _ in runs(font, "A\U000e01efB"))
    assert text.startswith("A(") and text.endswith(")B") and "variation selector" in text
