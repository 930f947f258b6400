"""What the fuzz (``tests/test_api_fuzz.py``, ``bench/api_fuzz.py``) found, each answered now
with a message saying where and why — never a 5xx, a traceback or a lost row: residents' Web
Push requests no browser makes, a player's batch with a language that is not text, staff
filters at the first and last days a calendar has, and posters and bulletins asked for in a
form they do not come in."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from publisher.runtime import Runtime
from publisher.store.models import PushSubscriptionRow
from tests.admin_helpers import cheap_hashes, staff_accounts
from tests.factories import DAIZAWA, make_item, player_token
from tests.residents_helpers import frozen, store

ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc123"
SUB = {"endpoint": ENDPOINT, "keys": {"p256dh": "BPubKey_-", "auth": "AuthKey"}}


@pytest.mark.parametrize("lang", [["en"], {"en": "ja"}])
def test_a_play_whose_language_is_not_text_is_refused_naming_its_place(
    rt: Runtime, app: Any, now: Any, lang: Any
) -> None:
    (item,) = store(rt, make_item())
    play = {"seq": 1, "item_id": item.id, "lang": lang, "start": now.isoformat(), "seconds": 5}
    r = (
        frozen(app, now)
        .test_client()
        .post(
            "/api/screens/daizawa-1/plays",
            json={"plays": [play]},
            headers={"X-Screen-Token": player_token(rt)},
        )
    )
    assert r.status_code == 400
    assert r.get_json()["field"] == "plays[0].lang" and "unknown language" in r.get_json()["error"]