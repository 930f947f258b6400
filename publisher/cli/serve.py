"""``publisher serve``: the app on :mod:`publisher.web.server` (an asyncio loop for connections
and push streams, two lanes of threads for Flask).

One process by default. The single-machine default embeds the scheduler in it (a standby when
another process holds the lock, see :mod:`publisher.schedule.leader`);
``PUBLISHER_SCHEDULER=off`` leaves scheduling to ``publisher worker``. On PostgreSQL several
``publisher serve`` processes may share one port (``--reuse-port``): each holds its share of the
screens, and LISTEN/NOTIFY tells every one of them about every change.
"""

from __future__ import annotations

import errno
import logging
import socket

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


def port_problem(host: str, port: int) -> str | None:
    """One line saying why ``host:port`` cannot be served and what to do, or None when free."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        return f"cannot serve on {host!r}: {e.strerror} (give --host an address of this machine)"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return (
                    f"port {port} on {host} is in use: stop the other server, or choose "
                    f"another port (`make run PORT={port + 1}` or `publisher serve --port "
                    f"{port + 1}`)"
                )
            if e.errno == errno.EACCES:
                return f"port {port} needs root: choose one above 1023 (--port 8000)"
            if e.errno == errno.EADDRNOTAVAIL:
                return f"{host} is not an address of this machine (give --host one that is)"
            return f"cannot serve on {host}:{port}: {e.strerror}"
    return None


def serve(rt: Runtime, host: str, port: int, *, reuse_port: bool = False) -> None:
    if not logging.getLogger().handlers:  # leader/standby and job logs
        logging.basicConfig(
            level=logging.INFO, format="[%(asctime)s] [%(process)d] [%(name)s] %(message)s"
        )
    app = create_app(rt)
    if str(rt.settings["SCHEDULER"]).lower() not in ("off", "0", "no", "false"):
        from publisher.schedule.service import start_in_process

        start_in_process(rt)
    from publisher.deliver.webpush import warm_if_needed

    warm_if_needed(rt)  # the Web Push fan-out processes, before an emergency needs them
    run_server(app, rt, host, port, limits_from(rt), reuse_port=reuse_port)
