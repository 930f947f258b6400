"""Reading a JMA document safely: defusedxml, size limit, data type code, local-name lookups.

Shared by :mod:`publisher.collect.jma` (messages) and :mod:`publisher.collect.jma_feed`
(Atom feeds). A refusal is one line: where, data type code, why.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml import ElementTree as SafeET

from publisher.errors import PublisherError

NS = "http://xml.kishou.go.jp/jmaxml1/"
NS_HEAD = "http://xml.kishou.go.jp/jmaxml1/informationBasis1/"
ATOM = "http://www.w3.org/2005/Atom"
MESSAGE_MAX_BYTES = 3 * 1024 * 1024
SOURCE_PREFIX = "jma"
# Control/Title → data type code (the agency's own titles; VXKO's code varies by river)
TITLE_CODES = (
    ("気象特別警報・警報・注意報", "VPWW53"),
    ("気象警報・注意報", "VPWW54"),
    ("震度速報", "VXSE51"),
    ("震源・震度に関する情報", "VXSE53"),
    ("竜巻注意情報", "VPHW51"),
    ("土砂災害警戒情報", "VXWW50"),
    ("指定河川洪水予報", "VXKO"),
    ("記録的短時間大雨情報", "VPOA50"),
)
_CODE_IN_NAME = re.compile(r"_(V[A-Z]{3}\d{2})[_.]")


def code_of(location: str, title: str = "") -> str:
    """The data type code: from the file name or URL (``..._VPWW54_130000.xml``), else the
    message's Control/Title."""
    m = _CODE_IN_NAME.search(location.rsplit("/", 1)[-1])
    if m:
        return m[1]
    for prefix, code in TITLE_CODES:
        if title.startswith(prefix):
            return code
    return "unknown type"


def parse_document(data: bytes, where: str) -> Element:
    """The root element of a JMA message or Atom feed; a refusal says where and why."""
    code = code_of(where)
    label = f"{where}: {code}" if code != "unknown type" else where
    if len(data) > MESSAGE_MAX_BYTES:
        raise PublisherError(
            f"{label}: {len(data):,} bytes is over the limit of {MESSAGE_MAX_BYTES:,} for a "
            "JMA message"
        )
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except DTDForbidden:
        raise PublisherError(
            f"{label}: refused: the message declares a DTD (<!DOCTYPE>); entity expansion and "
            "external entities are not allowed"
        ) from None
    except EntitiesForbidden:
        raise PublisherError(f"{label}: refused: the message declares XML entities") from None
    except DefusedXmlException as e:
        raise PublisherError(f"{label}: refused: {e}") from None
    except ParseError as e:
        raise PublisherError(f"{label}: not well-formed XML ({e})") from None
    except (ValueError, UnicodeError, LookupError) as e:
        raise PublisherError(f"{label}: not readable XML ({e})") from None


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def find(parent: Element | None, path: str) -> Element | None:
    """A descendant by local names (``"Head/Headline/Text"``), whatever the namespaces."""
    node = parent
    for name in path.split("/"):
        if node is None:
            return None
        node = next((c for c in node if local(c.tag) == name), None)
    return node


def find_all(parent: Element | None, name: str) -> list[Element]:
    if parent is None:
        return []
    return [c for c in parent.iter() if local(c.tag) == name]


def text(parent: Element | None, path: str) -> str:
    el = find(parent, path)
    return unicodedata.normalize("NFKC", el.text or "").strip() if el is not None else ""


def raw(parent: Element | None, path: str) -> str:
    el = find(parent, path)
    return (el.text or "").strip() if el is not None else ""


def parse_time(value: str, tag: str, where: str) -> datetime:
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PublisherError(f"{where}: <{tag}> {value!r} is not a time") from None
    if at.tzinfo is None:
        raise PublisherError(f"{where}: <{tag}> {value!r} has no time zone")
    return at
