"""axe-core in the browser tests: ``axe_violations(page)`` lists what axe finds on a page.

The vendored ``tests/vendor/axe-core/axe.min.js`` (see its README) is evaluated in the page
through the DevTools protocol, so the pages' Content-Security-Policy need not allow it. The
rules are WCAG 2.0 and 2.1, levels A and AA (JIS X 8341-3:2016 is WCAG 2.0; 2.1 is checked too).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

AXE_DIR = Path(__file__).parent / "vendor" / "axe-core"
AXE_VERSION = "4.14.1"
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")

_RUN = """(tags) => axe.run(document, {
  runOnly: {type: 'tag', values: tags},
  resultTypes: ['violations'],
}).then(r => r.violations.map(v => ({
  id: v.id, impact: v.impact, help: v.help,
  nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
})))"""


@lru_cache(maxsize=1)
def axe_source() -> str:
    return (AXE_DIR / "axe.min.js").read_text(encoding="utf-8")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe's violations of the WCAG A/AA rules on the page as loaded (``[]`` when none)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    version = page.evaluate("() => axe.version")
    assert version == AXE_VERSION, f"axe.min.js is {version}, tests/axe.py says {AXE_VERSION}"
    return list(page.evaluate(_RUN, list(WCAG_TAGS)))


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation and element, for an assertion message."""
    lines = []
    for v in violations:
        for n in v["nodes"]:
            lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {n['target']}: {n['summary']}")
    return "\n".join(lines)
