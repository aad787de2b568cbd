"""The page editor's form, as the JSON body the pages API takes (and its errors, back onto the
form's fields). Amounts are typed in dollars and kept in cents; times are typed and shown in the
committee's time zone and kept in UTC."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.pages.model import Page

VARIANT_ROWS = 5
_MONEY = re.compile(r"^\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$")
# Form fields of each API field (the first part of a pydantic error's path).
_FIELD_OF = {"ask_amounts_cents": "asks", "goal_cents": "goal", "auto_allocate": "auto_allocate"}


def cents(text: str) -> int | None:
    """`27`, `27.5`, `$1,000.00` in cents; None if it is not an amount."""
    m = _MONEY.fullmatch(text.strip())
    if not m:
        return None
    whole = int(m[1].replace(",", ""))
    return whole * 100 + int((m[2] or "0").ljust(2, "0"))


def moment(text: str, zone: str = "UTC") -> datetime | None:
    """A `datetime-local` value read as a wall-clock time in `zone` (an ISO 8601 value with an
    offset stands for itself), in UTC. In the hour a clock is set back, the earlier of the two
    moments (`fold=0`); in the hour it skips, the offset before the change."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (value.replace(tzinfo=ZoneInfo(zone)) if value.tzinfo is None else value).astimezone(timezone.utc)


def _ladder(text: str, name: str, errors: dict[str, str]) -> list[int] | None:
    parts = [p for p in re.split(r"[\s;]+|,(?!\d{3}\b)", text.strip()) if p]
    amounts = [cents(p) for p in parts]
    if not parts or any(a is None for a in amounts):
        errors[name] = "dollar amounts separated by spaces or commas, e.g. 10 27 50"
        return None
    return [a for a in amounts if a is not None]


def page_body(data: dict[str, list[str]], *, creating: bool,
              zone: str = "UTC") -> tuple[dict[str, Any], dict[str, str]]:
    """The form as a PageCreate body (every field; `slug` only when creating) and the errors
    found before validation (amounts and dates that do not parse); times are read in `zone`."""

    def get(name: str) -> str:
        return (data.get(name) or [""])[-1].strip()

    errors: dict[str, str] = {}
    body: dict[str, Any] = {"title": get("title"), "headline": get("headline"), "body": get("body"),
                            "election": get("election"), "committee_id": get("committee_id"),
                            "elections": [code for code in re.split(r"[\s,;]+", get("elections")) if code],
                            "auto_allocate": get("auto_allocate") == "on", "locale": get("locale") or "en"}
    if creating:
        body["slug"] = get("slug")
    asks = _ladder(get("asks"), "asks", errors)
    if asks is not None:
        body["ask_amounts_cents"] = asks
    goal = cents(get("goal"))
    if goal is None:
        errors["goal"] = "a dollar amount, e.g. 50000"
    else:
        body["goal_cents"] = goal
    deadline = moment(get("deadline"), zone)
    if deadline is None:
        errors["deadline"] = f"a date and time ({zone})"
    else:
        body["deadline"] = deadline.isoformat()
    later = []
    for line in get("deadlines").splitlines():
        if line.strip():
            parsed = moment(line, zone)
            if parsed is None:
                errors["deadlines"] = f"one date and time ({zone}) per line, e.g. 2026-11-03T23:59"
            else:
                later.append(parsed.isoformat())
    body["deadlines"] = later
    variants = []
    for i in range(VARIANT_ROWS):
        vid, headline = get(f"v{i}_id"), get(f"v{i}_headline")
        if not vid and not headline:
            continue
        variant: dict[str, Any] = {"id": vid, "headline": headline, "body": get(f"v{i}_body")}
        if get(f"v{i}_asks"):
            ladder = _ladder(get(f"v{i}_asks"), f"v{i}_asks", errors)
            if ladder is not None:
                variant["ask_amounts_cents"] = ladder
        variants.append(variant)
    body["variants"] = variants
    return body, errors


def form_errors(fields: dict[str, str]) -> dict[str, str]:
    """A validation error's field paths (`variants.1.headline`) as the form's field names."""
    found: dict[str, str] = {}
    for path, message in fields.items():
        parts = path.split(".")
        if parts[0] == "variants" and len(parts) > 2 and parts[1].isdigit():
            name = {"ask_amounts_cents": "asks"}.get(parts[2], parts[2])
            found.setdefault(f"v{parts[1]}_{name}", message)
        else:
            found.setdefault(_FIELD_OF.get(parts[0], parts[0]), message)
    return found


def changes(body: dict[str, Any], page: Page, now: datetime) -> dict[str, Any]:
    """The fields of `body` that differ from `page` (so saving copy on a closed page does not
    try to move its passed deadline)."""
    current = page.admin_view()
    later = [d.isoformat() for d in page.schedule if d > page.current_deadline(now)]
    found: dict[str, Any] = {}
    for name, value in body.items():
        if name == "deadline":
            if moment(value) != page.current_deadline(now):
                found[name] = value
        elif name == "deadlines":
            if [moment(v) for v in value] != [moment(v) for v in later]:
                found[name] = value
        elif name == "variants":
            if value != current["variants"]:
                found[name] = value
        elif current.get(name) != value:
            found[name] = value
    return found


def page_values(page: Page | None, now: datetime, zone: str = "UTC") -> dict[str, str]:
    """A stored page as the form's values, its times in `zone`."""
    from chalicelib.console.render import dollars, local_input

    if page is None:
        return {"asks": "10 27 50 100 250", "election": "P2026"}
    values = {
        "slug": page.slug, "title": page.title, "headline": page.headline, "body": page.body,
        "asks": " ".join(dollars(a) for a in page.ask_amounts_cents), "goal": dollars(page.goal_cents),
        "deadline": local_input(page.current_deadline(now), zone),
        "deadlines": "\n".join(local_input(d, zone) for d in page.schedule if d > page.current_deadline(now)),
        "election": page.election, "elections": " ".join(page.elections), "committee_id": page.committee_id,
        "auto_allocate": "on" if page.auto_allocate else "", "locale": page.locale,
    }
    for i, v in enumerate(page.variants):
        values.update({f"v{i}_id": v.id, f"v{i}_headline": v.headline, f"v{i}_body": v.body,
                       f"v{i}_asks": " ".join(dollars(a) for a in v.ask_amounts_cents or ())})
    return values


def submitted_values(data: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[-1] for k, v in data.items() if k != "csrf"}
