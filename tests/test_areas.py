"""The ward's tree from displays/, and the errors staff see when they edit it wrongly."""

from pathlib import Path

import pytest

from publisher.areas import load_tree
from publisher.config import REPO_DIR
from publisher.errors import ConfigError


def test_setagaya_has_five_regions_and_twenty_eight_districts(tree):
    assert [a.name for a in tree.tier("region")] == ["世田谷", "北沢", "玉川", "砧", "烏山"]
    districts = tree.tier("district")
    assert len(districts) == 28
    counts = {r.code: len(r.children) for r in tree.tier("region")}
    assert counts == {
        "setagaya/setagaya": 7,
        "setagaya/kitazawa": 6,
        "setagaya/tamagawa": 7,
        "setagaya/kinuta": 5,
        "setagaya/karasuyama": 3,
    }


def test_names_repeated_across_tiers_have_distinct_codes(tree):
    assert tree.get("setagaya/kitazawa").display_name == "北沢総合支所"
    assert tree.get("setagaya/kitazawa/kitazawa").display_name == "北沢まちづくりセンター"
    assert tree.get("setagaya/kinuta/kinuta").display_name == "砧まちづくりセンター"
    assert tree.get("setagaya").display_name == "世田谷区"


def test_a_district_sees_its_own_its_regions_and_the_wards_items(tree):
    assert tree.lineage("setagaya/kitazawa/daizawa") == [
        "setagaya/kitazawa/daizawa",
        "setagaya/kitazawa",
        "setagaya",
    ]


def test_a_ward_item_reaches_every_area(tree):
    assert len(tree.audience("setagaya")) == 34
    assert set(tree.audience("setagaya/kitazawa")) == {
        "setagaya/kitazawa",
        *(
            f"setagaya/kitazawa/{d}"
            for d in ("umegaoka", "daizawa", "shindaita", "kitazawa", "matsubara", "matsuzawa")
        ),
    }


def test_every_office_and_center_has_a_screen(tree):
    placed = {s.area for s in tree.screens.values()}
    assert placed == set(tree.areas)
    sizes = {s.size for s in tree.screens.values()}
    assert {"1920x1080", "1080x1920"} <= sizes
    assert {s.delivery for s in tree.screens.values()} == {"pull", "http", "folder"}


def test_the_issuer_is_the_nearest_area_enclosing_all_targets(tree):
    assert tree.issuer(["setagaya/kitazawa/daizawa"]).display_name == "代沢まちづくりセンター"
    assert (
        tree.issuer(["setagaya/kitazawa/daizawa", "setagaya/kitazawa/umegaoka"]).code
        == "setagaya/kitazawa"
    )
    assert tree.issuer(["setagaya/kitazawa/daizawa", "setagaya/kinuta/seijo"]).code == "setagaya"


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "ward.toml").write_text(text, encoding="utf-8")
    return tmp_path


GOOD = (REPO_DIR / "displays" / "setagaya.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "mutate, message",
    [
        (
            lambda s: s.replace(
                'region = "kitazawa"\nname = "代沢"', 'region = "kitazwa"\nname = "代沢"'
            ),
            "district 'daizawa' names unknown region 'kitazwa' (did you mean 'kitazawa'?)",
        ),
        (
            lambda s: s.replace(
                'area = "setagaya/kitazawa/daizawa"', 'area = "setagaya/kitazawa/daizawo"', 1
            ),
            "is on unknown area 'setagaya/kitazawa/daizawo' (did you mean 'setagaya/kitazawa/daizawa'?)",
        ),
        (
            lambda s: s.replace('size = "1920x1080"', 'size = "big"', 1),
            'size must look like "1920x1080"',
        ),
        (
            lambda s: s.replace(
                '[districts.daizawa]\nregion = "kitazawa"\n', "[districts.daizawa]\n"
            ),
            "districts.daizawa has no region",
        ),
        (
            lambda s: s
            + '\n[[screens]]\nid = "daizawa-1"\narea = "setagaya"\nsize = "1920x1080"\n',
            "id 'daizawa-1' is used twice",
        ),
        (lambda s: s.replace("[ward]", "[ward"), "not valid TOML"),
        (
            lambda s: s.replace('languages = ["ja", "en"]', 'languages = ["jp"]', 1),
            "unknown language 'jp'",
        ),
    ],
)
def test_a_mistake_in_displays_names_the_file_and_the_key(tmp_path, mutate, message):
    with pytest.raises(ConfigError) as e:
        load_tree(write(tmp_path, mutate(GOOD)))
    assert message in str(e.value)
    assert "ward.toml" in str(e.value)


def test_an_empty_displays_folder_says_so(tmp_path):
    with pytest.raises(ConfigError, match="no \\*.toml file"):
        load_tree(tmp_path)
