"""Planning, pure: what each screen, feed and page shows, and when that changes.

Contract: functions of plain values (:class:`~publisher.items.Item`,
:class:`~publisher.areas.AreaTree`, a given ``now``) that return plain values. No database,
no files, no clock: a test needs neither a store nor a sleep.

- :mod:`~publisher.plan.screens`: a screen's playlist at an instant, and the next instant it
  changes; an active emergency pre-empts everything in its area;
- :mod:`~publisher.plan.reading`: how long a slide (or each page of one) stays up to be read;
- :mod:`~publisher.plan.transitions`: the instants at which items enter or leave screens;
- :mod:`~publisher.plan.residents`: which items each feed, calendar and public page carries,
  and how a title is marked (訓練, 緊急).

May import: the basics only.
"""
