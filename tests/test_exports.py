"""Exports for players that are not browsers, and the playlist command.

Golden files live in tests/expected/; after an intended change, refresh them with
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_exports.py`` and review the diff.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from publisher.cli.build import BUILD_STEPS, build
from publisher.cli.main import cli
from publisher.deliver.export import export_screen, smil
from publisher.deliver.playlists import build as build_playlist
from publisher.items import AlertInfo, Translation
from publisher.plan.screens import playlist
from publisher.store.content import create_item
from tests.factories import JST, KITAZAWA, SEIJO, WARD, make_item
from tests.golden import check_golden

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=JST)
SMIL = "{http://www.w3.org/ns/SMIL}"


def sample_items() -> list:
    return [
        make_item(
            "代沢地区 落ち葉清掃のお知らせ",
            id=11,
            starts_at=NOW - timedelta(days=2),
            translations=(
                Translation("ja", "代沢地区 落ち葉清掃のお知らせ", "11月29日（日）午前9時から。"),
                Translation(
                    "en", "Fallen-leaf clean-up in Daizawa", "Sunday 29 November from 9am."
                ),
            ),
        ),
        make_item(
            "北沢地域 育児相談", id=12, targets=(KITAZAWA,), starts_at=NOW - timedelta(days=1)
        ),
        make_item(
            "せたがや多文化交流フェスタ",
            id=13,
            kind="event",
            targets=(WARD,),
            event_starts_at=NOW + timedelta(days=6),
        ),
        make_item(
            "【訓練】代沢地区 情報伝達訓練",
            id=14,
            kind="alert",
            drill=True,
            priority="high",
            alert=AlertInfo(cap_status="Exercise", warning_level=3),
            ends_at=NOW + timedelta(hours=3),
        ),
        make_item("成城地区のお知らせ", id=15, targets=(SEIJO,)),
    ]


def test_golden_playlist_and_smil_for_a_daizawa_screen(tree, rt):
    screen = tree.screen("daizawa-1")
    plan, next_change = playlist(screen, sample_items(), NOW, tree)
    data = plan.as_json() | {"next_change_at": next_change.isoformat()}
    check_golden("playlist_daizawa-1.json", json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    check_golden("playlist_daizawa-1.smil", smil(build_playlist(rt, screen, sample_items(), NOW)))


def test_smil_is_smil_3_with_every_slide_and_its_duration(tree, rt):
    sp = build_playlist(rt, tree.screen("daizawa-1"), sample_items(), NOW)
    root = ET.fromstring(smil(sp).encode())
    assert root.tag == f"{SMIL}smil"
    assert root.get("version") == "3.0"
    assert root.get("baseProfile") == "Language"
    seq = root.find(f"{SMIL}body/{SMIL}seq")
    assert seq is not None and seq.get("repeatCount") == "indefinite"
    imgs = seq.findall(f"{SMIL}img")
    assert [(i.get("src"), i.get("dur")) for i in imgs] == [
        (f"{n:03d}.png", f"{s.entry.duration_s}s") for n, s in enumerate(sp.slides, start=1)
    ]


def _store(rt) -> list:  # type: ignore[no-untyped-def]
    with rt.session() as session:
        return [create_item(session, i.with_changes(id=None), actor="test") for i in sample_items()]


def test_export_screen_writes_numbered_slides_manifest_and_smil(rt, tmp_path):
    stored = _store(rt)
    folder = export_screen(rt, "daizawa-1", NOW, tmp_path / "out")
    assert folder == tmp_path / "out" / "daizawa-1"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["screen"] == "daizawa-1"
    assert manifest["version"]
    assert manifest["valid_until"] == (NOW + timedelta(hours=3)).isoformat()  # the drill ends
    files = [e["file"] for e in manifest["entries"]]
    assert files == [f"{n:03d}.png" for n in range(1, len(files) + 1)]
    assert all((folder / f).read_bytes().startswith(b"\x89PNG") for f in files)
    seijo = next(i for i in stored if i.targets == (SEIJO,))
    assert seijo.id not in {e["item_id"] for e in manifest["entries"]}
    assert {e["lang"] for e in manifest["entries"]} <= {"ja", "ja-x-easy", "en"}
    assert 'repeatCount="indefinite"' in (folder / "playlist.smil").read_text(encoding="utf-8")
    # exporting again replaces the folder whole, leaving no temp folders behind
    export_screen(rt, "daizawa-1", NOW, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["daizawa-1"]


def test_build_writes_a_folder_for_every_screen_each_slide_with_its_own_qr(rt, tmp_path):
    _store(rt)
    result = build(rt, tmp_path / "site", NOW)
    counts = result[BUILD_STEPS[0]]
    assert counts["screens"] == len(rt.tree.screens)
    # a slide's QR code names its screen (scans count per screen): no two screens share one
    assert counts["slide_files"] == counts["slides"]
    for screen_id in rt.tree.screens:
        assert (tmp_path / "site" / screen_id / "manifest.json").exists()
        assert (tmp_path / "site" / screen_id / "playlist.smil").exists()


def test_playlist_command_prints_what_the_screen_shows(rt, monkeypatch):
    stored = _store(rt)
    for key, value in rt.settings.items():
        if value is not None:
            monkeypatch.setenv(f"PUBLISHER_{key}", str(value))
    runner = CliRunner()
    result = runner.invoke(cli, ["playlist", "daizawa-1", "--at", NOW.isoformat(), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    drill = next(i for i in stored if i.drill)
    assert data["entries"][0]["item_id"] == drill.id
    assert data["entries"][0]["drill"] is True
    assert all(Path(e["slide"]).exists() for e in data["entries"])
    text = runner.invoke(cli, ["playlist", "daizawa-1", "--at", NOW.isoformat()])
    assert text.exit_code == 0
    assert "訓練" in text.output
    bad = runner.invoke(cli, ["playlist", "daizawa-9"])
    assert bad.exit_code != 0
    assert "unknown screen 'daizawa-9'" in bad.output
