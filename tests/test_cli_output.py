"""The command line helps: areas by name, errors naming the flag, aligned labelled output."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from publisher.cli.main import cli
from publisher.cli.text import cut, table, width
from publisher.errors import NotFound, PublisherError
from tests.factories import DAIZAWA


@pytest.fixture
def run(rt, monkeypatch):
    monkeypatch.setattr("publisher.cli.main.Runtime", lambda: rt)
    monkeypatch.setattr(rt, "close", lambda: None)

    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, list(args))
        return result.exit_code, result.output

    return invoke


@pytest.mark.parametrize("typed", ["daizawa", "代沢", "代沢地区", "Daizawa", DAIZAWA])
def test_a_district_is_found_by_its_own_code_or_its_name(tree, typed):
    assert tree.resolve(typed, "--target") == DAIZAWA


def test_a_name_two_areas_share_lists_both_codes(tree):
    with pytest.raises(PublisherError) as e:
        tree.resolve("北沢", "--target")
    assert str(e.value) == (
        "--target: '北沢' is more than one area: 'setagaya/kitazawa' (北沢地域), "
        "'setagaya/kitazawa/kitazawa' (北沢地区); give its code"
    )
    assert tree.resolve("北沢地域") == "setagaya/kitazawa"


def test_a_misspelt_area_gets_a_suggestion(tree):
    with pytest.raises(
        NotFound, match=r"--target: unknown area 'daizwa' \(did you mean 'daizawa'\?\)"
    ):
        tree.resolve("daizwa", "--target")


def test_items_add_takes_a_japanese_name_and_show_labels_every_field(run, rt):
    code, out = run(
        "items", "add", "--kind", "event", "--title", "代沢ふれあい祭り", "--target", "代沢",
        "--event-start", "2026-12-05T10:00+09:00", "--event-end", "2026-12-05T15:00+09:00",
        "--place", "代沢小学校 校庭", "--drill",
    )  # fmt: skip
    assert code == 0, out
    item_id = out.strip()
    code, out = run("items", "show", item_id)
    assert code == 0, out
    lines = out.splitlines()
    labels = [line.split()[0] for line in lines if not line.startswith(" ")]
    assert labels[:3] == ["item", "drill", "title"] and "page" in labels
    assert "drill       yes (訓練" in out
    assert "targets     setagaya/kitazawa/daizawa (代沢地区)" in out
    assert "event       2026-12-05 10:00 → 2026-12-05 15:00" in out
    assert "place       name 代沢小学校 校庭" in out
    assert "{" not in out and "[]" not in out  # no Python reprs
    values = {line.index(line.split(None, 1)[1]) for line in lines if line.split()[0] != "title"}
    assert len(values) == 1  # one column of values


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--kind", "event"), "Error: an event needs --event-start"),
        (("--kind", "notice", "--start", "soon"), "Error: --start: 'soon' is not a date-time"),
        (
            ("--kind", "event", "--event-start", "2026-12-05T10:00", "--event-end", "2026-12-05T09:00"),
            "Error: --event-end: the event ends before it starts",
        ),
    ],
)  # fmt: skip
def test_items_add_errors_name_the_flag(run, args, message):
    code, out = run("items", "add", "--title", "休館", "--target", "daizawa", *args)
    assert code == 1 and out.startswith(message), out


def test_screens_have_a_header_and_columns_that_line_up(run):
    code, out = run("screens")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split()[:5] == ["SCREEN", "AREA", "SIZE", "DELIVERY", "STATUS"]
    for column in ("AREA", "SIZE", "DELIVERY", "STATUS"):
        at = header.index(column)
        assert all(row[at - 2 : at] == "  " for row in rows), column
    assert len(rows) == 44


def test_cut_text_ends_in_an_ellipsis_and_counts_wide_characters_twice():
    title = "区職員をかたる「還付金詐欺」の電話に注意してください"
    short = cut(title, 20)
    assert short.endswith("…") and width(short) <= 20 and short.startswith("区職員をかたる")
    assert cut("Short", 20) == "Short"
    lines = table(("A", "TITLE"), [("1", "代沢"), ("22", "Daizawa")])
    assert lines[0].index("TITLE") == lines[1].index("代沢") == lines[2].index("Daizawa") == 4
    wide = table(("TITLE", "N"), [("代沢", "1"), ("Daizawa", "2")])
    assert [width(line[: line.rindex(" ") + 1]) for line in wide] == [9, 9, 9]
