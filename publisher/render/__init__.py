"""Rendering: items into what people see — slides (PNG), RSS/Atom and iCal feeds, SMIL, SNS
text. Pure apart from writing content-addressed files: the same input gives the same bytes.

- slides: :mod:`~publisher.render.slides` (what a slide says) →
  :mod:`~publisher.render.layout` (where it goes) → :mod:`~publisher.render.typeset`
  (Japanese line breaking), with :mod:`~publisher.render.theme`, :mod:`~publisher.render.fonts`,
  :mod:`~publisher.render.labels` and :mod:`~publisher.render.qr`;
- :mod:`~publisher.render.feeds`, :mod:`~publisher.render.ical`, :mod:`~publisher.render.smil`,
  :mod:`~publisher.render.sns`.

May import: the basics and ``plan``.
"""
