"""Posters for the notice board and weekly bulletins for the center's rack: PDFs a resident can
read (pdftotext gives the Japanese in reading order), whose QR code opens the right page, and
which list exactly what the district sees that week."""

from __future__ import annotations

import html
import re
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from publisher.runtime import Runtime
from publisher.store import staff, workflow
from tests.factories import DAIZAWA, JST, KITAZAWA, SEIJO, UMEGAOKA, WARD, api_item

BASE = "https://signage.example.jp"
BODY = (
    "12月6日（日）午前10時から、代沢小学校の校庭で地区の防災訓練を行います。"
    "消火器の使い方、けが人の運び方、避難所の開設を、実際に体験していただけます。"
    "動きやすい服装でお越しください。雨天の場合は体育館で行います。"
)


@pytest.fixture
def clocked(app: Any, now: datetime) -> Any:
    app.config["PUBLISHER_CLOCK"] = lambda: now
    return app.test_client()


def create(rt: Runtime, **overrides: Any) -> int:
    with rt.session() as session:
        item = workflow.create(session, rt.tree, staff.operator(rt.tree), api_item(**overrides))
    assert item.id is not None
    return item.id


def text_of(pdf: bytes, tmp_path: Path, *layout: str) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", *layout, str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def pages_of(pdf: bytes, tmp_path: Path, save_as: str | None = None) -> list[Image.Image]:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    images = [Image.open(p).convert("RGB") for p in pages]
    if save_as:  # for a person to look at
        for i, image in enumerate(images):
            image.save(f"/tmp/issue-19-{save_as}-{i + 1}.png")
    for p in pages:
        p.unlink()
    return images


def qr_urls(image: Image.Image) -> list[str]:
    return [
        r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode
    ]


def page_count(pdf: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout
    return int(re.search(rb"Pages:\s+(\d+)", info)[1])  # type: ignore[index]


def fonts_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdffonts", str(path)], capture_output=True, check=True, text=True
    ).stdout


def test_a_poster_reads_in_order_and_its_qr_opens_the_page_in_its_language(
    rt: Runtime, clocked: Any, tmp_path: Path
) -> None:
    item_id = create(
        rt,
        kind="event",
        title={"ja": "代沢地区 防災訓練のご案内", "en": "Daizawa disaster drill day"},
        body={"ja": BODY, "en": "Learn to use extinguishers and to open a shelter."},
        starts_at="2026-11-20T00:00:00+09:00",
        event={"starts_at": "2026-12-06T10:00:00+09:00", "ends_at": "2026-12-06T12:00:00+09:00"},
        place={"name": "代沢小学校 校庭", "address": "世田谷区代沢5-8-1"},
    )
    r = clocked.get(f"/items/{item_id}/poster.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    pdf = r.data
    assert page_count(pdf) == 1
    text = "".join(text_of(pdf, tmp_path).split())
    order = ["世田谷区", "代沢まちづくりセンター", "代沢地区防災訓練のご案内", "日時",
             "2026年12月6日（日）10:00〜12:00", "場所", "代沢小学校校庭", BODY[:30], BODY[-20:],
             "詳しくはこちら"]  # fmt: skip
    positions = [text.find(part) for part in order]
    assert -1 not in positions, (text, positions)
    assert positions == sorted(positions)
    layout = text_of(pdf, tmp_path, "-layout")
    for line in layout.splitlines():
        assert not line.strip().startswith(tuple("、。」）")), line
    fonts = fonts_of(pdf, tmp_path)
    assert "NotoSansCJK" in fonts.replace("-", "") and " yes yes " in fonts  # embedded, subset
    (page,) = pages_of(pdf, tmp_path, save_as="poster-a4-ja")
    assert page.size[0] == 827 and abs(page.size[1] - 1169) <= 1  # A4 at 100 dpi
    assert qr_urls(page) == [f"{BASE}/q/p{item_id}~ja"]  # counted, then the page in ja

    en = clocked.get(f"/items/{item_id}/poster.pdf?lang=en&size=A3")
    (page,) = pages_of(en.data, tmp_path, save_as="poster-a3-en")
    assert abs(page.size[0] - 1169) <= 1 and abs(page.size[1] - 1654) <= 1  # A3 at 100 dpi
    assert qr_urls(page) == [f"{BASE}/q/p{item_id}~en"]
    assert "Daizawadisasterdrillday" in "".join(text_of(en.data, tmp_path).split())


def test_a_drill_poster_carries_the_drill_mark(rt: Runtime, clocked: Any, tmp_path: Path) -> None:
    item_id = create(
        rt,
        kind="alert",
        priority="emergency",
        drill=True,
        title={"ja": "避難指示（訓練）代沢地区"},
        body={"ja": "これは訓練です。代沢小学校へ避難してください。"},
        category=None,
    )
    pdf = clocked.get(f"/items/{item_id}/poster.pdf").data
    text = "".join(text_of(pdf, tmp_path).split())
    assert "訓練これは訓練です" in text
    assert "【訓練】" in text
    (page,) = pages_of(pdf, tmp_path, save_as="poster-drill")
    assert qr_urls(page) == [f"{BASE}/q/p{item_id}~ja"]


def test_a_long_notice_steps_down_to_fit_one_page(
    rt: Runtime, clocked: Any, tmp_path: Path
) -> None:
    body = "\n".join([BODY] * 6)
    item_id = create(rt, title={"ja": "長いお知らせ"}, body={"ja": body})
    pdf = clocked.get(f"/items/{item_id}/poster.pdf").data
    assert page_count(pdf) == 1
    assert "雨天の場合は体育館で行います。" in "".join(text_of(pdf, tmp_path).split())


def test_posters_refuse_what_is_not_public_with_a_clear_message(rt: Runtime, clocked: Any) -> None:
    draft = create(rt, status="draft")
    assert clocked.get(f"/items/{draft}/poster.pdf").status_code == 404
    live = create(rt)
    r = clocked.get(f"/items/{live}/poster.pdf?size=B5")
    assert r.status_code == 400 and "size: 'B5' is not A4 or A3" in html.unescape(r.text)
    assert r.mimetype == "text/html" and "ページを表示できません" in r.text  # the residents' page
    r = clocked.get(f"/items/{live}/poster.pdf?lang=fr", headers={"Accept-Language": "ko"})
    assert r.status_code == 400 and "lang: one of" in r.text and 'lang="ko"' in r.text
    with rt.session() as session:
        workflow.transition(session, rt.tree, staff.operator(rt.tree), live, "withdraw")
    r = clocked.get(f"/items/{live}/poster.pdf")
    assert r.status_code == 400 and "withdrawn" in r.get_data(as_text=True)


def test_daizawas_bulletin_lists_exactly_daizawas_kitazawas_and_the_wards_week(
    rt: Runtime, clocked: Any, tmp_path: Path, now: datetime
) -> None:
    """Week 48 of 2026 (Mon 23 – Sun 29 November): events that happen in it and notices
    posted during it, from Daizawa, its region Kitazawa and the ward; nothing from Umegaoka
    (Kitazawa's other district) or Seijo, nothing outside the week, no drafts."""

    def at(day: int, hour: int = 10) -> str:
        return datetime(2026, 11, day, hour, tzinfo=JST).isoformat()

    def event(title: str, target: str, day: int, **kw: Any) -> int:
        return create(
            rt,
            kind="event",
            title={"ja": title},
            body={"ja": f"{title}の詳細です。"},
            targets=[target],
            starts_at=at(1),
            event={"starts_at": at(day), "ends_at": at(day, 12)},
            **kw,
        )

    def notice(title: str, target: str, start: str, end: str, **kw: Any) -> int:
        return create(
            rt, title={"ja": title}, body={"ja": f"{title}です。"}, targets=[target],
            starts_at=start, ends_at=end, **kw,
        )  # fmt: skip

    event("代沢 もちつき大会", DAIZAWA, 28)
    event("北沢地域 防災講座", KITAZAWA, 24)
    event("区民まつり", WARD, 29)
    event("梅丘 清掃活動", UMEGAOKA, 25)
    event("成城 音楽会", SEIJO, 26)
    event("代沢 来週の講座", DAIZAWA, 30)
    event("代沢 下書きの行事", DAIZAWA, 26, status="draft")
    notice("代沢センター 臨時休館", DAIZAWA, at(20), at(27))
    notice("区 ごみ収集日の変更", WARD, at(25), "2026-12-31T00:00:00+09:00")
    notice("北沢 掲示終了済み", KITAZAWA, at(1), at(22))
    notice("梅丘 お知らせ", UMEGAOKA, at(20), at(28))

    r = clocked.get(f"/areas/{DAIZAWA}/bulletin.pdf?week=2026-W48")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert 1 <= page_count(r.data) <= 2
    text = "".join(text_of(r.data, tmp_path).split())
    listed = {
        t: t in text
        for t in (
            "代沢もちつき大会", "北沢地域防災講座", "区民まつり", "代沢センター臨時休館",
            "区ごみ収集日の変更", "梅丘清掃活動", "成城音楽会", "代沢来週の講座",
            "代沢下書きの行事", "北沢掲示終了済み", "梅丘お知らせ",
        )
    }  # fmt: skip
    assert [t for t, shown in listed.items() if shown] == [
        "代沢もちつき大会", "北沢地域防災講座", "区民まつり", "代沢センター臨時休館",
        "区ごみ収集日の変更",
    ]  # fmt: skip
    # events soonest first, under their heading; notices after
    assert (
        text.index("今週の行事") < text.index("北沢地域防災講座") < text.index("代沢もちつき大会")
    )
    assert text.index("代沢もちつき大会") < text.index("区民まつり") < text.index("お知らせ")
    assert "2026年11月23日（月）〜11月29日（日）" in text
    pages = pages_of(r.data, tmp_path, save_as="bulletin-daizawa")
    assert qr_urls(pages[-1]) == [f"{BASE}/areas/{DAIZAWA}"]
    # the same week named by one of its days; a bad week is a clear 400
    same = clocked.get(f"/areas/{DAIZAWA}/bulletin.pdf?week=2026-11-26")
    assert "代沢もちつき大会" in "".join(text_of(same.data, tmp_path).split())
    bad = clocked.get(f"/areas/{DAIZAWA}/bulletin.pdf?week=next")
    assert bad.status_code == 400 and "week:" in bad.get_data(as_text=True)
    assert clocked.get("/areas/setagaya/nowhere/bulletin.pdf").status_code == 404


def test_a_busy_week_still_fits_two_pages_and_says_how_many_more(
    rt: Runtime, clocked: Any, tmp_path: Path
) -> None:
    for i in range(40):
        create(
            rt,
            title={"ja": f"お知らせ その{i + 1} 地域の皆さまへの大切なご案内"},
            body={"ja": BODY},
            starts_at="2026-11-23T09:00:00+09:00",
            ends_at=(datetime(2026, 11, 30, tzinfo=JST) + timedelta(days=i)).isoformat(),
        )
    pdf = clocked.get(f"/areas/{DAIZAWA}/bulletin.pdf?week=2026-W48").data
    assert page_count(pdf) <= 2
    text = "".join(text_of(pdf, tmp_path).split())
    shown = len(re.findall(r"お知らせその\d+", text))
    more = re.search(r"ほか(\d+)件のお知らせ", text)
    assert shown == 40 or (more and shown + int(more[1]) == 40), (shown, more)
    pages_of(pdf, tmp_path, save_as="bulletin-busy")
