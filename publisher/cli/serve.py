"""``publisher serve``: the app on :mod:`publisher.web.server` (an asyncio loop for connections
and push streams, two lanes of threads for Flask).

One process by default. The single-machine default embeds the scheduler in it (a standby when
another process holds the lock, see :mod:`publisher.schedule.leader`);
``PUBLISHER_SCHEDULER=off`` leaves scheduling to ``publisher worker``. On PostgreSQL several
``publisher serve`` processes may share one port (``--reuse-port``): each holds its share of the
screens, and LISTEN/NOTIFY tells every one of them about every change.
"""

from __future__ import annotations

import logging

from publisher.runtime import Runtime
from publisher.web import create_app
from publisher.web.server import Limits
from publisher.web.server import serve as run_server


def limits_from(rt: Runtime) -> Limits:
    threads = int(rt.settings["THREADS"])
    return Limits(
        public_threads=threads,
        priority_threads=max(2, threads // 2),
        max_connections=int(rt.settings["MAX_CONNECTIONS"]),
        per_address=int(rt.settings["MAX_PER_ADDRESS"]),
    )


def serve(rt: Runtime, host: str, port: int, *, reuse_port: bool = False) -> None:
    if not logging.getLogger().handlers:  # leader/standby and job logs
        logging.basicConfig(
            level=logging.INFO, format="[%(asctime)s] [%(process)d] [%(name)s] %(message)s"
        )
    app = create_app(rt)
    if str(rt.settings["SCHEDULER"]).lower() not in ("off", "0", "no", "false"):
        from publisher.schedule.service import start_in_process

        start_in_process(rt)
    run_server(app, rt, host, port, limits_from(rt), reuse_port=reuse_port)
