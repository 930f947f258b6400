"""How long does reading the weather agency's messages take?

Parses every sample in ``tests/samples/jma/`` (up to 434 KB, the agency's largest kind) into
the ward's entry, 20 times each, and prints the median per message: the cost a feed poll pays
per new message. An unchanged poll (HTTP 304) parses nothing.

    .venv/bin/python bench/collect_jma.py
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from publisher.areas import load_tree
from publisher.collect.base import Source
from publisher.collect.jma import parse_message

REPO = Path(__file__).resolve().parent.parent
ROUNDS = 20


def main() -> None:
    tree = load_tree(REPO / "displays")
    source = Source(name="bench", kind="jma")
    for path in sorted((REPO / "tests" / "samples" / "jma").glob("*.xml")):
        data = path.read_bytes()
        times = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            parse_message(source, data, tree, str(path))
            times.append(time.perf_counter() - started)
        print(
            f"{path.name:36} {len(data) / 1024:7.0f} KB  {statistics.median(times) * 1000:7.1f} ms"
        )


if __name__ == "__main__":
    main()
