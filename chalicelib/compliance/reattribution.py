"""Reattribution of a held excess to another holder of the same card account (11 CFR
110.1(k)(3)): the donor names that person and an amount (at most what is held); that person
confirms with their own name, address, employer, occupation and the attestations through their
own signed link. Until both have, nothing moves; on confirmation the amount leaves the donor's
aggregate for the gift's election and joins the other person's, within their limit
(`compliance.limits.ceiling`), in one transaction, once. What is still held at day 60 is
refunded by the daily job (`compliance.remedies.HeldExcessRefunds`).

This module decides; the stores only write what it returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from chalicelib import tokens as purposes
from chalicelib.compliance.limits import Ceiling, OverLimit, ceiling
from chalicelib.compliance.remedies import remedy_due_on
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.outbox.model import OutboxMessage

if TYPE_CHECKING:
    from chalicelib.compliance.committees import Committee
    from chalicelib.giving.model import Donation, DonorSnapshot

REQUESTED = "requested"  # the donor named the other person; nothing moved
CONFIRMED = "confirmed"  # that person confirmed; the amount moved to them
REATTRIBUTION_REQUEST = "reattribution_request"  # the other person's email with their link


@dataclass(frozen=True)
class OtherHolder:
    """The person the donor names: who the confirmation link is sent to."""

    first_name: str
    last_name: str
    email: str


@dataclass(frozen=True)
class Request:
    """What the donor's request writes: the request on the donation (only while it still holds
    the excess and nothing is requested) and the other person's email."""

    donation_id: str
    holder: OtherHolder
    cents: int
    version: int
    message: OutboxMessage


@dataclass(frozen=True)
class Confirmation:
    """What the other person's confirmation writes, in one transaction: `cents` off the donor's
    aggregate (`donor_id`, `scope`) and onto theirs (`to_donor_id`, same scope) provided theirs
    stays within `to_ceiling`, the held excess down by it, the reattribution `confirmed` with
    their details and the committee's local day `on`; only while the request stands as read."""

    donation_id: str
    donor_id: str
    to_donor_id: str
    to: DonorSnapshot
    attestations: dict[str, bool]
    scope: str
    cents: int
    held_left_cents: int
    on: date
    to_ceiling: Ceiling
    version: int


def _open(committee: Committee, donation: Donation, now: datetime) -> None:
    """Refuses what no reattribution may touch: nothing held, or day 60 passed."""
    if not donation.excess_held_cents:
        raise Conflict("nothing_held", "Nothing of this contribution is waiting to be reattributed.")
    if committee.local_date(now) >= remedy_due_on(committee.local_date(donation.created_at)):
        raise Conflict("remedy_expired", "The 60 days to reattribute this contribution are over.")


def request_reattribution(committee: Committee, donation: Donation, holder: OtherHolder, cents: int,
                          now: datetime) -> Request:
    """The donor's request (Conflict when one stands already or the excess is resolved; a 400
    for an amount over what is held or naming the donor themselves)."""
    _open(committee, donation, now)
    if donation.reattribution_status is not None:
        raise Conflict("reattribution_requested",
                       "A reattribution of this contribution was asked for already.")
    if cents <= 0 or cents > donation.excess_held_cents:
        dollars, rest = divmod(donation.excess_held_cents, 100)
        raise InvalidInput("invalid_request", "The amount must be at most what is over the limit.",
                           fields={"amount": f"at most ${dollars}.{rest:02d}"})
    if holder.email.strip().lower() == donation.donor.email.strip().lower():
        raise InvalidInput("invalid_request", "Name the other holder of the card account.",
                           fields={"email": "must be another person's"})
    message = OutboxMessage(f"{REATTRIBUTION_REQUEST}#{donation.donation_id}", REATTRIBUTION_REQUEST, now, {
        "donation_id": donation.donation_id, "email": holder.email, "first_name": holder.first_name,
        "amount_cents": cents})
    return Request(donation.donation_id, holder, cents, donation.version, message)


def confirm_reattribution(committee: Committee, donation: Donation, person: DonorSnapshot,
                          their_donor_id: str, attestations: dict[str, bool], their_net_cents: int,
                          now: datetime) -> Confirmation:
    """The other person's confirmation: their giving in the gift's election (`their_net_cents`,
    the aggregate of `their_donor_id`, the person their email or their name and ZIP already
    name, as at intake) plus the amount must stay within the limit (OverLimit otherwise,
    nothing written)."""
    _open(committee, donation, now)
    request = donation.reattribution_request
    if donation.reattribution_status != REQUESTED or request is None:
        raise Conflict("not_requested", "No reattribution of this contribution is waiting for you.")
    if person.email.strip().lower() != str(request.get("email", "")).strip().lower():
        raise InvalidInput("invalid_request", "Confirm with the email address the link was sent to.",
                           fields={"email": "must be the address this link was sent to"})
    cents = min(donation.reattribution_cents, donation.excess_held_cents)
    limit = ceiling(committee.limit_cents, cents)
    if not limit.allows(their_net_cents):
        raise OverLimit()
    return Confirmation(donation.donation_id, donation.donor_id, their_donor_id, person, attestations,
                        donation.limit_scope, cents, donation.excess_held_cents - cents,
                        committee.local_date(now), limit, donation.version)


_TICKED = {"on", "true", "1", "yes"}
ATTESTATIONS = ("us_citizen_or_permanent_resident", "own_funds", "not_federal_contractor", "personal_card")


def read_request(values: dict[str, str]) -> tuple[OtherHolder, int]:
    """The donor's form (or JSON): the other person's first and last name and email, and the
    amount in dollars (`amount`, "25" or "25.50") or cents (`amount_cents`). A 400 naming each
    bad field otherwise."""
    import re

    from pydantic import BaseModel, ConfigDict, ValidationError

    from chalicelib.errors import invalid_fields
    from chalicelib.giving.intake import Email, Text

    class Ask(BaseModel):
        model_config = ConfigDict(str_strip_whitespace=True)
        first_name: Text
        last_name: Text
        email: Email

    try:
        ask = Ask.model_validate({k: values.get(k, "") for k in ("first_name", "last_name", "email")})
    except ValidationError as exc:
        raise invalid_fields(exc.errors(include_url=False, include_input=False)) from None
    raw = str(values.get("amount_cents") or "").strip()
    if raw.isdigit() and len(raw) <= 9:
        cents = int(raw)
    else:
        match = re.fullmatch(r"\$?\s*(\d{1,7})(?:\.(\d{2}))?", str(values.get("amount") or "").strip())
        if not match:
            raise InvalidInput("invalid_request", "Give the amount in dollars.",
                               fields={"amount": "an amount in dollars, such as 25 or 25.50"})
        cents = int(match.group(1)) * 100 + int(match.group(2) or 0)
    return OtherHolder(ask.first_name, ask.last_name, ask.email), cents


def read_confirmation(values: dict[str, str]) -> tuple[DonorSnapshot, dict[str, bool]]:
    """The other person's form (or JSON, flat): their name, email, address, employer and
    occupation as intake asks them, and each attestation ticked. A 400 naming each bad field."""
    from pydantic import ValidationError

    from chalicelib.errors import invalid_fields
    from chalicelib.giving.intake import AttestationsInput, DonorInput
    from chalicelib.giving.model import DonorSnapshot

    def ticked(name: str) -> bool:
        value = values.get(name)
        return value is True or str(value).strip().lower() in _TICKED

    address = {k: values.get(k, "") for k in ("line1", "city", "state", "zip")}
    if values.get("line2"):
        address["line2"] = values["line2"]
    body: dict[str, object] = {k: values.get(k, "") for k in
                               ("first_name", "last_name", "email", "employer", "occupation")}
    body["address"] = address
    try:
        donor = DonorInput.model_validate(body)
        attested = AttestationsInput.model_validate({k: ticked(k) for k in ATTESTATIONS})
    except ValidationError as exc:
        err = invalid_fields(exc.errors(include_url=False, include_input=False))
        fields = {k.removeprefix("address."): v for k, v in (err.fields or {}).items()}
        raise InvalidInput(err.code, err.message, fields=fields) from None
    a = donor.address
    person = DonorSnapshot(first_name=donor.first_name, last_name=donor.last_name, email=donor.email,
                           address_line1=a.line1, address_line2=a.line2 or None, city=a.city,
                           state=a.state, zip=a.zip, employer=donor.employer, occupation=donor.occupation)
    return person, attested.model_dump()


class Identified(Protocol):
    @property
    def donor_id(self) -> str: ...


class ReattributionStore(Protocol):
    def get(self, donation_id: str) -> Donation | None: ...
    def aggregate_net(self, donor_id: str, scope: str) -> int: ...
    def read_intake(self, snapshot: DonorSnapshot, counter_keys: Sequence[str]) -> Identified: ...
    def request_reattribution(self, request: Request, now: datetime) -> bool: ...
    def confirm_reattribution(self, confirmation: Confirmation, now: datetime) -> bool: ...


class Committees(Protocol):
    def get(self, committee_id: str) -> Committee: ...


class Tokens(Protocol):
    def read(self, token: str, purpose: str) -> str: ...


class Reattributions:
    """The two signed links: `show`/`show_confirmation` read (they change nothing); `request`
    and `confirm` act, each once (a second post finds it done and writes nothing)."""

    def __init__(self, store: ReattributionStore, committees: Committees, tokens: Tokens,
                 clock: Callable[[], datetime]) -> None:
        self.store = store
        self.committees = committees
        self.tokens = tokens
        self.clock = clock

    def _donation(self, token: str, purpose: str) -> Donation:
        donation = self.store.get(self.tokens.read(token, purpose))
        if donation is None:
            raise NotFound("donation_not_found", "This link names no contribution.")
        return donation

    def show(self, token: str) -> Donation:
        return self._donation(token, purposes.REATTRIBUTION)

    def show_confirmation(self, token: str) -> Donation:
        donation = self._donation(token, purposes.REATTRIBUTION_CONFIRM)
        if donation.reattribution_status is None:
            raise NotFound("donation_not_found", "This link names no reattribution.")
        return donation

    def request(self, token: str, holder: OtherHolder, cents: int) -> Donation:
        donation = self.show(token)
        if donation.reattribution_status is not None and donation.reattribution_request and \
                str(donation.reattribution_request.get("email", "")).lower() == holder.email.lower() \
                and donation.reattribution_cents == cents:
            return donation  # the same request posted again
        committee = self.committees.get(donation.committee_id)
        now = self.clock()
        request = request_reattribution(committee, donation, holder, cents, now)
        if not self.store.request_reattribution(request, now):
            raise Conflict("reattribution_requested", "This contribution changed; open the link again.")
        found = self.store.get(donation.donation_id)
        assert found is not None
        return found

    def confirm(self, token: str, person: DonorSnapshot, attestations: dict[str, bool]) -> Donation:
        donation = self.show_confirmation(token)
        if donation.reattribution_status == CONFIRMED:
            return donation  # confirmed already: moved once
        committee = self.committees.get(donation.committee_id)
        now = self.clock()
        # The same person as at intake: by email, else by name and ZIP5 (a second email of
        # someone who gave before must not start a fresh aggregate under the limit).
        their_id = self.store.read_intake(person, ()).donor_id
        net = self.store.aggregate_net(their_id, donation.limit_scope)
        confirmation = confirm_reattribution(committee, donation, person, their_id, attestations, net, now)
        if not self.store.confirm_reattribution(confirmation, now):
            found = self.store.get(donation.donation_id)
            if found is not None and found.reattribution_status == CONFIRMED:
                return found
            raise Conflict("not_requested", "This contribution changed; open the link again.")
        found = self.store.get(donation.donation_id)
        assert found is not None
        return found
