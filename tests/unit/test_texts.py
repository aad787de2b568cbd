"""Texts' own rules: phone numbers, the consent's disclosure, quiet hours across zones and DST,
the once-a-day cap's day, and the keywords of replies."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from chalicelib.followups import texts
from chalicelib.followups.input import SignupRequest
from chalicelib.giving.intake import DonationRequest
from tests.helpers import donation_body as request_body

UTC = timezone.utc


def test_phones_are_normalized_to_e164_with_the_us_as_default_region() -> None:
    assert texts.normalize_phone("(217) 555-0123") == "+12175550123"
    assert texts.normalize_phone("+44 20 7946 0958") == "+442079460958"
    with pytest.raises(ValueError):
        texts.normalize_phone("123")
    assert texts.textable("+12175550123") and not texts.textable("+15550100000")


def test_the_disclosure_names_the_committee_the_frequency_and_stop_and_help() -> None:
    text = texts.disclosure("Friends of Pat")
    assert "Friends of Pat" in text and "msgs/month" in text
    assert "Msg & data rates may apply. Reply STOP to stop, HELP for help." in text
    with pytest.raises(KeyError):
        texts.disclosure("Friends of Pat", "sms-1999")


def test_intake_takes_the_box_only_with_a_textable_phone() -> None:
    body = request_body()
    body["donor"]["phone"] = "217-555-0123"
    body["sms_opt_in"] = True
    request = DonationRequest.model_validate(body)
    assert request.sms_opt_in and request.donor_snapshot().phone == "+12175550123"
    for phone in (None, "+1 555 010 0000"):
        body["donor"]["phone"] = phone
        with pytest.raises(ValidationError) as refused:
            DonationRequest.model_validate(body)
        assert refused.value.errors()[0]["loc"] == ("donor",)
    body["donor"]["phone"], body["sms_opt_in"] = "12", False
    with pytest.raises(ValidationError):  # a bad number is refused, box or not
        DonationRequest.model_validate(body)


def test_signup_takes_the_box_only_with_a_phone() -> None:
    assert SignupRequest(email="a@example.org", sms_opt_in=True, phone="217 555 0123").phone == "+12175550123"
    with pytest.raises(ValidationError):
        SignupRequest(email="a@example.org", sms_opt_in=True)
    assert SignupRequest(email="a@example.org").sms_opt_in is False


# --- quiet hours ----------------------------------------------------------------------------------
def at(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)  # type: ignore[misc]


def test_time_zones_come_from_the_state_and_the_zip_where_a_state_has_two() -> None:
    assert texts.zones_for("IL", "62701") == (ZoneInfo("America/Chicago"),)
    assert texts.zones_for("TN", "37902") == (ZoneInfo("America/New_York"),)  # Knoxville
    assert texts.zones_for("TN", "37201") == (ZoneInfo("America/Chicago"),)  # Nashville
    assert texts.zones_for("TX", "79901") == (ZoneInfo("America/Denver"),)  # El Paso
    assert texts.zones_for("FL", "32501") == (ZoneInfo("America/Chicago"),)  # Pensacola
    assert texts.zones_for(None, "62701") == tuple(ZoneInfo(z) for z in texts.UNKNOWN_ZONES)


def test_no_text_between_nine_at_night_and_nine_in_the_morning_local() -> None:
    chicago = texts.zones_for("IL", None)
    assert texts.quiet_until(at("America/Chicago", 2026, 5, 4, 10, 0), chicago) is None
    assert texts.quiet_until(at("America/Chicago", 2026, 5, 4, 20, 59), chicago) is None
    # 21:00 waits for 09:00 the next morning; 02:00 for 09:00 the same day
    assert texts.quiet_until(at("America/Chicago", 2026, 5, 4, 21, 0), chicago) == \
        at("America/Chicago", 2026, 5, 5, 9, 0)
    assert texts.quiet_until(at("America/Chicago", 2026, 5, 5, 2, 0), chicago) == \
        at("America/Chicago", 2026, 5, 5, 9, 0)
    # the same UTC moment is quiet in Los Angeles and not in New York
    moment = datetime(2026, 5, 4, 14, 30, tzinfo=UTC)  # 10:30 in New York, 07:30 in LA
    assert texts.quiet_until(moment, texts.zones_for("NY", None)) is None
    assert texts.quiet_until(moment, texts.zones_for("CA", None)) == \
        at("America/Los_Angeles", 2026, 5, 4, 9, 0)
    # Hawaii keeps no DST; Phoenix neither
    assert texts.quiet_until(datetime(2026, 7, 1, 18, 30, tzinfo=UTC), texts.zones_for("HI", None)) == \
        at("Pacific/Honolulu", 2026, 7, 1, 9, 0)


def test_quiet_hours_follow_daylight_saving_time() -> None:
    ny = texts.zones_for("NY", None)
    # 13:30 UTC is 09:30 EDT in summer but 08:30 EST in winter
    assert texts.quiet_until(datetime(2026, 7, 1, 13, 30, tzinfo=UTC), ny) is None
    assert texts.quiet_until(datetime(2026, 1, 5, 13, 30, tzinfo=UTC), ny) == \
        datetime(2026, 1, 5, 14, 0, tzinfo=UTC)
    # the night DST starts (March 8, 2026) is an hour shorter: 09:00 EDT is 13:00 UTC
    assert texts.quiet_until(at("America/New_York", 2026, 3, 7, 22, 0), ny) == \
        datetime(2026, 3, 8, 13, 0, tzinfo=UTC)
    # and the night it ends (November 1, 2026) an hour longer: 09:00 EST is 14:00 UTC
    assert texts.quiet_until(at("America/New_York", 2026, 10, 31, 23, 0), ny) == \
        datetime(2026, 11, 1, 14, 0, tzinfo=UTC)


def test_an_unknown_zone_texts_only_while_it_is_day_on_both_coasts() -> None:
    unknown = texts.zones_for(None, None)
    # 09:30 in New York is 06:30 in LA: wait for 09:00 in LA (12:00 in New York)
    waits = texts.quiet_until(at("America/New_York", 2026, 5, 4, 9, 30), unknown)
    assert waits == at("America/Los_Angeles", 2026, 5, 4, 9, 0)
    # 19:00 in LA is 22:00 in New York: wait for the next day's 09:00 in LA
    assert texts.quiet_until(at("America/Los_Angeles", 2026, 5, 4, 19, 0), unknown) == \
        at("America/Los_Angeles", 2026, 5, 5, 9, 0)
    assert texts.quiet_until(at("America/New_York", 2026, 5, 4, 13, 0), unknown) is None


def test_the_daily_cap_counts_local_days() -> None:
    la = texts.zones_for("CA", None)
    late = datetime(2026, 5, 5, 3, 0, tzinfo=UTC)  # May 4, 20:00 in LA
    assert texts.local_day(late, la).isoformat() == "2026-05-04"
    assert texts.next_morning(late, la) == at("America/Los_Angeles", 2026, 5, 5, 9, 0)
    assert texts.next_morning(late, la) - late == timedelta(hours=13)


# --- replies --------------------------------------------------------------------------------------
@pytest.mark.parametrize("body,meaning", [
    ("STOP", texts.STOP), ("stop", texts.STOP), (" Stop. ", texts.STOP), ("STOPALL", texts.STOP),
    ("unsubscribe", texts.STOP), ("Cancel", texts.STOP), ("END", texts.STOP), ("quit", texts.STOP),
    ("HELP", texts.HELP), ("info", texts.HELP),
    ("START", texts.START), ("unstop", texts.START), ("Yes", texts.START),
    ("stop texting me about the event tomorrow", None), ("", None), ("see you there", None),
])
def test_replies_are_read_as_carriers_read_them(body: str, meaning: str | None) -> None:
    assert texts.keyword(body) == meaning
