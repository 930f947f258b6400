"""Hostile requests for the fuzz test and ``bench/api_fuzz.py``: every route a caller can reach
with a token or none, with bodies and parameters a careless or malicious client sends (wrong
types, huge numbers, lone surrogates, NUL, far dates, deep nesting, CRLF)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder

from tests.factories import DAIZAWA, api_item
from tests.fuzz_world import World

ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\ud800",
        "\udfff x",
        "\ufffe",
        "\x0b\x1b",
        "<script>alert(1)</script>",
        "x" * 5000,
        "代沢" * 400,
        "setagaya/../etc",
        "\r\nSet-Cookie: a=b",
        "０１２",
        "%00",
        "NaN",
    ]
)
TEXT = st.one_of(st.text(max_size=40), ODD_TEXT)
ODD_TIMES = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01",
        "9999-12-31T23:59:59-12:00",
        "9999-12-31",
        "2026-02-30T10:00",
        "2026-11-22T25:00",
        "2026-11-22T10:00+09:00",
        "2026-11-22 10:00 09:00",
        "-2026-01-01",
        "1e309",
    ]
)
HUGE_INTS = st.sampled_from([0, -1, 2**31 - 1, 2**31, 2**53, 2**63 - 1, 2**63, 2**64, 10**30])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    HUGE_INTS,
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
    ODD_TIMES,
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(TEXT, children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "kind",
    "title",
    "body",
    "targets",
    "starts_at",
    "ends_at",
    "dayparts",
    "priority",
    "category",
    "event",
    "place",
    "detail_url",
    "drill",
    "status",
    "image",
    "warning_level",
]
FIELD_VALUES: dict[str, Any] = {
    "dayparts": st.one_of(
        JSON,
        st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "start": st.one_of(TEXT, st.integers()),
                    "end": st.one_of(TEXT, st.integers()),
                    "weekdays": st.one_of(JSON, st.lists(st.one_of(st.integers(), TEXT))),
                },
            ),
            max_size=3,
        ),
    ),
    "event": st.one_of(
        JSON,
        st.fixed_dictionaries(
            {}, optional={"starts_at": st.one_of(ODD_TIMES, JSON), "ends_at": ODD_TIMES}
        ),
    ),
    "place": st.one_of(
        JSON,
        st.fixed_dictionaries(
            {"name": TEXT}, optional={"lat": SCALARS, "lon": SCALARS, "address": JSON}
        ),
    ),
    "title": st.one_of(JSON, st.dictionaries(st.sampled_from(["ja", "en", "xx"]), JSON)),
    "targets": st.one_of(JSON, st.lists(st.one_of(st.just(DAIZAWA), TEXT), max_size=3)),
    "starts_at": st.one_of(ODD_TIMES, JSON),
    "ends_at": st.one_of(ODD_TIMES, JSON),
}


@st.composite
def item_body(draw: st.DrawFn) -> Any:
    """A valid item with a few fields replaced by hostile values (or, rarely, anything)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)
    data = api_item()
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        data[name] = draw(FIELD_VALUES.get(name, JSON))
    return data


@dataclass
class Call:
    """One request; ``who``: ``""`` (a bearer token when ``token``), ``"editor"`` (the world's
    logged-in editor, with the form's CSRF token) or ``"screen"`` (the world's screen token in
    ``X-Screen-Token``). Placeholders (``<ITEM>`` …) in the path, query, body and form are the
    world's values (:mod:`tests.fuzz_world`)."""

    method: str
    path: str
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    raw: bytes | None = None
    form: dict[str, Any] | None = None
    token: bool = True
    who: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[bytes, str]] | None = None

    def send(self, client: Any, world: World) -> Any:
        """As the bytes would cross the wire: text in URLs and forms percent-encoded from
        UTF-8, lone surrogates included (as a broken client would send them); header values
        as the server reads them (UTF-8 bytes seen as Latin-1, line breaks impossible)."""
        headers = {k: _header(world.fill(v)) for k, v in self.headers.items()}
        if self.token and not self.who:
            headers["Authorization"] = f"Bearer {world.token}"
        if self.who == "screen":
            headers["X-Screen-Token"] = world.screen_token
        form = world.fill(self.form)
        if self.who == "editor":
            client = world.editor
            if self.method != "GET":
                form = {"csrf_token": world.csrf, **(form or {})}
        path = quote(_wire(world.fill(self.path)), safe="/~")
        query = world.fill(self.query)
        kwargs: dict[str, Any] = {"headers": headers, "query_string": _form(query)}
        if self.raw is not None:
            kwargs["data"] = self.raw
            kwargs["content_type"] = "application/json"
        elif self.files is not None:
            data: dict[str, Any] = {k: _text(v) for k, v in (form or {}).items()}
            data.update({k: (io.BytesIO(raw), name) for k, (raw, name) in self.files.items()})
            kwargs["data"] = data
            kwargs["content_type"] = "multipart/form-data"
        elif form is not None:
            kwargs["data"] = _form(form)
            kwargs["content_type"] = "application/x-www-form-urlencoded"
        elif self.body is not None:
            kwargs["data"] = json.dumps(world.fill(self.body))
            kwargs["content_type"] = "application/json"
        builder = EnvironBuilder(path=path, method=self.method, **kwargs)
        environ = builder.get_environ()
        try:
            return client.open(environ, buffered=True)
        finally:  # a body over 500 KB is a temporary file the test client would leave open
            builder.close()
            environ["wsgi.input"].close()


def _text(value: Any) -> Any:
    """A multipart field's value (lists stay lists: the field repeated)."""
    if isinstance(value, list):
        return [_text(v) for v in value]
    return _wire(str(value)).decode("utf-8", "replace")


def _header(text: str) -> str:
    return _wire(text).decode("latin-1").replace("\r", " ").replace("\n", " ")


def _wire(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _form(values: dict[str, Any]) -> str:
    """A query string or form: a list value is the field repeated (``targets``)."""
    pairs = [
        (_wire(str(k)), _wire(str(one)))
        for k, v in values.items()
        for one in (v if isinstance(v, list) else [v])
    ]
    return urlencode(pairs)


IDS = st.one_of(st.integers(1, 5), HUGE_INTS.map(abs), st.integers(0, 2**70))
ID_TEXT = st.one_of(IDS.map(str), TEXT.filter(lambda t: "/" not in t and "?" not in t))
AREA = st.one_of(st.sampled_from([DAIZAWA, "setagaya", "setagaya/kitazawa"]), TEXT)


def calls() -> st.SearchStrategy[Call]:
    """One request: half to the API, the first public pages or the login form
    (:func:`api_calls`), half to what :mod:`tests.residents_fuzz` covers."""
    from tests.residents_fuzz import more_calls

    return st.one_of(api_calls(), more_calls())


@st.composite
def api_calls(draw: st.DrawFn) -> Call:
    """One request to the API, the public pages or the login form."""
    token = draw(st.booleans())
    kind = draw(st.integers(0, 11))
    if kind == 0:
        query = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "area": AREA,
                    "at": st.one_of(ODD_TIMES, TEXT),
                    "status": st.one_of(st.sampled_from(["draft", "all", "approved"]), TEXT),
                },
            )
        )
        return Call("GET", "/api/items", query=query, token=token)
    if kind == 1:
        return Call("GET", f"/api/items/{draw(IDS)}", token=token)
    if kind in (2, 3):
        return Call("POST", "/api/items", body=draw(item_body()), token=token)
    if kind == 4:
        return Call("PATCH", f"/api/items/{draw(IDS)}", body=draw(item_body()), token=token)
    if kind == 5:
        action = draw(st.sampled_from(["submit", "approve", "return", "withdraw"]))
        body = draw(st.one_of(st.none(), JSON, st.fixed_dictionaries({"comment": JSON})))
        return Call("POST", f"/api/items/{draw(IDS)}/{action}", body=body, token=token)
    if kind == 6:
        depth = draw(st.sampled_from([10, 1000, 100_000]))
        raw = draw(
            st.sampled_from(
                [
                    b"[" * depth + b"]" * depth,
                    b'{"a":' * depth + b"1" + b"}" * depth,
                    b"\xff\xfe\x00",
                    b'{"title": "\\ud800"}',
                    b"NaN",
                    b'{"kind": "notice", "title": 1e999}',
                ]
            )
        )
        return Call(draw(st.sampled_from(["POST", "PATCH"])), "/api/items", raw=raw, token=token)
    if kind == 7:
        query = draw(
            st.fixed_dictionaries(
                {}, optional={"source": TEXT, "limit": st.one_of(TEXT, IDS.map(str))}
            )
        )
        return Call("GET", "/api/collect/runs", query=query, token=token)
    if kind == 8:
        return Call(
            "GET", draw(st.sampled_from(["/api/screens", "/api/areas", "/healthz"])), token=token
        )
    if kind == 9:
        raw = draw(st.one_of(st.binary(max_size=200), st.just(b"<alert/>")))
        return Call("POST", "/api/alerts", raw=raw, token=token)
    if kind == 10:
        nxt = draw(
            st.one_of(TEXT, st.sampled_from(["/admin/items\r\nX: y", "//evil", "/admin/\x00"]))
        )
        form = {"name": draw(TEXT), "password": draw(TEXT), "next": nxt}
        if draw(st.booleans()):
            return Call("GET", "/admin/login", query={"next": nxt}, token=False)
        return Call("POST", "/admin/login", form=form, token=False)
    path = draw(
        st.sampled_from(["/items/{}", "/areas/{}", "/feeds/{}.rss", "/q/{}", "/qr/items/{}.png"])
    )
    return Call("GET", path.format(draw(ID_TEXT)), token=False)
