"""Which email needs which consent: the one rule every delivery handler asks.

Transactional mail (a receipt, the email that confirms a monthly gift stopped, a best-efforts
request) is part of giving: it goes to a donor who unsubscribed from invitations, as the law and
their records need, but never to a suppressed address (a hard bounce or a complaint: SES must not
be asked again). Everything else carries invitations (thank-you invitations, reminders, welcomes,
the day-before reminder, a freed seat) and needs the invitations consent.
"""

from __future__ import annotations

from chalicelib.compliance.best_efforts import BEST_EFFORTS_KIND
from chalicelib.followups import planning
from chalicelib.followups.model import Person
from chalicelib.giving.recurring import PLAN_ENDED, RENEWAL_FAILED
from chalicelib.outbox.model import PermanentFailure

TRANSACTIONAL = frozenset({planning.THANKS, PLAN_ENDED, RENEWAL_FAILED, BEST_EFFORTS_KIND})


def require(person: Person, kind: str) -> None:
    """Refuse (for good: `PermanentFailure`, the outbox stops retrying) a message of `kind`
    that `person` must not get."""
    if person.suppressed:
        raise PermanentFailure(f"address suppressed ({person.suppressed})")
    if kind not in TRANSACTIONAL and person.unsubscribed_at is not None:
        raise PermanentFailure("unsubscribed")
