"""Benchmark: how long a new emergency's announcement takes to render, per language.

    .venv/bin/python bench/speech.py

Fills every alert template (content/alert-templates/) for the whole ward, once as a real alert
and once as a drill, and renders its announcement (chime + six languages) into a temp dir, as
the first screen to show it would. Prints, per language, the median seconds to render and the
median seconds of speech; the total per alert; and the time to find an already-rendered one
(the cache hit every other screen gets).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from publisher.alert_templates import fill, load_templates
from publisher.areas import load_tree
from publisher.config import REPO_DIR
from publisher.item_input import parse_item
from publisher.plan.screens import EMERGENCY_LANGS
from publisher.render import speech


def main() -> None:
    tree = load_tree(REPO_DIR / "displays")
    templates = load_templates(REPO_DIR / "content")
    voices = speech.find_voices()
    if voices.missing:
        print("missing:", "; ".join(voices.missing))
    render_s: dict[str, list[float]] = defaultdict(list)
    spoken_s: dict[str, list[float]] = defaultdict(list)
    totals, hits = [], []
    slots = {"shelter": "代沢小学校", "time": "14:30"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for template in templates.ordered():
            for drill in (False, True):
                given = {k: v for k, v in slots.items() if k in template.slots}
                data = fill(
                    templates, template.name, given, tree=tree, targets=["setagaya"], drill=drill
                )
                item = parse_item(data, tree)
                clips = speech.announcement([item], EMERGENCY_LANGS, voices)
                started = time.perf_counter()
                for clip in clips:
                    t = time.perf_counter()
                    path = speech.ensure_clip(clip, out, voices)
                    render_s[clip.lang].append(time.perf_counter() - t)
                    if path is not None:
                        spoken_s[clip.lang].append(speech.wav_duration_s(path.read_bytes()))
                totals.append(time.perf_counter() - started)
                t = time.perf_counter()
                for clip in clips:
                    speech.ensure_clip(clip, out, voices)
                hits.append(time.perf_counter() - t)
    print(f"{len(totals)} announcements (templates × real/drill), chime + {len(EMERGENCY_LANGS)}")
    print(f"{'lang':10} {'render s (median)':>18} {'speech s (median)':>18}")
    for lang in ("chime", *EMERGENCY_LANGS):
        r = statistics.median(render_s[lang]) if render_s[lang] else float("nan")
        s = statistics.median(spoken_s[lang]) if spoken_s[lang] else float("nan")
        print(f"{lang:10} {r:18.3f} {s:18.1f}")
    print(f"per new alert: median {statistics.median(totals):.2f} s, max {max(totals):.2f} s")
    print(f"already rendered (cache hit): median {statistics.median(hits) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
