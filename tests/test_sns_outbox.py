"""The outbox: an approved item goes out once per account, survives crashes, comes down when
withdrawn. Every network is a local stand-in; every clock is the test's ``now``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from publisher.deliver import outbox
from publisher.deliver.accounts import load_accounts
from publisher.errors import ConfigError
from publisher.runtime import Runtime
from publisher.store import staff, workflow
from publisher.store.models import SnsPostRow
from tests.factories import DAIZAWA, WARD, api_item
from tests.sns_helpers import ENV_NAMES, TOKEN, StandIn, accounts_toml, stand_in

NETWORKS = ("x", "mastodon", "bluesky", "line")


@pytest.fixture
def server() -> Iterator[StandIn]:
    with stand_in() as s:
        yield s


@pytest.fixture
def sns_rt(rt: Runtime, server: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    content = tmp_path / "content"
    content.mkdir()
    (content / "accounts.toml").write_text(accounts_toml(server.url), encoding="utf-8")
    rt.settings["CONTENT_DIR"] = content
    for name in ENV_NAMES:
        monkeypatch.setenv(name, TOKEN)
    return rt


def approve(rt: Runtime, **overrides) -> int:  # type: ignore[no-untyped-def]
    with rt.session() as session:
        item = workflow.create(session, rt.tree, staff.operator(rt.tree), api_item(**overrides))
    assert item.id is not None
    return item.id


def withdraw(rt: Runtime, item_id: int) -> None:
    with rt.session() as session:
        workflow.transition(session, rt.tree, staff.operator(rt.tree), item_id, "withdraw")


def rows(rt: Runtime, item_id: int | None = None) -> list[SnsPostRow]:
    with rt.session() as session:
        query = select(SnsPostRow).order_by(SnsPostRow.id)
        if item_id is not None:
            query = query.where(SnsPostRow.item_id == item_id)
        return list(session.scalars(query))


def test_a_daizawa_notice_is_announced_by_daizawa_and_falls_back_to_kitazawa(
    sns_rt: Runtime, server: StandIn, now: datetime
) -> None:
    """Daizawa has Mastodon and Bluesky; for X and LINE its region Kitazawa speaks."""
    item_id = approve(sns_rt, targets=[DAIZAWA])
    queued = {(r.account, r.network) for r in rows(sns_rt, item_id)}
    assert queued == {
        ("setagaya/kitazawa", "x"),
        ("setagaya/kitazawa", "line"),
        (DAIZAWA, "mastodon"),
        (DAIZAWA, "bluesky"),
    }
    assert all(r.state == "queued" for r in rows(sns_rt, item_id))
    counts = outbox.process_due(sns_rt, now)
    assert counts == {"sent": 4}
    assert {n: len(server.posts[n]) for n in NETWORKS} == dict.fromkeys(NETWORKS, 1)
    assert all(r.state == "sent" and r.remote_id for r in rows(sns_rt, item_id))
    # nothing more is due: a second run sends nothing
    assert outbox.process_due(sns_rt, now + timedelta(minutes=10)) == {}
    assert sum(len(server.posts[n]) for n in NETWORKS) == 4


def test_a_ward_item_goes_to_the_wards_accounts_only(sns_rt: Runtime, now: datetime) -> None:
    item_id = approve(sns_rt, targets=[WARD], title={"ja": "区からのお知らせ"})
    assert {(r.account, r.network) for r in rows(sns_rt, item_id)} == {(WARD, n) for n in NETWORKS}


def test_queueing_the_same_revision_twice_changes_nothing(sns_rt: Runtime) -> None:
    item_id = approve(sns_rt)
    before = [(r.id, r.idempotency_key) for r in rows(sns_rt)]
    outbox.on_items_changed(sns_rt, {item_id})
    outbox.on_items_changed(sns_rt, {item_id})
    assert [(r.id, r.idempotency_key) for r in rows(sns_rt)] == before
    assert f"{item_id}:1:setagaya/kitazawa:x" in {k for _, k in before}


def test_a_crash_after_sending_never_posts_twice(
    sns_rt: Runtime, server: StandIn, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The network accepted each post, then the publisher died before recording it."""
    item_id = approve(sns_rt)

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("power cut")

    monkeypatch.setattr(outbox, "record_sent", crash)
    assert outbox.process_due(sns_rt, now) == {"interrupted": 4}
    assert sum(len(server.posts[n]) for n in NETWORKS) == 4
    assert {r.state for r in rows(sns_rt, item_id)} == {"sending"}
    monkeypatch.undo()
    for name in ENV_NAMES:
        monkeypatch.setenv(name, TOKEN)

    # within the lease nobody touches a row that may still be in flight
    assert outbox.process_due(sns_rt, now + timedelta(minutes=1)) == {}
    counts = outbox.process_due(sns_rt, now + outbox.SENDING_LEASE + timedelta(seconds=1))
    assert counts == {"reconciled": 4}
    assert {n: len(server.posts[n]) for n in NETWORKS} == dict.fromkeys(NETWORKS, 1)
    sent = rows(sns_rt, item_id)
    assert all(r.state == "sent" for r in sent)
    by_net = {r.network: r.remote_id for r in sent}
    assert by_net["x"] == server.posts["x"][0]["id"]
    assert by_net["mastodon"] == server.posts["mastodon"][0]["id"]
    assert by_net["bluesky"] == server.posts["bluesky"][0]["id"]


def test_withdrawing_takes_the_posts_down_where_the_network_allows(
    sns_rt: Runtime, server: StandIn, now: datetime
) -> None:
    item_id = approve(sns_rt)
    outbox.process_due(sns_rt, now)
    withdraw(sns_rt, item_id)
    counts = outbox.process_due(sns_rt, now + timedelta(minutes=1))
    assert counts == {"deleted": 3, "kept": 1}
    assert ("DELETE", f"/2/tweets/{server.posts['x'][0]['id']}") in server.requests
    assert ("DELETE", f"/api/v1/statuses/{server.posts['mastodon'][0]['id']}") in server.requests
    assert ("POST", "/xrpc/com.atproto.repo.deleteRecord") in server.requests
    assert server.live("x") == server.live("mastodon") == server.live("bluesky") == []
    states = {r.network: (r.state, r.last_error) for r in rows(sns_rt, item_id)}
    assert states["line"][0] == "kept" and "cannot delete on LINE" in states["line"][1]
    assert {states[n][0] for n in ("x", "mastodon", "bluesky")} == {"deleted"}


def test_withdrawn_before_sending_is_never_posted(
    sns_rt: Runtime, server: StandIn, now: datetime
) -> None:
    item_id = approve(sns_rt)
    withdraw(sns_rt, item_id)
    assert outbox.process_due(sns_rt, now) == {}
    assert {r.state for r in rows(sns_rt, item_id)} == {"cancelled"}
    assert sum(len(server.posts[n]) for n in NETWORKS) == 0


def test_a_rate_limit_waits_for_retry_after_then_sends(
    sns_rt: Runtime, server: StandIn, now: datetime
) -> None:
    approve(sns_rt, targets=[WARD])
    server.fail_next.append((429, {"Retry-After": "300"}, '{"title": "Too Many Requests"}'))
    counts = outbox.process_due(sns_rt, now)
    assert counts == {"retry": 1, "sent": 3}
    waiting = next(r for r in rows(sns_rt) if r.state == "retry")
    assert waiting.not_before == now + timedelta(seconds=300)
    assert outbox.process_due(sns_rt, now + timedelta(seconds=299)) == {}
    assert outbox.process_due(sns_rt, now + timedelta(seconds=300)) == {"sent": 1}
    assert sum(len(server.posts[n]) for n in NETWORKS) == 4


def test_a_server_error_backs_off_and_a_refusal_fails_with_its_reason(
    sns_rt: Runtime, server: StandIn, now: datetime
) -> None:
    approve(sns_rt, targets=[WARD])
    server.fail_next.append((502, {}, "Bad Gateway"))
    server.fail_next.append((403, {}, '{"detail": "You are not permitted to create a Tweet"}'))
    counts = outbox.process_due(sns_rt, now)
    assert counts == {"retry": 1, "failed": 1, "sent": 2}
    by_state = {r.state: r for r in rows(sns_rt)}
    assert by_state["retry"].not_before == now + timedelta(seconds=outbox.FIRST_BACKOFF_S)
    assert "HTTP 403" in by_state["failed"].last_error
    assert "not permitted" in by_state["failed"].last_error


def test_a_missing_credential_holds_the_post_and_names_the_variable(
    sns_rt: Runtime, server: StandIn, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUBLISHER_SNS_SETAGAYA_X_TOKEN")
    approve(sns_rt, targets=[WARD])
    counts = outbox.process_due(sns_rt, now)
    assert counts == {"no credential": 1, "sent": 3}
    held = next(r for r in rows(sns_rt) if r.network == "x")
    assert held.state == "queued"
    assert held.last_error == "credential PUBLISHER_SNS_SETAGAYA_X_TOKEN not set"
    assert server.posts["x"] == []
    monkeypatch.setenv("PUBLISHER_SNS_SETAGAYA_X_TOKEN", TOKEN)
    assert outbox.process_due(sns_rt, now + outbox.CREDENTIAL_RECHECK) == {"sent": 1}


def test_a_future_item_posts_when_its_window_opens(
    sns_rt: Runtime, server: StandIn, now: datetime
) -> None:
    approve(sns_rt, targets=[WARD], starts_at="2026-11-25T09:00:00+09:00")
    assert outbox.process_due(sns_rt, now) == {}
    opens = datetime.fromisoformat("2026-11-25T09:00:00+09:00")
    assert outbox.process_due(sns_rt, opens) == {"sent": 4}


def test_quiet_hours_hold_a_notice_but_not_an_emergency(
    sns_rt: Runtime, server: StandIn, tmp_path: Path
) -> None:
    toml = sns_rt.settings["CONTENT_DIR"] / "accounts.toml"
    toml.write_text('[defaults]\nquiet_hours = "22:00-07:00"\n\n' + toml.read_text())
    night = datetime.fromisoformat("2026-11-22T23:30:00+09:00")
    approve(sns_rt, targets=[WARD], starts_at="2026-11-20T00:00:00+09:00")
    approve(
        sns_rt,
        kind="alert",
        priority="emergency",
        targets=[WARD],
        title={"ja": "避難指示（警戒レベル4）"},
        body={},
    )
    counts = outbox.process_due(sns_rt, night)
    assert counts == {"held": 4, "sent": 4}
    held = [r for r in rows(sns_rt) if r.state == "queued"]
    assert {r.not_before for r in held} == {datetime.fromisoformat("2026-11-23T07:00:00+09:00")}
    assert all(p["text"].startswith("【緊急】") for p in server.posts["x"])


def test_the_demo_accounts_file_is_valid(tree) -> None:  # type: ignore[no-untyped-def]
    from publisher.config import REPO_DIR

    accounts = load_accounts(REPO_DIR / "content" / "accounts.toml", tree)
    nets = {a.network for a in accounts}
    assert nets == set(NETWORKS)
    ward = [a for a in accounts if a.area == "setagaya"]
    assert {a.network for a in ward} == set(NETWORKS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[accounts."setagaya/kitazwa".x]\nhandle="a"\ntoken_env="A"',
            "did you mean 'setagaya/kitazawa'",
        ),
        ('[accounts."setagaya".tiktok]\nhandle="a"', "unknown network"),
        (
            '[accounts."setagaya".x]\nhandle="a"\ntoken_env="sk-live-abc"',
            "must NAME an environment variable",
        ),
        ('[accounts."setagaya".mastodon]\nhandle="a"\ntoken_env="A"', "base_url is required"),
        ('[accounts."setagaya".x]\nhandle="a"\ntoken_env="A"\ntoken="x"', "token: unknown key"),
    ],
)
def test_a_wrong_accounts_file_says_where(tree, tmp_path: Path, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "accounts.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as e:
        load_accounts(path, tree)
    assert str(path) in str(e.value)


def test_an_items_picture_goes_out_with_its_posts_where_the_network_takes_media(
    sns_rt: Runtime, server: StandIn, now: datetime
) -> None:
    """Mastodon, Bluesky and X get the picture with its description; LINE gets the text."""
    from tests.image_helpers import stored_photo

    name = stored_photo(sns_rt.uploads_dir)
    approve(sns_rt, targets=[DAIZAWA], image=name, image_alt={"ja": "落ち葉の積もった公園の小道"})
    assert outbox.process_due(sns_rt, now) == {"sent": 4}
    assert {n: len(server.media[n]) for n in NETWORKS} == {
        "x": 1,
        "mastodon": 1,
        "bluesky": 1,
        "line": 0,
    }
    assert server.media["mastodon"][0]["alt"] == "落ち葉の積もった公園の小道"
    assert server.posts["bluesky"][0]["embed"]["images"][0]["alt"] == "落ち葉の積もった公園の小道"
    assert server.posts["x"][0]["media_ids"] == [server.media["x"][0]["id"]]
