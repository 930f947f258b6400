"""Any bytes given to a parser give entries, skipped entries or a clear PublisherError;
never another exception escaping to the user."""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.areas import load_tree
from publisher.collect.base import Entry, Skipped, Source, entry_item
from publisher.collect.registry import collector_for
from publisher.config import REPO_DIR
from publisher.errors import PublisherError
from tests.collect_helpers import sample

TREE = load_tree(REPO_DIR / "displays")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
SAMPLES_BY_KIND = {
    "rss": ["ward_news.rss", "ward_news.atom"],
    "events-csv": ["events_cp932.csv", "events_utf8_bom.csv"],
    "ical": ["community_daizawa.ics"],
    "cap": [
        "cap_drill_daizawa_alert.xml",
        "cap_ward_emergency.xml",
        "cap_drill_daizawa_cancel.xml",
    ],
}
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read(kind: str, data: bytes) -> None:
    source = Source(name="fuzz", kind=kind, path=Path("fuzz"))
    try:
        for out in collector_for(kind).parse(source, data, TREE, NOW):
            assert isinstance(out, Entry | Skipped)
            if isinstance(out, Entry) and not out.cancel:
                with contextlib.suppress(PublisherError):
                    entry_item(out, source, TREE)
    except PublisherError as e:
        assert str(e)


@st.composite
def mutated(draw, kind: str) -> bytes:
    """A real sample with a slice replaced by random bytes (reaches deeper than noise)."""
    data = sample(draw(st.sampled_from(SAMPLES_BY_KIND[kind])))
    start = draw(st.integers(0, len(data)))
    end = draw(st.integers(start, min(len(data), start + 40)))
    return data[:start] + draw(st.binary(max_size=40)) + data[end:]


@pytest.mark.parametrize("kind", list(SAMPLES_BY_KIND))
@FUZZ
@given(data=st.binary(max_size=2000))
def test_random_bytes_never_escape_as_another_exception(kind, data):
    read(kind, data)


@pytest.mark.parametrize(
    "kind, name", [("cap", "cap_ward_emergency.xml"), ("rss", "ward_news.rss")]
)
def test_an_unknown_encoding_declaration_is_a_clear_error(kind, name):
    """Found by fuzzing: ``encoding="U-TF-8"`` made the XML parser raise LookupError."""
    data = sample(name)
    assert b'encoding="UTF-8"' in data
    read(kind, data.replace(b'encoding="UTF-8"', b'encoding="U-TF-8"', 1))


@pytest.mark.parametrize("kind", list(SAMPLES_BY_KIND))
@FUZZ
@given(data=st.data())
def test_damaged_samples_never_escape_as_another_exception(kind, data):
    read(kind, data.draw(mutated(kind)))


@FUZZ
@given(text=st.text(max_size=300))
def test_any_csv_text_in_either_encoding(text):
    header = "NO,イベント名,開始日,終了日,開始時間,終了時間,場所名称,緯度,経度,URL\n"
    for encoding in ("utf-8-sig", "cp932"):
        read("events-csv", (header + text).encode(encoding, errors="ignore"))
