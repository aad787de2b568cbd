"""Reattribution through the running stack: a primary gift's excess that the general has no
room for is held; the donor's notice carries a signed link where they name the other holder of
the card account and the amount; that person's email carries their own link where they confirm
with their own details. Opening either link changes nothing; until both have posted nothing
moves; confirming twice moves the amount once, from the donor's aggregate to theirs; a
confirmation past their limit is a 422 page and writes nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib import deps
from chalicelib.api.html import FORM
from chalicelib.giving.model import donor_id_for
from chalicelib.storage.models import DonorAggregateModel
from tests.followups_kit import delivered, drain_until
from tests.helpers import FINANCE_KEY, redesignated_gift
from tests.mail import mirrored, sent_to, text_of

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mirrored(tmp_path_factory.mktemp("reattribution")) as folder:
        yield folder


def net(donor_id: str, scope: str) -> int:
    try:
        return int(DonorAggregateModel.get(donor_id, scope, consistent_read=True).net_cents)
    except DonorAggregateModel.DoesNotExist:
        return 0


def link(mailbox: Path, email: str, subject: str, path: str) -> str:
    (message,) = [m for m in sent_to(mailbox, email) if subject in m["Subject"]]
    found = re.search(rf"https?://[^/\s]+({re.escape(path)}\S+)", text_of(message))
    assert found, text_of(message)
    return found.group(1)


def post(api: Any, path: str, **fields: str) -> tuple[int, str]:
    return api.call("POST", path, raw=urlencode(fields), headers={"Content-Type": FORM})


def ben_form(email: str) -> dict[str, str]:
    return {"first_name": "Ben", "last_name": "Cho", "email": email, "line1": "2 Oak Ave",
            "city": "Springfield", "state": "IL", "zip": "62702", "employer": "Springfield Schools",
            "occupation": "Teacher", "us_citizen_or_permanent_resident": "on", "own_funds": "on",
            "not_federal_contractor": "on", "personal_card": "on"}


def held_gift(api: Any, mailbox: Path) -> tuple[dict[str, Any], str]:
    """A gift with $10 held, and the donor's reattribution link from their notice."""
    email = f"ana.{uuid.uuid4().hex[:10]}@example.org"
    donation_id = redesignated_gift(api, general_cents=9_000, email=email)
    donation = api.donation(donation_id, key=FINANCE_KEY)
    assert (donation["excess_held_cents"], donation["redesignated_cents"]) == (1_000, 0)
    drain_until(delivered(f"excess_notice#{donation_id}"))
    donation["scope"] = f"{donation['committee_id']}#{donation['election']}"
    return donation, link(mailbox, email, "over the legal limit", "/reattribution/")


def test_reattribution_confirmed_by_both_people_moves_the_amount_once(api, mailbox: Path) -> None:
    donation, ask = held_gift(api, mailbox)
    donation_id, scope, ana = donation["donation_id"], donation["scope"], donation["donor_id"]
    ben_email = f"ben.{uuid.uuid4().hex[:10]}@example.org"
    ben = donor_id_for(ben_email)
    assert (net(ana, scope), net(ben, scope)) == (10_000, 0)

    for _ in range(2):  # a mail scanner opens the donor's link: nothing changes
        status, page = api.call("GET", ask)
        assert status == 200 and "Ask them to confirm" in page
    status, page = post(api, ask, first_name="Ben", last_name="Cho", email=ben_email, amount="20")
    assert status == 400 and "aria-invalid" in page  # more than is held: the form again
    for _ in range(2):  # posted twice: one request
        status, page = post(api, ask, first_name="Ben", last_name="Cho", email=ben_email, amount="6")
        assert status == 200 and "We asked Ben to confirm" in page
    assert (net(ana, scope), net(ben, scope)) == (10_000, 0)  # nothing moves yet

    drain_until(delivered(f"reattribution_request#{donation_id}"))
    confirm = link(mailbox, ben_email, "confirm your part", "/reattribution/confirm/")
    status, page = api.call("GET", confirm)
    assert status == 200 and "Confirm $6 as my contribution" in page
    status, page = post(api, confirm, **{**ben_form(ben_email), "own_funds": ""})
    assert status == 400 and "Federal law requires each of these to be true" in page
    assert (net(ana, scope), net(ben, scope)) == (10_000, 0)

    for _ in range(2):  # confirmed twice: moved once
        status, page = post(api, confirm, **ben_form(ben_email))
        assert status == 200 and "it is confirmed" in page
    assert (net(ana, scope), net(ben, scope)) == (9_400, 600)
    after = api.donation(donation_id, key=FINANCE_KEY)
    assert (after["excess_held_cents"], after["reattribution_status"], after["reattribution_cents"]) == \
        (400, "confirmed", 600)
    status, page = api.call("GET", ask)  # the donor's link now says so
    assert status == 200 and "now counts as theirs" in page


def test_a_confirmation_past_the_other_persons_limit_is_refused_and_writes_nothing(api, mailbox) -> None:
    donation, ask = held_gift(api, mailbox)
    scope = donation["scope"]
    ben_email = f"ben.{uuid.uuid4().hex[:10]}@example.org"
    ben = donor_id_for(ben_email)
    DonorAggregateModel(ben, scope, net_cents=8_500, exposure_cents=8_500).save()  # Ben gave $85
    assert post(api, ask, first_name="Ben", last_name="Cho", email=ben_email, amount="10")[0] == 200
    drain_until(delivered(f"reattribution_request#{donation['donation_id']}"))
    confirm = link(mailbox, ben_email, "confirm your part", "/reattribution/confirm/")
    status, page = post(api, confirm, **ben_form(ben_email))
    assert status == 422 and "legal limit" in page
    assert net(ben, scope) == 8_500
    assert api.donation(donation["donation_id"], key=FINANCE_KEY)["reattribution_status"] == "requested"
    deps.committees().forget(donation["committee_id"])
