"""Kind ``cap``: OASIS CAP 1.1 and 1.2 alerts from the disaster-management system.

Parsed with defusedxml: a message with a DTD, entity declarations or external references is
refused (no XXE, no billion laughs). Required elements are checked as the standard lists them
(reference/standards.md) and a missing one is named. CAP 1.1 (still sent by many national
systems) is read as 1.2, whose elements are a superset.

How a message becomes an alert item:

- ``identifier`` is the external id and the item's source is ``cap:<sender>``, whichever way
  the message arrived (polled by a configured source, ``publisher alert``, ``POST
  /api/alerts``, ``publisher import cap``): the same alert pushed and polled is one item.
  A source with ``options = { by_sender = false }`` keys its items by its own name instead.
- ``msgType`` Alert is a new alert; Update is a new alert that replaces the ones it names in
  ``references`` (they are withdrawn; see :mod:`publisher.collect.run`); Cancel withdraws them
  at once and is not shown itself; Ack and Error are not shown. Only the same sender may
  update, cancel or re-send an alert, and a System/Test/Exercise/Draft message never changes
  an Actual one (:func:`publisher.collect.run.ownership_refusal`).
- ``status`` Exercise and Test are drills (``drill``, marked 訓練 everywhere), and so is an
  Actual message whose event or headline says it is a test (US "Required Monthly Test");
  System and Draft are stored but never public; Actual is shown as is.
- severity and urgency → priority: Extreme or Severe with Immediate → ``emergency`` (it
  pre-empts every screen in its area); Extreme, Severe or Moderate otherwise → ``high``; else
  ``normal``.
- the display window runs from ``effective`` (else ``sent``) to ``expires`` (none: until it is
  cancelled or staff end it). ``onset`` is when the hazard begins, which a warning must
  precede, so it does not delay the display. A message whose ``expires`` is at or before its
  start (an Update that ends a warning now) is stored expired and ends what it replaces; one
  already past its ``expires`` when it arrives is stored expired and never shown or posted.
- each ``<info>`` is a translation by its BCP 47 ``language`` (:func:`language_of`: ``en-*`` →
  en, ``zh-TW``/``zh-Hant*`` → zh-Hant, ``zh-CN``/``zh-Hans*`` → zh-Hans, ``ko-*`` → ko,
  ``ja-*`` → ja; others are left out). An ``<info>`` without ``language`` is taken to be in
  the source's language when it is written in Japanese (Japanese systems omit it), else
  English. headline (else event) → title, description + instruction → body, hard line wraps
  inside a paragraph joined (:func:`unwrap`). The first Japanese ``<info>`` gives severity,
  urgency, times and areas.
- a 警戒レベル comes from a ``<parameter>`` or ``<eventCode>`` named 警戒レベル (or
  WarningLevel) whose value holds a digit 1–5.
- ``<area>`` → targets by :mod:`publisher.collect.cap_areas`.

A message that names no area of the ward, has no Japanese text or comes from a sender the ward
does not trust (``displays/cap.toml``) is **held for review**: stored as pending with the
reason, on no screen, feed, page or SNS outbox, until an approver targets and approves it.
Every other alert is approved at once: the disaster-management system that sends it is the
authority that issued it, and an emergency cannot wait for a second pair of eyes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml import ElementTree as SafeET

from publisher.areas import AreaTree
from publisher.collect.base import Entry, Skipped, Source, clip, fetch_bytes, tidy
from publisher.collect.cap_areas import map_areas
from publisher.errors import PublisherError
from publisher.items import BODY_MAX_CHARS, TITLE_MAX_CHARS, AlertInfo

NS = "urn:oasis:names:tc:emergency:cap:1.2"
NS_11 = "urn:oasis:names:tc:emergency:cap:1.1"  # still sent by NWS and many national systems
STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPES = ("Public", "Restricted", "Private")
CATEGORIES = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env",
              "Transport", "Infra", "CBRNE", "Other")  # fmt: skip
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown", "Very Likely")
# Actual messages that say they are a test (US EAS practice: RMT/RWT sent as Actual)
_SAYS_TEST = re.compile(
    r"\b(required\s+(monthly|weekly)\s+test|RMT|RWT|test\s+message|this\s+is\s+a\s+test)\b",
    re.IGNORECASE,
)
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
NO_JAPANESE_TITLE = (
    "（日本語の文面がない警報：内容を確認し、日本語の題名を入れてから承認してください）"
)
LEVEL_NAMES = ("警戒レベル", "warninglevel", "warning_level", "alertlevel")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def parse_xml(data: bytes, where: str) -> Element:
    """The ``<alert>`` element, or a PublisherError that says why the bytes were refused."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DTDForbidden:
        raise PublisherError(
            f"{where}: refused: the message declares a DTD (<!DOCTYPE>); CAP never needs one, "
            "and entity expansion and external entities are not allowed"
        ) from None
    except EntitiesForbidden:
        raise PublisherError(
            f"{where}: refused: the message declares XML entities (entity expansion is not "
            "allowed)"
        ) from None
    except DefusedXmlException as e:
        raise PublisherError(f"{where}: refused: {e}") from None
    except ParseError as e:
        raise PublisherError(f"{where}: not well-formed XML ({e})") from None
    except (ValueError, UnicodeError, LookupError) as e:  # odd or unknown encoding declarations
        raise PublisherError(f"{where}: not readable XML ({e})") from None
    if root.tag == f"{{{NS_11}}}alert":  # 1.1's elements are a subset of 1.2's: read as 1.2
        for el in root.iter():
            if isinstance(el.tag, str) and el.tag.startswith(f"{{{NS_11}}}"):
                el.tag = f"{{{NS}}}{_local(el.tag)}"
    if root.tag != _q("alert"):
        raise PublisherError(
            f"{where}: not a CAP 1.1 or 1.2 message: the root is <{_local(root.tag)}>, "
            f'expected <alert xmlns="{NS}">'
        )
    return root


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(parent: Element, tag: str) -> str:
    el = parent.find(_q(tag))
    return (el.text or "").strip() if el is not None else ""


def _required(parent: Element, tag: str, where: str) -> str:
    value = _text(parent, tag)
    if not value:
        raise PublisherError(f"<{tag}> is required", where=where, field=tag)
    return value


def _choice(parent: Element, tag: str, choices: tuple[str, ...], where: str) -> str:
    value = _required(parent, tag, where)
    if value not in choices:
        raise PublisherError(
            f"<{tag}> is {value!r}; CAP 1.2 allows {', '.join(choices)}", where=where, field=tag
        )
    return value


def parse_cap_time(value: str, tag: str, where: str) -> datetime:
    if not _TIME.match(value):
        raise PublisherError(
            f"<{tag}> {value!r} is not a CAP time (YYYY-MM-DDThh:mm:ss+hh:mm)", where=where
        )
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PublisherError(f"<{tag}> {value!r} is not a time that exists", where=where) from None


def language_of(tag: str) -> str | None:
    """A BCP 47 tag → one of the publisher's languages, or None (kept out of the six).

    ``en-*`` → en, ``ja-x-easy`` → ja-x-easy, ``ja-*`` → ja, ``ko-*`` → ko; Chinese by script
    (``zh-Hant*``, or region TW/HK/MO → zh-Hant; otherwise zh-Hans)."""
    parts = [p.lower() for p in tag.strip().replace("_", "-").split("-") if p]
    if not parts:
        return None
    primary, rest = parts[0], parts[1:]
    if primary == "ja":
        return "ja-x-easy" if rest[:2] == ["x", "easy"] else "ja"
    if primary in ("en", "ko"):
        return primary
    if primary == "zh":
        if "hant" in rest or any(r in ("tw", "hk", "mo") for r in rest):
            return "zh-Hant"
        return "zh-Hans"
    return None


def _language(info: Element, default: str) -> str | None:
    raw = _text(info, "language")
    if raw:
        return language_of(raw)
    # CAP's default is en-US, but Japanese systems omit <language>: read the text itself
    sample = _text(info, "headline") + _text(info, "description") + _text(info, "event")
    return default if _JAPANESE.search(sample) else "en"


_LIST_LINE = re.compile(r"^([・•*\-■●○◆※①-⑳（(【\[]|\d+[.)．、])")


def unwrap(text: str) -> str:
    """Hard line breaks inside a paragraph joined (a space between Latin words, nothing between
    Japanese ones); blank lines, list lines and a break after 。！？ or a colon stay."""
    paragraphs = []
    for para in tidy(text).split("\n\n"):
        lines: list[str] = []
        for line in para.split("\n"):
            prev = lines[-1] if lines else ""
            if not prev or _LIST_LINE.match(line) or prev[-1] in "。！？:：":
                lines.append(line)
                continue
            cjk = _JAPANESE.match(prev[-1]) and _JAPANESE.match(line[0])
            lines[-1] = prev + ("" if cjk else " ") + line
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def _warning_level(info: Element) -> int | None:
    for tag in ("parameter", "eventCode"):
        for el in info.findall(_q(tag)):
            name = unicodedata.normalize("NFKC", _text(el, "valueName")).lower().replace(" ", "")
            if name in LEVEL_NAMES:
                digits = re.findall(r"[1-5]", unicodedata.normalize("NFKC", _text(el, "value")))
                if digits:
                    return int(digits[0])
    return None


def priority_of(severity: str, urgency: str) -> str:
    if severity in ("Extreme", "Severe") and urgency == "Immediate":
        return "emergency"
    if severity in ("Extreme", "Severe", "Moderate"):
        return "high"
    return "normal"


class CapCollector:
    def fetch(self, source: Source, http: Any) -> bytes:
        return fetch_bytes(source, http)

    def parse(
        self, source: Source, data: bytes, tree: AreaTree, now: datetime
    ) -> Iterator[Entry | Skipped]:
        yield parse_message(source, data, tree)


def parse_message(source: Source, data: bytes, tree: AreaTree) -> Entry | Skipped:
    """One CAP message → one entry (or why it is not shown). Raises on an invalid message.

    The entry is ``held`` (with the reason) when the message names no area of the ward, has no
    Japanese text or comes from a sender the ward does not trust: it is stored for review and
    shown nowhere until an approver targets and approves it."""
    where = source.location
    root = parse_xml(data, where)
    identifier = _required(root, "identifier", where)
    sender = _required(root, "sender", f"{where}: alert {identifier}")
    where = f"{where}: alert {identifier} from {sender}"
    sent = parse_cap_time(_required(root, "sent", where), "sent", where)
    status = _choice(root, "status", STATUSES, where)
    msg_type = _choice(root, "msgType", MSG_TYPES, where)
    _choice(root, "scope", SCOPES, where)
    references_text = _text(root, "references")
    references = []
    for triple in references_text.split():
        parts = triple.split(",")
        if len(parts) != 3 or not all(parts):
            raise PublisherError(
                f"<references> {triple!r} is not a sender,identifier,sent triple", where=where
            )
        references.append((parts[0], parts[1]))
    if msg_type in ("Update", "Cancel") and not references:
        raise PublisherError(f"an {msg_type} must name earlier messages in <references>",
                             where=where)  # fmt: skip
    label = f"alert {identifier} from {sender}"
    if msg_type in ("Ack", "Error"):
        return Skipped(label, f"msgType: an {msg_type} message is not shown")

    infos = root.findall(_q("info"))
    texts: dict[str, tuple[str, str]] = {}
    primary: Element | None = None
    for n, info in enumerate(infos, start=1):
        at = f"{where} <info> {n}"
        _choice(info, "category", CATEGORIES, at)
        event = _required(info, "event", at)
        _choice(info, "urgency", URGENCIES, at)
        _choice(info, "severity", SEVERITIES, at)
        _choice(info, "certainty", CERTAINTIES, at)
        for area in info.findall(_q("area")):
            _required(area, "areaDesc", at + " <area>")
        lang = _language(info, source.language)
        if lang is None or lang in texts:
            continue
        headline = tidy(_text(info, "headline")) or tidy(event)
        body = "\n\n".join(p for p in (unwrap(_text(info, "description")),
                                       unwrap(_text(info, "instruction"))) if p)  # fmt: skip
        texts[lang] = (clip(headline, TITLE_MAX_CHARS), clip(body, BODY_MAX_CHARS))
        if lang == "ja" and primary is None:
            primary = info
    trusted = sender in tree.trusted_cap_senders
    alert = AlertInfo(
        cap_status=status,
        msg_type=msg_type,
        identifier=identifier[:300],
        sender=sender[:300],
        sent=sent,
        references=references_text or None,
    )
    if msg_type == "Cancel":
        return Entry(identifier, label, {}, alert=alert, references=tuple(references), cancel=True)
    if not infos:
        raise PublisherError("an Alert or Update needs at least one <info>", where=where)
    info = primary if primary is not None else infos[0]
    severity, urgency = _text(info, "severity"), _text(info, "urgency")
    effective = _text(info, "effective")
    expires = _text(info, "expires")
    starts = parse_cap_time(effective, "effective", where) if effective else sent
    ends = parse_cap_time(expires, "expires", where) if expires else None
    areas = [
        (_text(a, "areaDesc"), [_text(g, "value") for g in a.findall(_q("geocode"))])
        for a in info.findall(_q("area"))
    ]
    targets = map_areas(tree, areas, trusted=trusted)
    held = []
    if not trusted:
        held.append(f"the sender {sender!r} is not one the ward trusts (displays/cap.toml)")
    if not targets:
        names = "、".join(d for d, _ in areas) or "(no <area>)"
        held.append(f"no area of the ward matches its areas ({names})")
    if "ja" not in texts:
        held.append("it has no Japanese text")
        texts = {"ja": (NO_JAPANESE_TITLE, ""), **texts}
    said = " ".join(_text(i, t) for i in infos for t in ("event", "headline"))
    # a technical test (status Test, or an Actual message saying it is one) never pre-empts
    test = status == "Test" or (status == "Actual" and bool(_SAYS_TEST.search(said)))
    drill = status == "Exercise" or test
    priority = priority_of(severity, urgency)
    alert = replace(
        alert,
        severity=severity,
        urgency=urgency,
        certainty=_text(info, "certainty"),
        warning_level=_warning_level(info),
        needs_review=bool(held),
        held_reason="; ".join(held)[:500] or None,
    )
    # an Update that ends at or before it starts ends what it replaces now, and is not shown
    expired = ends is not None and ends <= starts
    web = _text(info, "web")
    fields: dict[str, Any] = {
        "kind": "alert",
        "title": {lang: t for lang, (t, _) in texts.items()},
        "body": {lang: b for lang, (_, b) in texts.items() if b},
        "targets": list(targets or (tree.ward_code,)),
        "starts_at": starts,
        "ends_at": None if expired else ends,
        "priority": priority if not test or priority != "emergency" else "high",
        "category": "drill" if drill else "disaster",
        "drill": drill,
        "detail_url": web if web.startswith(("https://", "http://")) else None,
    }
    return Entry(
        identifier,
        label,
        fields,
        alert=alert,
        references=tuple(references),
        source=f"cap:{sender}"[:100] if source.options.get("by_sender", True) else None,
        expired_at=starts if expired else None,
    )


collector = CapCollector()
