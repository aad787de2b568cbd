"""Supporters who raise (issue 16), against the in-memory page twin: a donor's signed link
starts their own page under a campaign page, inheriting it; it waits for an organizer (or goes
live at once where the campaign allows it); its gifts are credited to the supporter; the
leaderboard ranks the campaign's supporter pages by what they raised."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from chalicelib import tokens
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.giving.service import GivingService
from chalicelib.pages.model import PageTotals
from chalicelib.pages.service import PageService
from chalicelib.pages.supporters import SupporterService
from tests.giving_twins import (
    T0,
    Clock,
    MemoryCommittees,
    MemoryDonations,
    MemoryPages,
    MemoryPayments,
    donation_request,
    page,
)

SECRET = "unit-test-token-secret-0123456789"


def campaign(**changes: Any) -> Any:
    return replace(page("spring"), ask_amounts_cents=[1500, 3000, 6000], elections=["P2026", "G2026"],
                   deadlines=[T0 + timedelta(days=400)], headline="Chip in for spring", **changes)


class World:
    def __init__(self, **campaign_changes: Any) -> None:
        self.clock = Clock()
        self.tokens = tokens.Tokens(SECRET, self.clock)
        self.pages = MemoryPages(campaign(**campaign_changes))
        self.service = SupporterService(self.pages, lambda: self.tokens, max_per_campaign=3,
                                        clock=self.clock)

    def link(self, donor_id: str = "dnr_ana", parent: str = "spring") -> str:
        token = self.service.start_link_token(donor_id, parent)
        assert token is not None
        return token

    def start(self, donor_id: str = "dnr_ana", handle: str = "ana-raises", **changes: Any) -> Any:
        body = {"handle": handle, "goal_cents": 50_000, "display_name": "Ana",
                "note": "I give because\r\nit matters.", **changes}
        return self.service.start(self.link(donor_id), body)


def test_a_supporter_page_inherits_the_campaign_and_waits_for_approval() -> None:
    w = World()
    child = w.start()
    parent = w.pages.pages["spring"]
    assert child.slug == "spring--ana-raises" and w.pages.pages[child.slug] is child
    assert (child.committee_id, child.deadline, child.deadlines, child.election, child.elections,
            child.ask_amounts_cents) == (parent.committee_id, parent.deadline, parent.deadlines,
                                         parent.election, parent.elections, parent.ask_amounts_cents)
    assert child.goal_cents == 50_000 and child.supporter is not None
    assert child.supporter.note == "I give because\nit matters." and child.supporter.status == "pending"
    assert child.supporter.refcode == "sh-" + w.tokens.share_code("dnr_ana")
    assert not child.listed and not child.is_open(w.clock())


def test_the_campaign_page_may_let_supporter_pages_go_live_at_once() -> None:
    child = World(supporters_auto_approve=True).start()
    assert child.supporter.status == "live" and child.listed and child.is_open(T0)


def test_an_organizer_approves_once_and_a_declined_page_never_goes_live() -> None:
    w = World()
    w.start()
    w.start("dnr_ben", "ben")
    live = w.service.decide("spring--ana-raises", True, "Olive")
    assert live.supporter.status == "live" and live.supporter.decided_by == "Olive" and live.listed
    with pytest.raises(Conflict) as again:
        w.service.decide("spring--ana-raises", False, "Olive")
    assert again.value.code == "not_pending"
    declined = w.service.decide("spring--ben", False, "Olive")
    assert declined.supporter.status == "declined" and not declined.listed
    with pytest.raises(NotFound):
        w.service.decide("spring", True, "Olive")  # the campaign page is not a supporter's


def test_a_pending_page_is_not_shown_and_takes_no_gifts() -> None:
    w = World()
    w.start()
    pages = PageService(w.pages, "pk_test_x", clock=w.clock)
    giving = GivingService(MemoryDonations(), w.pages, MemoryPayments(), MemoryCommittees(), w.clock)
    with pytest.raises(NotFound):
        pages.view("spring--ana-raises")
    with pytest.raises(NotFound):
        giving.start_donation("spring--ana-raises", donation_request(2_700, "cy@example.org", "key-cy-00001"))
    w.service.decide("spring--ana-raises", True, "Olive")
    _page, view = pages.view("spring--ana-raises")
    assert view["supporter"] == {"parent_slug": "spring", "handle": "ana-raises", "display_name": "Ana",
                                 "note": "I give because\nit matters.", "status": "live"}
    assert "owner_id" not in str(view)


def test_every_gift_on_a_supporter_page_is_credited_to_the_supporter() -> None:
    w = World(supporters_auto_approve=True)
    child = w.start()
    giving = GivingService(MemoryDonations(), w.pages, MemoryPayments(), MemoryCommittees(), w.clock)
    request = donation_request(2_700, "cy@example.org", "key-cy-00001")
    request.refcode = "email-blast"  # whatever link brought the donor, the supporter is credited
    started = giving.start_donation(child.slug, request)
    assert started.donation.refcode == child.supporter.refcode
    assert started.donation.page_slug == child.slug and started.donation.committee_id == "C00000001"


@pytest.mark.parametrize(("field", "value"), [
    ("handle", "A"), ("handle", "has space"), ("handle", "two--hyphens"), ("handle", "x" * 31),
    ("goal_cents", 99), ("goal_cents", 10.5), ("goal_cents", True), ("goal_cents", "5000"),
    ("display_name", ""), ("display_name", "x" * 41), ("display_name", "Ana\u202e"),
    ("note", "x" * 501), ("note", "bell\x07"), ("surprise", 1),
])
def test_bad_input_is_refused_and_nothing_is_written(field: str, value: Any) -> None:
    w = World()
    with pytest.raises(InvalidInput) as refused:
        w.start(**{field: value})
    assert field in refused.value.fields and list(w.pages.pages) == ["spring"]


def test_one_page_per_donor_and_campaign_and_a_cap_per_campaign() -> None:
    w = World()
    w.start()
    with pytest.raises(Conflict) as twice:
        w.start(handle="ana-again")
    assert twice.value.code == "supporter_page_exists"
    with pytest.raises(Conflict) as taken:
        w.start("dnr_ben", "ana-raises")
    assert taken.value.code == "page_exists"
    w.start("dnr_ben", "ben")
    w.start("dnr_cy", "cyd")
    with pytest.raises(Conflict) as full:
        w.start("dnr_dee", "dee")
    assert full.value.code == "too_many_supporter_pages"


def test_links_are_signed_expire_and_name_an_open_campaign() -> None:
    w = World()
    token = w.link()
    with pytest.raises(InvalidInput):
        w.service.campaign_for(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert w.service.start_link_token("dnr_ana", "nowhere") is None
    w.start(handle="ana")
    # On a supporter's page the link starts a page under its campaign page.
    assert w.service.campaign_for(w.link(parent="spring--ana"))[1].slug == "spring"
    w.clock.advance(days=61)
    with pytest.raises(Exception) as expired:
        w.service.campaign_for(token)
    assert getattr(expired.value, "code", None) == "token_expired"


def test_the_leaderboard_ranks_by_raised_and_pages() -> None:
    w = World()
    for donor, handle in (("dnr_ana", "ana"), ("dnr_ben", "ben"), ("dnr_cy", "cyd")):
        w.start(donor, handle)
    w.pages.thermometers = {"spring--ana": PageTotals(5_000, 2), "spring--ben": PageTotals(9_000, 1)}
    first = w.service.leaderboard("spring", 2)
    assert [(r["rank"], r["handle"], r["raised_cents"]) for r in first["supporters"]] == [
        (1, "ben", 9_000), (2, "ana", 5_000)]
    assert first["total_raised_cents"] == 14_000 and first["total_supporters"] == 3
    rest = w.service.leaderboard("spring", 2, first["after"])
    assert [(r["rank"], r["handle"]) for r in rest["supporters"]] == [(3, "cyd")] and rest["after"] is None
    assert w.service.leaderboard("spring", 10, status="live")["supporters"] == []
    assert w.service.owned_with_gifts("spring") == {"dnr_ana", "dnr_ben"}
    with pytest.raises(InvalidInput):
        w.service.leaderboard("spring", 2, "x")
    with pytest.raises(NotFound):
        w.service.leaderboard("spring--ana", 2)


def test_the_portal_offers_a_start_link_or_the_donors_own_page() -> None:
    w = World()
    w.pages.pages["autumn"] = replace(campaign(), slug="autumn", title="Autumn")
    w.pages.pages["closed"] = replace(campaign(), slug="closed", closed_reason="election_forgone")
    w.start(handle="ana")
    offers = w.service.offers("dnr_ana", ["spring--ana", "spring", "autumn", "closed", "nowhere"])
    assert [(o["page_slug"], o.get("own_url"), o.get("status")) for o in offers] == [
        ("spring", "/donate/spring--ana", "pending"), ("autumn", None, None)]
    token = str(offers[1]["start_url"]).rsplit("/", 1)[1]
    assert w.service.campaign_for(token) == ("dnr_ana", w.pages.pages["autumn"])
    assert len(w.service.offers("dnr_ben", ["spring", "autumn"], limit=1)) == 1


def test_the_thank_you_link_is_for_the_donor_of_a_recent_gift_on_that_page() -> None:
    from types import SimpleNamespace

    w = World()
    gift = SimpleNamespace(page_slug="spring", created_at=T0, donor=SimpleNamespace(email="ana@example.org"))
    w.service.donations = SimpleNamespace(get=lambda donation_id: gift if donation_id == "don_1" else None)
    url = w.service.start_url_for_donation("spring", "don_1", timedelta(hours=24))
    assert url is not None and url.startswith("/support/")
    donor_id, parent = w.service.campaign_for(url.rsplit("/", 1)[1])
    assert parent.slug == "spring" and donor_id.startswith("dnr_")
    assert w.service.start_url_for_donation("autumn", "don_1", timedelta(hours=24)) is None
    assert w.service.start_url_for_donation("spring", "don_2", timedelta(hours=24)) is None
    w.clock.advance(hours=25)
    assert w.service.start_url_for_donation("spring", "don_1", timedelta(hours=24)) is None


def test_the_dashboard_lists_organizers_pages_not_their_supporters() -> None:
    w = World(supporters_auto_approve=True)
    for donor, handle in (("dnr_ana", "ana"), ("dnr_ben", "ben"), ("dnr_cy", "cyd")):
        w.start(donor, handle)
    w.pages.pages["zeta"] = replace(campaign(), slug="zeta")
    pages = PageService(w.pages, "pk_test_x", clock=w.clock)
    first = pages.list_page(2)  # spring, then a Scan page of supporters only, then zeta
    assert [p.slug for p in first.items] == ["spring", "zeta"] and first.after is None


def test_the_store_keeps_one_page_per_donor_even_past_the_index_check() -> None:
    w = World()
    first = w.start(handle="ana")
    second = replace(first, slug="spring--ana-two", supporter=replace(first.supporter, handle="ana-two"))
    with pytest.raises(Conflict) as raced:  # what a start that read the index before the first wrote meets
        w.pages.create(second)
    assert raced.value.code == "supporter_page_exists" and "spring--ana-two" not in w.pages.pages


def test_a_change_of_the_campaign_page_reaches_its_supporters_pages() -> None:
    from chalicelib.pages.input import PageUpdate

    w = World(supporters_auto_approve=True)
    child = w.start()
    pages = PageService(w.pages, "pk_test_x", clock=w.clock, followers=w.service.follow)
    later = T0 + timedelta(days=500)
    pages.update("spring", PageUpdate.model_validate({
        "deadlines": [later.isoformat()], "ask_amounts_cents": [2000, 4000], "goal_cents": 9_999_999}),
        changed_by="Olive")
    followed = w.pages.pages[child.slug]
    assert followed.deadlines == [later] and followed.ask_amounts_cents == [2000, 4000]
    assert followed.goal_cents == 50_000 and followed.supporter == child.supporter  # their own stay
    assert followed.version == child.version + 1
    assert w.service.follow(w.pages.pages["spring"], "Olive") == 0  # in step: nothing written
