"""The demo works with no network: sources are files, http screens' player is inside the app."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from publisher.cli.demo_sources import DEMO_SOURCES_DIR, fill_dates, write_demo_sources
from publisher.config import REPO_DIR
from publisher.errors import ConfigError
from publisher.items import JST
from publisher.pipeline import publish
from tests.test_player_browser import Server

TEMPLATES = REPO_DIR / "content" / "demo" / "sources"
HTTP_SCREENS = ("kyodo-1", "yoga-1", "seijo-1")
FOLDER_SCREENS = ("matsuzawa-1", "kitami-1")
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Any connection or name lookup beyond loopback fails, and is recorded."""
    attempts: list[str] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOOPBACK and host is not None:
            attempts.append(f"lookup {host}")
            raise socket.gaierror(socket.EAI_NONAME, "no network in this test")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            attempts.append(f"connect {address[0]}")
            raise OSError("no network in this test")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    yield attempts


def test_the_demo_collects_every_source_and_delivers_every_screen_with_no_network(
    rt, now, no_network
):
    """One pass of the whole pipeline on the demo's sources: every source read from disk, the
    http screens' bundles taken by the demo player inside the app, nothing beyond loopback."""
    sources = write_demo_sources(
        TEMPLATES, rt.settings.data_dir / DEMO_SOURCES_DIR, now.date(), JST
    )
    rt.settings["SOURCES_FILE"] = sources
    server = Server(rt)
    try:
        rt.settings["BASE_URL"] = server.url
        report = publish(rt, now)
    finally:
        server.stop()

    assert no_network == []
    assert set(report.collected) == {
        "demo-ward-news",
        "demo-ward-events",
        "demo-daizawa-association",
        "demo-disaster-cap",
        "demo-jma-extra",
    }
    for name, summary in report.collected.items():
        assert "created" in summary and "failed" not in summary, (name, summary)
    for screen in HTTP_SCREENS + FOLDER_SCREENS:
        assert report.deliveries[screen] == "delivered", (screen, report.deliveries[screen])
    played = rt.settings.data_dir / "demo-players" / "kyodo-1"
    manifest = json.loads((played / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["entries"] and (played / manifest["entries"][0]["file"]).is_file()


def test_demo_dates_follow_the_day_they_are_written(now):
    text = "{{day:6}} {{compact:-1}} {{md:5}} {{rfc822:-1 09:00}} {{iso:7 09:30}}"
    assert fill_dates(text, now.date(), JST) == (
        "2026-11-28 20261121 11月27日 Sat, 21 Nov 2026 09:00:00 +0900 2026-11-29T09:30:00+09:00"
    )
    with pytest.raises(ConfigError, match=r"x\.rss: unknown date placeholder '\{\{day:x\}\}'"):
        fill_dates("{{day:x}}", now.date(), JST, "x.rss")


def test_the_demo_agency_messages_are_moved_to_yesterday(rt, now):
    out = rt.settings.data_dir / "demo"
    write_demo_sources(TEMPLATES, out, now.date(), JST)
    lifted = (out / "jma" / "15_14_01_170216_VPWW54.xml").read_text(encoding="utf-8")
    assert "<ReportDateTime>2026-11-21T15:00:00+09:00</ReportDateTime>" in lifted
    assert not (out / "jma" / "moves.toml").exists()


def _offer(files: dict[str, bytes], version: str = "v1") -> dict[str, Any]:
    return {
        "version": version,
        "manifest": {"version": version, "entries": []},
        "files": [
            {"name": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
            for n, b in files.items()
        ],
    }


def test_the_demo_player_takes_only_checked_files_and_applies_a_version_once(client, rt):
    url = "/demo/players/kyodo-1"
    files = {"001.png": b"png bytes", "playlist.smil": b"<smil/>"}
    answer = client.post(url, json=_offer(files)).get_json()
    assert sorted(answer["missing"]) == ["001.png", "playlist.smil"]

    bad = client.put(f"{url}/files/001.png", data=b"other", headers={"X-Bundle-Version": "v1"})
    assert bad.status_code == 400 and "SHA-256" in bad.get_json()["error"]
    early = client.post(f"{url}/commit", json={"version": "v1"})
    assert early.status_code == 409 and "001.png" in early.get_json()["error"]

    for name, data in files.items():
        put = client.put(f"{url}/files/{name}", data=data, headers={"X-Bundle-Version": "v1"})
        assert put.status_code == 200
    assert client.post(f"{url}/commit", json={"version": "v1"}).get_json() == {"applied": True}
    played = rt.settings.data_dir / "demo-players" / "kyodo-1"
    assert (played / "001.png").read_bytes() == b"png bytes"
    assert client.post(url, json=_offer(files)).get_json() == {"applied": True}


def test_the_demo_player_answers_only_for_screens_that_name_it(client):
    """A screen with a real player (or none) gets nothing here: a deployment accepts no files."""
    offer = _offer({"001.png": b"x"})
    assert client.post("/demo/players/daizawa-1", json=offer).status_code == 404  # pull
    assert client.post("/demo/players/nowhere-9", json=offer).status_code == 404
    bad = client.post("/demo/players/kyodo-1", json={"version": "v1"})
    assert bad.status_code == 400 and "files" in bad.get_json()["error"]
    huge = _offer({"001.png": b"x"})
    huge["files"][0]["size"] = 10**12
    assert client.post("/demo/players/kyodo-1", json=huge).status_code == 413
