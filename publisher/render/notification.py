"""What a Web Push notification says: title (with 訓練 / DRILL marks), a short body, the page to
open and the words of its buttons, in the subscriber's language, as the JSON the service worker
(``static/public/sw-notify.js``) shows.

Pure: the deliverer adds only where to send it. A push message carries at most 4 KiB once
encrypted, so the body is cut at :data:`BODY_MAX_CHARS` characters.
"""

from __future__ import annotations

import json

from publisher.items import Item
from publisher.plan.residents import is_drill, mark, marked_title, when_text

BODY_MAX_CHARS = 240

# The notification's own words, per language (what the service worker cannot know).
WORDS: dict[str, dict[str, str]] = {
    "ja": {"open": "詳しく見る", "unsubscribe": "通知をやめる"},
    "ja-x-easy": {"open": "くわしく みる", "unsubscribe": "おしらせを やめる"},
    "en": {"open": "Read more", "unsubscribe": "Stop notifications"},
    "zh-Hans": {"open": "查看详情", "unsubscribe": "停止通知"},
    "zh-Hant": {"open": "查看詳情", "unsubscribe": "停止通知"},
    "ko": {"open": "자세히 보기", "unsubscribe": "알림 중지"},
}


def words(lang: str) -> dict[str, str]:
    return WORDS.get(lang, WORDS["en"])


def notification(item: Item, lang: str, url: str, unsubscribe_url: str) -> dict[str, object]:
    """The notification of ``item`` for a subscriber reading ``lang``."""
    assert item.id is not None
    text = item.text(lang)
    shown_lang = text.lang
    body = " ".join(p.strip() for p in text.body.splitlines() if p.strip())
    when = when_text(item) if item.kind == "event" else ""
    if when:
        body = f"{when} {body}".strip()
    if len(body) > BODY_MAX_CHARS:
        body = body[: BODY_MAX_CHARS - 1] + "…"
    return {
        "title": spaced_title(item, shown_lang),
        "body": body,
        "lang": "ja" if shown_lang.startswith("ja") else shown_lang,
        "url": url,
        "tag": f"item-{item.id}",  # a repeat replaces the shown notification, never adds one
        "emergency": item.is_emergency,
        "drill": is_drill(item),
        "unsubscribe": unsubscribe_url,
        "words": words(shown_lang),
    }


def spaced_title(item: Item, lang: str) -> str:
    """The marked title; Latin-script marks are followed by a space (``[DRILL] Evacuation``)."""
    title = marked_title(item, lang)
    m = mark(item, lang)
    if m and title.startswith(m) and m.endswith("]"):
        return f"{m} {title[len(m) :]}"
    return title


def payload(note: dict[str, object]) -> bytes:
    return json.dumps(note, ensure_ascii=False, separators=(",", ":")).encode()
