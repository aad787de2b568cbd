"""What console pages show, computed from services' results: charts, and the editor's preview."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.console.charts import Chart, Datum, bar_chart
from chalicelib.console.render import money, percent
from chalicelib.reports.dashboard import PageSummary


def hourly_chart(row: PageSummary) -> Chart:
    recent, zone = row.recent, ZoneInfo(row.time_zone)
    local = [h.astimezone(zone) for h in recent.hours]
    data = [Datum(f"{h:%H:%M %Z}", c / 100, money(c), f"{h:%H}" if i % 6 == 0 else None)
            for i, (h, c) in enumerate(zip(local, recent.hourly_cents, strict=True))]
    busiest = max(range(len(data)), key=lambda i: recent.hourly_cents[i]) if data else 0
    description = (f"Money raised per hour over the last 24 hours: {money(recent.raised_cents)} in "
                   f"{recent.gifts} gifts" + (f"; the best hour was {data[busiest].label} with "
                                              f"{data[busiest].display}." if recent.gifts else "."))
    rows = [[d.label, d.display, str(g)] for d, g in zip(data, recent.hourly_gifts, strict=True)]
    return bar_chart(f"hourly-{row.page.slug}", f"Raised per hour: {row.page.title}", description, data,
                     columns=["Hour", "Raised", "Gifts"], rows=rows,
                     max_label=money(max(recent.hourly_cents or (0,))), height=140)


def results_chart(results: Mapping[str, Any]) -> Chart:
    """Conversion per arm with its 95 % credible interval (Beta posterior)."""
    arms = list(results["variants"])
    data, rows = [], []
    for arm in arms:
        rate = float(arm["conversion_rate"] or 0)
        low, high = arm["credible_interval"]
        data.append(Datum(str(arm["id"]), rate * 100, percent(rate, 2), str(arm["id"])[:10],
                          low * 100, high * 100))
        beats = arm["probability_beats_control"]
        rows.append([str(arm["id"]), str(arm["visitors"]), str(arm["donations"]), percent(rate, 2),
                     f"{percent(low, 2)} to {percent(high, 2)}",
                     "—" if beats is None else percent(beats), percent(arm["probability_best"])])
    winner = results.get("winner")
    description = ("Conversion rate of each arm (donations per visitor) with its 95 % credible "
                   "interval. " + (f"Winner: {winner}." if winner else
                                   f"No winner yet: each arm needs {results['min_sample']} visitors "
                                   "and a 95 % probability of being best."))
    top = max([d.high or 0 for d in data] + [0.01])
    return bar_chart(f"ab-{results['slug']}", "Conversion per arm", description, data,
                     columns=["Arm", "Visitors", "Donations", "Conversion", "95 % interval",
                              "Beats control", "Best"], rows=rows, max_label=f"{top:.2f} %")


def refcode_chart(report: Mapping[str, Any]) -> Chart:
    refs = list(report["refcodes"])[:20]
    data = [Datum(str(r["refcode"] or "(none)"), int(r["amount_cents"]) / 100, money(int(r["amount_cents"])),
                  str(r["refcode"] or "(none)")[:8]) for r in refs]
    rows = [[str(r["refcode"] or "(none)"), str(r["donations"]), money(int(r["amount_cents"])),
             "—" if r["visitors"] is None else str(r["visitors"]), percent(r["conversion_rate"], 2),
             str(r["new_donors"]), str(r["returning_donors"])] for r in refs]
    best = refs[0] if refs else None
    description = (f"Money raised per refcode from {report['from']} to {report['to']} (UTC), largest "
                   "first" + (f"; {best['refcode'] or 'no refcode'} brought the most, "
                              f"{money(int(best['amount_cents']))}." if best else "."))
    return bar_chart("refcodes", "Raised per refcode", description, data,
                     columns=["Refcode", "Donations", "Raised", "Visitors", "Conversion", "New donors",
                              "Returning donors"], rows=rows,
                     max_label=money(max((int(r["amount_cents"]) for r in refs), default=0)))


def participation_chart(report: Mapping[str, Any]) -> Chart:
    """An action's (or a page's) funnel: one bar per stage, the same numbers in the table under it."""
    stages = list(report["stages"])
    names = {"donors": "Donors", "invited": "Invited", "rsvp_yes": "Said yes", "confirmed": "Confirmed",
             "attended": "Attended", "hosted_or_raised": "Hosted or raised"}
    data = [Datum(names[s["stage"]], float(s["people"]), str(s["people"])) for s in stages]
    rows = [[names[s["stage"]], str(s["people"])] for s in stages]
    first, last = stages[0]["people"], stages[-1]["people"]
    description = (f"People at each stage of {report['title']}: {first} "
                   f"{names[stages[0]['stage']].lower()}, {last} went on to host or raise.")
    return bar_chart("participation", "People at each stage", description, data,
                     columns=["Stage", "People"], rows=rows,
                     max_label=str(max((int(s["people"]) for s in stages), default=0)))


def preview_html(query: Mapping[str, str], now: datetime) -> tuple[str, int]:
    """The donation page for the editor's unsaved fields (never stored, nothing counted)."""
    from chalicelib import deps
    from chalicelib.api.http import validated
    from chalicelib.console.forms import page_body
    from chalicelib.console.render import render_page
    from chalicelib.errors import InvalidInput
    from chalicelib.pages.input import PageCreate
    from chalicelib.pages.render import render_donate

    data = {k: [v] for k, v in query.items()}
    zone = deps.page_service().committee_zone(query.get("committee_id", "").strip())
    body, errors = page_body(data, creating=True, zone=zone)
    body["slug"] = body.get("slug") or "preview"
    try:
        if errors:
            raise InvalidInput("invalid_request", "Some fields are missing or invalid.", fields=errors)
        page = deps.page_service().draft(validated(PageCreate, body))
    except InvalidInput as err:
        return render_page("console/preview_invalid.html", problems=err.fields or {"form": err.message}), 200
    return render_donate(page, deps.page_service().preview(page), "", None, preview=True,
                         committee_type=deps.committees().get(page.committee_id).type,
                         locale=page.locale), 200


_LINE = re.compile(r"^L(\d+)([a-z]*)_(.*)_(period|ytd)$")


def summary_lines(lines: Mapping[str, float]) -> list[tuple[str, str, float | None, float | None]]:
    """A report's summary lines (schema names such as `L11ai_individuals_itemized_period`, in
    dollars) as rows of the form: line ("11(a)(i)"), what it is, column A, column B."""
    rows: dict[str, list[Any]] = {}
    for name, value in lines.items():
        match = _LINE.match(name)
        if not match:
            continue
        number, letters, what, column = match.groups()
        label = number + "".join(f"({part})" for part in _letter_parts(letters))
        row = rows.setdefault(label, [label, what.replace("_", " "), None, None])
        row[2 if column == "period" else 3] = value
    return [tuple(r) for r in rows.values()]  # type: ignore[misc]


def _letter_parts(letters: str) -> list[str]:
    """`ai` → a, i; `aiii` → a, iii; `b` → b (the form's own numbering)."""
    if not letters:
        return []
    return [letters[0], letters[1:]] if len(letters) > 1 else [letters]
