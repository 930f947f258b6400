"""CAP ``<area>`` → area codes of the tree, or nothing (the alert is then held for review).

An alert applies only where its areas say, inside the ward. For each ``<area>``:

1. a ``<geocode>`` value the ward declares (``displays/cap.toml`` ``cap_geocodes``, and the
   ward's JIS X 0402 code ``131121`` or its first five digits ``13112``) means that area;
   a geocode of any other place means nothing here;
2. otherwise ``areaDesc`` is matched against the tree's names, longest first so 上北沢 is
   never read as 北沢: 「代沢地区」「代沢まちづくりセンター」 → the district, 「北沢地域」
   「北沢総合支所」 → the region, 「世田谷区」「区内全域」 → the ward. Names shared by a region
   and a district (北沢, 砧, 烏山) mean the district unless 地域/総合支所 follows. Within one
   areaDesc the most specific match wins (「世田谷区代沢地区」 is Daizawa, not the ward).
   A name counts only when it is unambiguously this ward's:

   - a description that names another prefecture (大阪府, 北海道, …) or, outside the ward's
     own names, any municipality (…市, …区, …町, …村, …郡) matches nothing: 「大阪府松原市」
     is not Matsubara and 「北海道札幌市北区北沢」 is not Kitazawa;
   - a bare district name (「代沢」, as in 代沢五丁目) counts only when qualified by
     東京都/世田谷区 or sent by a sender the ward trusts (``trusted_cap_senders``).

No match at all returns no targets: the caller holds the message for review.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from publisher.areas import AreaTree

# Another place's name: a prefecture, or a municipality marker left once our names are removed.
_PREFECTURE = re.compile(r"北海道|京都府|大阪府|.{2,3}?県")
_MUNICIPALITY = re.compile(r"[市区町村郡都道府県]")


def _patterns(tree: AreaTree) -> tuple[re.Pattern[str], dict[str, str], re.Pattern[str]]:
    names: dict[str, str] = {}
    ward = tree.ward
    for suffix in ("区内全域", "区全域", "全域", "区内", "区"):
        names[ward.name + suffix] = ward.code
    names["区内全域"] = ward.code
    for area in tree.tier("region"):
        for suffix in ("地域", "総合支所", "総合支所管内"):
            names[area.name + suffix] = area.code
    for area in tree.tier("district"):
        for suffix in ("地区", "まちづくりセンター", "まちづくりセンター管内", ""):
            names[area.name + suffix] = area.code
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    qualifier = re.compile(rf"(?:東京都)?{re.escape(ward.name)}区")
    return re.compile(alternation), names, qualifier


_CACHE: dict[int, tuple[re.Pattern[str], dict[str, str], re.Pattern[str]]] = {}


def _normal(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def match_desc(tree: AreaTree, desc: str, *, trusted: bool = True) -> list[str]:
    """The areas an ``areaDesc`` names (most specific matches only); [] when the text names
    another place or, from an untrusted sender, only bare district names."""
    key = id(tree)
    if key not in _CACHE:
        _CACHE[key] = _patterns(tree)
    pattern, names, qualifier = _CACHE[key]
    text = _normal(desc)
    if _PREFECTURE.search(text.replace("東京都", "")):
        return []
    matches = list(pattern.finditer(text))
    residue = pattern.sub("", text)
    if _MUNICIPALITY.search(residue.replace("東京都", "", 1)):
        return []
    qualified = bool(qualifier.search(text))
    found: list[str] = []
    for m in matches:
        code = names[m.group(0)]
        bare = m.group(0) == tree.get(code).name and tree.get(code).tier == "district"
        if bare and not (qualified or trusted):
            continue
        found.append(code)
    found = list(dict.fromkeys(found))
    # drop a match that encloses another (the ward in 世田谷区代沢地区)
    return [c for c in found if not any(o != c and tree.within(o, c) for o in found)]


def match_geocode(tree: AreaTree, values: Iterable[str]) -> list[str]:
    """The areas the ward's declared geocodes name (other places' codes mean nothing)."""
    found = []
    for value in values:
        code = tree.cap_geocodes.get(unicodedata.normalize("NFKC", value).strip())
        if code:
            found.append(code)
    return list(dict.fromkeys(found))


def map_areas(
    tree: AreaTree, areas: Iterable[tuple[str, list[str]]], *, trusted: bool = True
) -> tuple[str, ...]:
    """``[(areaDesc, [geocode values])]`` → target codes; () when nothing is in the ward."""
    codes: list[str] = []
    for desc, geocodes in areas:
        codes.extend(match_geocode(tree, geocodes) or match_desc(tree, desc, trusted=trusted))
    codes = list(dict.fromkeys(codes))
    # a ward- or region-wide area makes the districts inside it redundant
    return tuple(c for c in codes if not any(o != c and tree.within(c, o) for o in codes))
