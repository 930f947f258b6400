"""How does the app answer hostile requests? 10,000 generated requests per database, 0 × 5xx.

Builds a fresh migrated store on SQLite (and on PostgreSQL when ``PUBLISHER_TEST_DATABASE_URL``
is set: a private database, dropped afterwards), loads Setagaya's areas and an admin token, then
sends the requests of ``tests/api_fuzz.py`` (API reads and writes with broken JSON, huge ids,
far dates, lone surrogates, NUL, CRLF; public pages; the login form) to the real app. Prints the
answers by status and every 5xx; exits 1 if there was one.

Usage: ``python bench/api_fuzz.py [--requests 10000] [--sqlite-only]``.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

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
    from publisher.store import staff
    from publisher.store.content import sync_tree
    from publisher.web import create_app
    from tests.api_fuzz import Call, calls

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
        user = staff.create_user(
            session, rt.tree, "fuzz-admin", "admin", "setagaya", "fuzzing is fine", actor="fuzz"
        )
        token = staff.create_token(session, user, actor="fuzz")
    app = create_app(rt, {"TESTING": True})
    now = datetime(2026, 11, 22, 10, 0, tzinfo=JST)
    app.config["PUBLISHER_CLOCK"] = lambda: now
    client = app.test_client()
    statuses: collections.Counter[int] = collections.Counter()
    errors: list[str] = []

    @settings(
        max_examples=requests,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(call=calls())
    def send(call: Call) -> None:
        status = call.send(client, token).status_code
        statuses[status] += 1
        if status >= 500:
            errors.append(f"{status} {call.method} {call.path[:80]} {str(call.body)[:120]}")

    started = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        send()
    elapsed = time.monotonic() - started
    rt.close()
    if drop is not None:
        drop()
    return statuses, errors, elapsed


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
    import logging

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
        for line in errors[:20]:
            print("          " + line)
        failed = failed or bool(errors)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
