"""Prepared emergency messages: reviewed wording in six languages that staff send in seconds.

The templates are data, one TOML file each under ``CONTENT_DIR/alert-templates/`` (the ward
edits them; ``README.md`` there says where each wording comes from). A template has slots —
``{area}``, ``{shelter}``, ``{time}`` — that staff fill in the admin form or an API call:

- ``area`` defaults to the names of the alert's target areas, in each language;
- ``shelter`` is a place name, printed as typed in every language;
- ``time`` is ``HH:MM`` in the ward's time (Japanese texts print 「14時30分」).

:func:`fill` turns a template, its slots and a drill choice into the same JSON-like input
``POST /api/items`` takes, so every route checks it with :func:`publisher.item_input.parse_item`.
A drill is marked 【訓練】/ "[DRILL]" in front of every title and 「これは訓練です。」 in front
of every body, as ``_common.toml`` words it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publisher.area_names import area_name
from publisher.areas import LANGUAGES, AreaTree
from publisher.errors import ConfigError, NotFound, PublisherError, did_you_mean
from publisher.items import ALERT_KINDS, PRIORITIES

TEMPLATES_FOLDER = "alert-templates"
SLOTS = ("area", "shelter", "time")
SLOT_MAX_CHARS = 60
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# Area names in a list: 代沢地区、池尻地区 / Daizawa District, Ikejiri District.
_LIST_SEP = {"ja": "、", "ja-x-easy": "、", "zh-Hans": "、", "zh-Hant": "、"}


@dataclass(frozen=True)
class AlertTemplate:
    name: str  # the file's stem: "level4-evacuation-order"
    label: str  # what staff see: 「警戒レベル4 避難指示」
    order: int
    alert_kind: str
    warning_level: int | None
    priority: str
    slots: tuple[str, ...]
    source: str
    texts: Mapping[str, tuple[str, str]]  # lang -> (title, body) with {slot} placeholders

    def as_json(self) -> dict[str, Any]:
        """What ``GET /api/alert-templates`` lists."""
        return {
            "name": self.name,
            "label": self.label,
            "alert_kind": self.alert_kind,
            "warning_level": self.warning_level,
            "priority": self.priority,
            "slots": list(self.slots),
            "languages": list(self.texts),
            "source": self.source,
            "title": {lang: t for lang, (t, _) in self.texts.items()},
            "body": {lang: b for lang, (_, b) in self.texts.items()},
        }


@dataclass(frozen=True)
class Templates:
    templates: Mapping[str, AlertTemplate]
    drill_title: Mapping[str, str]
    drill_body: Mapping[str, str]

    def get(self, name: str) -> AlertTemplate:
        try:
            return self.templates[name]
        except KeyError:
            raise NotFound(
                f"unknown alert template {name!r}{did_you_mean(name, self.templates)} "
                f"(GET /api/alert-templates lists them)"
            ) from None

    def ordered(self) -> list[AlertTemplate]:
        return sorted(self.templates.values(), key=lambda t: (t.order, t.name))


def load_templates(content_dir: Path) -> Templates:
    """Every template under ``content_dir/alert-templates/``; a wrong file names itself."""
    folder = Path(content_dir) / TEMPLATES_FOLDER
    if not folder.is_dir():
        return Templates({}, {}, {})
    common = _read(folder / "_common.toml") if (folder / "_common.toml").exists() else {}
    drill = common.get("drill", {})
    found = {}
    for path in sorted(folder.glob("*.toml")):
        if path.name.startswith("_"):
            continue
        found[path.stem] = _template(path, _read(path))
    return Templates(found, dict(drill.get("title", {})), dict(drill.get("body", {})))


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(str(e), where=str(path)) from None


def _template(path: Path, raw: dict[str, Any]) -> AlertTemplate:
    def fail(message: str) -> ConfigError:
        return ConfigError(message, where=str(path))

    kind = raw.get("alert_kind")
    if kind not in ALERT_KINDS:
        raise fail(f"alert_kind {kind!r} is not one of {', '.join(ALERT_KINDS)}")
    priority = raw.get("priority", "emergency")
    if priority not in PRIORITIES[1:]:
        raise fail(f"priority {priority!r} must be high or emergency")
    level = raw.get("warning_level")
    if level is not None and (not isinstance(level, int) or not 1 <= level <= 5):
        raise fail("warning_level must be a whole number from 1 to 5")
    slots = tuple(raw.get("slots", ()))
    for slot in slots:
        if slot not in SLOTS:
            raise fail(f"unknown slot {slot!r}{did_you_mean(str(slot), SLOTS)}")
    texts: dict[str, tuple[str, str]] = {}
    raw_texts = raw.get("text", {})
    for lang in raw_texts:
        if lang not in LANGUAGES:
            raise fail(f"text.{lang}: unknown language{did_you_mean(str(lang), LANGUAGES)}")
    for lang in LANGUAGES:  # canonical order, Japanese first
        if lang not in raw_texts:
            raise fail(f"text.{lang} is missing: a template speaks all six languages")
        title, body = raw_texts[lang].get("title", ""), raw_texts[lang].get("body", "")
        if not title:
            raise fail(f"text.{lang}.title is empty")
        for used in re.findall(r"\{(\w+)\}", title + body):
            if used not in slots:
                raise fail(f"text.{lang} uses {{{used}}}, which is not in slots")
        texts[lang] = (title, body)
    if not raw.get("name") or not raw.get("source"):
        raise fail("name and source (where the wording comes from) are required")
    return AlertTemplate(
        name=path.stem,
        label=str(raw["name"]),
        order=int(raw.get("order", 99)),
        alert_kind=str(kind),
        warning_level=level,
        priority=str(priority),
        slots=slots,
        source=str(raw["source"]),
        texts=texts,
    )


def area_names(tree: AreaTree, targets: Sequence[str], lang: str) -> str:
    """The target areas as a resident reads them: 「代沢地区」, "Daizawa District", 다이자와 지구
    (:func:`publisher.area_names.area_name`)."""
    names = [area_name(tree.get(code), lang) for code in targets]
    return _LIST_SEP.get(lang, ", ").join(names)


def _time_text(hh: int, mm: int, lang: str) -> str:
    if lang in ("ja", "ja-x-easy"):
        return f"{hh}時{mm:02d}分" if mm else f"{hh}時"
    return f"{hh}:{mm:02d}"


def fill(
    templates: Templates,
    name: str,
    slots: Mapping[str, Any] | None,
    *,
    tree: AreaTree,
    targets: Sequence[str],
    drill: bool,
) -> dict[str, Any]:
    """The template filled in every language: input for ``parse_item`` (errors name the slot)."""
    template = templates.get(name)
    if not isinstance(slots or {}, Mapping):
        raise PublisherError('must be an object like {"shelter": "代沢小学校"}', field="slots")
    given = dict(slots or {})
    for key in given:
        if key not in template.slots:
            raise PublisherError(
                f"template {name!r} has no slot {key!r} (its slots: "
                f"{', '.join(template.slots) or 'none'})",
                field=f"slots.{key}",
            )
    values: dict[str, str] = {}
    for slot in template.slots:
        value = given.get(slot)
        if value is not None and not isinstance(value, str):
            raise PublisherError("must be text", field=f"slots.{slot}")
        value = (value or "").strip()
        if len(value) > SLOT_MAX_CHARS:
            raise PublisherError(
                f"is {len(value)} characters; at most {SLOT_MAX_CHARS}", field=f"slots.{slot}"
            )
        if not value and slot != "area":
            raise PublisherError(
                f"「{template.label}」needs this slot filled", field=f"slots.{slot}"
            )
        if slot == "time" and not _TIME.match(value):
            raise PublisherError(f"{value!r} is not a time like 14:30", field="slots.time")
        values[slot] = value
    if not targets:
        raise PublisherError("at least one target area is required", field="targets")
    titles, bodies = {}, {}
    for lang, (title, body) in template.texts.items():
        filled = dict(values)
        if "area" in template.slots and not values.get("area"):
            filled["area"] = area_names(tree, targets, lang)
        if "time" in filled:
            hh, mm = (int(x) for x in filled["time"].split(":"))
            filled["time"] = _time_text(hh, mm, lang)
        t, b = title.format(**filled), body.format(**filled)
        if drill:
            t = templates.drill_title.get(lang, "") + t
            b = f"{templates.drill_body.get(lang, '')}{' ' if lang in ('en', 'ko') else ''}{b}"
        titles[lang], bodies[lang] = t, b
    return {
        "kind": "alert",
        "title": titles,
        "body": bodies,
        "targets": list(targets),
        "priority": template.priority,
        "category": "drill" if drill else "disaster",
        "drill": drill,
        "warning_level": template.warning_level,
        "alert_kind": template.alert_kind,
    }


def from_request(templates: Templates, data: Mapping[str, Any], tree: AreaTree) -> dict[str, Any]:
    """``{"template": NAME, "slots": {...}, "targets": [...], "drill": bool, ...}`` as item input:
    the template's fields, with any other field the caller gave (``ends_at``, ``status``)."""
    rest = {k: v for k, v in data.items() if k not in ("template", "slots")}
    targets = rest.get("targets")
    if isinstance(targets, str):
        targets = [targets]
    if not isinstance(targets, list) or not targets:
        raise PublisherError(
            f'at least one target area code is required, e.g. ["{tree.ward_code}"]',
            field="targets",
        )
    for code in targets:
        if code not in tree:
            raise PublisherError(
                f"unknown area '{code}'{did_you_mean(str(code), tree.areas)}", field="targets"
            )
    drill = rest.get("drill", False)
    if not isinstance(drill, bool):
        raise PublisherError("must be true or false", field="drill")
    name = data.get("template")
    if not isinstance(name, str):
        raise PublisherError("must be a template name", field="template")
    filled = fill(templates, name, data.get("slots"), tree=tree, targets=targets, drill=drill)
    for key in ("title", "body", "kind"):
        if key in rest:
            raise PublisherError(f"comes from the template; leave {key} out", field=key)
    return {**filled, **rest, "targets": targets, "drill": drill}
