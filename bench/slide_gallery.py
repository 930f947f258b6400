"""Render a gallery of representative slides to look at: ``python bench/slide_gallery.py [DIR]``.

A notice, an event with its place, English, Simplified Chinese and Korean translations, a drill
alert and a level-4 emergency, each landscape and portrait (and one odd size), as PNGs in DIR
(default /tmp/slides). Prints each file with its draw and encode times.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from publisher.areas import load_tree
from publisher.config import REPO_DIR
from publisher.items import AlertInfo, Item, Place, Translation
from publisher.render.slides import SlideSpec, encode_png, render_slide

JST = ZoneInfo("Asia/Tokyo")
DAIZAWA = "setagaya/kitazawa/daizawa"


def gallery() -> list[tuple[str, Item, str]]:
    def item(kind: str, *translations: Translation, **fields: object) -> Item:
        fields.setdefault("targets", (DAIZAWA,))
        return Item(kind=kind, translations=translations, id=1234, **fields)  # type: ignore[arg-type]

    notice = item(
        "notice",
        Translation(
            "ja",
            "年末年始の窓口休業のお知らせ",
            "12月29日（月）から1月3日（土）まで、まちづくりセンターの窓口はお休みです。"
            "住民票の写しや印鑑登録証明書は、コンビニ交付サービス（マイナンバーカードが必要）を"
            "ご利用ください。\n急ぎのご相談は、区役所の夜間・休日受付（03-5432-1111）へ。",
        ),
        category="tax",
        targets=("setagaya",),
    )
    event = item(
        "event",
        Translation(
            "ja",
            "代沢地区 避難所運営訓練",
            "大きな地震が起きたことを想定し、避難所となる代沢小学校で、地域の皆さんと一緒に"
            "避難所を開設・運営する訓練を行います。受付、居住スペースの設営、マンホールトイレの"
            "組み立て、備蓄倉庫の確認などを体験できます。\nどなたでも参加でき、申込みは不要です。"
            "上履きをお持ちください。",
        ),
        Translation(
            "en",
            "Daizawa shelter operation drill",
            "A drill for opening and running the Daizawa Elementary School shelter after a major "
            "earthquake: reception, setting up living spaces, assembling manhole toilets, "
            "checking the stockpile. Anyone may join; no booking. Bring indoor shoes.",
        ),
        Translation(
            "zh-Hans",
            "代泽地区 避难所运营演练",
            "假设发生大地震，将在作为避难所的代泽小学与居民一起进行开设和运营避难所的演练，"
            "可体验接待、布置居住空间、组装检修孔厕所等。任何人均可参加，无需报名。请携带室内鞋。",
        ),
        Translation(
            "ko",
            "다이자와 지구 대피소 운영 훈련",
            "큰 지진을 가정하여 대피소인 다이자와 초등학교에서 주민과 함께 대피소를 개설·운영하는 "
            "훈련을 합니다. 접수, 거주 공간 설치, 맨홀 화장실 조립 등을 체험할 수 있습니다. "
            "누구나 참가할 수 있으며 신청은 필요 없습니다.",
        ),
        category="drill",
        event_starts_at=datetime(2026, 12, 6, 9, 30, tzinfo=JST),
        event_ends_at=datetime(2026, 12, 6, 12, 0, tzinfo=JST),
        place=Place("代沢小学校 体育館", "世田谷区代沢3-2-1"),
    )
    drill = item(
        "alert",
        Translation(
            "ja",
            "【訓練】代沢地区に高齢者等避難（警戒レベル3）を発令",
            "これは訓練です。実際の避難情報ではありません。\n"
            "高齢の方、障害のある方など避難に時間のかかる方は、避難所（代沢小学校）へ避難してください。",
        ),
        priority="high",
        drill=True,
        category="drill",
        alert=AlertInfo(cap_status="Exercise", warning_level=3),
    )
    emergency = item(
        "alert",
        Translation(
            "ja",
            "北沢地域に避難指示",
            "目黒川・北沢川緑道周辺で浸水のおそれがあります。危険な場所にいる人は全員、"
            "直ちに避難所へ避難してください。避難所：代沢小学校、北沢小学校、梅丘中学校。"
            "外が危険なときは、建物の2階以上へ。",
        ),
        priority="emergency",
        category="disaster",
        alert=AlertInfo(warning_level=4, severity="Severe", urgency="Immediate"),
    )
    return [
        ("notice", notice, "ja"),
        ("event", event, "ja"),
        ("event-en", event, "en"),
        ("event-zh", event, "zh-Hans"),
        ("event-ko", event, "ko"),
        ("drill", drill, "ja"),
        ("emergency-l4", emergency, "ja"),
    ]


def main(out: Path) -> None:
    tree = load_tree(REPO_DIR / "displays")
    out.mkdir(parents=True, exist_ok=True)
    sizes = [(1920, 1080), (1080, 1920)]
    for name, it, lang in gallery():
        issuer = tree.issuer(it.targets)
        for w, h in [*sizes, *([(1366, 768)] if name == "event" else [])]:
            spec = SlideSpec(it, w, h, lang, issuer, f"https://signage.example.jp/q/i{it.id}")
            t0 = time.perf_counter()
            img = render_slide(spec)
            t1 = time.perf_counter()
            data = encode_png(img)
            t2 = time.perf_counter()
            path = out / f"{name}-{w}x{h}.png"
            path.write_bytes(data)
            print(f"{path}  draw {1000 * (t1 - t0):.0f} ms  png {1000 * (t2 - t1):.0f} ms")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/slides"))
