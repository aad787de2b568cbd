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
paged; one person read per attendee."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from chalicelib.errors import NotFound
from chalicelib.followups.model import Action, Invitation, Person
from chalicelib.paging import Slice

STAGES = ("invited", "rsvp_yes", "confirmed", "attended", "hosted_or_raised")
SAID_YES = frozenset({"yes", "waitlisted", "confirmed", "cancelled", "attended", "no_show"})
CONFIRMED = frozenset({"confirmed", "attended", "no_show"})
PAGE = 200



class ParticipationStore(Protocol):
    def get_action(self, action_id: str) -> Action | None: ...
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
    def __init__(self, store: ParticipationStore) -> None:
        self.store = store

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
        hosts = {a.host.ref for a in _all(self.store.actions_page)
                 if a.host is not None and a.host.kind == "supporter" and a.action_id != action_id}
        for person_id in sorted(people["attended"]):
            person = self.store.get_person(person_id)
            if person_id in hosts or (person is not None and person.recruited_count > 0):
                people["hosted_or_raised"].add(person_id)
        counts = {stage: len(people[stage]) for stage in STAGES}
        return {"scope": {"action_id": action_id}, "title": action.title,
                "stages": [{"stage": s, "people": counts[s]} for s in STAGES], "counts": counts}
