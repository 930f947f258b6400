"""Slide themes: one per kind and category, and the warning-level colours for alerts.

Every text a slide draws uses one of its theme's :meth:`Theme.text_pairs` (text colour on
background colour), and each pair keeps a contrast of at least :data:`MIN_CONTRAST` (WCAG AAA,
7:1) — a lobby is read from metres away, often at an angle and in glare.

Alerts with a warning level (警戒レベル, 内閣府/気象庁) wear the level's colour as a thick frame
(level 5 black #0C000C, 4 purple #AA00AA, 3 red #FF2800, 2 yellow #F2E700, 1 white) and print the
level in a badge: colour is never the only signal. No text sits directly on the frame, because
neither black nor white reaches 7:1 on purple (6.4:1 at best) or red (5.6:1).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from publisher.items import CAP_DRILL_STATUSES, Item

MIN_CONTRAST = 7.0

INK = "#1B1B1B"  # body text
MUTED = "#454545"  # secondary text (issuer, captions, field names)
PAPER = "#FAF8F3"  # a warm off-white: calmer than pure white on a bright panel
WHITE = "#FFFFFF"
MARKER_BG = "#0C000C"  # the drill band: yellow on black, like site hazard tape
MARKER_TEXT = "#F2E700"

WARNING_LEVEL_COLOURS = {5: "#0C000C", 4: "#AA00AA", 3: "#FF2800", 2: "#F2E700", 1: "#FFFFFF"}
EMERGENCY_FRAME = "#FF2800"  # an emergency without a declared level


@dataclass(frozen=True)
class Theme:
    """Colours of one kind of slide. ``frame`` and ``accent`` are decoration only (no text)."""

    name: str
    accent: str  # the bar along the top, rules, the label's background
    panel: str = PAPER  # the background every text sits on
    text: str = INK
    muted: str = MUTED
    label_text: str = WHITE
    tint: str = ""  # the event box behind date and place
    frame: str | None = None  # warning-level colour around the panel
    level: int | None = None
    outline: str | None = None  # a line around the panel when the frame is as pale as it

    @property
    def label_bg(self) -> str:
        return self.accent

    @property
    def info_bg(self) -> str:
        return self.tint or mix(self.accent, self.panel, 0.10)

    def text_pairs(self) -> list[tuple[str, str, str]]:
        """(role, text colour, background colour) for every text a slide of this theme draws."""
        return [
            ("title and body", self.text, self.panel),
            ("issuer and caption", self.muted, self.panel),
            ("label", self.label_text, self.label_bg),
            ("date and place", self.text, self.info_bg),
            ("field names", self.muted, self.info_bg),
            ("drill marker", MARKER_TEXT, MARKER_BG),
            ("drill note", WHITE, MARKER_BG),
        ]


CATEGORY_THEMES = {
    "general": Theme("general", "#1A4480"),
    "disaster": Theme("disaster", "#8F1D1D"),
    "drill": Theme("drill", "#7A3E00"),
    "health": Theme("health", "#005A4E"),
    "childcare": Theme("childcare", "#8E2453"),
    "community": Theme("community", "#24602A"),
    "culture": Theme("culture", "#5B2A86"),
    "environment": Theme("environment", "#3F5A17"),
    "tax": Theme("tax", "#37474F"),
}
KIND_THEMES = {
    "notice": CATEGORY_THEMES["general"],
    "event": Theme("event", "#3F3284"),
    "alert": Theme("alert", "#7C2D12", panel="#FFF6EC"),
}


def level_theme(level: int | None) -> Theme:
    """The frame colour of warning level ``level`` (None: an emergency without a level)."""
    frame = WARNING_LEVEL_COLOURS.get(level or 0, EMERGENCY_FRAME)
    return Theme(
        f"level-{level}" if level else "emergency",
        accent="#0C000C",  # the badge: white on near-black, the level colour as a swatch
        panel=WHITE,
        text="#111111",
        muted="#3A3A3A",
        tint="#F1F1F1",
        frame=frame,
        level=level,
        outline="#0C000C" if level in (1, 2) else None,
    )


def is_drill(item: Item) -> bool:
    """A drill or a test (訓練): always marked on the slide; a real alert never is."""
    return item.drill or (item.alert is not None and item.alert.cap_status in CAP_DRILL_STATUSES)


def theme_for(item: Item) -> Theme:
    """Alerts with a warning level or emergency priority wear its colours; others their category's."""
    level = item.alert.warning_level if item.alert else None
    if item.kind == "alert" and (level or item.is_emergency):
        return level_theme(level)
    if item.kind == "alert":
        return KIND_THEMES["alert"]
    if item.category in CATEGORY_THEMES and item.category != "general":
        theme = CATEGORY_THEMES[item.category]
        return replace(theme, name=f"{item.kind}-{theme.name}")
    return KIND_THEMES.get(item.kind, CATEGORY_THEMES["general"])


def all_themes() -> list[Theme]:
    """Every theme a slide can wear (the contrast test walks these)."""
    levels = [level_theme(n) for n in (None, *WARNING_LEVEL_COLOURS)]
    return [*CATEGORY_THEMES.values(), *KIND_THEMES.values(), *levels]


# -- colour arithmetic -------------------------------------------------------------------------


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2.x relative luminance (sRGB)."""

    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours, 1.0 to 21.0."""
    hi, lo = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def mix(a: str, b: str, share_of_a: float) -> str:
    """``share_of_a`` of colour ``a`` over colour ``b``."""
    ca, cb = rgb(a), rgb(b)
    parts = (round(x * share_of_a + y * (1 - share_of_a)) for x, y in zip(ca, cb, strict=True))
    return "#" + "".join(f"{p:02X}" for p in parts)
