"""Estimated plays for screens that cannot report them (``http`` and ``folder`` players).

Such a player is given a playlist and left to loop it. For each ended ward day on which it
reported no play, the publisher plans the screen in every hour (what its bundle held then, from
the items as they are stored now), assumes the playlist looped for as long as the screen is meant
to be on in that hour (its ``hours`` and ``closed`` days in ``displays/``, :mod:`publisher.hours`;
all day when the ward says nothing), and adds the plays to the daily sums marked ``estimated``:
an upper bound, shown as 推定 on the dashboard and ``estimated`` in the exports. Only hours
after the screen's first delivered bundle count.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select

from publisher.deliver.playlists import load_items
from publisher.items import JST
from publisher.plan.screens import playlist
from publisher.runtime import Runtime
from publisher.store.models import DeliveryRow, PlayDailyRow
from publisher.store.plays import add_daily, ward_day

ESTIMATE_DAYS_BACK = 7


def estimate_days(rt: Runtime, now: datetime) -> int:
    """Estimate the last :data:`ESTIMATE_DAYS_BACK` ended days of every ``http``/``folder``
    screen that reported nothing on them; returns how many (screen, day) were estimated."""
    today = datetime.fromisoformat(ward_day(now)).replace(tzinfo=JST)
    screens = [s for s in rt.tree.screens.values() if s.delivery in ("http", "folder")]
    if not screens:
        return 0
    first_day = (today - timedelta(days=ESTIMATE_DAYS_BACK)).date().isoformat()
    with rt.session() as session:
        done = set(
            session.execute(
                select(PlayDailyRow.screen_id, PlayDailyRow.day)
                .where(PlayDailyRow.day >= first_day)
                .distinct()
            ).all()
        )
        first_bundle: dict[str, datetime] = {
            screen_id: at
            for screen_id, at in session.execute(
                select(DeliveryRow.screen_id, func.min(DeliveryRow.delivered_at))
                .where(DeliveryRow.state == "delivered")
                .group_by(DeliveryRow.screen_id)
            )
            if at is not None
        }
    estimated = 0
    for back in range(ESTIMATE_DAYS_BACK, 0, -1):
        start = today - timedelta(days=back)
        day = start.date().isoformat()
        todo = [
            s
            for s in screens
            if (s.id, day) not in done
            and s.id in first_bundle
            and first_bundle[s.id] < start + timedelta(days=1)
        ]
        if not todo:
            continue
        sums: dict[tuple[str, str, int, str, bool], list[int]] = defaultdict(lambda: [0, 0])
        with rt.session() as session:  # every item live at some moment of the day
            items = load_items(session, start)
        for hour in range(24):
            at = start + timedelta(hours=hour)
            for screen in todo:
                if first_bundle[screen.id] > at:
                    continue
                on = screen.hours.on_within(at, at + timedelta(hours=1), rt.tz)
                if not on:
                    continue
                plan, _ = playlist(screen, items, on[0][0], rt.tree, tz=rt.tz)
                cycle_s = sum(e.duration_s for e in plan.entries)
                if cycle_s <= 0:
                    continue
                loops = sum((b - a).total_seconds() for a, b in on) / cycle_s
                for e in plan.entries:
                    s = sums[(day, screen.id, e.item_id, e.lang, True)]
                    s[0] += round(loops)
                    s[1] += round(loops * e.duration_s * 1000)
        with rt.session() as session:
            add_daily(session, sums)
        estimated += len({key[1] for key in sums})
    return estimated
