"""``publisher worker``: the scheduler and delivery loop alone, for deployments where several
web processes share one PostgreSQL. Start two on different machines: one leads, the other
stands by and takes over within seconds if the leader dies."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import click


def register(cli: click.Group) -> None:
    @cli.command()
    def worker() -> None:
        """Run the scheduler (collection, transitions, deliveries, watchdog) until stopped."""
        from publisher.cli.main import _ready_runtime
        from publisher.schedule.service import start_in_process

        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        rt = _ready_runtime()
        stop = threading.Event()

        def on_signal(signum: int, _frame: Any) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        click.echo(f"publisher worker on {rt.db.safe_url}: waiting for the leader lock", err=True)
        service = start_in_process(rt)
        while not stop.wait(1.0):
            pass
        service.stop()
        click.echo("publisher worker stopped", err=True)
