"""Setagaya's district signage and information publisher.

Start reading at :mod:`publisher.pipeline`: it tells the whole story
(collect → plan → render → deliver) in one place.
"""

__version__ = "0.1.0"
