"""Kind ``jma``: the weather agency's disaster-information XML (気象庁防災情報XML).

A source of this kind reads either one message (``<Report>``) or an Atom feed of the agency's
PULL service that lists each message's URL (:mod:`publisher.collect.jma_feed` fetches the feed
with conditional GET and each new message once). Parsed with defusedxml: a DTD or entities are
refused, as for CAP.

Which messages concern the ward is data: ``[ward.jma]`` in ``displays/`` (see
:mod:`publisher.collect.jma_words`). A message that names none of the ward's codes creates
nothing. The types read, and what each becomes (one alert item per *series*, "the same kind of
information for the same area"):

=========  ===========================  ====================================================
VPWW53/54  気象特別警報・警報・注意報    series ``warnings:<municipality>``: the ward's current
                                        warnings and advisories; all 解除 → withdrawn
VXSE51     震度速報                      series ``quake:<EventID>``: 東京都２３区's intensity
VXSE53     震源・震度に関する情報        same series: the ward's own (City) intensity; 4 →
                                        high, 5弱 and above → emergency; below 4 → nothing
                                        (and withdraws the 震度速報's item)
VPHW51     竜巻注意情報                  series ``tornado:<area>``, until its ValidDateTime
VXWW50     土砂災害警戒情報              series ``landslide:<municipality>``; 解除 → withdrawn
VXKOnn     指定河川洪水予報              series ``flood:<river>`` for the rivers the ward
                                        declares; 解除 → withdrawn
VPOA50     記録的短時間大雨情報          its own item, shown for ``display.record_rain_minutes``
=========  ===========================  ====================================================

Life cycle from the agency's fields: a later message of a series replaces the earlier one
(upgraded, continued, downgraded, 訂正: one item, a new revision); 解除 and InfoType 取消
withdraw it everywhere (:func:`publisher.collect.run.store_series`). ``Control/Status`` 訓練 or
試験 makes a drill (its own series, marked 訓練 on every channel); anything but 通常 / 訓練 /
試験 is refused.

Warning level (警戒レベル相当, the Cabinet Office's guideline) and tier come from the vocabulary;
priority: 特別警報, level 4 and above, and 震度5弱 and above → ``emergency`` (pre-empts every
screen in the ward); warnings, level 3 and 震度4 → ``high``; advisories → ``normal``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from xml.etree.ElementTree import Element

from publisher.areas import AreaTree
from publisher.collect import jma_feed
from publisher.collect.base import Entry, Skipped, Source, clip, tidy
from publisher.collect.jma_words import Vocabulary, WardCodes, vocabulary, ward_codes
from publisher.collect.jma_xml import NS, SOURCE_PREFIX, code_of, parse_document
from publisher.collect.jma_xml import find as _find
from publisher.collect.jma_xml import find_all as _all
from publisher.collect.jma_xml import local as _local
from publisher.collect.jma_xml import parse_time as _time
from publisher.collect.jma_xml import raw as _raw
from publisher.collect.jma_xml import text as _text
from publisher.errors import PublisherError
from publisher.items import BODY_MAX_CHARS, JST, TITLE_MAX_CHARS, AlertInfo

STATUSES = {"通常": "Actual", "訓練": "Exercise", "試験": "Test"}
INFO_TYPES = ("発表", "訂正", "取消")
LIFTED = ("解除", "発表警報・注意報はなし", "なし")
INTENSITY_ORDER = ("1", "2", "3", "4", "5-", "5+", "6-", "6+", "7")


@dataclass
class Finding:
    """What one message says about the ward."""

    series: str
    kinds: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (name, conditions)
    lift: bool = False
    fresh: bool = True  # no kind continues an earlier one: a new episode may start
    intensity: str | None = None
    area_only: bool = False  # 震度速報: the 23 wards' intensity, not the ward's own
    place: str | None = None  # a river
    ends_at: datetime | None = None
    action: str | None = None


class JmaCollector:
    def fetch(self, source: Source, http: Any) -> bytes:
        return jma_feed.fetch(source, http)

    def parse(
        self, source: Source, data: bytes, tree: AreaTree, now: datetime
    ) -> Iterator[Entry | Skipped]:
        messages = jma_feed.unbundle(data)
        if messages is None:  # one message: a bad one fails the run, as for CAP
            yield parse_message(source, data, tree, source.location)
            return
        for location, body, error in messages:
            if error is not None:
                yield Skipped(location, error)
                continue
            try:
                yield parse_message(source, body, tree, location)
            except PublisherError as e:  # one bad message never stops the feed
                yield Skipped(location, str(e).removeprefix(location + ": "))

    def after_run(self, source: Source, ok: bool) -> None:
        jma_feed.after_run(source, ok)


def parse_message(source: Source, data: bytes, tree: AreaTree, where: str) -> Entry | Skipped:
    """One message → an entry for the ward, or why it creates nothing. Raises PublisherError
    (where, data type code, why) for a message that cannot be read."""
    root = parse_document(data, where)
    if _local(root.tag) != "Report" or not root.tag.startswith("{" + NS):
        raise PublisherError(
            f"{where}: not a JMA disaster-information message: the root is "
            f'<{_local(root.tag)}>, expected <Report xmlns="{NS}">'
        )
    title = _text(root, "Control/Title")
    code = code_of(where, title)
    at = f"{where}: {code}"
    if code == "unknown type":
        raise PublisherError(f"{where}: unknown data type (Control/Title {title!r})")
    status = _text(root, "Control/Status")
    if status not in STATUSES:
        raise PublisherError(f"{at}: Control/Status {status!r} is not 通常, 訓練 or 試験")
    head = _find(root, "Head")
    info_type = _text(head, "InfoType")
    if info_type not in INFO_TYPES:
        raise PublisherError(f"{at}: Head/InfoType {info_type!r} is not 発表, 訂正 or 取消")
    reported = _raw(head, "ReportDateTime")
    if not reported:
        raise PublisherError(f"{at}: Head/ReportDateTime is required")
    report_time = _time(reported, "ReportDateTime", at)
    ward = ward_codes(tree)
    body = _find(root, "Body")
    finding = _finding(code, root, head, body, ward, at)
    label = f"{where.rsplit('/', 1)[-1]} ({code})"
    if finding is None:
        return Skipped(label, f"names none of the ward's codes ({ward.describe()})")
    drill = status != "通常"
    if drill:
        finding.series = "drill:" + finding.series
    alert = AlertInfo(
        cap_status=STATUSES[status],
        msg_type={"発表": "Alert", "訂正": "Update", "取消": "Cancel"}[info_type],
        identifier=finding.series[:300],
        sender=(_raw(root, "Control/PublishingOffice") or "気象庁")[:300],
        sent=report_time,
    )
    external = f"{finding.series}#{report_time.astimezone(JST):%Y%m%dT%H%M%S}"
    if info_type == "取消" or finding.lift:
        return Entry(external, label, {}, alert=alert, cancel=True, source=SOURCE_PREFIX,
                     series=finding.series)  # fmt: skip
    words = vocabulary()
    headline = _raw(head, "Headline/Text")
    if headline and _raw(head, "Title"):  # the headline speaks for the whole prefecture: say so
        headline = f"【{_raw(head, 'Title')}】{headline}"
    fields, level, priority = _texts(words, ward, finding, headline, report_time)
    alert = AlertInfo(
        **{
            **vars(alert),
            "severity": {"emergency": "Extreme", "high": "Severe"}.get(priority, "Moderate"),
            "urgency": "Immediate" if priority == "emergency" else "Expected",
            "certainty": "Observed",
            "warning_level": level,
        }
    )
    fields.update(
        kind="alert",
        targets=[tree.ward_code],
        starts_at=report_time,
        ends_at=finding.ends_at,
        priority=priority,
        category="drill" if drill else "disaster",
        drill=drill,
    )
    return Entry(external, label, fields, alert=alert, source=SOURCE_PREFIX,
                 series=finding.series, fresh=finding.fresh)  # fmt: skip


# -- what each type says about the ward ----------------------------------------------------------


def _finding(
    code: str, root: Element, head: Element | None, body: Element | None, ward: WardCodes, at: str
) -> Finding | None:
    if body is None and code != "VPOA50":
        raise PublisherError(f"{at}: <Body> is required")
    if code in ("VPWW53", "VPWW54", "VXWW50"):
        return _warnings(code, body, ward)
    if code == "VPHW51":
        return _tornado(head, body, ward, at)
    if code in ("VXSE51", "VXSE53"):
        return _quake(code, head, body, ward, at)
    if code.startswith("VXKO"):
        return _flood(head, ward)
    if code == "VPOA50":
        return _record_rain(head, ward, at)
    return None


def _ward_items(body: Element | None, codes: tuple[str, ...]) -> list[Element]:
    """``Body/Warning/Item``s whose Area is one of ``codes``, most specific (first code) first."""
    found: list[tuple[int, Element]] = []
    for warning in _all(body, "Warning"):
        for item in (c for c in warning if _local(c.tag) == "Item"):
            area_codes = {_text(a, "Code") for a in _all(item, "Area")}
            for rank, wanted in enumerate(codes):
                if wanted in area_codes:
                    found.append((rank, item))
                    break
    return [item for _, item in sorted(found, key=lambda pair: pair[0])]


def _kinds(item: Element) -> list[tuple[str, tuple[str, ...], str]]:
    out = []
    for kind in (c for c in item if _local(c.tag) == "Kind"):
        conditions = tuple(c for c in re.split(r"[、,]", _text(kind, "Condition")) if c)
        out.append((_text(kind, "Name"), conditions, _text(kind, "Status")))
    return out


def _warnings(code: str, body: Element | None, ward: WardCodes) -> Finding | None:
    if not ward.municipality:
        return None
    items = _ward_items(body, (ward.municipality,))
    if not items:
        return None
    kinds = _kinds(items[0])
    name = "landslide" if code == "VXWW50" else "warnings"
    finding = Finding(f"{name}:{ward.municipality}")
    for kind, conditions, status in kinds:
        if status in LIFTED or not kind or kind.endswith("解除"):
            continue
        finding.kinds.append(("土砂災害警戒情報" if code == "VXWW50" else kind, conditions))
        if status != "発表":
            finding.fresh = False
    finding.lift = not finding.kinds
    return finding


def _tornado(
    head: Element | None, body: Element | None, ward: WardCodes, at: str
) -> Finding | None:
    items = _ward_items(body, ward.all_codes)
    if not items:
        return None
    kinds = [k for k in _kinds(items[0]) if k[2] not in LIFTED and k[0] == "竜巻注意情報"]
    area = _text(items[0], "Area/Code")
    valid = _raw(head, "ValidDateTime")
    return Finding(
        f"tornado:{area}",
        [("竜巻注意情報", ())] if kinds else [],
        lift=not kinds,
        ends_at=_time(valid, "ValidDateTime", at) if valid else None,
        action="tornado",
    )


def _quake(
    code: str, head: Element | None, body: Element | None, ward: WardCodes, at: str
) -> Finding | None:
    event = _text(head, "EventID")
    if not event:
        raise PublisherError(f"{at}: Head/EventID is required")
    observation = _find(body, "Intensity/Observation")
    intensity, area_only = None, False
    if code == "VXSE53":
        for city in _all(observation, "City"):
            if ward.municipality and _text(city, "Code") == ward.municipality:
                intensity = _text(city, "MaxInt")
        if intensity is None and any(
            _text(a, "Code") in ward.seismic_areas for a in _all(observation, "Area")
        ):
            intensity = "1"  # the ward's region is listed but not the ward: it felt less than 1
    else:
        for area in _all(observation, "Area"):
            if _text(area, "Code") in ward.seismic_areas:
                intensity, area_only = _text(area, "MaxInt"), True
    named = intensity is not None
    if intensity is not None and intensity not in INTENSITY_ORDER:
        raise PublisherError(f"{at}: MaxInt {intensity!r} is not a seismic intensity")
    finding = Finding(f"quake:{event}", fresh=False, area_only=area_only, action="quake")
    if not named or INTENSITY_ORDER.index(intensity or "1") < INTENSITY_ORDER.index("4"):
        if code == "VXSE53" and named:
            finding.lift = True  # below 4 in the ward: nothing, and the 震度速報 item goes
            return finding
        return None
    finding.intensity = intensity
    finding.kinds = [("地震", ())]
    finding.ends_at = _time(_raw(head, "ReportDateTime"), "ReportDateTime", at) + timedelta(
        hours=vocabulary().display.get("earthquake_hours", 6)
    )
    return finding


def _headline_items(head: Element | None) -> list[tuple[str, list[Element]]]:
    """``Head/Headline/Information`` items as (kind name, areas)."""
    out = []
    for item in _all(_find(head, "Headline"), "Item"):
        names = [_text(k, "Name") for k in item if _local(k.tag) == "Kind"]
        out.append((names[0] if names else "", _all(item, "Area")))
    return out


def _flood(head: Element | None, ward: WardCodes) -> Finding | None:
    for kind, areas in _headline_items(head):
        for area in areas:
            river = _text(area, "Name")
            if river in ward.rivers:
                lifted = kind.endswith("解除") or not kind
                return Finding(f"flood:{river}", [] if lifted else [(kind, ())], lift=lifted,
                               fresh=False, place=river)  # fmt: skip
    return None


def _record_rain(head: Element | None, ward: WardCodes, at: str) -> Finding | None:
    for _kind, areas in _headline_items(head):
        if any(_text(a, "Code") == ward.municipality for a in areas if ward.municipality):
            reported = _time(_raw(head, "ReportDateTime"), "ReportDateTime", at)
            minutes = vocabulary().display.get("record_rain_minutes", 60)
            return Finding(
                f"record-rain:{ward.municipality}:{reported.astimezone(JST):%Y%m%dT%H%M}",
                [("記録的短時間大雨情報", ())],
                ends_at=reported + timedelta(minutes=minutes),
                action="record_rain",
            )
    return None


# -- the six languages -------------------------------------------------------------------------------


def _texts(
    words: Vocabulary, ward: WardCodes, finding: Finding, headline: str, reported: datetime
) -> tuple[dict[str, Any], int | None, str]:
    """Titles and bodies in every language, the 警戒レベル and the priority."""
    kinds = [(words.kinds.get(name), name, conds) for name, conds in finding.kinds]
    tier_rank = {"special": 0, "warning": 1, "advisory": 2}
    kinds.sort(
        key=lambda k: (tier_rank[k[0].tier] if k[0] else 1, -(k[0].level or 0) if k[0] else 0)
    )
    levels = [k.level_for(conds) for k, _, conds in kinds if k]
    level = max((lv for lv in levels if lv), default=None)
    tiers = {k.tier for k, _, _ in kinds if k}
    priority = "normal"
    if "special" in tiers or (level or 0) >= 4:
        priority = "emergency"
    elif "warning" in tiers or (level or 0) >= 3:
        priority = "high"
    if finding.intensity:
        strong = INTENSITY_ORDER.index(finding.intensity) >= INTENSITY_ORDER.index("5-")
        priority = "emergency" if strong else "high"
    titles, bodies = {}, {}
    for lang in words.languages:
        ward_name = ward.name(lang)
        names = []
        for kind, name, conds in kinds:
            text = kind.words[lang] if kind else name  # an unknown kind keeps the agency's name
            if conds and kind:
                cond = words.phrase("separator", lang).join(
                    words.conditions.get(c, {}).get(lang, c) for c in conds
                )
                text = words.phrase("condition", lang, kind=text, condition=cond)
            names.append(text)
        joined = words.phrase("separator", lang).join(names)
        if finding.intensity:
            intensity = words.intensities[finding.intensity][lang]
            key = "quake_area_title" if finding.area_only else "quake_title"
            title = words.phrase(key, lang, ward=ward_name, intensity=intensity)
        elif finding.place:
            place = words.phrases.get("river:" + finding.place, {}).get(lang, finding.place)
            title = words.phrase("river_title", lang, place=place, kinds=joined)
        else:
            title = words.phrase("title", lang, kinds=joined, ward=ward_name)
        lines = []  # what it means for the ward first; the agency's own headline after
        if level:
            lines.append(words.phrase("level", lang, level=str(level)))
        if finding.area_only:
            lines.append(words.phrase("quake_area_note", lang))
        action = finding.action or (str(level) if level and level >= 2 else "other")
        lines.append(words.action(action, lang))
        if headline:
            lines.append(words.phrase("original", lang, headline=tidy(headline)))
        lines.append(f"{words.phrase('by_agency', lang)} {reported.astimezone(JST):%Y-%m-%d %H:%M}")
        titles[lang] = clip(title, TITLE_MAX_CHARS)
        bodies[lang] = clip("\n\n".join(lines), BODY_MAX_CHARS)
    return {"title": titles, "body": bodies}, level, priority


collector = JmaCollector()
