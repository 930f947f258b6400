"""Benchmark: render every slide every screen of the ward needs, as a build would.

    .venv/bin/python bench/render.py [--items 1000] [--seed 3]

1,000 active items spread over Setagaya (ward-wide, regional, district; notices, events, a few
alerts and drills; some translated), and every screen of displays/setagaya.toml. For each
screen: the items it sees (its area's lineage) × its languages → ensure_slide into a temp dir.

Prints: slides requested (screen × item × language), distinct slides, wall time, median ms per
slide (draw and PNG encode separately), the ratio of the full build to rendering only the
distinct slides (goal ≤ 1.15), then edits one item, re-runs the build and prints how many
slides were rendered again (goal: only that item's).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from publisher.areas import AreaTree, load_tree
from publisher.config import REPO_DIR
from publisher.items import AlertInfo, Item, Place, Translation
from publisher.render.slides import SlideSpec, encode_png, ensure_slide, render_slide, slide_key

JST = ZoneInfo("Asia/Tokyo")
BASE_URL = "https://signage.example.jp"

TOPICS = [
    ("落ち葉清掃のお知らせ", "Fallen-leaf clean-up", "community", "notice"),
    ("年末年始の窓口休業", "Counters closed over the New Year", "tax", "notice"),
    ("粗大ごみの出し方が変わります", "Changes to bulky waste collection", "environment", "notice"),
    ("乳幼児健診のご案内", "Health check-ups for infants", "childcare", "notice"),
    ("インフルエンザ予防接種の助成", "Flu vaccination subsidy", "health", "notice"),
    ("防災講演会「自宅で避難生活」", "Talk: sheltering at home", "disaster", "event"),
    ("子育てひろば クリスマス会", "Christmas party at the childcare plaza", "childcare", "event"),
    ("地区まつり", "District festival", "community", "event"),
    ("避難所運営訓練", "Shelter operation drill", "drill", "event"),
    ("体操教室（シニア向け）", "Exercise class for seniors", "health", "event"),
    ("図書館 おはなし会", "Story time at the library", "culture", "event"),
]
SENTENCES = [
    "どなたでも参加でき、申込みは不要です。",
    "当日は動きやすい服装でお越しください。",
    "雨天の場合は中止します（当日午前7時に区のホームページでお知らせします）。",
    "マイナンバーカードをお持ちの方は、コンビニエンスストアで証明書を取得できます。",
    "詳しくは、まちづくりセンター（電話 03-5432-1111）までお問い合わせください。",
    "「地区の防災マップ」を会場で配布します。",
    "小さなお子さん連れの方も、お気軽にご参加ください。",
    "定員になり次第、受付を終了します。",
    "会場には駐車場がありません。公共交通機関をご利用ください。",
    "高齢の方、障害のある方など、手助けが必要な方はお知らせください。",
]


def make_items(tree: AreaTree, n: int, rng: random.Random) -> list[Item]:
    """``n`` believable active items: 10 % ward-wide, 20 % regional, 70 % district."""
    regions, districts = tree.tier("region"), tree.tier("district")
    base = datetime(2026, 11, 22, 9, 0, tzinfo=JST)
    items = []
    for i in range(1, n + 1):
        roll = rng.random()
        area = tree.ward if roll < 0.1 else rng.choice(regions if roll < 0.3 else districts)
        ja, en, category, kind = rng.choice(TOPICS)
        title = f"{area.short_name} {ja}"
        body = "".join(rng.sample(SENTENCES, rng.randint(1, 5)))
        translations = [Translation("ja", title, body)]
        if rng.random() < 0.3:
            translations.append(Translation("en", f"{area.name_en}: {en}", "Anyone may join."))
        if rng.random() < 0.08:
            translations.append(Translation("zh-Hans", f"{area.name} {ja}", "任何人均可参加。"))
        if rng.random() < 0.08:
            translations.append(
                Translation("ko", f"{area.name_en} {en}", "누구나 참가할 수 있습니다.")
            )
        fields: dict = {}
        if kind == "event":
            start = base + timedelta(days=rng.randint(1, 40), hours=rng.choice([1, 4, 5]))
            fields = {
                "event_starts_at": start,
                "event_ends_at": start + timedelta(hours=2),
                "place": Place(f"{area.name}まちづくりセンター 活動フロア"),
            }
        if rng.random() < 0.03:
            kind, category = "alert", "drill"
            fields = {"drill": True, "alert": AlertInfo("Exercise", warning_level=3)}
            translations = [Translation("ja", f"【訓練】{area.short_name}に高齢者等避難", body)]
        items.append(
            Item(
                kind=kind,
                translations=tuple(translations),
                targets=(area.code,),
                id=i,
                status="approved",
                category=category,
                **fields,
            )
        )
    return items


def requests(tree: AreaTree, items: list[Item]) -> list[SlideSpec]:
    """Every (screen, item, language) a build asks for."""
    by_area: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        for code in item.targets:
            by_area[code].append(item)
    out = []
    for screen in tree.screens.values():
        for code in tree.lineage(screen.area):
            for item in by_area[code]:
                issuer = tree.issuer(item.targets)
                url = f"{BASE_URL}/q/i{item.id}"
                for lang in screen.languages:
                    out.append(SlideSpec(item, screen.width, screen.height, lang, issuer, url))
    return out


def build(specs: list[SlideSpec], out: Path) -> tuple[float, int]:
    """ensure_slide for every request; returns (seconds, slides newly written)."""
    before = len(list(out.glob("*.png")))
    t0 = time.perf_counter()
    for spec in specs:
        ensure_slide(spec, out)
    return time.perf_counter() - t0, len(list(out.glob("*.png"))) - before


def forget_caches() -> None:
    from publisher.render import qr, typeset

    typeset._width.cache_clear()
    typeset.units.cache_clear()
    qr.qr_matrix.cache_clear()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()

    tree = load_tree(REPO_DIR / "displays")
    items = make_items(tree, args.items, random.Random(args.seed))
    specs = requests(tree, items)
    distinct = {slide_key(s): s for s in specs}
    print(f"items {len(items)}, screens {len(tree.screens)}")
    print(f"slides requested (screen × item × language): {len(specs)}")
    print(f"distinct slides: {len(distinct)}")

    forget_caches()
    draw_ms, png_ms = [], []
    t0 = time.perf_counter()
    for spec in distinct.values():
        a = time.perf_counter()
        img = render_slide(spec)
        b = time.perf_counter()
        encode_png(img)
        c = time.perf_counter()
        draw_ms.append(1000 * (b - a))
        png_ms.append(1000 * (c - b))
    distinct_s = time.perf_counter() - t0
    print(
        f"rendering only the distinct slides: {distinct_s:.1f} s; per slide median "
        f"draw {statistics.median(draw_ms):.0f} ms + PNG {statistics.median(png_ms):.0f} ms "
        f"(p95 draw {sorted(draw_ms)[int(0.95 * len(draw_ms))]:.0f} ms)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        forget_caches()  # the build starts as cold as the distinct-only pass did
        full_s, written = build(specs, out)
        print(f"full build (ensure_slide per request): {full_s:.1f} s wall, {written} files")
        print(f"ratio full build / distinct only: {full_s / distinct_s:.3f} (goal ≤ 1.15)")

        edited = items[len(items) // 2]
        changed = edited.with_changes(
            translations=(
                Translation("ja", edited.title + "（時間変更）", "開始時間が変わりました。"),
            )
            + edited.translations[1:]
        )
        items2 = [changed if it is edited else it for it in items]
        specs2 = requests(tree, items2)
        own = {slide_key(s) for s in specs2 if s.item is changed}
        new_keys = {slide_key(s) for s in specs2} - set(distinct)
        again_s, rewritten = build(specs2, out)
        verdict = "only its own" if new_keys <= own and rewritten == len(new_keys) else "MORE"
        print(
            f"after editing item {edited.id}'s Japanese text ({edited.targets[0]}): re-rendered "
            f"{rewritten} slides in {again_s:.2f} s; that item has {len(own)} distinct slides, "
            f"{len(own & new_keys)} of them changed ({verdict}; its other translations kept "
            "their files)"
        )


if __name__ == "__main__":
    main()
