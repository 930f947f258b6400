"""Each network's adapter against a local stand-in: post, delete, rate limits, server errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from publisher.deliver.sns import CannotDelete, Media, SendError
from publisher.deliver.sns.bluesky import BLOB_MAX_BYTES, BlueskyAdapter, fit_blob, record_key
from publisher.deliver.sns.line import LineAdapter
from publisher.deliver.sns.mastodon import MastodonAdapter
from publisher.deliver.sns.x import XAdapter
from publisher.render.sns import bluesky_facets
from tests.image_helpers import noisy_jpeg, photo
from tests.sns_helpers import TOKEN, StandIn, stand_in

LINK = "https://signage.example.jp/items/7"
TEXT = f"代沢地区 落ち葉清掃\n{LINK}\n#世田谷区 #代沢地区"
NETWORKS = ["x", "mastodon", "bluesky", "line"]


@pytest.fixture
def server() -> Iterator[StandIn]:
    with stand_in() as s:
        yield s


def adapter(network: str, url: str, token: str = TOKEN):  # type: ignore[no-untyped-def]
    if network == "x":
        return XAdapter(url, token)
    if network == "mastodon":
        return MastodonAdapter(url, token)
    if network == "bluesky":
        return BlueskyAdapter(url, "daizawa-machi.bsky.social", token)
    return LineAdapter(url, token)


@pytest.mark.parametrize("network", NETWORKS)
def test_a_post_arrives_once_with_its_text(server: StandIn, network: str) -> None:
    """Does each network receive the post exactly as composed?"""
    remote_id = adapter(network, server.url).post(TEXT, bluesky_facets(TEXT, LINK), "7:1:a:n")
    assert [p["text"] for p in server.posts[network]] == [TEXT]
    assert remote_id == server.posts[network][0]["id"]


def test_bluesky_receives_the_link_and_hashtags_as_facets(server: StandIn) -> None:
    adapter("bluesky", server.url).post(TEXT, bluesky_facets(TEXT, LINK), "7:1:a:bluesky")
    record = server.posts["bluesky"][0]
    raw = record["text"].encode()
    spans = {
        raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(): f["features"][0]["$type"]
        for f in record["facets"]
    }
    assert spans == {
        LINK: "app.bsky.richtext.facet#link",
        "#世田谷区": "app.bsky.richtext.facet#tag",
        "#代沢地区": "app.bsky.richtext.facet#tag",
    }
    assert record["rkey"] == record_key("7:1:a:bluesky") and len(record["rkey"]) == 13


@pytest.mark.parametrize("network", ["x", "mastodon", "bluesky"])
def test_a_deleted_post_is_gone_from_the_network(server: StandIn, network: str) -> None:
    a = adapter(network, server.url)
    remote_id = a.post(TEXT, [], "7:1:a:n")
    a.delete(remote_id)
    assert server.live(network) == []


def test_line_says_it_cannot_delete(server: StandIn) -> None:
    a = adapter("line", server.url)
    with pytest.raises(CannotDelete, match="cannot delete on LINE"):
        a.delete(a.post(TEXT, [], "7:1:a:line"))


@pytest.mark.parametrize("network", NETWORKS)
def test_a_rate_limit_says_how_long_to_wait(server: StandIn, network: str) -> None:
    a = adapter(network, server.url)
    if network == "bluesky":
        a._login()
    server.fail_next.append((429, {"Retry-After": "120"}, '{"error": "Too Many Requests"}'))
    with pytest.raises(SendError) as e:
        a.post(TEXT, [], "7:1:a:n")
    assert e.value.status == 429
    assert e.value.retry_after_s == 120
    assert not e.value.permanent
    assert server.posts[network] == []


@pytest.mark.parametrize("network", NETWORKS)
def test_a_server_error_is_retried_later_not_given_up(server: StandIn, network: str) -> None:
    a = adapter(network, server.url)
    if network == "bluesky":
        a._login()
    server.fail_next.append((503, {}, '{"error": "Service Unavailable"}'))
    with pytest.raises(SendError) as e:
        a.post(TEXT, [], "7:1:a:n")
    assert e.value.status == 503 and not e.value.permanent


@pytest.mark.parametrize("network", NETWORKS)
def test_a_refusal_is_permanent_and_never_shows_the_token(server: StandIn, network: str) -> None:
    """A wrong token is a 401: retrying will not help, and the message must not leak it."""
    wrong = "wrong-token-do-not-print"
    with pytest.raises(SendError) as e:
        adapter(network, server.url, wrong).post(TEXT, [], "7:1:a:n")
    assert e.value.permanent and e.value.status == 401
    assert wrong not in str(e.value)


def test_x_finds_its_post_behind_tco_links(server: StandIn) -> None:
    """After a crash, X's own timeline (with t.co links) tells us the post went out."""
    a = adapter("x", server.url)
    assert a.find_recent(TEXT, "k") is None
    remote_id = a.post(TEXT, [], "k")
    assert a.find_recent(TEXT, "k") == remote_id


def test_mastodon_and_line_deduplicate_a_repeated_key(server: StandIn) -> None:
    for network in ("mastodon", "line"):
        a = adapter(network, server.url)
        first = a.post(TEXT, [], "7:1:setagaya:" + network)
        again = a.post(TEXT, [], "7:1:setagaya:" + network)
        assert first == again
        assert len(server.posts[network]) == 1


def test_bluesky_finds_the_record_its_key_names(server: StandIn) -> None:
    a = adapter("bluesky", server.url)
    assert a.find_recent(TEXT, "7:1:daizawa:bluesky") is None
    uri = a.post(TEXT, [], "7:1:daizawa:bluesky")
    assert a.find_recent(TEXT, "7:1:daizawa:bluesky") == uri
    with pytest.raises(SendError):  # the same row can never make a second record
        a.post(TEXT, [], "7:1:daizawa:bluesky")
    assert len(server.posts["bluesky"]) == 1


# -- pictures -----------------------------------------------------------------------------------


def _media(width: int = 800, height: int = 600) -> Media:
    return Media(photo(width, height), "image/jpeg", "落ち葉の積もった公園の小道", width, height)


@pytest.mark.parametrize("network", ["x", "mastodon", "bluesky"])
def test_a_picture_goes_with_the_post_where_the_network_takes_media(
    server: StandIn, network: str
) -> None:
    """Is the item's picture uploaded, described and attached to the one post?"""
    adapter(network, server.url).post(TEXT, [], "7:1:a:" + network, _media())
    (uploaded,) = server.media[network]
    assert uploaded["image"] and uploaded["bytes"] > 1000
    (post,) = server.posts[network]
    if network == "bluesky":
        (image,) = post["embed"]["images"]
        assert post["embed"]["$type"] == "app.bsky.embed.images"
        assert image["alt"] == "落ち葉の積もった公園の小道"
        assert image["image"]["ref"]["$link"] == uploaded["id"]
        assert image["aspectRatio"] == {"width": 800, "height": 600}
    else:
        assert uploaded["alt"] == "落ち葉の積もった公園の小道"
        assert [str(m) for m in post["media_ids"]] == [uploaded["id"]]


def test_line_posts_text_only_even_with_a_picture(server: StandIn) -> None:
    """LINE image messages need public HTTPS URLs: the post stays text, nothing is uploaded."""
    adapter("line", server.url).post(TEXT, [], "7:1:a:line", _media())
    assert [p["text"] for p in server.posts["line"]] == [TEXT]
    assert not server.media["line"]


def test_a_picture_too_big_for_bluesky_is_made_smaller_not_refused(server: StandIn) -> None:
    big = Media(noisy_jpeg(3000, 2000), "image/jpeg", "大きな写真", 3000, 2000)
    assert len(big.data) > BLOB_MAX_BYTES
    data, mimetype, width, height = fit_blob(big)
    assert len(data) <= BLOB_MAX_BYTES and mimetype == "image/jpeg"
    assert abs(width / height - 1.5) < 0.01
    adapter("bluesky", server.url).post(TEXT, [], "7:1:a:bluesky", big)
    assert server.media["bluesky"][0]["bytes"] <= BLOB_MAX_BYTES
