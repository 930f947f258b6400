"""Staff see how every screen is doing: heartbeat, version on screen vs latest, deliveries."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from publisher.cli.main import cli
from publisher.items import utcnow
from publisher.store.models import DeliveryRow, ScreenRow


@pytest.fixture
def run(rt, monkeypatch):
    monkeypatch.setattr("publisher.cli.main.Runtime", lambda: rt)
    monkeypatch.setattr(rt, "close", lambda: None)  # the rt fixture closes it

    def invoke(*args):
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        return result.exit_code, result.output

    return invoke


@pytest.fixture
def history(rt):
    """Kyodo's http player is one version behind after two failed pushes; Daizawa is silent."""
    now = utcnow()
    with rt.session() as session:
        kyodo = session.get(ScreenRow, "kyodo-1")
        kyodo.version_on_screen, kyodo.latest_version = "v1", "v2"
        kyodo.last_heartbeat_at = now - timedelta(seconds=20)
        session.add(
            DeliveryRow(
                screen_id="kyodo-1",
                version="v1",
                method="http",
                state="delivered",
                attempts=1,
                delivered_at=now - timedelta(hours=1),
                created_at=now - timedelta(hours=1),
            )
        )
        session.add(
            DeliveryRow(
                screen_id="kyodo-1",
                version="v2",
                method="http",
                state="failed",
                attempts=2,
                last_error="POST http://signage-kyodo.local:8080/bundle: 503 Service Unavailable",
                next_attempt_at=now + timedelta(seconds=3),
                created_at=now,
            )
        )
        daizawa = session.get(ScreenRow, "daizawa-1")
        daizawa.last_heartbeat_at = now - timedelta(minutes=10)
        daizawa.flagged_offline_at = now - timedelta(minutes=7)


def test_publisher_screens_shows_versions_and_the_last_delivery(run, history):
    code, out = run("screens", "--json")
    assert code == 0
    screens = {s["id"]: s for s in json.loads(out)}
    kyodo = screens["kyodo-1"]
    assert (kyodo["status"], kyodo["version_on_screen"], kyodo["latest_version"]) == (
        "online",
        "v1",
        "v2",
    )
    assert kyodo["up_to_date"] is False
    assert kyodo["last_delivery"]["state"] == "failed"
    assert kyodo["last_delivery"]["failures"] == 2 and "503" in kyodo["last_delivery"]["last_error"]
    assert screens["daizawa-1"]["status"] == "offline"
    code, out = run("screens")
    line = next(x for x in out.splitlines() if x.startswith("kyodo-1"))
    assert "v1 → v2" in line and "failed ×2" in line and "503" in line


def test_api_screens_lists_the_screens_in_the_tokens_scope(client, token_for, history):
    token = token_for("editor", "setagaya/setagaya")
    answer = client.get("/api/screens", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    screens = {s["id"]: s for s in answer.get_json()["screens"]}
    assert "kyodo-1" in screens and "daizawa-1" not in screens  # Daizawa is in Kitazawa
    assert screens["kyodo-1"]["last_delivery"]["attempts"] == 2
    assert "player_url" not in screens["kyodo-1"]  # the player's token stays out of the API


def test_api_screens_needs_a_token(client):
    assert client.get("/api/screens").status_code == 401
