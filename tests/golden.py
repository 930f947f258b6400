"""Golden files: rendered output compared with the reviewed copy in tests/expected/.

``UPDATE_GOLDEN=1 .venv/bin/pytest ...`` rewrites them; review the diff before committing.
A missing golden file fails the test (it is never silently created).
"""

import os
from pathlib import Path

EXPECTED = Path(__file__).parent / "expected"


def check_golden(name: str, actual: str) -> None:
    path = EXPECTED / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs (UPDATE_GOLDEN=1?)"
