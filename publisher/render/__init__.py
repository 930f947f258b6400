"""Renderers: items into slides, feeds, SMIL and SNS text. Pure apart from writing files."""
