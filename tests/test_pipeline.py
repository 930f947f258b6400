"""One pass of the whole story: collect → plan → render → deliver."""

import json
from datetime import timedelta

from publisher.pipeline import publish
from publisher.store.content import create_item
from publisher.store.models import DeliveryRow
from tests.factories import KITAZAWA, make_item


def test_one_pass_plans_every_screen_renders_each_screens_slides_and_delivers_bundles(rt, now):
    with rt.session() as s:
        item = create_item(
            s, make_item(title="北沢地域のお知らせ", targets=(KITAZAWA,)), actor="test"
        )
    report = publish(rt, now, collect_sources=False)

    assert report.screens == len(rt.tree.screens) == 44
    assert report.entries == len(rt.tree.screens_in(rt.tree.audience(KITAZAWA)))
    # Kitazawa's office and districts have 9 screens, all 1920x1080, Japanese only: one slide
    # each, since each slide's QR code names its screen (scans count per screen)
    assert report.slides == len(rt.tree.screens_in(rt.tree.audience(KITAZAWA))) == 9

    # the folder screen in Kitazawa (matsuzawa-1) finds its bundle in its folder
    assert report.deliveries["matsuzawa-1"] == "delivered"
    folder = rt.settings.data_dir / "folders" / "matsuzawa-1"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [e["item_id"] for e in manifest["entries"]] == [item.id]
    assert (folder / manifest["entries"][0]["file"]).stat().st_size > 10_000
    with rt.session() as s:
        assert s.query(DeliveryRow).filter_by(screen_id="matsuzawa-1").one().state == "delivered"

    # http screens whose players cannot be reached are recorded as failed, to be retried
    assert report.deliveries["kyodo-1"] == "failed"
    assert "plan: 44 screens" in "\n".join(report.lines())


def test_a_second_pass_with_nothing_changed_sends_nothing_again(rt, now):
    with rt.session() as s:
        create_item(s, make_item(targets=("setagaya/kitazawa/matsuzawa",)), actor="test")
    publish(rt, now, collect_sources=False)
    again = publish(rt, now + timedelta(seconds=5), collect_sources=False)
    assert again.deliveries["matsuzawa-1"] == "already"
