"""The words a slide prints besides the item's own text, in each language a screen shows.

Kind and category labels, what an alert is in words (警報, 避難指示 …), captions, the warning-level badge, the drill marker, and event dates
(「12月6日（土）10:00〜12:00」, "Sat 6 December, 10:00–12:00"), always in the ward's time.
やさしい日本語 (``ja-x-easy``) has its own easy words, as the guideline for やさしい日本語
asks (出入国在留管理庁・文化庁, 2020): plain words in hiragana for the chips and captions, times
said as people say them (「ごぜん 9じ 30ぷん から ごご 0じ まで」), no 〜 or 日時/会場. An unknown
language falls back to Japanese.
"""

from __future__ import annotations

from datetime import datetime

from publisher.area_names import office_name
from publisher.areas import Area
from publisher.items import CATEGORIES, JST, Item

KIND = {
    "ja": {"notice": "お知らせ", "event": "イベント", "alert": "緊急情報"},
    "ja-x-easy": {"notice": "おしらせ", "event": "イベント", "alert": "だいじな おしらせ"},
    "en": {"notice": "Notice", "event": "Event", "alert": "Alert"},
    "zh-Hans": {"notice": "通知", "event": "活动", "alert": "紧急信息"},
    "zh-Hant": {"notice": "通知", "event": "活動", "alert": "緊急資訊"},
    "ko": {"notice": "안내", "event": "행사", "alert": "긴급 정보"},
}
CATEGORY = {
    "ja": dict(CATEGORIES),
    "ja-x-easy": {
        "general": "おしらせ",
        "disaster": "さいがいに そなえる",
        "drill": "くんれん",
        "health": "けんこう",
        "childcare": "こそだて",
        "community": "まちの イベント",
        "culture": "ぶんか・スポーツ",
        "environment": "ごみ・かんきょう",
        "tax": "ぜいきん・とどけ",
    },
    "en": {
        "general": "Notice",
        "disaster": "Disaster preparedness",
        "drill": "Drill",
        "health": "Health & welfare",
        "childcare": "Childcare",
        "community": "Community",
        "culture": "Culture & sports",
        "environment": "Environment & waste",
        "tax": "Taxes & registration",
    },
    "zh-Hans": {
        "general": "通知",
        "disaster": "防灾",
        "drill": "演练",
        "health": "健康・福利",
        "childcare": "育儿",
        "community": "社区活动",
        "culture": "文化・体育",
        "environment": "环境・垃圾",
        "tax": "税务・申报",
    },
    "zh-Hant": {
        "general": "通知",
        "disaster": "防災",
        "drill": "演練",
        "health": "健康・福利",
        "childcare": "育兒",
        "community": "社區活動",
        "culture": "文化・體育",
        "environment": "環境・垃圾",
        "tax": "稅務・申報",
    },
    "ko": {
        "general": "안내",
        "disaster": "방재",
        "drill": "훈련",
        "health": "건강・복지",
        "childcare": "육아",
        "community": "지역 활동",
        "culture": "문화・스포츠",
        "environment": "환경・쓰레기",
        "tax": "세금・신고",
    },
}
EASY = "ja-x-easy"  # やさしい日本語
WORDS = {
    "ja": {
        "details": "詳しくはこちら",
        "when": "日時",
        "where": "会場",
        "level": "警戒レベル{n}",
        "emergency": "緊急",
        "drill": "訓練",
        "drill_note": "これは訓練です",
    },
    "ja-x-easy": {
        "details": "くわしく みる",
        "when": "いつ",
        "where": "どこ",
        "level": "けいかい レベル{n}",
        "emergency": "きんきゅう",
        "drill": "訓練 くんれん",
        "drill_note": "これは くんれん です",
    },
    "en": {
        "details": "Details",
        "when": "When",
        "where": "Where",
        "level": "Alert Level {n}",
        "emergency": "EMERGENCY",
        "drill": "訓練 EXERCISE",
        "drill_note": "This is a drill",
    },
    "zh-Hans": {
        "details": "详情",
        "when": "时间",
        "where": "地点",
        "level": "警戒级别{n}",
        "emergency": "紧急",
        "drill": "訓練 演练",
        "drill_note": "这是演练",
    },
    "zh-Hant": {
        "details": "詳情",
        "when": "時間",
        "where": "地點",
        "level": "警戒級別{n}",
        "emergency": "緊急",
        "drill": "訓練 演練",
        "drill_note": "這是演練",
    },
    "ko": {
        "details": "자세히 보기",
        "when": "일시",
        "where": "장소",
        "level": "경계 레벨 {n}",
        "emergency": "긴급",
        "drill": "訓練 훈련",
        "drill_note": "실제 상황이 아닙니다",
    },
}
# What an alert is, in words (never by colour alone): the kinds of items.ALERT_KINDS.
ALERT_KIND = {
    "ja": {
        "warning": "警報",
        "advisory": "注意報",
        "early_warning": "早期注意情報",
        "elderly_evacuation": "高齢者等避難",
        "evacuation_order": "避難指示",
        "emergency_safety": "緊急安全確保",
        "shelter_open": "避難所開設",
        "earthquake": "地震情報",
        "heavy_rain": "大雨情報",
        "power_outage": "停電情報",
        "cleared": "解除",
    },
    "ja-x-easy": {
        "warning": "けいほう（あぶない）",
        "advisory": "ちゅういほう（きを つけて）",
        "early_warning": "きを つけて ください",
        "elderly_evacuation": "おとしよりは にげて ください",
        "evacuation_order": "にげて ください（ひなん しじ）",
        "emergency_safety": "いのちを まもって ください",
        "shelter_open": "ひなんじょが あいて います",
        "earthquake": "じしん",
        "heavy_rain": "おおあめ",
        "power_outage": "ていでん",
        "cleared": "おわりました",
    },
    "en": {
        "warning": "Warning",
        "advisory": "Advisory",
        "early_warning": "Early warning",
        "elderly_evacuation": "Elderly and others evacuate",
        "evacuation_order": "Evacuation order",
        "emergency_safety": "Emergency: secure your safety",
        "shelter_open": "Shelter open",
        "earthquake": "Earthquake",
        "heavy_rain": "Heavy rain",
        "power_outage": "Power outage",
        "cleared": "Lifted",
    },
    "zh-Hans": {
        "warning": "警报",
        "advisory": "注意报",
        "early_warning": "早期注意信息",
        "elderly_evacuation": "老年人等避难",
        "evacuation_order": "避难指示",
        "emergency_safety": "紧急确保安全",
        "shelter_open": "避难所开设",
        "earthquake": "地震信息",
        "heavy_rain": "暴雨信息",
        "power_outage": "停电信息",
        "cleared": "解除",
    },
    "zh-Hant": {
        "warning": "警報",
        "advisory": "注意報",
        "early_warning": "早期注意資訊",
        "elderly_evacuation": "高齡者等避難",
        "evacuation_order": "避難指示",
        "emergency_safety": "緊急確保安全",
        "shelter_open": "避難所開設",
        "earthquake": "地震資訊",
        "heavy_rain": "豪雨資訊",
        "power_outage": "停電資訊",
        "cleared": "解除",
    },
    "ko": {
        "warning": "경보",
        "advisory": "주의보",
        "early_warning": "조기 주의 정보",
        "elderly_evacuation": "고령자 등 피난",
        "evacuation_order": "피난 지시",
        "emergency_safety": "긴급 안전 확보",
        "shelter_open": "대피소 개설",
        "earthquake": "지진 정보",
        "heavy_rain": "호우 정보",
        "power_outage": "정전 정보",
        "cleared": "해제",
    },
}
# 警戒レベル → the evacuation information or warning it stands for (内閣府 guideline).
LEVEL_KIND = {
    5: "emergency_safety",
    4: "evacuation_order",
    3: "elderly_evacuation",
    2: "advisory",
    1: "early_warning",
}
# The all-clear slide after an emergency ends (its title; the body names what ended).
CLEARED = {
    "ja": "解除されました",
    "ja-x-easy": "おわりました（解除）",
    "en": "Lifted: the emergency has ended",
    "zh-Hans": "已解除",
    "zh-Hant": "已解除",
    "ko": "해제되었습니다",
}
WEEKDAY = {
    "ja": "月火水木金土日",
    "ja-x-easy": tuple(f"{d}ようび" for d in ("げつ", "か", "すい", "もく", "きん", "ど", "にち")),
    "zh-Hans": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "zh-Hant": ("週一", "週二", "週三", "週四", "週五", "週六", "週日"),
    "ko": "월화수목금토일",
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
MONTH_EN = (
    "January February March April May June July August September October November December"
).split()


def words_lang(lang: str) -> str:
    """The label language for a slide language (unknown languages use Japanese)."""
    return lang if lang in WORDS else "ja"


def word(lang: str, key: str, **fmt: object) -> str:
    return WORDS[words_lang(lang)][key].format(**fmt)


def kind_label(item: Item, lang: str) -> str:
    """The slide's label: its category (防災, 子育て …), else its kind (お知らせ, イベント)."""
    lw = words_lang(lang)
    if item.category and item.category in CATEGORY[lw]:
        return CATEGORY[lw][item.category]
    return KIND[lw].get(item.kind, item.kind)


def alert_kind(item: Item) -> str | None:
    """What an alert is: as issued, else by its 警戒レベル, else by its CAP severity
    (Minor is an advisory, anything else a warning). ``None`` for notices and events."""
    if item.kind != "alert":
        return None
    if item.alert and item.alert.kind:
        return item.alert.kind
    level = item.alert.warning_level if item.alert else None
    if level in LEVEL_KIND:
        return LEVEL_KIND[level]
    if item.alert and item.alert.severity == "Minor":
        return "advisory"
    return "warning"


def alert_word(item: Item, lang: str) -> str | None:
    """The alert's kind in words in ``lang`` (警報, 避難指示, Evacuation order …)."""
    kind = alert_kind(item)
    return ALERT_KIND[words_lang(lang)][kind] if kind else None


def issuer_name(area: Area, lang: str) -> str:
    """The issuing office in ``lang``: 代沢まちづくりセンター, 代泽社区营造中心, 다이자와 마을만들기센터."""
    return office_name(area, lang)


def event_when(item: Item, lang: str) -> str | None:
    """The event's date and time in the ward's time, or ``None`` when it has no date."""
    if not item.event_starts_at:
        return None
    start = item.event_starts_at.astimezone(JST)
    end = item.event_ends_at.astimezone(JST) if item.event_ends_at else None
    lw = words_lang(lang)
    if lw == EASY:
        return _easy_when(start, end, item.all_day)
    dash = {"ja": "〜", "ko": "~"}.get(lw, "–")
    text = _date(start, lw)
    if end and end.date() != start.date():
        if item.all_day:
            return f"{text}{dash}{_date(end, lw)}"
        return f"{text} {_time(start)}{dash}{_date(end, lw)} {_time(end)}"
    if item.all_day:
        return text
    sep = ", " if lw == "en" else (" " if lw == "ko" else "")
    times = f"{_time(start)}{dash}{_time(end)}" if end else f"{_time(start)}{dash}"
    return f"{text}{sep}{times}"


def _date(dt: datetime, lw: str) -> str:
    wd = WEEKDAY.get(lw, WEEKDAY["ja"])[dt.weekday()]
    if lw == "en":
        return f"{wd} {dt.day} {MONTH_EN[dt.month - 1]}"
    if lw == "ko":
        return f"{dt.month}월 {dt.day}일({wd})"
    return f"{dt.month}月{dt.day}日（{wd}）"


def _easy_when(start: datetime, end: datetime | None, all_day: bool) -> str:
    """「12がつ 5にち（どようび） ごぜん 10じ から ごご 1じ まで」: no 〜, no 24-hour clock;
    a time and its から/まで hold together (no-break spaces)."""
    text = _easy_date(start)
    if end and end.date() != start.date():
        if all_day:
            return f"{text} から {_easy_date(end)} まで"
        return f"{text} {_easy_time(start)}\u00a0から {_easy_date(end)} {_easy_time(end)}\u00a0まで"
    if all_day:
        return text
    return f"{text} {_easy_time(start)}\u00a0から" + (
        f" {_easy_time(end)}\u00a0まで" if end else ""
    )


def _easy_date(dt: datetime) -> str:
    return f"{dt.month}がつ\u00a0{dt.day}にち（{WEEKDAY[EASY][dt.weekday()]}）"


def _easy_time(dt: datetime) -> str:
    """ごぜん 9じ 30ぷん, ひる 12じ, ごご 1じ (minutes read ふん or ぷん as they are said)."""
    half = "ごぜん" if dt.hour < 12 else ("ひる" if dt.hour == 12 else "ごご")
    text = f"{half}\u00a0{dt.hour if dt.hour == 12 else dt.hour % 12}じ"
    if dt.minute:
        text += f"\u00a0{dt.minute}{'ぷん' if dt.minute % 10 in (0, 1, 3, 4, 6, 8) else 'ふん'}"
    return text


def _time(dt: datetime) -> str:
    return f"{dt.hour}:{dt.minute:02d}"  # 9:30, as Japanese notices write it
