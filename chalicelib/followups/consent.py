"""Which email needs which consent: the one rule every delivery handler asks.

Transactional mail (a receipt, the email that confirms a monthly gift stopped, a best-efforts
request) is part of giving: it goes to a donor who unsubscribed from invitations, as the law and
their records need, but never to a suppressed address (a hard bounce or a complaint: SES must not
be asked again). Everything else carries invitations (thank-you invitations, reminders, welcomes,
the day-before reminder, a freed seat) and needs the invitations consent.

A text (`followups/texts.py` `RULES`) needs the texts consent, given by ticking its box and
not withdrawn by a STOP, whatever the person chose about email; only the answer to a person's
own text (STOP confirmed, HELP) goes without it.
"""

from __future__ import annotations

from chalicelib.compliance.best_efforts import BEST_EFFORTS_KIND
from chalicelib.followups import planning, texts
from chalicelib.followups.model import Person
from chalicelib.giving.recurring import PLAN_ENDED, RENEWAL_FAILED
from chalicelib.outbox.model import PermanentFailure

TRANSACTIONAL = frozenset({planning.THANKS, PLAN_ENDED, RENEWAL_FAILED, BEST_EFFORTS_KIND})


def require(person: Person | None, kind: str, channel: str = "email") -> None:
    """Refuse (for good: `PermanentFailure`, the outbox stops retrying) a message of `kind`
    that `person` must not get on `channel` (`email` or `sms`)."""
    if channel == "sms":
        if texts.rule(kind).answer:
            return
        if person is None or not person.textable:
            raise PermanentFailure("no texts consent")
        return
    if person is None:
        raise PermanentFailure("person not found")
    if person.suppressed:
        raise PermanentFailure(f"address suppressed ({person.suppressed})")
    if kind not in TRANSACTIONAL and person.unsubscribed_at is not None:
        raise PermanentFailure("unsubscribed")
