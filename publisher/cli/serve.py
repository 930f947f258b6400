"""``publisher serve``: the app under gunicorn (threads, so each screen's SSE stream holds one).

One worker process: the single-machine default embeds the scheduler in it (started in the
worker by gunicorn's ``post_worker_init``, never in tests), and APScheduler's job store must
never be shared by two schedulers (see DESIGN.md and :mod:`publisher.schedule.leader`).
``PUBLISHER_SCHEDULER=off`` leaves scheduling to ``publisher worker``.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from publisher.runtime import Runtime
from publisher.web import create_app

# Gunicorn's access line with the path but never the query string (%(U)s, not %(r)s): a
# screen's token or a search never reaches a log file.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "-" "%(a)s"'


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


def _start_scheduler(rt: Runtime) -> Any:
    """Gunicorn's post_worker_init hook: the worker process embeds the (one) scheduler."""

    def hook(worker: Any) -> None:
        import logging

        from publisher.schedule.service import start_in_process

        if not logging.getLogger().handlers:  # leader/standby and job logs beside gunicorn's
            logging.basicConfig(
                level=logging.INFO, format="[%(asctime)s] [%(process)d] [%(name)s] %(message)s"
            )

        start_in_process(rt)

    return hook


def serve(rt: Runtime, host: str, port: int) -> None:
    app = create_app(rt)
    embed = str(rt.settings["SCHEDULER"]).lower() not in ("off", "0", "no", "false")
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
            "access_log_format": ACCESS_LOG_FORMAT,
            "errorlog": "-",
            "loglevel": "info",
            **({"post_worker_init": _start_scheduler(rt)} if embed else {}),
        },
    ).run()
