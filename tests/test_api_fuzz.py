"""No request, however hostile, gets a 5xx from the API, the public pages or the login form:
a short run against the real app on each database (``bench/api_fuzz.py`` runs 10,000)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings

from tests.api_fuzz import Call, calls
from tests.residents_helpers import frozen

FUZZ = settings(
    # a short run in `make test`; PUBLISHER_FUZZ_EXAMPLES=10000 for the long one
    max_examples=int(os.environ.get("PUBLISHER_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(call=calls())
def test_no_request_gets_a_server_error(app, now, token_for, call: Call):
    if "token" not in app.config:  # one admin token per test, not per example
        app.config["token"] = token_for("admin", "setagaya")
    client = frozen(app, now).test_client()
    r = call.send(client, app.config["token"])
    assert r.status_code < 500, (call, r.get_data(as_text=True)[:300])
