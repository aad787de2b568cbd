"""Follow-ups' domain rules without services: tokens, matching, planning, SES feedback,
composition and the MIME message SES gets (SNS signatures: tests/unit/test_sns.py)."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta, timezone

from chalicelib.followups.feedback import Suppression, suppressions
from chalicelib.followups.matching import Audience, rank
from chalicelib.followups.model import Action, Location, OutgoingEmail, Person
from chalicelib.followups.planning import FollowupPlanner
from chalicelib.giving.ledger import PaymentState
from chalicelib.giving.model import Donation, DonorSnapshot

T0 = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)

# --- matching -------------------------------------------------------------------------------------
def action(action_id: str, kind: str = "event", *, zip_: str | None = None, state: str = "IL",
           virtual: bool = False, starts: timedelta | None = timedelta(days=3),
           capacity: int | None = None, taken: int = 0, pages: list[str] | None = None,
           active: bool = True) -> Action:
    return Action(action_id, kind, action_id, "", T0, T0,
                  starts_at=T0 + starts if starts is not None else None,
                  location=Location("Town", state, zip_) if zip_ else None, virtual=virtual,
                  capacity=capacity, seats_taken=taken, pages=pages or [], active=active)


def test_ranking_puts_interests_then_nearness_then_the_page_first() -> None:
    who = Audience(zip="62701", state="IL", interests=("canvass",), page_slug="spring")
    candidates = [
        action("virtual-event", virtual=True),
        action("state-event", zip_="60601"),
        action("zip3-event", zip_="62704"),
        action("page-virtual", virtual=True, pages=["spring"]),
        action("canvass-virtual", "canvass", virtual=True),
        action("canvass-zip3", "canvass", zip_="62799"),
    ]
    ranked = [a.action_id for a in rank(candidates, who, T0, limit=10)]
    assert ranked == ["canvass-zip3", "canvass-virtual", "zip3-event", "state-event",
                      "page-virtual", "virtual-event"]


def test_ranking_leaves_out_full_past_closed_far_and_already_invited() -> None:
    who = Audience(zip="62701", state="IL")
    candidates = [
        action("full", virtual=True, capacity=2, taken=2),
        action("past", virtual=True, starts=timedelta(days=-1)),
        action("closed", virtual=True, active=False),
        action("far", zip_="98101", state="WA"),
        action("invited", virtual=True),
        action("ok", virtual=True, capacity=2, taken=1),
        action("undated", "share", starts=None),
    ]
    assert [a.action_id for a in rank(candidates, who, T0, exclude={"invited"})] == ["ok", "undated"]
    nowhere = Audience(zip=None, state=None)
    assert [a.action_id for a in rank([action("near", zip_="62704")], nowhere, T0)] == []


def test_ranking_is_limited_and_soonest_first_among_equals() -> None:
    who = Audience(zip="62701", state="IL")
    candidates = [action(f"a{n}", virtual=True, starts=timedelta(days=10 - n)) for n in range(5)]
    assert [a.action_id for a in rank(candidates, who, T0, limit=3)] == ["a4", "a3", "a2"]


def test_the_daily_cap_frees_after_24_hours_or_for_the_same_message() -> None:
    person = Person("dnr_1", "a@example.org", last_invited_at=T0, last_invitation_message="thanks#1")
    assert person.invitation_slot_free(T0 + timedelta(hours=1), "thanks#1")
    assert not person.invitation_slot_free(T0 + timedelta(hours=23), "thanks#2")
    assert person.invitation_slot_free(T0 + timedelta(hours=24), "thanks#2")


# --- planning -------------------------------------------------------------------------------------
def donation(refcode: str | None = None, paid: bool = False) -> Donation:
    snapshot = DonorSnapshot("Ana", "Rivera", "ana@example.org", "1 Main St", "Springfield", "IL",
                             "62701", "Library", "Librarian")
    return Donation(donation_id="don_1", page_slug="p", committee_id="C00123456", election="P2026",
                    donor=snapshot, donor_id="dnr_x", created_at=T0, fingerprint="f",
                    state=PaymentState(2700, paid=paid), refcode=refcode)


def test_a_new_success_plans_a_thank_you_and_a_reminder() -> None:
    plan = FollowupPlanner(timedelta(days=2))
    messages = plan(donation(), PaymentState(2700, paid=True), T0)
    assert [(m.message_id, m.kind, m.due_at) for m in messages] == [
        ("thanks#don_1", "thanks", T0), ("reminder#don_1", "reminder", T0 + timedelta(days=2))]
    assert messages[1].payload == {"donation_id": "don_1", "after": "thanks#don_1"}


def test_only_the_transition_to_paid_plans_anything() -> None:
    plan = FollowupPlanner(timedelta(days=2))
    assert plan(donation(paid=True), PaymentState(2700, paid=True, refunded_cents=100), T0) == []
    assert plan(donation(), PaymentState(2700, failed=True), T0) == []


def test_a_share_refcode_plans_a_credit_other_refcodes_do_not() -> None:
    plan = FollowupPlanner(timedelta(days=2))
    credit = plan(donation("sh-abc123"), PaymentState(2700, paid=True), T0)[-1]
    assert (credit.message_id, credit.kind) == ("credit#don_1", "credit")
    assert credit.payload["share_code"] == "abc123" and credit.payload["amount_cents"] == 2700
    assert len(plan(donation("email-nov"), PaymentState(2700, paid=True), T0)) == 2


# --- SES feedback ---------------------------------------------------------------------------------
def test_hard_bounces_and_complaints_suppress_soft_bounces_do_not() -> None:
    hard = {"notificationType": "Bounce", "bounce": {"bounceType": "Permanent", "bouncedRecipients": [
        {"emailAddress": "a@example.org"}, {"emailAddress": "Bee <b@example.org>"}]}}
    assert suppressions(hard) == [Suppression("a@example.org", "bounce"),
                                  Suppression("b@example.org", "bounce")]
    soft = {"notificationType": "Bounce", "bounce": {"bounceType": "Transient",
                                                     "bouncedRecipients": [{"emailAddress": "a@x.org"}]}}
    assert suppressions(soft) == []
    event = {"eventType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": "c@x.org"}]}}
    assert suppressions(event) == [Suppression("c@x.org", "complaint")]
    assert suppressions({"notificationType": "Delivery"}) == suppressions("junk") == []


# --- composition and MIME -------------------------------------------------------------------------
def test_emails_escape_html_and_carry_the_unsubscribe_link() -> None:
    from chalicelib.followups.compose import InvitationLink, compose

    evil = action("act_1", virtual=True)
    evil.title = "<script>alert(1)</script> & friends"
    person = Person("dnr_1", "a@example.org", first_name="Ana")
    message = compose("thanks", "Thank you, Ana", to="a@example.org", message_id="thanks#don_1",
                      unsubscribe_url="https://x/api/unsubscribe/T", unsubscribe_page="https://x/u/T",
                      person=person, invitations=[InvitationLink(evil, "https://x/i/TOKEN")],
                      share_url="https://x/r/code", page=None, amount_cents=2700, confirm_url=None,
                      cancel_url=None, express_url=None)
    assert "&lt;script&gt;" in message.html and "<script>" not in message.html
    assert "<script>alert(1)</script> & friends" in message.text  # plain text is not HTML
    for body in (message.html, message.text):
        assert "https://x/u/T" in body and "https://x/i/TOKEN" in body and "$27" in body
        assert "https://x/r/code" in body


def test_the_mime_message_has_both_parts_and_one_click_unsubscribe() -> None:
    from chalicelib.notify.ses import mime

    long_url = "https://groundswell.example.org/api/unsubscribe/" + "T" * 120
    raw = mime(OutgoingEmail("a@example.org", "Thank you, Ana ✓", "<p>Hi ✓</p>", "Hi ✓",
                             long_url, "thanks#don_1"), "Team <t@example.org>")
    assert f"\r\nList-Unsubscribe: <{long_url}>\r\n".encode() in raw  # literal, not encoded words
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["List-Unsubscribe"] == f"<{long_url}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Subject"] == "Thank you, Ana ✓"
    assert parsed.get_body(("plain",)).get_content().strip() == "Hi ✓"  # type: ignore[union-attr]
    assert "<p>Hi ✓</p>" in parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_only_the_complaint_alarm_pauses_and_resumes_invitations() -> None:
    from chalicelib.followups.feedback import complaint_alarm

    def note(name: str, state: str) -> dict[str, str]:
        return {"AlarmName": name, "NewStateValue": state}

    assert complaint_alarm(note("groundswell-prod-ses-complaint-rate", "ALARM")) is True
    assert complaint_alarm(note("groundswell-prod-ses-complaint-rate", "OK")) is False
    assert complaint_alarm(note("groundswell-prod-ses-complaint-rate", "INSUFFICIENT_DATA")) is None
    assert complaint_alarm(note("groundswell-prod-ses-bounce-rate", "ALARM")) is None
    assert complaint_alarm({"notificationType": "Complaint"}) is None and complaint_alarm("x") is None
