"""Delivery: getting what a screen should show onto it, and each item out to residents.

- :mod:`publisher.deliver.playlists`: a screen's planned playlist with its slides rendered
  (cached, content-addressed); :mod:`publisher.deliver.export`: a folder per screen
  (numbered PNGs, ``manifest.json``, ``playlist.smil``) for players that are not browsers;
- :mod:`publisher.deliver.push`: SSE push to browser players (in-process hub; LISTEN/NOTIFY
  across web processes on PostgreSQL);
- :mod:`publisher.deliver.base`, :mod:`~publisher.deliver.sync`, :mod:`~publisher.deliver.log`:
  bundles to ``http`` and ``folder`` screens, with a delivery log per screen;
- :mod:`publisher.deliver.outbox` and :mod:`publisher.deliver.sns`: SNS posts, exactly once.

May import: the basics, ``runtime``, ``store``, ``plan``, ``render``.
"""
