"""axe-core (npm, installed by the Makefile into node_modules/) injected by Playwright: the WCAG
2.1 A and AA rules, run against the page as the browser shows it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page: Any) -> list[dict[str, Any]]:
    """Every WCAG 2.1 A/AA violation axe finds on `page`, with the offending nodes."""
    assert AXE.exists(), "run `make test` (or `npm ci`) to install axe-core"
    page.add_script_tag(content=AXE.read_text())
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ") + " :: " + n.failureSummary).slice(0, 5)}));
        }""", WCAG21_AA)


def assert_accessible(page: Any, what: str) -> None:
    found = violations(page)
    assert not found, f"{what}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']} -> {v['nodes']}"
                                             for v in found)
