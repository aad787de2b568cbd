"""The console's jinja2 environment (autoescaped), loaded only by console routes."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def money(cents: int | None) -> str:
    """$1,234 or $27.50; negative amounts with a minus sign; `—` for none."""
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(int(cents)), 100)
    return f"{sign}${dollars:,}" + (f".{rest:02d}" if rest else "")


def dollars(cents: int | None) -> str:
    """An amount as a form field shows it: `27` or `27.50`."""
    if cents is None:
        return ""
    whole, rest = divmod(int(cents), 100)
    return f"{whole}" + (f".{rest:02d}" if rest else "")


def when(moment: datetime | str | None) -> str:
    """UTC, as staff read it: `2026-11-03 04:59 UTC`."""
    if moment is None or moment == "":
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def local_input(moment: datetime | None, zone: str = "UTC") -> str:
    """A moment as a `datetime-local` input's value: the wall-clock time in `zone`."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M") if moment else ""


def duration(seconds: int) -> str:
    days, rest = divmod(max(int(seconds), 0), 86_400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {rest // 60}m"


def percent(rate: float | None, digits: int = 1) -> str:
    return "—" if rate is None else f"{rate * 100:.{digits}f} %"


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=select_autoescape(["html"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(money=money, dollars=dollars, when=when, local_input=local_input,
                       duration=duration, percent=percent)
    return env


def render_page(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)
