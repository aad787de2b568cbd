"""Server-rendered donor pages (jinja2, autoescaped); loaded only by the HTML routes."""

from __future__ import annotations

from datetime import timezone
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from chalicelib.pages.model import Page

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.globals["money"] = money
    return env


def money(cents: int) -> str:
    """$27 or $27.50, with thousands separators."""
    dollars, rest = divmod(int(cents), 100)
    return f"${dollars:,}" + (f".{rest:02d}" if rest else "")


def render_donate(page: Page, view: dict, stripe_js_url: str, preselect_cents: int | None) -> str:
    goal = int(view["goal_cents"]) or 1
    percent = min(100, round(100 * int(view["raised_cents"]) / goal, 1))
    deadline_text = page.deadline.astimezone(timezone.utc).strftime("%B %-d, %Y at %-I:%M %p UTC")
    return _env().get_template("donate.html").render(
        page=page, view=view, percent=percent, stripe_js_url=stripe_js_url,
        preselect=preselect_cents or 0, deadline_text=deadline_text,
    )


def render_thanks(page: Page, view: dict) -> str:
    return _env().get_template("thanks.html").render(page=page, view=view)


