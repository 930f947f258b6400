"""Area and office names in the residents' six languages: the one answer to "what is this area,
or its office, called in language L" (pages, feeds, slides, posters, bulletins, notifications).

Names are data the ward edits (``displays/*.toml``): each area's ``name`` (Japanese),
``name_en``, and an optional ``names`` table with its own ``zh-Hans``, ``zh-Hant`` and ``ko``
names (``代泽``, ``代澤``, ``다이자와``), checked by :func:`publisher.toml_fields.names`. The words
around a name (地区, District Center, 社区营造中心, 마을만들기센터) are the residents' message
catalogues' (``templates/public/messages/<lang>.toml``: ``area_<tier>``, ``office_<tier>``),
read here, below ``web/``, because slides and paper say them too.

A language the area has no name in falls back (:data:`FALLBACK`): Chinese to the Japanese
kanji name (Chinese readers read the kanji), Korean and English to ``name_en`` (or the code's
last part, capitalised), やさしい日本語 to the Japanese name (pages and paper add furigana
where they ruby-fy).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from publisher.areas import Area

CATALOGUE_DIR = Path(__file__).parent / "templates" / "public" / "messages"
# Where a name missing in a language comes from: "ja" the kanji name, "en" the English one.
FALLBACK = {"ja": "ja", "ja-x-easy": "ja", "zh-Hans": "ja", "zh-Hant": "ja", "en": "en", "ko": "en"}


@lru_cache(maxsize=1)
def catalogues() -> dict[str, dict[str, str]]:
    """Every language's messages (the residents' wording), read from :data:`CATALOGUE_DIR` once."""
    out = {}
    for lang in FALLBACK:
        with (CATALOGUE_DIR / f"{lang}.toml").open("rb") as f:
            out[lang] = {str(k): str(v) for k, v in tomllib.load(f).items()}
    return out


def name(area: Area, lang: str) -> str:
    """The area's own name in ``lang``: 代沢, 代泽, 代澤, 다이자와, Daizawa."""
    own = dict(area.names).get(lang)
    if own:
        return own
    if FALLBACK.get(lang, "ja") == "en":
        return area.name_en or area.code.rsplit("/", 1)[-1].title()
    return area.name


def area_name(area: Area, lang: str) -> str:
    """The area itself: 代沢地区, Daizawa District, 代泽地区, 다이자와 지구, 世田谷区 …"""
    return catalogues()[lang][f"area_{area.tier}"].format(name=name(area, lang))


def office_name(area: Area, lang: str) -> str:
    """Who issues: 代沢まちづくりセンター, Daizawa District Center, 代澤社區營造中心,
    다이자와 마을만들기센터, 北泽综合支所, 세타가야구 …"""
    return catalogues()[lang][f"office_{area.tier}"].format(name=name(area, lang))
