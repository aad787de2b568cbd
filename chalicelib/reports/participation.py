"""The participation funnel of one action (issue 16): how many distinct people reached each
stage, from the invitations the follow-ups record. Stages nest, so the counts never grow:

- `invited`: people with an invitation to the action, whatever its status (walk-ins included).
- `rsvp_yes`: of those, people who said yes at some point: status `yes`, `waitlisted`,
  `confirmed`, `cancelled`, `attended` or `no_show` (a `cancelled` answer follows a yes).
- `confirmed`: people who reached the seat's confirmation or beyond: `confirmed`, `attended`
  or `no_show` (a walk-in checked in counts: attending confirms).
- `attended`: checked in by the host (`attended`).
- `hosted_or_raised`: attendees who then host an action of their own (a supporter proposal or
  an action they were made host of) or recruited at least one donor through their share code.

Reads are bounded: the action's invitations by the action index, paged; the actions once,
paged; one person read per attendee.

Per page (and refcode), `for_page` adds a first stage, `donors`: the distinct donors whose
contributions on the page (with that refcode) were paid in the date range, read from the
movements' `by-month` index (the refcode report's source). Each later stage counts those donors
by their invitations to any action (the invitations' `by-person` index, one Query per donor;
at most `max_donors` donors, else 400 asking for fewer days), and `hosted_or_raised` counts the
donors who host an action of their own (as above) or raised: started a supporter page under this
page that got a gift (pages/supporters.py). Raising needs no event, so that last stage counts
every donor of the page, attended or not, and may be larger than `attended`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta, timezone
from typing import Any, Protocol

from chalicelib.clock import utcnow
from chalicelib.errors import InvalidInput, NotFound
from chalicelib.followups.model import Action, Invitation, Person
from chalicelib.paging import Slice
from chalicelib.reports.refcodes import ContributionSource, parse_range

STAGES = ("invited", "rsvp_yes", "confirmed", "attended", "hosted_or_raised")
PAGE_STAGES = ("donors", *STAGES)
SAID_YES = frozenset({"yes", "waitlisted", "confirmed", "cancelled", "attended", "no_show"})
CONFIRMED = frozenset({"confirmed", "attended", "no_show"})
PAGE = 200
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
REFCODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")



class ParticipationStore(Protocol):
    def get_action(self, action_id: str) -> Action | None: ...
    def invitations_of_person(self, person_id: str) -> list[Invitation]: ...
    def invitations_page(self, action_id: str, limit: int, after: str | None) -> Slice[Invitation]: ...
    def actions_page(self, limit: int, after: str | None) -> Slice[Action]: ...
    def get_person(self, person_id: str) -> Person | None: ...


def _all(fetch: Callable[[int, str | None], Slice[Any]]) -> Iterator[Any]:
    after: str | None = None
    while True:
        page = fetch(PAGE, after)
        yield from page.items
        after = page.after
        if not after:
            return


class ParticipationReport:
    def __init__(self, store: ParticipationStore, contributions: ContributionSource | None = None,
                 raised_under: Callable[[str], set[str]] | None = None, max_donors: int = 5000,
                 clock: Callable[[], datetime] = utcnow,
                 page_title: Callable[[str], str] | None = None) -> None:
        self.store = store
        # The page's title (NotFound for an unknown page).
        self.page_title = page_title
        self.contributions = contributions
        self.raised_under = raised_under
        self.max_donors = max_donors
        self.clock = clock

    def for_page(self, page_slug: str, refcode: str | None = None, from_text: str | None = None,
                 to_text: str | None = None, title: str | None = None) -> dict[str, object]:
        """The funnel of the donors of one page (and one refcode) in a range of UTC days
        (default the last 30, as the refcode report). 400 for a malformed slug, refcode or day,
        404 for an unknown page."""
        if not SLUG.fullmatch(page_slug):
            raise InvalidInput("invalid_request", "Unknown page.",
                               fields={"page_slug": "must be a page slug"})
        if refcode is not None and not REFCODE.fullmatch(refcode):
            raise InvalidInput("invalid_request", "Unknown refcode.",
                               fields={"refcode": "letters, digits, '_', '.', '-' (at most 64)"})
        if self.contributions is None:
            raise NotFound("not_found", "The funnel per page is not available here.")
        if title is None and self.page_title is not None:
            title = self.page_title(page_slug)
        from_day, to_day = parse_range(from_text, to_text, self.clock().date())
        start = datetime.combine(from_day, time(0), timezone.utc)
        end = datetime.combine(to_day + timedelta(days=1), time(0), timezone.utc)
        donors = sorted({f.donor_id for f in self.contributions.contributions(page_slug, None, start, end)
                         if f.page_slug == page_slug and (refcode is None or f.refcode == refcode)})
        if len(donors) > self.max_donors:
            raise InvalidInput("invalid_request", f"Over {self.max_donors} donors: ask for fewer days.",
                               fields={"from": "a shorter range"})
        people: dict[str, set[str]] = {stage: set() for stage in PAGE_STAGES}
        people["donors"] = set(donors)
        for donor_id in donors:
            statuses = {inv.status for inv in self.store.invitations_of_person(donor_id)}
            if statuses:
                people["invited"].add(donor_id)
            if statuses & SAID_YES:
                people["rsvp_yes"].add(donor_id)
            if statuses & CONFIRMED:
                people["confirmed"].add(donor_id)
            if "attended" in statuses:
                people["attended"].add(donor_id)
        raised = self.raised_under(page_slug) if self.raised_under else set()
        people["hosted_or_raised"] = people["donors"] & (raised | self._supporter_hosts())
        counts = {stage: len(people[stage]) for stage in PAGE_STAGES}
        return {"scope": {"page_slug": page_slug, "refcode": refcode, "from": from_day.isoformat(),
                          "to": to_day.isoformat()}, "title": title or page_slug,
                "stages": [{"stage": s, "people": counts[s]} for s in PAGE_STAGES], "counts": counts}

    def _supporter_hosts(self, but: str | None = None) -> set[str]:
        """People who host an action as supporters (a proposal, or one they were given)."""
        return {a.host.ref for a in _all(self.store.actions_page)
                if a.host is not None and a.host.kind == "supporter" and a.action_id != but}

    def for_action(self, action_id: str) -> dict[str, object]:
        action = self.store.get_action(action_id)
        if action is None:
            raise NotFound("not_found", "Unknown action.")
        people: dict[str, set[str]] = {stage: set() for stage in STAGES}
        for inv in _all(lambda n, a: self.store.invitations_page(action_id, n, a)):
            people["invited"].add(inv.person_id)
            if inv.status in SAID_YES:
                people["rsvp_yes"].add(inv.person_id)
            if inv.status in CONFIRMED:
                people["confirmed"].add(inv.person_id)
            if inv.status == "attended":
                people["attended"].add(inv.person_id)
        hosts = self._supporter_hosts(but=action_id)
        for person_id in sorted(people["attended"]):
            person = self.store.get_person(person_id)
            if person_id in hosts or (person is not None and person.recruited_count > 0):
                people["hosted_or_raised"].add(person_id)
        counts = {stage: len(people[stage]) for stage in STAGES}
        return {"scope": {"action_id": action_id}, "title": action.title,
                "stages": [{"stage": s, "people": counts[s]} for s in STAGES], "counts": counts}
