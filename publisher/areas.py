"""The area tree: the ward, its regions and districts, and the screens in their lobbies.

Loaded from ``displays/*.toml`` (see ``displays/setagaya.toml``). Codes are paths because names
repeat across tiers: ``setagaya`` (ward), ``setagaya/kitazawa`` (region),
``setagaya/kitazawa/daizawa`` (district).

Targeting inherits downwards: an item targeted at an area is seen there and in every area below
it. Two questions follow, both answered here without a database:

- :meth:`AreaTree.lineage` — whose items does this area see? (itself and its ancestors)
- :meth:`AreaTree.audience` — who sees an item targeted here? (itself and its descendants)
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from publisher import toml_fields as fields
from publisher.errors import ConfigError, NotFound, PublisherError, did_you_mean
from publisher.hours import ALWAYS, Hours, read_hours
from publisher.population import Population, read_population

TIERS = ("ward", "region", "district")
DELIVERIES = ("pull", "http", "folder")
LANGUAGES = {
    "ja": "日本語",
    "ja-x-easy": "やさしい日本語",
    "en": "English",
    "zh-Hans": "简体中文",
    "zh-Hant": "繁體中文",
    "ko": "한국어",
}
# A screen that does not say how big it is or from how far it is read: a 43" lobby panel read
# from 4 m, the common case in the ward's centers (docs: displays/setagaya.toml's header).
DEFAULT_DIAGONAL_IN = 43.0
DEFAULT_VIEWING_DISTANCE_M = 4.0
_SIZE = re.compile(r"^(\d{3,5})x(\d{3,5})$")
# An area's own names beyond ``name`` (ja) and ``name_en``: its ``names`` table (area_names.py).
OWN_NAME_LANGUAGES = ("zh-Hans", "zh-Hant", "ko")
_AREA_KEYS = {
    "region": {"name", "name_en", "names"},
    "district": {"region", "name", "name_en", "names"},
}


@dataclass(frozen=True)
class Area:
    code: str
    name: str  # 代沢
    tier: str  # ward | region | district
    name_en: str = ""
    parent: str | None = None
    children: tuple[str, ...] = ()
    names: tuple[tuple[str, str], ...] = ()  # (language, name): 代泽, 다이자와 (area_names.py)

    @property
    def display_name(self) -> str:
        """The issuing office as residents know it: 世田谷区, 北沢総合支所, 代沢まちづくりセンター."""
        return (
            self.name
            + {"ward": "区", "region": "総合支所", "district": "まちづくりセンター"}[self.tier]
        )

    @property
    def short_name(self) -> str:
        """The area itself: 世田谷区, 北沢地域, 代沢地区 (used in hashtags and CAP areaDesc)."""
        return self.name + {"ward": "区", "region": "地域", "district": "地区"}[self.tier]

    @property
    def display_name_en(self) -> str:
        suffix = {"ward": " City", "region": " Branch Office", "district": " District Center"}
        return (self.name_en or self.code.rsplit("/", 1)[-1].title()) + suffix[self.tier]


def _names_of(area: Area) -> set[str]:
    """Every way a person may name ``area``, case-folded."""
    names = {
        area.code.rsplit("/", 1)[-1],
        area.name,
        area.short_name,
        area.display_name,
        area.name_en,
        area.display_name_en,
    }
    return {n.casefold() for n in names if n}


@dataclass(frozen=True)
class Screen:
    id: str
    area: str
    width: int
    height: int
    location: str
    languages: tuple[str, ...] = ("ja",)
    delivery: str = "pull"
    endpoint: str | None = None
    folder: str | None = None
    audio: bool = True  # the screen has a speaker: emergencies chime and speak
    volume: float = 0.8  # 0.0–1.0, of the player's output
    diagonal_in: float = DEFAULT_DIAGONAL_IN  # the panel's diagonal, inches
    viewing_distance_m: float = DEFAULT_VIEWING_DISTANCE_M  # where people typically stand
    hours: Hours = ALWAYS  # when it is meant to be on (hours.py)

    @property
    def orientation(self) -> str:
        return "portrait" if self.height > self.width else "landscape"

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


@dataclass
class AreaTree:
    areas: dict[str, Area]
    screens: dict[str, Screen]
    ward_code: str
    jis_code: str = ""
    sources: tuple[Path, ...] = field(default=())
    # CAP (displays/cap.toml): geocode value → area code, and senders whose bare names count
    cap_geocodes: dict[str, str] = field(default_factory=dict)
    trusted_cap_senders: frozenset[str] = frozenset()
    # displays/population.toml: residents per area, and where the figures come from
    population: Population | None = None

    # -- lookups -----------------------------------------------------------------------------

    def get(self, code: str) -> Area:
        try:
            return self.areas[code]
        except KeyError:
            raise NotFound(f"unknown area '{code}'{did_you_mean(code, self.areas)}") from None

    def resolve(self, text: str, flag: str = "") -> str:
        """The area code for what a person typed: a code, or a district's or region's own code
        (``daizawa``), Japanese name (``代沢``, ``代沢地区``, ``代沢まちづくりセンター``) or English
        name (``Daizawa``) when only one area has it. ``flag`` names the option in errors."""
        text = text.strip()
        if text in self.areas:
            return text
        key = text.casefold()
        found = [a.code for a in self.areas.values() if key in _names_of(a)]
        where = f"{flag}: " if flag else ""
        if len(found) == 1:
            return found[0]
        if found:
            choices = ", ".join(f"'{c}' ({self.areas[c].short_name})" for c in found)
            raise PublisherError(f"{where}'{text}' is more than one area: {choices}; give its code")
        leaves = [a.code.rsplit("/", 1)[-1] for a in self.areas.values()]
        names = [n for a in self.areas.values() for n in (a.name, a.name_en) if n]
        raise NotFound(
            f"{where}unknown area '{text}'{did_you_mean(text, [*self.areas, *leaves, *names])}"
        )

    def __contains__(self, code: object) -> bool:
        return code in self.areas

    def __iter__(self) -> Iterator[Area]:
        return iter(self.areas.values())

    @property
    def ward(self) -> Area:
        return self.areas[self.ward_code]

    def tier(self, tier: str) -> list[Area]:
        return [a for a in self.areas.values() if a.tier == tier]

    def screen(self, screen_id: str) -> Screen:
        try:
            return self.screens[screen_id]
        except KeyError:
            raise NotFound(
                f"unknown screen '{screen_id}'{did_you_mean(screen_id, self.screens)}"
            ) from None

    # -- inheritance -------------------------------------------------------------------------

    def ancestors(self, code: str) -> list[str]:
        """Parents up to the ward, nearest first (not the area itself)."""
        out, area = [], self.get(code)
        while area.parent:
            out.append(area.parent)
            area = self.areas[area.parent]
        return out

    def descendants(self, code: str) -> list[str]:
        """Every area below, depth first (not the area itself)."""
        out: list[str] = []
        for child in self.get(code).children:
            out.append(child)
            out.extend(self.descendants(child))
        return out

    def lineage(self, code: str) -> list[str]:
        """The areas whose items are seen in ``code``: itself, then its ancestors."""
        return [code, *self.ancestors(code)]

    def audience(self, code: str) -> list[str]:
        """The areas that see an item targeted at ``code``: itself and its descendants."""
        return [code, *self.descendants(code)]

    def within(self, code: str, scope: str) -> bool:
        """Is ``code`` the scope area or below it?"""
        return code == scope or scope in self.ancestors(code)

    def screens_in(self, codes: Iterable[str]) -> list[Screen]:
        """Screens placed in any of ``codes`` (pass an audience to get every screen that sees it)."""
        wanted = set(codes)
        return [s for s in self.screens.values() if s.area in wanted]

    def issuer(self, targets: Iterable[str]) -> Area:
        """The office that speaks for an item: the nearest area enclosing all its targets."""
        paths = [self.lineage(t)[::-1] for t in targets]
        if not paths:
            return self.ward
        common = self.ward_code
        for level in zip(*paths, strict=False):
            if len(set(level)) != 1:
                break
            common = level[0]
        return self.areas[common]

    def as_json(self, code: str | None = None) -> dict:
        area = self.get(code or self.ward_code)
        return {
            "code": area.code,
            "name": area.name,
            "name_en": area.name_en,
            "names": dict(area.names),
            "display_name": area.display_name,
            "tier": area.tier,
            "children": [self.as_json(c) for c in area.children],
        }


# -- loading ---------------------------------------------------------------------------------


def load_tree(displays_dir: Path) -> AreaTree:
    """Read and validate every ``*.toml`` under ``displays_dir``."""
    files = sorted(Path(displays_dir).glob("*.toml"))
    if not files:
        raise ConfigError(f"no *.toml file in {displays_dir}: nothing to publish to")
    docs = []
    for path in files:
        try:
            docs.append((path, tomllib.loads(path.read_text(encoding="utf-8"))))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from None
        except UnicodeDecodeError as e:
            raise ConfigError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    wards = [(p, d) for p, d in docs if "ward" in d]
    if len(wards) != 1:
        names = ", ".join(str(p) for p, _ in wards) or "none"
        raise ConfigError(f"{displays_dir}: exactly one file must declare [ward]; found {names}")
    return _build(wards[0][0], wards[0][1], [(p, d) for p, d in docs if "ward" not in d])


def _build(path: Path, doc: dict, extra: list[tuple[Path, dict]]) -> AreaTree:
    known = {"ward", "regions", "districts", "screens", "cap", "population"}
    for p, d in [(path, doc), *extra]:
        for key in d:
            if key not in known:
                raise ConfigError(f"{p}: unknown table [{key}]{did_you_mean(key, known)}")

    ward = fields.table(path, doc, "ward")
    ward_code = fields.code(path, "ward.code", ward.get("code"))
    name = fields.text(path, "ward.name", ward.get("name"))
    areas: dict[str, Area] = {}
    children: dict[str, list[str]] = {ward_code: []}

    regions = fields.table(path, doc, "regions", required=False)
    for key, region in regions.items():
        where = f"regions.{key}"
        fields.code(path, where, key)
        code = f"{ward_code}/{key}"
        areas[code] = Area(
            code,
            fields.text(path, f"{where}.name", region.get("name")),
            "region",
            str(region.get("name_en", "")),
            ward_code,
            names=_own_names(path, where, region, "region"),
        )
        children[ward_code].append(code)
        children[code] = []

    district_docs = [(path, fields.table(path, doc, "districts", required=False))]
    district_docs += [(p, fields.table(p, d, "districts", required=False)) for p, d in extra]
    seen: dict[str, Path] = {}
    for p, districts in district_docs:
        for key, district in districts.items():
            where = f"districts.{key}"
            fields.code(p, where, key)
            if key in seen:
                raise ConfigError(f"{p}: {where} is declared twice (also in {seen[key]})")
            seen[key] = p
            region_key = district.get("region")
            if not region_key:
                raise ConfigError(f'{p}: {where} has no region (add region = "...")')
            if region_key not in regions:
                raise ConfigError(
                    f"{p}: district '{key}' names unknown region '{region_key}'"
                    f"{did_you_mean(str(region_key), regions)}"
                )
            parent = f"{ward_code}/{region_key}"
            code = f"{parent}/{key}"
            areas[code] = Area(
                code,
                fields.text(p, f"{where}.name", district.get("name")),
                "district",
                str(district.get("name_en", "")),
                parent,
                names=_own_names(p, where, district, "district"),
            )
            children[parent].append(code)

    ward_names = tuple(fields.names(path, "ward", ward, OWN_NAME_LANGUAGES).items())
    areas[ward_code] = Area(
        ward_code, name, "ward", str(ward.get("name_en", "")), None, names=ward_names
    )
    areas = {
        code: replace(a, children=tuple(children.get(code, ())))
        for code, a in sorted(areas.items(), key=lambda kv: kv[0].count("/"))
    }

    screens: dict[str, Screen] = {}
    ward_hours = read_hours(path, "ward", ward)
    for p, d in [(path, doc), *extra]:
        for i, raw in enumerate(d.get("screens", []), start=1):
            screen = _screen(p, i, raw, areas, ward_hours)
            if screen.id in screens:
                raise ConfigError(f"{p}: screens[{i}] id '{screen.id}' is used twice")
            screens[screen.id] = screen
    jis = str(ward.get("jis_code", ""))
    geocodes, trusted = _cap_tables([(path, doc), *extra], areas, ward_code, jis)
    return AreaTree(
        areas,
        screens,
        ward_code,
        jis,
        tuple(p for p, _ in [(path, doc), *extra]),
        geocodes,
        trusted,
        read_population([(path, doc), *extra], areas),
    )


def _own_names(path: Path, where: str, raw: object, tier: str) -> tuple[tuple[str, str], ...]:
    """A region's or district's ``names`` table, after checking the table has no unknown key."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [{where}] must be a table")
    unknown = sorted(set(raw) - _AREA_KEYS[tier])
    if unknown:
        raise ConfigError(
            f"{path}: {where} has unknown key '{unknown[0]}'{did_you_mean(unknown[0], _AREA_KEYS[tier])}"
        )
    return tuple(fields.names(path, where, raw, OWN_NAME_LANGUAGES).items())


def _cap_tables(
    docs: list[tuple[Path, dict]], areas: dict[str, Area], ward_code: str, jis: str
) -> tuple[dict[str, str], frozenset[str]]:
    """``[cap]``: ``trusted_cap_senders`` (list) and ``[cap.cap_geocodes]`` (area code → codes).
    The ward's ``jis_code`` (and its first five digits) always mean the ward."""
    geocodes = {jis: ward_code, jis[:5]: ward_code} if jis else {}
    trusted: set[str] = set()
    for p, d in docs:
        cap = fields.table(p, d, "cap", required=False)
        unknown = set(cap) - {"trusted_cap_senders", "cap_geocodes"}
        if unknown:
            raise ConfigError(f"{p}: [cap] has unknown key(s) {', '.join(sorted(unknown))}")
        senders = cap.get("trusted_cap_senders", [])
        if not isinstance(senders, list) or not all(isinstance(s, str) and s for s in senders):
            raise ConfigError(f"{p}: cap.trusted_cap_senders must be a list of sender strings")
        trusted.update(s.strip() for s in senders)
        for code, values in fields.table(p, cap, "cap_geocodes", required=False).items():
            if code not in areas:
                raise ConfigError(
                    f"{p}: cap.cap_geocodes names unknown area '{code}'{did_you_mean(code, areas)}"
                )
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ConfigError(f'{p}: cap.cap_geocodes."{code}" must be a list of strings')
            for value in values:
                if geocodes.get(value.strip(), code) != code:
                    raise ConfigError(
                        f"{p}: cap.cap_geocodes: code {value!r} is given to both "
                        f"'{geocodes[value.strip()]}' and '{code}'"
                    )
                geocodes[value.strip()] = code
    return geocodes, frozenset(trusted)


def _screen(
    path: Path, index: int, raw: dict, areas: dict[str, Area], hours: Hours = ALWAYS
) -> Screen:
    where = f"screens[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: {where} must be a table ([[screens]])")
    sid = raw.get("id")
    if not isinstance(sid, str) or not fields.CODE.match(sid):
        raise ConfigError(
            f"{path}: {where}.id must be lower-case letters, digits and '-' (got {sid!r})"
        )
    where = f"screen '{sid}'"
    area = raw.get("area")
    if area not in areas:
        raise ConfigError(
            f"{path}: {where} is on unknown area '{area}'{did_you_mean(str(area), areas)}"
        )
    m = _SIZE.match(str(raw.get("size", "")))
    if not m:
        raise ConfigError(
            f"{path}: {where} size must look like \"1920x1080\" (got {raw.get('size')!r})"
        )
    langs = check_languages(raw.get("languages", ["ja"]), f"{path}: {where}.languages")
    delivery = raw.get("delivery", "pull")
    if delivery not in DELIVERIES:
        raise ConfigError(
            f"{path}: {where} delivery must be one of {', '.join(DELIVERIES)} (got {delivery!r})"
        )
    endpoint = str(raw.get("endpoint", ""))
    if delivery == "http" and not endpoint.startswith(("http://", "https://", "/demo/players/")):
        raise ConfigError(
            f'{path}: {where} has delivery "http" but no http(s) endpoint '
            "(or /demo/players/<id>, the demo's player inside the publisher)"
        )
    if delivery == "folder" and not raw.get("folder"):
        raise ConfigError(f'{path}: {where} has delivery "folder" but no folder')
    unknown = set(raw) - {
        "id",
        "area",
        "size",
        "location",
        "languages",
        "delivery",
        "endpoint",
        "folder",
        "audio",
        "volume",
        "diagonal_in",
        "viewing_distance_m",
        "hours",
        "closed",
    }
    if unknown:
        raise ConfigError(f"{path}: {where} has unknown key(s) {', '.join(sorted(unknown))}")
    audio = raw.get("audio", True)
    if not isinstance(audio, bool):
        raise ConfigError(f"{path}: {where} audio must be true or false (got {audio!r})")
    volume = raw.get("volume", 0.8)
    if isinstance(volume, bool) or not isinstance(volume, int | float) or not 0 <= volume <= 1:
        raise ConfigError(f"{path}: {where} volume must be a number from 0 to 1 (got {volume!r})")
    diagonal = fields.positive(path, where, raw, "diagonal_in", DEFAULT_DIAGONAL_IN, 10, 200)
    distance = fields.positive(
        path, where, raw, "viewing_distance_m", DEFAULT_VIEWING_DISTANCE_M, 0.5, 50
    )
    return Screen(
        sid,
        area,
        int(m[1]),
        int(m[2]),
        str(raw.get("location", "")),
        tuple(langs),
        delivery,
        raw.get("endpoint"),
        raw.get("folder"),
        audio,
        float(volume),
        diagonal,
        distance,
        read_hours(path, where, raw, hours),
    )


def check_languages(value: object, where: str) -> tuple[str, ...]:
    """A non-empty list of known language codes, or a ConfigError saying ``where``."""
    if not isinstance(value, list) or not value:
        raise ConfigError(f'{where} must be a non-empty list like ["ja", "en"]')
    for lang in value:
        if lang not in LANGUAGES:
            raise ConfigError(
                f"{where}: unknown language {lang!r}{did_you_mean(str(lang), LANGUAGES)}"
            )
    return tuple(value)
