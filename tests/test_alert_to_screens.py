"""From a CAP message to every lobby: the path an emergency takes across the publisher."""

from datetime import timedelta

from publisher.collect.oneoff import ingest_alert
from publisher.config import REPO_DIR
from publisher.plan import screens as plan
from publisher.store.content import live_items
from publisher.store.staff import operator

SAMPLES = REPO_DIR / "tests" / "samples"


def playlists(rt, at):
    with rt.session() as s:
        items = live_items(s, at)
    return {
        sid: plan.playlist(screen, items, at, rt.tree) for sid, screen in rt.tree.screens.items()
    }


def test_a_ward_wide_extreme_immediate_alert_takes_over_every_screen_until_it_expires(rt, now):
    from publisher.store.content import create_item
    from tests.factories import DAIZAWA, make_item

    with rt.session() as s:
        create_item(s, make_item(title="代沢のお知らせ", targets=(DAIZAWA,)), actor="test")
    data = (SAMPLES / "cap_ward_emergency.xml").read_bytes()
    ingest_alert(rt, data, operator(rt.tree), via="test", now=now)

    during = playlists(rt, now)
    assert len(during) == len(rt.tree.screens) == 44
    for sid, (pl, _next_change) in during.items():
        assert pl.override, sid
        ids = {e.item_id for e in pl.entries}
        assert len(ids) == 1 and all(e.item.is_emergency for e in pl.entries), sid
    alert_end = next(iter(during.values()))[0].entries[0].item.ends_at
    assert all(nc is not None and nc <= alert_end for _, nc in during.values())

    after = playlists(rt, alert_end + timedelta(seconds=1))
    assert not any(pl.override for pl, _ in after.values())
    assert [e.item.title for e in after["daizawa-1"][0].entries if e.lang == "ja"] == [
        "代沢のお知らせ"
    ]


def test_a_cap_drill_for_daizawa_reaches_only_daizawas_screens_marked_as_a_drill(rt, now):
    ingest_alert(
        rt,
        (SAMPLES / "cap_drill_daizawa_alert.xml").read_bytes(),
        operator(rt.tree),
        via="test",
        now=now,
    )
    shown = playlists(rt, now)
    daizawa = [e for e in shown["daizawa-1"][0].entries]
    assert daizawa and all(plan.is_drill(e.item) for e in daizawa)
    assert not shown["umegaoka-1"][0].entries and not shown["seijo-1"][0].entries

    ingest_alert(
        rt,
        (SAMPLES / "cap_drill_daizawa_cancel.xml").read_bytes(),
        operator(rt.tree),
        via="test",
        now=now,
    )
    assert not any(pl.entries for pl, _ in playlists(rt, now).values())
