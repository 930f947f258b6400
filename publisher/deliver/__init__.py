"""Delivery: getting playlists and alerts to screens (push, sync) and posts to SNS."""
