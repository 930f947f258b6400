"""Debian's Chromium for browser tests, driven by Playwright (never `playwright install`).

Run a year ahead (see the README's *Testing*), Chromium is started outside libfaketime — its
timers stall under it — and each page's clock is set to this process's shifted time instead
(Playwright's ``clock``), so the browser and the server agree on the date.
"""

import os
from datetime import UTC, datetime
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


def _under_faketime() -> bool:
    return "faketime" in os.environ.get("LD_PRELOAD", "")


class _ShiftedClock:
    """A Browser whose new pages and contexts tell this process's (faked) time."""

    def __init__(self, browser: Any):
        self._browser = browser

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)

    def new_context(self, **kwargs: Any) -> Any:
        context = self._browser.new_context(**kwargs)
        context.clock.set_system_time(datetime.now(UTC))
        return context

    def new_page(self, **kwargs: Any) -> Any:
        page = self._browser.new_page(**kwargs)
        page.clock.set_system_time(datetime.now(UTC))
        return page


def launch(playwright: Any, args: list[str] | None = None) -> Any:
    """A headless Chromium from Debian's package (``args``: instead of :data:`CHROMIUM_ARGS`)."""
    if not _under_faketime():
        return playwright.chromium.launch(executable_path=CHROMIUM, args=args or CHROMIUM_ARGS)
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and "FAKETIME" not in k}
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=args or CHROMIUM_ARGS, env=env
    )
    return _ShiftedClock(browser)
