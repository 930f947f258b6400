"""Debian's Chromium for browser tests, driven by Playwright (never `playwright install`)."""

from typing import Any

CHROMIUM = "/usr/bin/chromium"
# Root in a sandbox, no GPU, and no calls home: this machine has no network but loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(playwright: Any) -> Any:
    """A headless Chromium from Debian's package."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
