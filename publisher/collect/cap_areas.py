"""CAP ``<area>`` → area codes of the tree.

Rules, in order, for each ``<area>``:

1. a ``<geocode>`` whose value is the ward's JIS X 0402 code (``tree.jis_code``, 131121 for
   Setagaya, or its first five digits) means the whole ward;
2. ``areaDesc`` is matched against the tree's names, longest name first so 上北沢 is never read
   as 北沢: 「代沢地区」「代沢まちづくりセンター」 → the district, 「北沢地域」「北沢総合支所」
   → the region, 「世田谷区」「区内全域」 → the ward, and a bare district name 「代沢」
   (as in 代沢五丁目) → the district. Names shared by a region and a district (北沢, 砧, 烏山)
   mean the district unless 地域/総合支所 follows. Within one areaDesc the most specific match
   wins (「世田谷区代沢地区」 is Daizawa, not the whole ward);
3. if no ``<area>`` of the message can be mapped, the alert goes to the whole ward and is
   flagged ``needs_review`` for staff.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from publisher.areas import AreaTree


def _patterns(tree: AreaTree) -> tuple[re.Pattern[str], dict[str, str]]:
    names: dict[str, str] = {}
    ward = tree.ward
    for suffix in ("区内全域", "区全域", "全域"):
        names[ward.name + suffix] = ward.code
    names["区内全域"] = ward.code
    names[ward.name + "区"] = ward.code
    for area in tree.tier("region"):
        for suffix in ("地域", "総合支所", "総合支所管内"):
            names[area.name + suffix] = area.code
    for area in tree.tier("district"):
        for suffix in ("地区", "まちづくりセンター", "まちづくりセンター管内", ""):
            names[area.name + suffix] = area.code
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(alternation), names


_CACHE: dict[int, tuple[re.Pattern[str], dict[str, str]]] = {}


def match_desc(tree: AreaTree, desc: str) -> list[str]:
    """The areas an ``areaDesc`` names (most specific matches only)."""
    key = id(tree)
    if key not in _CACHE:
        _CACHE[key] = _patterns(tree)
    pattern, names = _CACHE[key]
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", desc))
    found = list(dict.fromkeys(names[m.group(0)] for m in pattern.finditer(text)))
    # drop a match that encloses another (the ward in 世田谷区代沢地区)
    return [c for c in found if not any(o != c and tree.within(o, c) for o in found)]


def match_geocode(tree: AreaTree, values: Iterable[str]) -> list[str]:
    jis = tree.jis_code
    if not jis:
        return []
    for value in values:
        v = unicodedata.normalize("NFKC", value).strip()
        if v == jis or (len(v) == 5 and jis.startswith(v)):
            return [tree.ward_code]
    return []


def map_areas(
    tree: AreaTree, areas: Iterable[tuple[str, list[str]]]
) -> tuple[tuple[str, ...], bool]:
    """``[(areaDesc, [geocode values])]`` → (target codes, needs_review)."""
    codes: list[str] = []
    for desc, geocodes in areas:
        codes.extend(match_geocode(tree, geocodes) or match_desc(tree, desc))
    codes = list(dict.fromkeys(codes))
    if not codes:
        return (tree.ward_code,), True
    # a ward- or region-wide area makes the districts inside it redundant
    codes = [c for c in codes if not any(o != c and tree.within(c, o) for o in codes)]
    return tuple(codes), False
