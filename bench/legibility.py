"""What each screen's physical size means for its slides: ``python bench/legibility.py``.

Prints, for every screen in ``displays/``, its diagonal and viewing distance, the guideline's
smallest body size for Japanese and English (px and mm; the layout also never goes below 36 px
per 1080 px of short side), then renders every demo item in every language it
has on each kind of screen (size × legibility) and prints how many slides that makes, how many
needed pages, the longest page time, and the time to measure and draw a slide.
"""

from __future__ import annotations

import time
import tomllib
from dataclasses import replace
from datetime import date
from zoneinfo import ZoneInfo

from publisher.areas import load_tree
from publisher.cli.demo import _api_shape
from publisher.config import REPO_DIR
from publisher.item_input import parse_item
from publisher.plan.reading import page_duration_s
from publisher.render.legibility import char_height_mm, screen_min_font_px
from publisher.render.slides import SlideSpec, compose_slide, slide_pages

JST = ZoneInfo("Asia/Tokyo")


def main() -> None:
    tree = load_tree(REPO_DIR / "displays")
    print(f"{'screen':22} {'size':10} {'in':>4} {'m':>4}  ja px (mm)   en px (mm)")
    kinds = {}
    for s in tree.screens.values():
        ja, en = screen_min_font_px(s, "ja"), screen_min_font_px(s, "en")
        mm_ja = char_height_mm(ja, s.width, s.height, s.diagonal_in, "ja")
        mm_en = char_height_mm(en, s.width, s.height, s.diagonal_in, "en")
        print(
            f"{s.id:22} {s.size:10} {s.diagonal_in:4g} {s.viewing_distance_m:4g}"
            f"  {ja:3d} ({mm_ja:4.1f})   {en:3d} ({mm_en:4.1f})"
        )
        kinds.setdefault((s.width, s.height, s.diagonal_in, s.viewing_distance_m), s)

    items = []
    for path in sorted((REPO_DIR / "content" / "demo").glob("*.toml")):
        for raw in tomllib.loads(path.read_text(encoding="utf-8"))["items"]:
            data = _api_shape(raw, date(2026, 12, 1), JST)
            items.append(parse_item(data, tree).with_changes(id=len(items) + 1))
    slides = paged = 0
    longest = 0
    started = time.perf_counter()
    for screen in kinds.values():
        for item in items:
            for lang in item.languages:
                spec = SlideSpec.for_screen(item, screen, lang, tree.issuer(item.targets), "x")
                pages = slide_pages(spec)
                paged += len(pages) > 1
                for n, text in enumerate(pages, start=1):
                    compose_slide(replace(spec, page=n, pages=len(pages)))
                    longest = max(longest, page_duration_s(text, item.text(lang).lang))
                    slides += 1
    took = time.perf_counter() - started
    print(
        f"\n{len(items)} demo items on {len(kinds)} kinds of screen: {slides} slides, "
        f"{paged} item-languages in pages, longest page {longest} s, "
        f"{1000 * took / max(slides, 1):.0f} ms a slide (measure + draw, no PNG)"
    )


if __name__ == "__main__":
    main()
