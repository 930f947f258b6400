"""No request, however hostile, gets a 5xx or leaves a traceback: the API, the public pages and
short links in six languages, residents' Web Push, posters and bulletins, screens' proof of play,
the login form and the admin as an editor — a short run per family of requests against the real
app on each database (``bench/api_fuzz.py`` runs 10,000)."""

from __future__ import annotations

import logging
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.web.reach import counters
from tests.admin_helpers import cheap_hashes
from tests.api_fuzz import Call, api_calls
from tests.fuzz_world import make_world
from tests.residents_fuzz import FAMILIES

EXAMPLES = os.environ.get("PUBLISHER_FUZZ_EXAMPLES")  # 10000 for a long run; unset: short
SHORT_RUN = {"api": 150, "paper": 20}  # a PDF takes a fraction of a second; the rest: 100

STRATEGIES: dict[str, st.SearchStrategy[Call]] = {
    "api": api_calls(),
    **{name: family() for name, family in FAMILIES.items()},
}


@pytest.mark.parametrize("family", list(STRATEGIES))
def test_no_request_gets_a_server_error(
    rt, app, now, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, family: str
) -> None:
    cheap_hashes(monkeypatch)
    world = make_world(rt, app, now)

    @settings(
        max_examples=int(EXAMPLES or SHORT_RUN.get(family, 100)),
        deadline=None,
        derandomize=True,  # the same requests every run: a failure here fails everywhere
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(call=STRATEGIES[family])
    def send(call: Call) -> None:
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            r = call.send(app.test_client(), world)
            counters(rt).flush(rt.session)  # what the page counted, written as each minute
        assert r.status_code < 500, (call, r.get_data(as_text=True)[:300])
        tracebacks = [x for x in caplog.records if x.exc_info]
        assert not tracebacks, (call, caplog.text[-2000:])

    send()
