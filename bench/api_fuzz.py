"""How does the app answer hostile requests? 10,000 generated requests per database, 0 × 5xx.

Builds a fresh migrated store on SQLite (and on PostgreSQL when ``PUBLISHER_TEST_DATABASE_URL``
is set: a private database, dropped afterwards), loads Setagaya's areas and what
``tests/fuzz_world.py`` puts there (an admin's token, an editor logged in, a public item, a
screen's token, a resident's subscription), then sends the requests of ``tests/api_fuzz.py``
and ``tests/residents_fuzz.py`` (API reads and writes with broken JSON, huge ids, far dates,
lone surrogates, NUL, CRLF; public pages and short links with junk languages, cookies and
headers; Web Push sign-ups with endpoints that are no URL or a private address; posters and
bulletins; proof of play; the login form and the admin as an editor) to the real app. Prints the
answers by status, every traceback logged (by where it was raised) and every 5xx; exits 1 if
there was one.

Usage: ``python bench/api_fuzz.py [--requests 10000] [--sqlite-only]``.
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import sys
import tempfile
import time
import traceback
import uuid
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO))


def backends(sqlite_only: bool) -> list[str]:
    out = ["sqlite"]
    if os.environ.get("PUBLISHER_TEST_DATABASE_URL") and not sqlite_only:
        out.append("postgres")
    return out


def run(backend: str, requests: int) -> tuple[collections.Counter[int], list[str], float]:
    from datetime import datetime

    from hypothesis import HealthCheck, Phase, given, settings
    from sqlalchemy import create_engine, make_url, text

    from publisher.areas import load_tree
    from publisher.config import load_settings
    from publisher.items import JST
    from publisher.runtime import Runtime
    from publisher.store.content import sync_tree
    from publisher.web import create_app
    from publisher.web.reach import counters
    from tests.api_fuzz import Call, calls
    from tests.fuzz_world import make_world

    tmp = Path(tempfile.mkdtemp(prefix="api-fuzz-"))
    drop = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'publisher.db'}"
    else:
        admin_url = make_url(os.environ["PUBLISHER_TEST_DATABASE_URL"])
        name = f"publisher_fuzz_{uuid.uuid4().hex[:10]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin_url.set(database=name).render_as_string(hide_password=False)

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    rt = Runtime(load_settings({}, DATA_DIR=tmp, DATABASE_URL=url, SECRET_KEY="fuzz"))
    rt.__dict__["tree"] = load_tree(REPO / "displays")
    rt.db.migrate()
    with rt.session() as session:
        sync_tree(session, rt.tree)
    app = create_app(rt, {"TESTING": True})
    now = datetime(2026, 11, 22, 10, 0, tzinfo=JST)
    world = make_world(rt, app, now)
    client = app.test_client()
    statuses: collections.Counter[int] = collections.Counter()
    errors: list[str] = []
    logged = Logged()
    logging.getLogger().addHandler(logged)

    @settings(
        max_examples=requests,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(call=calls())
    def send(call: Call) -> None:
        logged.call = call
        status = call.send(client, world).status_code
        statuses[status] += 1
        if status >= 500:
            errors.append(f"{status} {_shown(call)}")

    started = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        send()
    elapsed = time.monotonic() - started
    logged.call = None
    counters(rt).flush(rt.session)  # what the pages counted goes in as the minute's flush would
    logging.getLogger().removeHandler(logged)
    tracebacks = [
        f"traceback ×{n}: {where}\n            e.g. {example}"
        for where, (n, example) in logged.seen.items()
    ]
    errors = tracebacks + errors  # the causes first, then each 5xx
    rt.close()
    if drop is not None:
        drop()
    return statuses, errors, elapsed


class Logged(logging.Handler):
    """Every traceback logged (an unexpected error, a failed flush), by where it was raised."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.call: object = None
        self.seen: dict[str, tuple[int, str]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if not record.exc_info or record.exc_info[1] is None:
            return
        e, tb = record.exc_info[1], record.exc_info[2]
        frames = traceback.extract_tb(tb)
        ours = [f for f in frames if "/publisher/" in f.filename] or frames
        last = ours[-1] if ours else None
        place = f"{Path(last.filename).name}:{last.lineno}" if last else "?"
        where = f"{type(e).__name__} at {place}: {str(e)[:100]}"
        n, example = self.seen.get(where, (0, _shown(self.call)))
        self.seen[where] = (n + 1, example)


def _shown(call: object) -> str:
    if call is None:
        return "(after the run)"
    c: Any = call
    more = c.body if c.body is not None else c.form if c.form is not None else c.raw
    return f"{c.method} {c.path[:80]!r} query={str(c.query)[:100]} {str(more)[:160]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    from lib.need import missing_module, require, unreachable_postgres

    require(missing_module("hypothesis", "-e '.[dev]'"))
    if "postgres" in backends(args.sqlite_only):
        problem = unreachable_postgres(os.environ["PUBLISHER_TEST_DATABASE_URL"])
        if problem:
            print(f"postgres: skipped: {problem}")
            args.sqlite_only = True
    logging.disable(logging.WARNING)  # every refused login logs a line; the figures matter here
    failed = False
    for backend in backends(args.sqlite_only):
        statuses, errors, elapsed = run(backend, args.requests)
        total = sum(statuses.values())
        by_class = collections.Counter(f"{s // 100}xx" for s in statuses.elements())
        print(
            f"{backend:<9} {total:>6} requests in {elapsed:6.1f} s ({total / elapsed:6.0f}/s): "
            + ", ".join(f"{k} {v}" for k, v in sorted(by_class.items()))
        )
        print("          by status: " + ", ".join(f"{k}:{v}" for k, v in sorted(statuses.items())))
        for line in errors[:40]:
            print("          " + line)
        failed = failed or bool(errors)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
