"""What a benchmark needs beyond the publisher, checked first: one line and a skip, not a
traceback. ``require(...)`` prints ``bench/feeds.py: skipped: nginx is not installed (...)``
and exits 0, so ``make bench`` goes on to the next benchmark."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path


def missing_command(name: str, package: str) -> str | None:
    if shutil.which(name) or Path(f"/usr/sbin/{name}").exists():
        return None
    return f"{name} is not installed (sudo apt-get install {package})"


def missing_module(name: str, package: str) -> str | None:
    if importlib.util.find_spec(name) is not None:
        return None
    return f"the Python module {name} is not installed (.venv/bin/pip install {package})"


def unreachable_postgres(url: str) -> str | None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as e:
        first = str(getattr(e, "orig", e)).strip().splitlines()[0]
        return f"PostgreSQL at {engine.url.render_as_string()} cannot be reached: {first}"
    finally:
        engine.dispose()
    return None


def require(*problems: str | None) -> None:
    """Skip the benchmark (exit 0) naming every missing thing, if any."""
    found = [p for p in problems if p]
    if found:
        print(f"{Path(sys.argv[0]).as_posix()}: skipped: {'; '.join(found)}")
        sys.exit(0)
