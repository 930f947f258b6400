"""Hostile requests to what residents, screens and editors reach beyond the API: Web Push
sign-ups (endpoints that are not URLs or point at private addresses, bad base64 keys), posters
and bulletins, short links, proof of play, ``?lang=``, the ``lang`` cookie and
``Accept-Language``, and the admin's item form, audit, reports and print pages. Part of
:func:`tests.api_fuzz.calls`; placeholders (``<ITEM>`` …) are :mod:`tests.fuzz_world`'s."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.api_fuzz import AREA, HUGE_INTS, IDS, JSON, ODD_TEXT, ODD_TIMES, SCALARS, TEXT, Call
from tests.factories import DAIZAWA
from tests.fuzz_world import AUTH, P256DH

MEGABYTE = "x" * 1_000_000
ENDPOINTS = st.one_of(
    st.sampled_from(
        [
            "<ENDPOINT>",
            "https://fcm.googleapis.com/fcm/send/another",
            "https://FCM.googleapis.com./fcm/send/x",
            "http://fcm.googleapis.com/fcm/send/x",
            "https://fcm.googleapis.com.evil.example/x",
            "https://user:pw@fcm.googleapis.com/x",
            "https://[fcm.googleapis.com/x",
            "https://fcm.googleapis.com:99999/x",
            "https://fcm.googleapis.com/\x00",
            "https://fcm.googleapis.com/\ud800",
            "https://fcm.googleapis.com/\r\nX-Injected: 1",
            "https://fcm.googleapis.com/" + "x" * 3000,
            "https://127.0.0.1/push",
            "http://169.254.169.254/latest/meta-data",
            "https://[::1]:8443/",
            "https://10.0.0.1/",
            "https://localhost/",
            "//fcm.googleapis.com/x",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "fcm.googleapis.com",
            MEGABYTE,
        ]
    ),
    TEXT,
    JSON,
)
BASE64 = st.one_of(
    st.sampled_from(
        [AUTH, P256DH, "", "!!!", "a+b/c=", "ＡＢＣ", "a b", "\x00", "\ud800", "A" * 300, "=="]
    ),
    SCALARS,
    JSON,
)
KEYS = st.one_of(st.fixed_dictionaries({}, optional={"p256dh": BASE64, "auth": BASE64}), JSON)
SUBSCRIPTION = st.one_of(
    st.fixed_dictionaries(
        {"endpoint": ENDPOINTS}, optional={"keys": KEYS, "expirationTime": SCALARS}
    ),
    JSON,
)
LANG_VALUE = st.one_of(
    st.sampled_from(
        ["ja", "en", "EN", "zh-hans", "zh-Hant", "ko", "ja-x-easy", "xx", "", "ja\x00", "\ud800"]
    ),
    TEXT,
)
LANG_JSON = st.one_of(LANG_VALUE, st.lists(LANG_VALUE, min_size=1, max_size=2), JSON)
ACCEPT_LANGUAGE = st.one_of(
    st.sampled_from(
        [
            "",
            "*",
            "en;q=1e999",
            "en;q=nan",
            "ko;q=-1, en;q=inf",
            "zh-TW,zh;q=0.9",
            "zh_Hant_TW;q=0.5, *;q=0.1",
            ",,,;;;==",
            "q=1",
            "en;q=",
            "en;;q=0.5;q=0.7",
            "代沢",
            "en\x00ja",
            "i-klingon",
            "en-" + "x" * 5000,
            "ja;q=0.1," * 500,
        ]
    ),
    TEXT,
)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "Accept-Language": ACCEPT_LANGUAGE,
        "Cookie": LANG_VALUE.map(lambda v: f"lang={v}"),
        "Accept": st.sampled_from(["application/json", "text/html", "*/*", "", "x/\x00"]),
    },
)
WEEKS = st.one_of(
    st.sampled_from(
        [
            "2026-W48",
            "2026-W53",
            "2026-W00",
            "2026-W99",
            "9999-W52",
            "0001-W01",
            "2026-11-22",
            "9999-12-31",
            "0001-01-01",
            "2026-02-30",
            "-1-W01",
            "1e309",
        ]
    ),
    TEXT,
)
SHORT_CODES = st.one_of(
    st.sampled_from(
        [
            "p<ITEM>~en",
            "p<ITEM>~ja-x-easy",
            "p<ITEM>~xx",
            "p<ITEM>",
            "p<ITEM>~",
            "p-1~en",
            "p0~en",
            "p" + "9" * 30 + "~en",
            "p" + "9" * 5000 + "~en",
            "i<ITEM>",
            "i<ITEM>~en~daizawa-1",
            "i<ITEM>~en~nowhere-9",
            "i<ITEM>~~",
            "i<ITEM>~en~",
            "i<ITEM>~zz~daizawa-1",
            "i٤٢~en",
            "a~setagaya~kitazawa~daizawa",
            "a~setagaya~~",
            "rss~setagaya",
            "ics~setagaya~kitazawa",
            "atom~" + "~" * 300,
        ]
    ),
    TEXT.filter(lambda t: "/" not in t and "?" not in t),
)
ID_PART = st.one_of(st.just("<ITEM>"), IDS.map(str))
SECONDS = st.one_of(
    st.sampled_from([1, 0, -1, 3600, 3601, 1e308, 1e-300, 0.5, "5", True, None, 2**64]),
    SCALARS,
)
PLAY = st.one_of(
    st.fixed_dictionaries(
        {
            "seq": st.one_of(st.integers(0, 2**62), HUGE_INTS, SCALARS),
            "item_id": st.one_of(st.just("<ITEM#>"), IDS, SCALARS),
            "lang": LANG_JSON,
            "start": st.one_of(
                st.sampled_from(["2026-11-22T09:59:00+09:00", "2026-11-22T00:59:00Z"]),
                ODD_TIMES,
                SCALARS,
            ),
            "seconds": SECONDS,
        },
        optional={"revision": st.one_of(st.integers(0, 3), HUGE_INTS, SCALARS)},
    ),
    JSON,
)
HOSTILE_RAW = st.sampled_from(
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 1000 + b"1" + b"}" * 1000,
        b"\xff\xfe\x00",
        b'{"endpoint": "\\ud800"}',
        b'{"plays": [{"seconds": NaN}]}',
        b'{"plays": "' + b"x" * 1_000_000 + b'"}',
        b"NaN",
        b"1e999",
        b"",
    ]
)


def _resubscribe_body() -> st.SearchStrategy[Any]:
    old = st.one_of(
        st.fixed_dictionaries(
            {"endpoint": ENDPOINTS},
            optional={
                "token": st.one_of(st.just("<SUB_TOKEN>"), TEXT, JSON),
                "auth": st.one_of(st.just("<AUTH>"), BASE64),
            },
        ),
        JSON,
    )
    return st.one_of(
        st.fixed_dictionaries({"old": old}, optional={"subscription": SUBSCRIPTION}), JSON
    )


@st.composite
def notification_calls(draw: st.DrawFn) -> Call:
    """Web Push: subscribe, renew, unsubscribe (both ways), the key and the service worker."""
    kind = draw(st.integers(0, 7))
    query = draw(st.fixed_dictionaries({}, optional={"lang": LANG_VALUE}))
    headers = draw(HEADERS)
    if kind == 0:
        body = draw(
            st.one_of(
                st.fixed_dictionaries(
                    {"subscription": SUBSCRIPTION},
                    optional={
                        "area": st.one_of(AREA, JSON),
                        "lang": LANG_JSON,
                        "choice": st.one_of(st.sampled_from(["alerts", "all"]), JSON),
                    },
                ),
                JSON,
            )
        )
        return Call("POST", "/notifications/subscribe", query, body=body, headers=headers)
    if kind == 1:
        body = draw(_resubscribe_body())
        return Call("POST", "/notifications/resubscribe", query, body=body, headers=headers)
    if kind == 2:
        body = draw(st.one_of(st.fixed_dictionaries({"endpoint": ENDPOINTS}), JSON))
        return Call("POST", "/notifications/unsubscribe", query, body=body, headers=headers)
    if kind == 3:
        path = draw(
            st.sampled_from(
                [
                    "/notifications/subscribe",
                    "/notifications/resubscribe",
                    "/notifications/unsubscribe",
                ]
            )
        )
        return Call("POST", path, query, raw=draw(HOSTILE_RAW), headers=headers)
    if kind in (4, 5):
        sub = draw(st.one_of(st.just("<SUB>"), IDS.map(str), TEXT))
        token = draw(st.one_of(st.just("<SUB_TOKEN>"), TEXT, st.just("<SUB_TOKEN>\x00")))
        method = draw(st.sampled_from(["GET", "POST", "POST"]))
        path = f"/notifications/unsubscribe/{sub}/{token}"
        return Call(method, path.replace("?", ""), query, headers=headers, token=False)
    path = draw(st.sampled_from(["/notifications/key", "/notifications/sw.js"]))
    return Call(draw(st.sampled_from(["GET", "POST"])), path, query, headers=headers)


@st.composite
def paper_calls(draw: st.DrawFn) -> Call:
    """Posters and bulletins with hostile sizes, weeks and languages."""
    lang = st.one_of(st.sampled_from(["ja", "en", "ko", "zh-Hant", "ja-x-easy"]), LANG_VALUE)
    if draw(st.booleans()):
        query = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "size": st.one_of(st.sampled_from(["A4", "A3", "a3", "B5", ""]), TEXT),
                    "lang": lang,
                },
            )
        )
        return Call("GET", f"/items/{draw(ID_PART)}/poster.pdf", query, token=False)
    code = draw(st.one_of(st.sampled_from([DAIZAWA, "setagaya", "setagaya/nowhere"]), AREA))
    query = draw(st.fixed_dictionaries({}, optional={"week": WEEKS, "lang": lang}))
    return Call("GET", f"/areas/{code}/bulletin.pdf".replace("?", ""), query, token=False)


@st.composite
def play_calls(draw: st.DrawFn) -> Call:
    """A screen's proof of play and heartbeat, with its token or a wrong one."""
    mostly = draw(st.integers(0, 9)) < 8  # most requests get past the token to the checks
    screen = "<SCREEN>" if mostly else draw(st.one_of(st.sampled_from(["seijo-1", "x"]), TEXT))
    who = "screen" if mostly or draw(st.booleans()) else ""
    path = f"/api/screens/{screen}/".replace("?", "")
    if draw(st.integers(0, 3)) == 0:
        body = draw(
            st.one_of(
                JSON,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "item_id": st.one_of(st.just("<ITEM#>"), IDS, SCALARS),
                        "slide": st.one_of(TEXT, SCALARS),
                        "version": st.one_of(TEXT, SCALARS),
                    },
                ),
            )
        )
        return Call("POST", path + "heartbeat", body=body, who=who, token=False)
    if draw(st.integers(0, 5)) == 0:
        return Call("POST", path + "plays", raw=draw(HOSTILE_RAW), who=who, token=False)
    plays = st.lists(PLAY, min_size=1, max_size=4)
    body = {"plays": draw(plays)} if draw(st.integers(0, 4)) else draw(JSON)
    return Call("POST", path + "plays", body=body, who=who, token=False)


@st.composite
def page_calls(draw: st.DrawFn) -> Call:
    """Residents' pages and short links with hostile ``?lang=``, cookie and Accept-Language."""
    if draw(st.integers(0, 2)) == 0:
        return Call("GET", f"/q/{draw(SHORT_CODES)}", token=False, headers=draw(HEADERS))
    path = draw(
        st.sampled_from(
            [
                "/",
                f"/areas/{DAIZAWA}",
                "/areas/setagaya/nowhere",
                "/items/<ITEM>",
                "/items/999999999",
                "/accessibility",
                "/feeds/setagaya.rss",
                f"/feeds/{DAIZAWA}.atom",
                "/nowhere",
                "/notifications/unsubscribe/<SUB>/<SUB_TOKEN>",
            ]
        )
    )
    query = draw(st.fixed_dictionaries({}, optional={"lang": LANG_VALUE}))
    return Call("GET", path, query, token=False, headers=draw(HEADERS))


FORM_TEXT = st.one_of(TEXT, ODD_TEXT, st.just(MEGABYTE))
PICTURES = st.sampled_from(
    [
        (b"", "empty.png"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "cut.png"),
        (b"GIF89a" + b"\x00" * 10, "x.gif"),
        (b"<svg onload=alert(1)/>", "x.svg"),
        (b"\xff\xd8\xff" + b"\x00" * 100, "../../etc/passwd.jpg"),
        (b"x" * 100, "\x00.png"),
    ]
)


@st.composite
def item_form(draw: st.DrawFn) -> dict[str, Any]:
    """The admin's item form as an editor fills it, with a few fields hostile."""
    form: dict[str, Any] = {
        "kind": "notice",
        "title.ja": "代沢地区 落ち葉清掃のお知らせ",
        "body.ja": "11月29日（日）午前9時から落ち葉清掃を行います。",
        "targets": [DAIZAWA],
        "starts_at": "2026-11-20T00:00",
        "ends_at": "2026-12-31T00:00",
        "category": "community",
        "priority": "normal",
        "intent": "save",
    }
    hostile: dict[str, Any] = {
        "kind": st.one_of(st.sampled_from(["event", "alert", "emergency"]), FORM_TEXT),
        "title.ja": FORM_TEXT,
        "title.en": FORM_TEXT,
        "body.ja-x-easy": FORM_TEXT,
        "image_alt.ja": FORM_TEXT,
        "image_alt.en": FORM_TEXT,
        "image": st.one_of(st.sampled_from(["../x.png", "a" * 64 + ".png"]), FORM_TEXT),
        "image_remove": st.sampled_from(["on", "off", ""]),
        "targets": st.lists(st.one_of(AREA, st.just("setagaya/kinuta/seijo")), max_size=3),
        "starts_at": st.one_of(ODD_TIMES, FORM_TEXT),
        "ends_at": st.one_of(ODD_TIMES, FORM_TEXT),
        "dayparts": st.one_of(st.sampled_from(["07:00-09:00", "25:00-26:00", "9-"]), FORM_TEXT),
        "weekdays": st.lists(st.one_of(st.sampled_from(["mon", "sun"]), TEXT), max_size=3),
        "event.starts_at": st.one_of(ODD_TIMES, FORM_TEXT),
        "event.all_day": st.sampled_from(["on", "x"]),
        "place.name": FORM_TEXT,
        "detail_url": st.one_of(st.sampled_from(["javascript:alert(1)", "http://[x"]), FORM_TEXT),
        "priority": FORM_TEXT,
        "warning_level": st.one_of(st.sampled_from(["1", "5", "-1"]), FORM_TEXT),
        "revision": st.one_of(st.sampled_from(["", "0", "1", "2", "-1", "9" * 30]), TEXT),
        "intent": st.one_of(st.sampled_from(["save", "submit", "publish"]), TEXT),
    }
    for name in draw(st.lists(st.sampled_from(sorted(hostile)), max_size=4, unique=True)):
        form[name] = draw(hostile[name])
    return form


@st.composite
def admin_calls(draw: st.DrawFn) -> Call:
    """An editor's item form (with pictures), the item list, audit, reports and print pages."""
    kind = draw(st.integers(0, 6))
    day = st.one_of(
        st.sampled_from(["2026-11-22", "9999-12-31", "0001-01-01", "2026-02-30", "-1"]),
        ODD_TIMES,
        TEXT,
    )
    if kind in (0, 1):
        target = draw(st.sampled_from(["<DRAFT>", "new", "999999999"]))
        files = {"image_file": draw(PICTURES)} if draw(st.integers(0, 3)) == 0 else None
        form = draw(item_form())
        return Call("POST", f"/admin/items/{target}", form=form, files=files, who="editor")
    if kind == 2:
        query = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "area": AREA,
                    "status": TEXT,
                    "kind": TEXT,
                    "q": FORM_TEXT,
                    "date": day,
                },
            )
        )
        return Call("GET", "/admin/items", query, who="editor")
    if kind == 3:
        query = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "from": day,
                    "to": day,
                    "page": st.one_of(IDS.map(str), TEXT, st.just("9" * 5000)),
                    "actor": FORM_TEXT,
                    "action": TEXT,
                    "entity_id": st.one_of(ID_PART, FORM_TEXT),
                },
            )
        )
        return Call("GET", "/admin/audit", query, who="editor")
    if kind == 4:
        path = draw(
            st.sampled_from(
                [
                    "/admin/reports",
                    "/admin/reports/items/<ITEM>",
                    "/admin/reports/items/999999999",
                    "/admin/reports/plays.csv",
                    "/admin/reports/reach.json",
                    "/admin/reports/uptime.csv",
                ]
            )
        )
        query = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "area": AREA,
                    "since": day,
                    "until": day,
                    "item": st.one_of(ID_PART, TEXT),
                },
            )
        )
        return Call("GET", path, query, who="editor")
    if kind == 5:
        query = draw(
            st.fixed_dictionaries({}, optional={"size": TEXT, "lang": LANG_VALUE, "week": WEEKS})
        )
        path = draw(st.sampled_from(["/admin/print", "/admin/items/<ITEM>/poster.pdf"]))
        return Call("GET", path, query, who="editor")
    target = draw(st.sampled_from(["<DRAFT>", "999999999"]))
    action = draw(st.sampled_from(["submit", "approve", "return", "withdraw"]))
    form = draw(st.fixed_dictionaries({}, optional={"comment": FORM_TEXT}))
    return Call("POST", f"/admin/items/{target}/{action}", form=form, who="editor")


FAMILIES = {
    "push": notification_calls,
    "paper": paper_calls,
    "plays": play_calls,
    "pages": page_calls,
    "admin": admin_calls,
}


def more_calls() -> st.SearchStrategy[Call]:
    """Everything added since the first fuzz: residents' Web Push, paper, short links and
    pages in six languages, proof of play, and the admin as an editor."""
    return st.one_of([family() for family in FAMILIES.values()])
