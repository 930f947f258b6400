"""The publisher's story in one place: collect → store → plan → render → deliver.

Read this first. Each stage is a package of its own (``docs/architecture.md`` maps them); this
file only says in what order they run and what flows between them. The scheduler
(:mod:`publisher.schedule`) runs the same stages continuously, each on its own clock;
``publisher publish`` runs them once, here.

1. **collect** (:mod:`publisher.collect`): the sources of ``content/sources.toml`` — the ward's
   RSS, the open-data event CSV, community iCal calendars, the disaster system's CAP alerts —
   become items, upserted by (source, external id) so running twice changes nothing. Staff add
   items through the admin (:mod:`publisher.web.admin`), the API and the command line; every
   route goes through :mod:`publisher.store.workflow` (draft → pending → approved → withdrawn).
2. **store** (:mod:`publisher.store`): items with targets, display windows and dayparts. An
   item targeted at an area is seen there and in every area below it (:mod:`publisher.areas`).
3. **plan** (:mod:`publisher.plan`, pure): per screen, what shows when and the next instant
   that changes; an active emergency pre-empts everything in its area; what each feed carries.
4. **render** (:mod:`publisher.render`): slides named by the hash of what they show (a
   slide's QR code names its screen; an emergency renders once per size and language),
   RSS/Atom/iCal feeds, SMIL, SNS text per network; the public pages are the web app's
   (:mod:`publisher.web.public`, exported as files by :mod:`publisher.web.site`).
5. **deliver** (:mod:`publisher.deliver`): each screen's playlist with its slides
   (:mod:`publisher.deliver.playlists`); browser players hear of changes through SSE push the
   moment an item changes (a change listener, :data:`publisher.runtime.CHANGE_LISTENERS`);
   ``http`` and ``folder`` screens receive bundles (:mod:`publisher.deliver.log`); the SNS
   outbox posts each item once per account (:mod:`publisher.deliver.outbox`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from publisher.items import utcnow
from publisher.runtime import Runtime


@dataclass
class Report:
    """What one pass of the pipeline did, stage by stage."""

    at: datetime
    collected: dict[str, str] = field(default_factory=dict)  # source -> summary
    screens: int = 0
    entries: int = 0
    slides: int = 0
    deliveries: dict[str, str] = field(default_factory=dict)  # screen -> state
    posts: dict[str, int] = field(default_factory=dict)  # outbox outcome -> count

    def lines(self) -> list[str]:
        out = [f"collect: {len(self.collected)} source(s)"]
        out += [f"  {name}: {summary}" for name, summary in self.collected.items()]
        out.append(f"plan: {self.screens} screens, {self.entries} playlist entries")
        out.append(f"render: {self.slides} distinct slides ready")
        states: dict[str, int] = {}
        for state in self.deliveries.values():
            states[state] = states.get(state, 0) + 1
        bundles = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "none"
        posts = ", ".join(f"{n} {s}" for s, n in sorted(self.posts.items())) or "nothing due"
        out.append(f"deliver: bundles {bundles}; SNS {posts}")
        return out


def collect(rt: Runtime, now: datetime, report: Report) -> None:
    """Every configured source, once; a failing source keeps its last good items."""
    from publisher.collect import load_sources, run_source

    for source in load_sources(rt):
        result = run_source(rt, source.name, now=now)
        report.collected[source.name] = result.summary()


def plan_and_render(rt: Runtime, now: datetime, report: Report) -> None:
    """Every screen's playlist at ``now``, and the slides it needs (each distinct one once)."""
    from publisher.deliver import playlists

    with rt.session() as session:
        items = playlists.load_items(session, now, playlists.cleared_seconds(rt))
    slides = set()
    for screen in rt.tree.screens.values():
        sp = playlists.build(rt, screen, items, now)
        report.screens += 1
        report.entries += len(sp.slides)
        slides.update(playlists.render_slides(rt, sp))
    report.slides = len(slides)


def deliver(rt: Runtime, now: datetime, report: Report) -> None:
    """Bundles to ``http``/``folder`` screens (unchanged versions are not resent), then the
    SNS posts that are due. Browser players were told already, by push, when items changed."""
    from publisher.deliver.log import Deliverer
    from publisher.deliver.outbox import process_due

    deliverer = Deliverer(rt)
    for outcome in deliverer.deliver_many(deliverer.pushed_screens(), now):
        report.deliveries[outcome.screen_id] = outcome.state
    report.posts = process_due(rt, now)


def publish(rt: Runtime, now: datetime | None = None, *, collect_sources: bool = True) -> Report:
    """One whole pass: collect → plan → render → deliver."""
    now = now or utcnow()
    report = Report(at=now)
    if collect_sources:
        collect(rt, now, report)
    plan_and_render(rt, now, report)
    deliver(rt, now, report)
    return report
