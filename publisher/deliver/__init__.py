"""Delivery: getting what a screen should show onto it (see :mod:`publisher.deliver.base`)."""
