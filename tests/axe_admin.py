"""axe-core in a Playwright page, for the admin's overview pages (minimal; to be unified with
the general helper the public pages use).

``tests/vendor/axe-core/axe.min.js`` is axe-core 4.14.1 from npm (`npm pack axe-core@4.14.1`),
MPL-2.0 (its LICENSE beside it). The page's CSP allows only its own scripts, so the file is
added through Playwright's ``add_script_tag(content=...)`` with CSP bypassed for the context.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, the ward's target level.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page: Any) -> list[str]:
    """axe's WCAG A/AA violations on the page as it is now, one line each (empty: none)."""
    page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:5])
        for v in result["violations"]
    ]
