"""The ways in: POST /api/alerts, GET /api/collect/runs, and the import/collect/alert commands."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from publisher.cli.main import cli
from publisher.collect.oneoff import import_document
from tests.collect_helpers import (  # noqa: F401  (the upstream fixture)
    SAMPLES,
    sample,
    upstream_server,
)
from tests.factories import DAIZAWA, KITAZAWA, SEIJO

CAP = {"Content-Type": "application/xml"}


def auth(token):
    return {"Authorization": f"Bearer {token}", **CAP}


def test_an_approver_for_daizawa_posts_the_drill(app, client, token_for, now):
    app.config["PUBLISHER_CLOCK"] = lambda: now
    token = token_for("approver", DAIZAWA)
    resp = client.post(
        "/api/alerts", data=sample("cap_drill_daizawa_alert.xml"), headers=auth(token)
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["url"].endswith(f"/items/{resp.json['item_id']}")
    again = client.post(
        "/api/alerts", data=sample("cap_drill_daizawa_alert.xml"), headers=auth(token)
    )
    assert again.status_code == 200 and again.json["run"]["unchanged"] == 1
    during_the_drill = "2026-11-22T10:00:00%2B09:00"  # the sample's window: 09:30–15:00 JST
    shown = client.get(
        f"/api/items?area={DAIZAWA}&at={during_the_drill}", headers=auth(token)
    ).json["items"]
    assert [i["drill"] for i in shown if i["kind"] == "alert"] == [True]


def test_an_editor_cannot_post_alerts(client, token_for):
    resp = client.post(
        "/api/alerts",
        data=sample("cap_drill_daizawa_alert.xml"),
        headers=auth(token_for("editor", DAIZAWA)),
    )
    assert resp.status_code == 403 and "approver" in resp.json["error"]


def test_an_approver_outside_the_alerts_area_is_refused(client, token_for):
    resp = client.post(
        "/api/alerts",
        data=sample("cap_drill_daizawa_alert.xml"),
        headers=auth(token_for("approver", SEIJO)),
    )
    assert resp.status_code == 403 and DAIZAWA in resp.json["error"]
    ward = client.post(
        "/api/alerts",
        data=sample("cap_ward_emergency.xml"),
        headers=auth(token_for("approver", KITAZAWA)),
    )
    assert ward.status_code == 403


def test_a_cancel_needs_scope_over_what_it_cancels(client, token_for):
    client.post(
        "/api/alerts",
        data=sample("cap_drill_daizawa_alert.xml"),
        headers=auth(token_for("approver", DAIZAWA)),
    )
    resp = client.post(
        "/api/alerts",
        data=sample("cap_drill_daizawa_cancel.xml"),
        headers=auth(token_for("approver", SEIJO)),
    )
    assert resp.status_code == 403
    ok = client.post(
        "/api/alerts",
        data=sample("cap_drill_daizawa_cancel.xml"),
        headers=auth(token_for("admin", "setagaya")),
    )
    assert ok.status_code == 200 and ok.json["run"]["updated"] == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<alert><unclosed>", "not well-formed XML"),
        (b"", "must be a CAP 1.2 XML message"),
        (sample("cap_xxe.xml"), "refused: the message declares a DTD"),
        (sample("cap_billion_laughs.xml"), "refused: the message declares a DTD"),
    ],
)
def test_bad_xml_is_a_400_with_a_clear_message(client, token_for, body, message):
    resp = client.post("/api/alerts", data=body, headers=auth(token_for("admin", "setagaya")))
    assert resp.status_code == 400 and message in resp.json["error"]


def test_posting_alerts_needs_a_token(client):
    resp = client.post("/api/alerts", data=sample("cap_ward_emergency.xml"), headers=CAP)
    assert resp.status_code == 401


def test_recent_runs_are_listed_newest_first(rt, client, token_for, now):
    import_document(rt, "events-csv", str(SAMPLES / "events_cp932.csv"), now=now)
    import_document(rt, "rss", str(SAMPLES / "ward_news.rss"), now=now)
    token = token_for("editor", DAIZAWA)
    runs = client.get("/api/collect/runs", headers=auth(token)).json["runs"]
    assert [r["kind"] for r in runs] == ["rss", "events-csv"]
    assert runs[1]["skipped_entries"][0]["entry"] == "row 4"
    only = client.get(
        "/api/collect/runs?source=import:rss:ward_news.rss&limit=5", headers=auth(token)
    ).json["runs"]
    assert len(only) == 1 and only[0]["created"] == 2
    assert client.get("/api/collect/runs").status_code == 401


# -- commands -------------------------------------------------------------------------------------


@pytest.fixture
def run(rt, monkeypatch, now):
    monkeypatch.setattr("publisher.cli.main.Runtime", lambda: rt)
    monkeypatch.setattr("publisher.collect.run.utcnow", lambda: now)  # the commands' clock
    monkeypatch.setattr(rt, "close", lambda: None)  # undone before rt's own teardown closes it

    def invoke(*args):
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        return result.exit_code, result.output

    return invoke


def test_import_events_csv_names_the_bad_rows_and_twice_changes_nothing(run):
    path = str(SAMPLES / "events_cp932.csv")
    code, out = run("import", "events-csv", path, "--target", DAIZAWA)
    assert code == 0, out
    assert out.splitlines() == [
        "import:events-csv:events_cp932.csv: created 3, updated 0, unchanged 0, skipped 2",
        "  skipped row 4: 開始日: '2026-02-30' is not a date that exists",
        "  skipped row 5: イベント名: is empty (a required column)",
    ]
    code, out = run("import", "events-csv", path, "--target", DAIZAWA)
    assert "created 0, updated 0, unchanged 3, skipped 2" in out


def test_import_exits_non_zero_only_when_nothing_could_be_read(run, tmp_path):
    bad = tmp_path / "broken.ics"
    bad.write_bytes(b"not a calendar")
    code, out = run("import", "ical", str(bad))
    assert code == 1 and "FAILED" in out and "not an iCalendar file" in out
    code, out = run("import", "icall", str(bad))
    assert code == 1 and "did you mean 'ical'" in out
    code, out = run("import", "rss", str(SAMPLES / "ward_news.rss"), "--target", "setagaya/x")
    assert code == 1 and "unknown area 'setagaya/x'" in out


def test_alert_prints_the_item_id_and_cancel_takes_it_off(run, rt, now):
    at = ("--at", now.isoformat())
    code, out = run("alert", str(SAMPLES / "cap_drill_daizawa_alert.xml"), *at)
    assert code == 0 and out.strip().isdigit()
    item_id = int(out)
    code, out = run("alert", str(SAMPLES / "cap_drill_daizawa_cancel.xml"), *at)
    assert code == 0 and int(out) == item_id
    code, out = run("alert", str(SAMPLES / "cap_drill_daizawa_cancel.xml"), *at)
    assert code == 0  # cancelling again is a no-op
    code, out = run("alert", str(SAMPLES / "cap_xxe.xml"))
    assert code == 1 and "refused" in out


def test_collect_runs_the_configured_sources_and_shows_their_status(run, rt, tmp_path, upstream):
    content = tmp_path / "content"
    content.mkdir()
    (content / "sources.toml").write_text(
        f'[sources.news]\nkind = "rss"\nurl = "{upstream.serve_sample("ward_news.rss")}"\n'
        'interval = "1h"\noptions = { allow_private_addresses = true }\n'
        f'[sources.down]\nkind = "cap"\nurl = "{upstream.url("/error")}"\n'
        'interval = "1m"\noptions = { allow_private_addresses = true }\n[sources.later]\nkind = "ical"\npath = "none.ics"\n',
        encoding="utf-8",
    )
    rt.settings["CONTENT_DIR"] = content
    code, out = run("collect", "news")
    assert code == 0 and "news: created 2" in out
    code, out = run("collect")
    assert code == 1 and "down: FAILED" in out and "the server answered 500" in out
    code, out = run("collect", "--status", "--json")
    status = {r["source"]: r for r in json.loads(out)}
    assert status["news"]["last_run"]["unchanged"] == 2
    assert status["down"]["last_run"]["ok"] is False
    code, out = run("collect", "--status")
    assert "news" in out and "FAILED" in out
    code, out = run("collect", "nwes")
    assert code == 1 and "did you mean 'news'" in out
