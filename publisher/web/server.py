"""``publisher serve``: the app under gunicorn (threads, so each screen's SSE stream holds one).

One worker process: the single-machine default embeds the scheduler in it, and
APScheduler's job store must never be shared by two schedulers (see DESIGN.md).
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from publisher.runtime import Runtime
from publisher.web import create_app


class _Server(BaseApplication):
    def __init__(self, app: Any, options: dict[str, Any]):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def serve(rt: Runtime, host: str, port: int) -> None:
    app = create_app(rt)
    _Server(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": int(rt.settings["THREADS"]),
            # gthread refuses clients beyond this; every screen keeps one open for SSE
            "worker_connections": max(1000, int(rt.settings["THREADS"]) + 100),
            "timeout": 0,  # SSE streams are long-lived by design
            "graceful_timeout": 5,
            "accesslog": "-",
            "errorlog": "-",
            "loglevel": "info",
        },
    ).run()
