"""Running sources against the store: idempotent, robust, every run recorded."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from publisher.collect import collect, load_sources, run_source
from publisher.collect.base import Source
from publisher.collect.history import last_runs
from publisher.collect.http import USER_AGENT, FetchError, Http
from publisher.collect.oneoff import import_document, ingest_alert
from publisher.config import REPO_DIR
from publisher.errors import ConfigError
from publisher.store import workflow
from publisher.store.content import get_item, list_items
from publisher.store.models import AuditRow, CollectRunRow, ItemRow
from publisher.store.staff import operator
from tests.collect_helpers import (  # noqa: F401  (the upstream fixture)
    SAMPLES,
    sample,
    upstream_server,
)
from tests.factories import DAIZAWA

FAST = {"connect_timeout_s": 2, "read_timeout_s": 0.5, "total_timeout_s": 5}


def counts(result):
    return (result.created, result.updated, result.unchanged, len(result.skipped))


LOCAL = {"allow_private_addresses": True}  # the test upstream listens on loopback


def source(url: str, kind: str = "rss", **kw) -> Source:
    return Source(name=kw.pop("name", "ward-news"), kind=kind, url=url, options=LOCAL, **kw)


def test_every_kind_over_http_twice_is_a_no_op(rt, now, upstream):
    for kind, name in [
        ("rss", "ward_news.rss"),
        ("rss", "ward_news.atom"),
        ("events-csv", "events_cp932.csv"),
        ("ical", "community_daizawa.ics"),
        ("cap", "cap_ward_emergency.xml"),
    ]:
        src = source(upstream.serve_sample(name), kind, name=f"test-{name}", targets=(DAIZAWA,))
        first = collect(rt, src, now=now)
        assert first.ok, first.failure
        assert first.created > 0 and first.updated == 0
        second = collect(rt, src, now=now)
        assert (second.created, second.updated) == (0, 0), name
        assert second.unchanged == first.created
    assert all(ua == USER_AGENT for _, ua in upstream.requests)


def test_imported_items_are_approved_and_visible_in_their_target_area(rt, now):
    result = import_document(
        rt, "events-csv", str(SAMPLES / "events_cp932.csv"), (DAIZAWA,), now=now
    )
    assert counts(result) == (3, 0, 0, 2)
    with rt.session() as s:
        items = list_items(s, rt.tree, area=DAIZAWA)
    festival = next(i for i in items if i.external_id == "2026-0101")
    assert festival.status == "approved" and festival.kind == "event"
    assert festival.source == "import:events-csv:events_cp932.csv"
    assert festival.targets == (DAIZAWA,)
    assert festival.place.name == "代沢小学校 校庭" and festival.place.lat == 35.6587
    assert festival.text("en").title == "Daizawa Community Festival"
    assert festival.is_live(now)


def test_a_changed_upstream_entry_becomes_revision_2_with_an_audit_row(rt, now, upstream):
    url = upstream.serve_sample("ward_news.rss")
    assert collect(rt, source(url), now=now).created == 2
    changed = sample("ward_news.rss").replace(
        "区役所の窓口はお休みです".encode(), "区役所の窓口は12月28日正午まで開いています".encode()
    )
    upstream.serve("/ward_news.rss", changed)
    result = collect(rt, source(url), now=now)
    assert counts(result) == (0, 1, 1, 1)
    with rt.session() as s:
        row = s.scalars(
            select(ItemRow).where(ItemRow.external_id == "setagaya-news-20261120-01")
        ).one()
        assert row.revision == 2
        audits = s.scalars(
            select(AuditRow).where(AuditRow.entity_id == str(row.id)).order_by(AuditRow.id)
        ).all()
    assert [a.action for a in audits] == ["create", "update"]
    assert audits[1].actor == "collect:ward-news"
    assert "12月28日正午まで" in audits[1].after["body"]["ja"]


def test_an_entry_gone_upstream_stays_and_a_withdrawn_one_stays_withdrawn(rt, now, upstream):
    url = upstream.serve_sample("ward_news.rss")
    first = collect(rt, source(url), now=now)
    with rt.session() as s:
        workflow.transition(s, rt.tree, operator(rt.tree), first.item_ids[1], "withdraw")
    only_first = sample("ward_news.rss").split(b"<item>")
    upstream.serve(
        "/ward_news.rss", only_first[0] + b"<item>" + only_first[1] + b"</channel></rss>"
    )
    assert collect(rt, source(url), now=now).ok
    with rt.session() as s:
        assert get_item(s, first.item_ids[0]).status == "approved"
    upstream.serve_sample("ward_news.rss")
    again = collect(rt, source(url), now=now)
    assert counts(again) == (0, 0, 2, 1)
    with rt.session() as s:
        assert get_item(s, first.item_ids[1]).status == "withdrawn"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/error", "the server answered 500"),
        ("/loop", "more than 5 redirects"),
        ("/huge", "over the limit of 5,242,880 bytes"),
        ("/slow", "no answer within 0.5 s"),
        ("/garbage", "not an RSS or Atom feed"),
    ],
)
def test_a_failing_source_keeps_its_last_good_items_and_records_why(
    rt, now, upstream, path, reason
):
    url = upstream.serve_sample("ward_news.rss")
    good = collect(rt, source(url), now=now)
    upstream.serve("/garbage", b"\x89PNG not a feed")
    http = Http(**FAST)
    failed = collect(rt, source(upstream.url(path)), now=now + timedelta(hours=1), http=http)
    assert not failed.ok and reason in failed.failure
    assert failed.failure.startswith(upstream.url(path))
    with rt.session() as s:
        assert all(get_item(s, i).status == "approved" for i in good.item_ids)
        runs = last_runs(s)
    assert runs["ward-news"]["ok"] is False and reason in runs["ward-news"]["failure"]


def test_a_bad_entry_is_skipped_while_the_good_ones_are_stored(rt, now):
    result = import_document(rt, "events-csv", str(SAMPLES / "events_cp932.csv"), now=now)
    assert [(s.entry, s.reason.split(":")[0]) for s in result.skipped] == [
        ("row 4", "開始日"),
        ("row 5", "イベント名"),
    ]
    with rt.session() as s:
        run = s.scalars(select(CollectRunRow)).one()
    assert (run.ok, run.created, run.skipped) == (True, 3, 2)
    assert run.errors[0] == {
        "entry": "row 4",
        "reason": "開始日: '2026-02-30' is not a date that exists",
    }


def test_an_unreadable_file_is_a_recorded_failure(rt, now, tmp_path):
    result = import_document(rt, "ical", str(tmp_path / "missing.ics"))
    assert not result.ok and "missing.ics: cannot read it" in result.failure


def test_http_refuses_what_is_not_http(upstream):
    with pytest.raises(FetchError, match="only http"):
        Http().get("file:///etc/passwd")


# -- sources.toml ---------------------------------------------------------------------------------


def test_the_shipped_sources_toml_polls_nothing_and_its_commented_examples_are_valid(rt, tmp_path):
    """A fresh clone polls no ward or agency server; uncommenting the examples gives the ward's
    sources."""
    assert load_sources(rt) == []
    _with_the_ward_examples(rt, tmp_path)
    sources = {s.name: s for s in load_sources(rt)}
    assert {s.kind for s in sources.values()} == {"rss", "events-csv", "ical", "cap", "jma"}
    assert sources["daizawa-association"].targets == (DAIZAWA,)
    assert sources["disaster-cap"].interval == timedelta(minutes=1)
    assert sources["jma-extra"].interval == sources["jma-eqvol"].interval == timedelta(minutes=1)


def _with_the_ward_examples(rt, tmp_path) -> None:
    """content/sources.toml with its commented examples (the ward's real sources) turned on."""
    shipped = (REPO_DIR / "content" / "sources.toml").read_text(encoding="utf-8")
    _with_sources(rt, tmp_path, re.sub(r"(?m)^# (\[sources\.|[a-z_]+ = )", r"\1", shipped))


def _with_sources(rt, tmp_path, text: str):
    (tmp_path / "content").mkdir(exist_ok=True)
    (tmp_path / "content" / "sources.toml").write_text(text, encoding="utf-8")
    rt.settings["CONTENT_DIR"] = tmp_path / "content"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            'kind = "rs"\nurl = "https://x.example/"',
            "sources.a.kind: unknown kind 'rs' (kinds: rss",
        ),
        (
            'kind = "rss"\nurl = "https://x.example/"\ninterval = "often"',
            "sources.a.interval: 'often'",
        ),
        ('kind = "rss"\nurl = "https://x.example/"\ninterval = "10s"', "shorter than a minute"),
        (
            'kind = "rss"\nurl = "https://x.example/"\ntargets = ["setagaya/kitazwa"]',
            "sources.a.targets: unknown area 'setagaya/kitazwa' (did you mean 'setagaya/kitazawa'?)",
        ),
        ('kind = "rss"', "give exactly one of url or path"),
        (
            'kind = "rss"\nurl = "https://x.example/"\nurl_ = 1',
            "sources.a.url_: unknown key (did you mean 'url'?)",
        ),
    ],
)
def test_sources_toml_errors_name_the_file_and_key(rt, tmp_path, body, message):
    _with_sources(rt, tmp_path, f"[sources.a]\n{body}\n")
    with pytest.raises(ConfigError) as e:
        load_sources(rt)
    assert str(tmp_path / "content" / "sources.toml") in str(e.value)
    assert message in str(e.value)


def test_unknown_kind_suggests_the_right_one(rt, tmp_path):
    _with_sources(rt, tmp_path, '[sources.a]\nkind = "ical-feed"\nurl = "https://x.example/"\n')
    with pytest.raises(ConfigError, match=r"did you mean 'ical'\?"):
        load_sources(rt)


def test_run_source_runs_a_configured_source_by_name(rt, now, tmp_path, upstream):
    url = upstream.serve_sample("community_daizawa.ics")
    _with_sources(
        rt,
        tmp_path,
        f'[sources.daizawa]\nkind = "ical"\nurl = "{url}"\ntargets = ["{DAIZAWA}"]\n'
        'category = "community"\ninterval = "15m"\n'
        "options = { allow_private_addresses = true }\n",
    )
    result = run_source(rt, "daizawa", now=now)
    assert result.ok and result.created == 8
    with rt.session() as s:
        items = list_items(s, rt.tree, area=DAIZAWA)
        assert {i.category for i in items} == {"community"}
        assert s.scalar(select(func.count()).select_from(CollectRunRow)) == 1
    with pytest.raises(Exception, match="no source 'daizawwa'.*did you mean 'daizawa'"):
        run_source(rt, "daizawwa", now=now)


def test_sources_without_internet_just_record_failed_runs(rt, now, tmp_path):
    """A ward's sources that cannot be reached fail harmlessly."""
    _with_the_ward_examples(rt, tmp_path)
    http = Http(connect_timeout_s=0.5, read_timeout_s=0.5)
    for s in load_sources(rt):
        blocked = Source(
            **{**s.__dict__, "url": "http://127.0.0.1:9/unreachable", "options": LOCAL}
        )
        result = collect(rt, blocked, now=now, http=http)
        assert not result.ok and "cannot connect" in result.failure
    with rt.session() as s:
        assert len(last_runs(s)) == 6


# -- CAP through the store ----------------------------------------------------------------------------


def test_ingesting_a_cap_file_twice_is_a_no_op(rt, now):
    data = sample("cap_drill_daizawa_alert.xml")
    first = ingest_alert(rt, data, operator(rt.tree), via="alert", now=now)
    again = ingest_alert(rt, data, operator(rt.tree), via="alert", now=now)
    assert first.item_ids == again.item_ids and (again.created, again.updated) == (0, 0)
    with rt.session() as s:
        item = get_item(s, first.item_ids[0])
    assert item.source == "cap:bousai@city.setagaya.lg.jp"
    assert item.external_id == "setagaya-bousai-20261122-001"
