"""Years of edits must not fill the disk: unused slide files are pruned, used ones never."""

import os
from datetime import timedelta

from publisher.deliver import playlists
from publisher.deliver.pruning import SLIDES_KEPT, prune_slides
from publisher.store.content import create_item
from tests.factories import DAIZAWA, make_item


def age(path, now, days):
    stamp = (now - timedelta(days=days)).timestamp()
    os.utime(path, (stamp, stamp))


def test_only_old_slides_no_playlist_uses_are_pruned(rt, now):
    with rt.session() as s:
        create_item(s, make_item(title="いま表示中", targets=(DAIZAWA,)), actor="test")
    sp = playlists.screen_playlist(rt, "daizawa-1", now)
    (in_use,) = {p for p in playlists.render_slides(rt, sp)}
    folder = in_use.parent
    old_unused = folder / ("a" * 32 + ".png")
    new_unused = folder / ("b" * 32 + ".png")
    stale_temp = folder / ".tmp-12345.png"
    for path in (old_unused, new_unused, stale_temp):
        path.write_bytes(b"png")
    age(old_unused, now, SLIDES_KEPT.days + 1)
    age(in_use, now, SLIDES_KEPT.days + 30)  # old, but on a screen now
    age(new_unused, now, 1)
    age(stale_temp, now, 1)

    assert prune_slides(rt, now) == 2
    assert in_use.exists() and new_unused.exists()
    assert not old_unused.exists() and not stale_temp.exists()


def test_a_pruned_slide_that_is_needed_again_is_rendered_again(rt, now):
    with rt.session() as s:
        create_item(s, make_item(targets=(DAIZAWA,)), actor="test")
    sp = playlists.screen_playlist(rt, "daizawa-1", now)
    (path,) = set(playlists.render_slides(rt, sp))
    path.unlink()
    assert set(playlists.render_slides(rt, sp)) == {path} and path.exists()


def test_old_announcements_go_but_the_live_emergencys_stay(rt, now):
    from publisher.items import AlertInfo

    with rt.session() as s:
        create_item(
            s,
            make_item(
                "避難指示",
                kind="alert",
                priority="emergency",
                targets=(DAIZAWA,),
                alert=AlertInfo(warning_level=4),
            ),
            actor="test",
        )
    sp = playlists.screen_playlist(rt, "daizawa-1", now)
    assert sp.audio, "an emergency on a screen with a speaker has an announcement"
    folder = playlists.audio_dir(rt)
    folder.mkdir(parents=True, exist_ok=True)
    live = folder / sp.audio[0].file_name  # the chime: needs no speech engine
    live.write_bytes(b"wav")
    old = folder / ("s" + "c" * 31 + ".wav")
    old.write_bytes(b"wav")
    age(live, now, SLIDES_KEPT.days + 30)
    age(old, now, SLIDES_KEPT.days + 1)
    assert prune_slides(rt, now) == 1
    assert live.exists() and not old.exists()
