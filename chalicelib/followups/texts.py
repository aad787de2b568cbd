"""Text messages' own rules (plain Python): the consent's disclosure, phone numbers, quiet hours,
the daily cap and the keywords people reply with.

Sending a text goes through the follow-ups' one delivery path (`DeliveryService._send` in
followups/delivery.py: the send ledger, the consent check, the cap, the outbox's retry policy);
this module only decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.i18n import N_

# --- consent: what the donor or supporter agreed to, word for word ------------------------------
# Bump the version whenever the wording changes: each consent record keeps the version it was
# given under, so what a person saw can always be shown again.
DISCLOSURE_VERSION = "sms-2026-12-01"
FREQUENCY = N_("up to 4 msgs/month, plus reminders of events you RSVP to")


def disclosure(committee_name: str, version: str = DISCLOSURE_VERSION, locale: str = "en") -> str:
    """The text next to the `sms_opt_in` box (one version today), in the page's `locale` (the
    same consent in Spanish; docs/i18n.md shows both). The keywords stay STOP and HELP."""
    from chalicelib.i18n import translations

    if version != DISCLOSURE_VERSION:
        raise KeyError(version)
    _ = translations(locale).gettext
    return _("Text me about {committee}'s events and ways to help ({frequency}). "
             "Msg & data rates may apply. Reply STOP to stop, HELP for help. "
             "Consent is not a condition of giving.").format(committee=committee_name,
                                                               frequency=_(FREQUENCY))


def normalize_phone(raw: str) -> str:
    """`raw` in E.164 (`+12175550123`), read as a US number unless it starts with `+`.
    `ValueError` when it cannot be a phone number."""
    import phonenumbers  # only where numbers are read (intake, signups, replies): not at cold start

    try:
        number = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException:
        raise ValueError("must be a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError("must be a phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def textable(e164: str) -> bool:
    """A number texts can go to: a valid number (not merely well formed: 555-01xx exchanges and
    unassigned area codes are refused)."""
    import phonenumbers

    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(e164, "US"))
    except phonenumbers.NumberParseException:
        return False


# --- the recipient's time zone ------------------------------------------------------------------
# From the state (and, where a state spans two zones, the ZIP's first three digits). Source: the
# IANA time zone database's zone descriptions (zone1970.tab: America/Indiana/*, America/Kentucky/*,
# America/North_Dakota/*, America/Boise, America/Menominee …) mapped onto USPS ZIP3 areas by the
# counties each covers. A ZIP3 that straddles a boundary takes its larger part's zone.
STATE_ZONES: dict[str, str] = {
    **dict.fromkeys(("CT", "DC", "DE", "GA", "MA", "MD", "ME", "NC", "NH", "NJ", "NY", "OH", "PA",
                     "RI", "SC", "VA", "VT", "WV", "FL", "IN", "KY", "MI"), "America/New_York"),
    **dict.fromkeys(("AL", "AR", "IA", "IL", "LA", "MN", "MO", "MS", "OK", "WI", "KS", "NE", "ND",
                     "SD", "TN", "TX"), "America/Chicago"),
    **dict.fromkeys(("CO", "MT", "NM", "UT", "WY", "ID"), "America/Denver"),
    **dict.fromkeys(("CA", "NV", "WA", "OR"), "America/Los_Angeles"),
    "AZ": "America/Phoenix", "AK": "America/Anchorage", "HI": "Pacific/Honolulu",
    "PR": "America/Puerto_Rico", "VI": "America/St_Thomas", "GU": "Pacific/Guam",
    "MP": "Pacific/Saipan", "AS": "Pacific/Pago_Pago",
    "AA": "America/New_York", "AE": "America/New_York", "AP": "America/Los_Angeles",
}
ZIP3_ZONES: dict[tuple[str, str], str] = {
    # Florida's panhandle west of the Apalachicola River
    **{("FL", z): "America/Chicago" for z in ("324", "325")},
    # Indiana's northwest (Gary) and southwest (Evansville) corners
    **{("IN", z): "America/Chicago" for z in ("463", "464", "476", "477")},
    # western Kentucky
    **{("KY", z): "America/Chicago" for z in ("420", "421", "422", "423", "424", "427")},
    # Michigan's Upper Peninsula counties on Wisconsin
    **{("MI", z): "America/Chicago" for z in ("498", "499")},
    # East Tennessee
    **{("TN", z): "America/New_York" for z in ("373", "374", "376", "377", "378", "379")},
    # Texas west of the Pecos (El Paso)
    **{("TX", z): "America/Denver" for z in ("798", "799", "885")},
    # western Nebraska, western South Dakota, southwestern North Dakota, western Kansas
    **{("NE", z): "America/Denver" for z in ("691", "693")},
    **{("SD", z): "America/Denver" for z in ("577",)},
    **{("ND", z): "America/Denver" for z in ("586",)},
    **{("KS", z): "America/Denver" for z in ("677",)},
    # northern Idaho, Oregon's Malheur County
    **{("ID", z): "America/Los_Angeles" for z in ("835", "838")},
    **{("OR", z): "America/Boise" for z in ("979",)},
    # Alaska's Aleutians west of 169.5°W
    **{("AK", z): "America/Adak" for z in ("995",)},
}
# Nobody's zone known (a signup gives a ZIP, not a state): a text goes only while it is day on
# both coasts.
UNKNOWN_ZONES = ("America/New_York", "America/Los_Angeles")


def zones_for(state: str | None, zip_code: str | None) -> tuple[ZoneInfo, ...]:
    """The recipient's time zone (all of `UNKNOWN_ZONES` when the state is not known)."""
    state = (state or "").upper()
    name = ZIP3_ZONES.get((state, (zip_code or "")[:3])) or STATE_ZONES.get(state)
    return (ZoneInfo(name),) if name else tuple(ZoneInfo(z) for z in UNKNOWN_ZONES)


# --- quiet hours and the daily cap --------------------------------------------------------------
QUIET_FROM = time(21, 0)
QUIET_UNTIL = time(9, 0)


def _quiet_end(moment: datetime, zone: ZoneInfo) -> datetime | None:
    local = moment.astimezone(zone)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return None
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_UNTIL, tzinfo=zone)


def quiet_until(moment: datetime, zones: tuple[ZoneInfo, ...]) -> datetime | None:
    """When quiet hours end for the recipient (09:00 local, in UTC), or None when `moment` is
    between 09:00 and 21:00 local in each of `zones`."""
    current = moment
    for _ in range(4):  # the next moment that is day in every zone (two zones need two steps)
        ends = [e for e in (_quiet_end(current, z) for z in zones) if e is not None]
        if not ends:
            return None if current == moment else current.astimezone(moment.tzinfo)
        current = max(ends)
    return current.astimezone(moment.tzinfo)


def local_day(moment: datetime, zones: tuple[ZoneInfo, ...]) -> date:
    """The recipient's calendar day (the first zone's) for the once-a-day cap."""
    return moment.astimezone(zones[0]).date()


def next_morning(moment: datetime, zones: tuple[ZoneInfo, ...]) -> datetime:
    """09:00 of the recipient's next day (when a capped non-essential text may go)."""
    day = local_day(moment, zones) + timedelta(days=1)
    start = datetime.combine(day, QUIET_UNTIL, tzinfo=zones[0])
    return quiet_until(start, zones) or start


# --- replies ------------------------------------------------------------------------------------
STOP, HELP, START = "stop", "help", "start"
KEYWORDS = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT",
                     "REVOKE"), STOP),
    **dict.fromkeys(("HELP", "INFO"), HELP),
    **dict.fromkeys(("START", "UNSTOP", "YES"), START),
}


def keyword(body: str) -> str | None:
    """What a reply asks (`stop`, `help`, `start`), read as carriers do: the message's only word,
    any case, surrounding spaces and punctuation ignored. Anything else is None."""
    word = "".join(ch for ch in body.strip() if ch.isalnum()).upper()
    if not word or len(body.split()) > 1:
        return None
    return KEYWORDS.get(word)


# --- which messages are texts, and the rules of each -------------------------------------------
TEXT_CONFIRM = "text_confirm"  # the day before a dated action: still coming? (essential)
TEXT_SOON = "text_soon"  # 30 minutes before it starts (essential)
TEXT_INVITE = "text_invite"  # the invitations a thank-you or welcome email carried (non-essential)
TEXT_REPLY = "text_reply"  # the answer to a reply: STOP confirmed, HELP, START confirmed
SOON_LEAD = timedelta(minutes=30)


@dataclass(frozen=True)
class TextRule:
    """How the one delivery path treats a text: `essential` ones skip the daily cap (and go
    as SNS's Transactional type); an `answer` to the person's own text needs no consent (a STOP
    is confirmed to a number that just withdrew it) and ignores quiet hours (they just wrote)."""

    essential: bool
    answer: bool = False


RULES: dict[str, TextRule] = {
    TEXT_CONFIRM: TextRule(essential=True),
    TEXT_SOON: TextRule(essential=True),
    TEXT_INVITE: TextRule(essential=False),
    TEXT_REPLY: TextRule(essential=True, answer=True),
}


def rule(kind: str) -> TextRule:
    """The rule of a text's outbox kind (`KeyError` for a kind that is not a text)."""
    return RULES[kind]


def help_text(name: str) -> str:
    return (f"{name}: texts about events and ways to help, {FREQUENCY}. "
            "Msg & data rates may apply. Reply STOP to stop.")


def stopped_text(name: str) -> str:
    return f"{name}: you will get no more texts from us. Reply START to get them again."


def started_text(name: str) -> str:
    return f"{name}: texts are on again ({FREQUENCY}). Msg & data rates may apply. Reply STOP to stop."


@dataclass(frozen=True)
class OutgoingText:
    """A composed text; the texter adds nothing but transport."""

    to: str  # E.164
    body: str
    message_id: str  # the outbox message it delivers (the mirror's file name)
    essential: bool = True  # Transactional at SNS (`AWS.SNS.SMS.SMSType`), else Promotional
