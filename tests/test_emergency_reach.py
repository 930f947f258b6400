"""Done when: a ward-wide emergency with six translations, posted through the API, reaches
daizawa-1 (configured for ja, やさしい日本語, en) in all six languages within one 60-s cycle,
with a chime and a spoken announcement (Japanese first) the screen can fetch and play; when it
is withdrawn the screens say 解除されました, then normal content returns."""

from __future__ import annotations

import io
import wave
from datetime import datetime, timedelta
from typing import Any

import pytest

from publisher.areas import LANGUAGES
from publisher.deliver import playlists, push
from publisher.deliver.export import export_screen
from publisher.items import utcnow
from publisher.render import speech
from tests.factories import api_item, player_token

SIX = {
    "title": {
        "ja": "【警戒レベル4】世田谷区全域に避難指示",
        "ja-x-easy": "【レベル4】せたがやく ぜんぶ：にげて ください",
        "en": "[Alert Level 4] Evacuation order: all of Setagaya City",
        "zh-Hans": "【警戒级别4】世田谷区全境：避难指示",
        "zh-Hant": "【警戒級別4】世田谷區全境：避難指示",
        "ko": "[경계 레벨 4] 세타가야구 전역: 피난 지시",
    },
    "body": {
        "ja": "世田谷区全域に避難指示を発令しました。直ちに避難してください。",
        "ja-x-easy": "せたがやくの ぜんぶに ひなんしじが でました。すぐに にげて ください。",
        "en": "An evacuation order was issued for all of Setagaya City. Evacuate now.",
        "zh-Hans": "世田谷区全境发布了避难指示。请立即避难。",
        "zh-Hant": "世田谷區全境發布了避難指示。請立即避難。",
        "ko": "세타가야구 전역에 피난 지시가 발령되었습니다. 즉시 피난하십시오.",
    },
}
NEEDS_VOICES = pytest.mark.skipif(
    bool(speech.find_voices().missing),
    reason=f"speech packages missing: {'; '.join(speech.find_voices().missing)}",
)


@pytest.fixture(autouse=True)
def _stop_push(rt):  # type: ignore[no-untyped-def]
    yield
    push.stop(rt)


def _screen_token(rt: Any, screen_id: str = "daizawa-1") -> str:
    return player_token(rt, screen_id)


def _post_emergency(client: Any, token: str, **overrides: Any) -> dict:
    data = api_item(
        kind="alert",
        priority="emergency",
        category="disaster",
        targets=["setagaya"],
        warning_level=4,
        starts_at=None,
        ends_at=None,
        **SIX,
    )
    data.update(overrides)
    resp = client.post("/api/items", json=data, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as w:
        return w.getnframes() / w.getframerate()


@NEEDS_VOICES
def test_a_ward_emergency_reaches_daizawa_1_in_six_languages_with_chime_and_voice(
    rt, client, token_for
):
    alert = _post_emergency(client, token_for("admin", "setagaya"))
    token = _screen_token(rt)
    data = client.get(f"/api/screens/daizawa-1/playlist?token={token}").get_json()
    assert data["override"] is True
    assert [e["lang"] for e in data["entries"]] == list(LANGUAGES)
    assert {e["item_id"] for e in data["entries"]} == {alert["id"]}
    assert sum(e["duration_s"] for e in data["entries"]) <= 60

    audio = data["audio"]
    assert audio["volume"] == 0.8 and audio["every_s"] == 300
    langs = [c["lang"] for c in audio["clips"]]
    assert langs == ["chime", *LANGUAGES]  # the chime, then Japanese first
    for clip in audio["clips"]:
        resp = client.get(clip["src"] + f"&token={token}")
        body = resp.data
        resp.close()
        assert resp.status_code == 200 and resp.mimetype in ("audio/wav", "audio/x-wav")
        seconds = _wav_seconds(body)
        assert 1.0 < seconds < 30.0, (clip["lang"], seconds)
    assert "避難指示" in audio["clips"][1]["text"]


@NEEDS_VOICES
def test_a_drill_announcement_begins_with_this_is_a_drill(rt, client, token_for):
    _post_emergency(client, token_for("admin", "setagaya"), drill=True)
    data = client.get(f"/api/screens/daizawa-1/playlist?token={_screen_token(rt)}").get_json()
    texts = {c["lang"]: c["text"] for c in data["audio"]["clips"]}
    assert texts["ja"].startswith("これは訓練です")
    assert texts["en"].startswith("This is a drill")
    assert data["audio"]["drill"] is True


def test_a_screen_without_a_speaker_gets_the_slides_but_no_audio(rt, client, token_for):
    _post_emergency(client, token_for("admin", "setagaya"))
    quiet = rt.tree.screens["daizawa-1"].__class__(
        **{**rt.tree.screens["daizawa-1"].__dict__, "audio": False}
    )
    with rt.session() as session:
        items = playlists.load_items(session, utcnow())
    sp = playlists.build(rt, quiet, items, utcnow())
    assert sp.plan.override and sp.audio == () and sp.as_json()["audio"] is None


def test_withdrawn_emergency_shows_lifted_in_every_language_then_normal_content(
    rt, client, token_for
):
    admin = token_for("admin", "setagaya")
    notice = client.post(
        "/api/items",
        json=api_item(starts_at=None, ends_at=None),
        headers={"Authorization": f"Bearer {admin}"},
    ).get_json()
    alert = _post_emergency(client, admin)
    r = client.post(
        f"/api/items/{alert['id']}/withdraw", headers={"Authorization": f"Bearer {admin}"}
    )
    assert r.status_code == 200
    token = _screen_token(rt)
    data = client.get(f"/api/screens/daizawa-1/playlist?token={token}").get_json()
    assert data["override"] is False and data["audio"] is None
    assert [(e["role"], e["lang"]) for e in data["entries"]] == [
        ("cleared", lang) for lang in LANGUAGES
    ]

    withdrawn = client.get(
        f"/api/items/{alert['id']}", headers={"Authorization": f"Bearer {admin}"}
    ).get_json()
    ended = datetime.fromisoformat(withdrawn["updated_at"])
    screen = rt.tree.screen("daizawa-1")
    shown = playlists.cleared_seconds(rt)
    with rt.session() as session:
        items = playlists.load_items(session, ended + timedelta(seconds=shown - 1), shown)
    during = playlists.build(rt, screen, items, ended + timedelta(seconds=shown - 1))
    assert {s.entry.role for s in during.slides} == {"cleared"}
    assert during.next_change_at == ended + timedelta(seconds=shown)
    after_at = ended + timedelta(seconds=shown)
    with rt.session() as session:
        items = playlists.load_items(session, after_at, shown)
    after = playlists.build(rt, screen, items, after_at)
    assert [s.entry.item_id for s in after.slides] == [notice["id"], notice["id"]]


def test_the_lifted_slide_says_so_and_names_what_ended(rt, client, token_for):
    from publisher.render.slides import compose_slide

    admin = token_for("admin", "setagaya")
    alert = _post_emergency(client, admin)
    client.post(f"/api/items/{alert['id']}/withdraw", headers={"Authorization": f"Bearer {admin}"})
    at = utcnow()
    with rt.session() as session:
        items = playlists.load_items(session, at, 120)
    sp = playlists.build(rt, rt.tree.screen("daizawa-1"), items, at)
    ja = compose_slide(sp.slides[0].spec)
    assert ja.role("label")[0].block.texts == ["解除"]
    assert "".join(ja.role("title")[0].block.texts) == "解除されました"
    en = compose_slide(sp.slides[2].spec)
    assert " ".join(en.role("title")[0].block.texts).startswith("Lifted")


@NEEDS_VOICES
def test_an_export_lists_the_announcement_and_its_smil_plays_it(rt, client, token_for, tmp_path):
    _post_emergency(client, token_for("admin", "setagaya"))
    folder = export_screen(rt, "daizawa-1", utcnow(), tmp_path / "export")
    import json

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    files = [f["file"] for f in manifest["audio"]["files"]]
    assert files[:2] == ["audio-01-chime.wav", "audio-02-ja.wav"] and len(files) == 7
    for name in files:
        assert _wav_seconds((folder / name).read_bytes()) > 1.0
    smil = (folder / "playlist.smil").read_text(encoding="utf-8")
    assert smil.index('<audio src="audio-01-chime.wav"/>') < smil.index("audio-02-ja.wav")
    assert '<par dur="300s" repeatCount="indefinite">' in smil
